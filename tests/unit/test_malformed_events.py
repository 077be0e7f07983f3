"""Random and mutated events for every function's real `lambda_handler` (issue 9, malformed
input): alone or in SQS batches, JSON of any type, the samples in events/ with keys deleted, types
changed, sources swapped, garbage nested, odd strings and the ARNs of other accounts, regions and
partitions. Whatever comes, the handler raises nothing (the fakes raise no transient AWS error
either); a refused event writes nothing and is logged with its reason and counted
(EventsIgnored); what an accepted one causes grants only what the allowlist allows. The services
are built on the in-memory fakes, with groups, shares and invitations the allowlist names and
others it does not."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelshare import observability
from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS, Allowlist, AllowlistError
from modelshare.aws.work_queue import SWEEP_PACKAGE, work_item
from modelshare.consumer import ConsumerService
from modelshare.convergence import GroupSnapshot, Holding
from modelshare.owner.service import OwnerService
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import CREATED_FROM_POLICY, MODEL_PACKAGE_GROUP_TYPE, PENDING, STANDARD, ResourceShare
from modelshare.wiring import consumer_from, owner_from
from tests.fuzzing import MUTATIONS, TEXT, json_texts, json_values, locations, mutated
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    REGION,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "events").glob("*.json"))}
PARAMETER = "/modelshare/allowlist"

ALLOWED = "churn-xgb"  # the allowlist shares churn-* with CONSUMER; no policy yet
PROMOTABLE = "churn-lgbm"  # allowlisted, modelshare's statement put, RAM's share from it not promoted yet
PROMOTED = "churn-rf"  # allowlisted, promoted; CONSUMER's invitation failed (a quota), OTHER still in
UNLISTED = "secret-model"  # no rule names it: a statement by hand for CONSUMER, RAM's share from it
UNLISTED_PROMOTED = "secret-old"  # no rule names it, in a share of modelshare's whose invitation failed
ALLOWLIST = allowlist_doc({"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]})
# What an allowlist parameter may hold instead: each shares and accepts nothing. (Parameter Store
# holds at most 8 KB, less than json's nesting limit; the brackets stand for any text handed over.)
BROKEN_ALLOWLISTS = ['{"version": 1, "shares": [', json.dumps({**ALLOWLIST, "version": 2}), "[" * 100_000,
                     json.dumps({"version": 1, "shares": [{**ALLOWLIST["shares"][0], "owner": 111122223333}]})]


def share_arn(name: str, account: str = OWNER) -> str:
    return f"arn:aws:ram:{REGION}:{account}:resource-share/{name}"


def invitation_arn(name: str, account: str = OWNER) -> str:
    return f"arn:aws:ram:{REGION}:{account}:resource-share-invitation/{name}"


# Values a mutation puts in an event: what the parsers compare against, one step off.
ACCOUNTS = [OWNER, CONSUMER, OTHER, "", "11112222333", "1111222233334", "11112222333x", "111122223333 ", 111122223333]
SOURCES = ["aws.sagemaker", "aws.ram", "aws.ssm", "aws.events", "aws.s3", "", "AWS.SAGEMAKER", "aws.sagemaker "]
DETAIL_TYPES = ["AWS API Call via CloudTrail", "Resource Sharing State Change", "Parameter Store Change",
                "Scheduled Event", "SageMaker Model Package State Change", "", "scheduled event"]
EVENT_NAMES = ["CreateModelPackageGroup", "PutModelPackageGroupPolicy", "DeleteModelPackageGroup",
               "CreateModelPackage", "DeleteModelPackageGroupPolicy", "createModelPackageGroup"]
GROUP_NAMES = [ALLOWED, PROMOTABLE, PROMOTED, UNLISTED, UNLISTED_PROMOTED, "churn-", "-churn", "CHURN-XGB", "churn*",
               "churn-?", "a" * 63, "a" * 64, f"{ALLOWED}/../{UNLISTED}", f"{ALLOWED} ", f"{ALLOWED}\n", "churn--xgb"]
PARAMETER_NAMES = [PARAMETER, PARAMETER.lstrip("/"), f"{PARAMETER}/part-001", f"{PARAMETER}/part-001/x", f"/{PARAMETER}",
                   f"{PARAMETER}/", "/other", f"arn:aws:ssm:{REGION}:{OWNER}:parameter{PARAMETER}"]
STATUSES = ["pending", "PENDING", "ACCEPTED", "REJECTED", "failed", "FAILED", "ASSOCIATED", "DISASSOCIATED", ""]
PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", "awsx", "AWS", ""]
REGIONS = [REGION, "us-east-1", "", "EU-WEST-1"]
SHARE_IDS = ["lgbm", "secret", "rf", "secret-old", "orphan", "unknown", "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"]


@st.composite
def arns(draw: st.DrawFn) -> str:
    """ARNs of groups, shares, invitations and parameters: this world's, or of other accounts,
    regions and partitions, or not quite ARNs."""
    partition, region, account = (draw(st.sampled_from(PARTITIONS)), draw(st.sampled_from(REGIONS)),
                                  draw(st.sampled_from([a for a in ACCOUNTS if isinstance(a, str)])))
    kind = draw(st.sampled_from(["sagemaker", "share", "invitation", "ssm", "odd"]))
    if kind == "sagemaker":
        resource = draw(st.sampled_from(["model-package-group", "model-package", "model-package-groups"]))
        return f"arn:{partition}:sagemaker:{region}:{account}:{resource}/{draw(st.sampled_from(GROUP_NAMES))}"
    if kind == "share":
        return f"arn:{partition}:ram:{region}:{account}:resource-share/{draw(st.sampled_from(SHARE_IDS))}"
    if kind == "invitation":
        return f"arn:{partition}:ram:{region}:{account}:resource-share-invitation/{draw(st.sampled_from(SHARE_IDS))}"
    if kind == "ssm":
        return f"arn:{partition}:ssm:{region}:{account}:parameter{draw(st.sampled_from(PARAMETER_NAMES))}"
    return draw(st.sampled_from(["arn:", "arn:aws", "arn:aws:sagemaker", "arn::::::", f"arn:aws:ram:{REGION}:{OWNER}:"]))


EVENT_KEYS = st.one_of(st.sampled_from(["version", "id", "detail-type", "source", "account", "region", "resources",
                                        "detail", "kind", "items", "Records", "body", "name", "status",
                                        "eventName", "eventSource", "requestParameters", "responseElements",
                                        "modelPackageGroupName", "modelPackageGroupArn", "errorCode",
                                        "recipientAccountId", "resourceShareArn", "resourceShareInvitationArn",
                                        "associatedEntity"]), TEXT)
RANDOM_JSON = json_values(EVENT_KEYS)
REPLACEMENTS = st.one_of(
    st.sampled_from([*ACCOUNTS, *SOURCES, *DETAIL_TYPES, *EVENT_NAMES, *GROUP_NAMES, *PARAMETER_NAMES, *STATUSES]),
    arns(), st.lists(arns(), max_size=3), RANDOM_JSON,
    # CloudTrail's request and response in either spelling, naming any group.
    st.builds(lambda key, name: {key: name}, st.sampled_from(["modelPackageGroupName", "ModelPackageGroupName"]),
              st.sampled_from(GROUP_NAMES)),
    st.builds(lambda key, arn: {key: arn}, st.sampled_from(["modelPackageGroupArn", "ModelPackageGroupArn"]), arns()),
)
# (source, detail-type) of every kind of event, to move an event's detail under another's envelope.
ENVELOPES = [(s["source"], s["detail-type"]) for s in SAMPLES.values()]


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    event = draw(st.sampled_from([*SAMPLES.values(), *PATH_MODE_SAMPLES]))
    if draw(st.integers(0, 4)) == 0:  # another kind's envelope round this one's detail
        source, detail_type = draw(st.sampled_from(ENVELOPES))
        event = {**event, "source": source, "detail-type": detail_type}
    return draw(mutated(event, REPLACEMENTS))


# What the sweep hands out through SweepQueue (the owner reconcile reads these too): one per
# allowlisted group with what RAM holds for it. Changed only in shape or to odd values, never to
# another well-formed ARN: the queue is the stack's own, and its items are trusted to say which
# shares hold the group (a share ARN changed by hand would be promoted: see the report of issue 9).
SWEEP_ITEM_VALUES = st.one_of(RANDOM_JSON, st.sampled_from([*GROUP_NAMES, 0, -1, 1e400, float("nan"), 10**400, "1"]))


@st.composite
def sweep_packages(draw: st.DrawFn) -> Any:
    from_policy = ResourceShare(share_arn("lgbm"), "LinkedResourceShare", CREATED_FROM_POLICY, "ACTIVE")
    items = [work_item(GroupSnapshot(ALLOWED, group_arn(ALLOWED))),
             work_item(GroupSnapshot(PROMOTABLE, group_arn(PROMOTABLE), (Holding(from_policy, (), ()),)))]
    package = {"kind": SWEEP_PACKAGE, "items": draw(st.lists(st.sampled_from(items), min_size=1, max_size=3))}
    return draw(mutated(package, SWEEP_ITEM_VALUES, changes=tuple(c for c in MUTATIONS if c != "tweak")))


def path_mode(event: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["detail"]["name"] = f"{PARAMETER}/part-002"
    return changed


PATH_MODE_SAMPLES = [path_mode(SAMPLES["allowlist_changed"])]
EVENTS = st.one_of(mutated_events(), sweep_packages(), st.sampled_from(list(SAMPLES.values())), RANDOM_JSON)


@st.composite
def sqs_batches(draw: st.DrawFn) -> Any:
    """What an SQS event source hands over, its records' bodies events (as JSON text, or not text
    at all), JSON texts a parser may choke on, or anything; sometimes not even records."""
    bodies = st.one_of(EVENTS.map(json.dumps), json_texts(EVENTS), EVENTS, TEXT)
    records = draw(st.lists(st.one_of(st.builds(lambda body: {"messageId": "m", "body": body}, bodies),
                                      st.builds(lambda r: {"body": r}, RANDOM_JSON), RANDOM_JSON), max_size=4))
    return draw(st.sampled_from([{"Records": records}, {"Records": records, **SAMPLES["scheduled"]},
                                 {"Records": {"body": json.dumps(SAMPLES["scheduled"])}}]))


# -- the world the services see -------------------------------------------------------------
def ours(name: str, *consumers: str) -> dict[str, Any]:
    statement = policies.modelshare_statement(group_arn(name), consumers, ACCESS_ACTIONS["discover"])
    return {"Version": "2012-10-17", "Statement": [statement]}


def by_hand(name: str, *consumers: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {**ours(name, *consumers)["Statement"][0], "Sid": "SharedByHand"}]}


@dataclass
class World:
    """An owner's registry and RAM, a consumer's invitations, and one allowlist document."""

    allowlist: Any = field(default_factory=lambda: copy.deepcopy(ALLOWLIST))
    registry: FakeRegistry = field(default_factory=lambda: FakeRegistry(
        names={ALLOWED, PROMOTABLE, PROMOTED, UNLISTED, UNLISTED_PROMOTED},
        policies={PROMOTABLE: ours(PROMOTABLE, CONSUMER), UNLISTED: by_hand(UNLISTED, CONSUMER)}))
    shares: FakeShares = field(default_factory=FakeShares)
    invitations: FakeShares = field(default_factory=FakeShares)
    before: tuple[FakeRegistry, FakeShares] = field(init=False)

    def __post_init__(self) -> None:
        from tests.unit.fakes import DISCOVER_ACTIONS

        self.shares.managed_action_sets.append(DISCOVER_ACTIONS)  # RAM's AWS managed permission matches
        self.shares.add_policy_share(group_arn(PROMOTABLE), share_arn("lgbm"))
        self.shares.add_policy_share(group_arn(UNLISTED), share_arn("secret"))
        for name, share in ((PROMOTED, "rf"), (UNLISTED_PROMOTED, "secret-old")):
            self.shares.add_policy_share(group_arn(name), share_arn(share), feature_set=STANDARD)
            self.shares.principals[share_arn(share)] = [OTHER]
            self.shares.failed_principals[share_arn(share)] = [CONSUMER]
        # A promoted share of modelshare's whose group was deleted (the reconcile deletes it).
        self.shares.add_policy_share(group_arn("deleted-group"), share_arn("orphan"), feature_set=STANDARD)
        self.shares.past_resources[share_arn("orphan")] = self.shares.resources.pop(share_arn("orphan"))
        self.before = copy.deepcopy((self.registry, self.shares))
        # The consumer's: one invitation the allowlist allows, the others not (another group, two
        # groups of which one is allowed, a sender no rule names).
        offered = {"allowed": [group_arn(ALLOWED)], "secret": [group_arn(UNLISTED)],
                   "mixed": [group_arn(ALLOWED), group_arn(UNLISTED)], "stranger": [group_arn(ALLOWED, OTHER)]}
        for name, resources in offered.items():
            sender = OTHER if name == "stranger" else OWNER
            self.invitations.pending.append(Invitation(invitation_arn(name, sender), share_arn(name, sender),
                                                       "LinkedResourceShare", sender, PENDING, None))
            self.invitations.invitation_resources[invitation_arn(name, sender)] = [
                SharedResource(arn, MODEL_PACKAGE_GROUP_TYPE) for arn in resources]

    def owner(self) -> OwnerService:
        return owner_from(OWNER, self.registry, self.shares, FixedAllowlist(self.allowlist), self.shares.ledger,
                          sleep=lambda s: None)

    def consumer(self) -> ConsumerService:
        return consumer_from(CONSUMER, self.invitations, FixedAllowlist(self.allowlist))

    def writes(self) -> list[Any]:
        r, s, i = self.registry, self.shares, self.invitations
        return [*r.puts, *r.deletes, *s.ledger.writes, *s.principal_changes, *s.resource_changes, *s.deleted_shares,
                *s.promoted_permissions, *s.promoted_shares, *i.accepted]

    def allowed(self, owner: str, group: str) -> set[str]:
        """The consumers the allowlist shares the group with (none when it is invalid)."""
        try:
            decision = Allowlist.parse(self.allowlist).decide(owner, group)
        except AllowlistError:
            return set()
        return set(decision.consumers) if decision.shared else set()

    def assert_grants_only_what_the_allowlist_allows(self) -> None:
        registry, shares = self.before
        for name, policy in self.registry.puts:
            granted = {policies.account_of(p) for s in policies.statements(policy) for p in policies.principals_of(s)}
            before = {policies.account_of(p) for s in policies.statements(registry.policies.get(name))
                      for p in policies.principals_of(s)}
            assert granted <= self.allowed(OWNER, name) | before, f"{name}: granted {granted}"
            for statement in policies.statements(policy):
                if statement.get("Sid") == policies.MODELSHARE_SID:  # this group's, in this region (in any case:
                    # the ARN may come from SageMaker's response, which may write the name in lower case)
                    wanted = policies.group_resources(group_arn(name))
                    assert [r.lower() for r in statement["Resource"]] == [r.lower() for r in wanted], statement
        held = {arn: [policies.group_name_of(r, OWNER) or r for r in rs] for arn, rs in shares.resources.items()}
        for arn in [*self.shares.promoted_shares, *(share for what, _, share in self.shares.ledger.writes
                                                    if what == "record-share")]:
            assert all(self.allowed(OWNER, name) for name in held.get(arn, [arn])), f"promoted {arn} holding {held.get(arn)}"
        for change, arn, accounts in self.shares.principal_changes:
            if change == "add":
                assert all(set(accounts) <= self.allowed(OWNER, name) for name in held.get(arn, [arn])), (arn, accounts)
        for arn in self.invitations.accepted:
            resources = self.invitations.invitation_resources[arn]
            sender = next(i.sender for i in self.invitations.pending if i.arn == arn)
            assert all(CONSUMER in self.allowed(sender, policies.group_name_of(r.arn, sender) or "") for r in resources), arn


# -- the handlers, run as Lambda runs them ------------------------------------------------------
_SETTINGS = ("MODELSHARE_ALLOWLIST_PARAMETER", "MODELSHARE_ALLOWLIST_PATH", "MODELSHARE_SWEEP_QUEUE_URL",
             "MODELSHARE_LEDGER_TABLE")


def _load(function: str, location: dict[str, str]) -> ModuleType:
    """The handler module as a cold start loads it: its settings are read from the environment then."""
    spec = importlib.util.spec_from_file_location(f"_fuzzed_{function}", ROOT / "functions" / function / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ):
        for name in _SETTINGS:
            os.environ.pop(name, None)
        os.environ.update(location)
        spec.loader.exec_module(module)
    return module


OWNER_FUNCTIONS = ("share_on_create", "promote", "reconcile_owner")
_BUS = {"MODELSHARE_VERSION_BUS": "modelshare-versions"}
LOCATIONS = [{"MODELSHARE_ALLOWLIST_PARAMETER": PARAMETER, "MODELSHARE_LEDGER_TABLE": "modelshare-ownership", **_BUS},
             {"MODELSHARE_ALLOWLIST_PATH": PARAMETER, "MODELSHARE_LEDGER_TABLE": "modelshare-ownership", **_BUS}]
FUNCTION_MODULES = {(name, n): _load(name, location) for name in (*OWNER_FUNCTIONS, "accept_invitations")
                    for n, location in enumerate(LOCATIONS)}
FUNCTIONS = sorted({name for name, _ in FUNCTION_MODULES})


class Context:
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/modelshare"
    log_stream_name = "local"

    def __init__(self, function: str, account: str) -> None:
        self.function_name = f"modelshare-{function}"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{account}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class Run:
    result: Any
    logs: list[dict[str, Any]]
    metrics: list[dict[str, Any]]

    def counted(self, name: str) -> float:
        values = [r[name] for r in self.metrics if name in r]
        return sum(sum(v) if isinstance(v, list) else v for v in values)

    def logged(self, *messages: str) -> list[dict[str, Any]]:
        return [r for r in self.logs if r.get("message") in messages]


def invoke(function: str, event: Any, world: World, location: dict[str, str]) -> Run:
    """The real handler on `event`, its services on `world`. Its logs go to a strict UTF-8
    stream, as a pipe's stdout is (Lambda's: UNVERIFIED): a line that cannot be written is lost
    there, and missing here. Metrics (EMF, printed) are read from stdout."""
    module = FUNCTION_MODULES[function, LOCATIONS.index(location)]
    module.services = (lambda context: world.owner()) if function in OWNER_FUNCTIONS else (lambda context: world.consumer())
    module.keep_version_bus = lambda context: {}  # the consumer's bus policy: tests/unit/test_version_events.py
    account = OWNER if function in OWNER_FUNCTIONS else CONSUMER
    logs = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    stdout = io.StringIO()
    handler = observability.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(logs)
    try:
        with contextlib.redirect_stdout(stdout):
            result = module.lambda_handler(event, Context(function, account))
    finally:
        handler.setStream(previous)
    lines = logs.buffer.getvalue().decode("utf-8").splitlines()  # type: ignore[attr-defined]
    return Run(result, [json.loads(line) for line in lines],
               [json.loads(line) for line in stdout.getvalue().splitlines() if line.startswith("{")])


def check(function: str, event: Any, world: World, location: dict[str, str]) -> Run:
    run = invoke(function, event, world, location)
    # Every event or work item dropped is logged with its reason, and counted once.
    dropped = run.logged("Event ignored", "Work item ignored")
    assert all(isinstance(r.get("reason"), str) and r["reason"] for r in dropped), dropped
    assert len(dropped) == run.counted("EventsIgnored"), (dropped, run.metrics)
    if isinstance(run.result, dict) and run.result.get("action") == "ignored":
        assert world.writes() == [], "a refused event writes nothing"
        assert dropped and dropped[-1]["reason"] == run.result["reason"]
    else:
        assert isinstance(run.result, dict) and isinstance(run.result.get("outcomes"), list), run.result
    world.assert_grants_only_what_the_allowlist_allows()
    return run


# Drawn by index: a strategy listing them would print the 100,000 brackets in its description.
ALLOWLISTS = st.sampled_from(range(3 + len(BROKEN_ALLOWLISTS))).map(lambda i: ([ALLOWLIST] * 3 + BROKEN_ALLOWLISTS)[i])
FUNCTION_NAMES = pytest.mark.parametrize("function", FUNCTIONS)


@FUNCTION_NAMES
@given(event=RANDOM_JSON, location=st.sampled_from(LOCATIONS))
def test_random_json_is_refused_or_harmless(function, event, location):
    check(function, event, World(), location)


@FUNCTION_NAMES
@given(event=st.one_of(mutated_events(), sweep_packages()), allowlist=ALLOWLISTS, location=st.sampled_from(LOCATIONS))
def test_mutated_sample_events_are_refused_or_grant_only_what_the_allowlist_allows(function, event, allowlist, location):
    check(function, event, World(allowlist=allowlist), location)


@FUNCTION_NAMES
@given(event=sqs_batches(), allowlist=ALLOWLISTS, location=st.sampled_from(LOCATIONS))
def test_sqs_batches_of_malformed_bodies_are_refused_or_grant_only_what_the_allowlist_allows(function, event, allowlist,
                                                                                            location):
    check(function, event, World(allowlist=allowlist), location)


# Not random: every field of every sample replaced, in turn, by a value of another type or an odd
# string, through each function the sample's rule or schedule reaches (a rare draw for the tests
# above, and the likeliest slip of a parser: a list where a string was, a lone surrogate logged).
CONFUSIONS = [None, True, 0, -1.5, float("nan"), "", "\udcff", "x" * 10_000, [], {}, ["x"], {"x": "y"}]
ROUTES = {"group_created": ["share_on_create"], "policy_put": ["promote"], "group_deleted": ["reconcile_owner"],
          "ram_state_change": ["promote", "accept_invitations"], "allowlist_changed": ["reconcile_owner", "accept_invitations"],
          "scheduled": ["reconcile_owner", "accept_invitations"]}


def confused(document: Any) -> Any:
    """`document` with each place in turn holding each of CONFUSIONS, or its own value in a list."""
    for where in locations(document):
        if not where:
            continue
        for replacement in [*CONFUSIONS, "wrapped"]:
            changed = copy.deepcopy(document)
            parent = changed
            for step in where[:-1]:
                parent = parent[step]
            parent[where[-1]] = [parent[where[-1]]] if replacement == "wrapped" else copy.deepcopy(replacement)
            yield where, changed


@pytest.mark.parametrize(("sample", "function"), [(s, f) for s, functions in ROUTES.items() for f in functions])
def test_every_field_of_every_sample_replaced_by_a_value_of_another_type(sample, function):
    for where, event in confused(SAMPLES[sample]):
        try:
            check(function, event, World(), LOCATIONS[0])
        except Exception as error:
            raise AssertionError(f"{sample} with {'.'.join(map(str, where))} changed: {repr(event)[:500]}") from error
