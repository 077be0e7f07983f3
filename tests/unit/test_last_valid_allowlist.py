"""Issue 19, item 8: an invalid allowlist stops all new sharing but never undoes or freezes a
removal or narrowing an earlier valid version asked for. The owner's sweep applies the most
restrictive of the last valid version (from Parameter Store's history) and what is live, and
says so; with no valid version in the history it changes nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from modelshare import allowlist_loading
from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.allowlist_history import StoredVersion, last_valid_of_parameter, last_valid_of_parts
from modelshare.allowlist_parts import TIER_LIMITS, part_name, split
from modelshare.aws.allowlist_store import SsmAllowlistPathSource, SsmAllowlistSource
from modelshare.convergence import GroupSnapshot, Holding, decide
from modelshare.outcomes import GroupAction, WriteKind
from modelshare.owner.service import OwnerService
from modelshare.ports import (
    CREATED_FROM_POLICY,
    MODEL_PACKAGE_GROUP_TYPE,
    STANDARD,
    Ownership,
    ResourceShare,
    SharePermission,
)
from modelshare.restriction import restrict
from modelshare.wiring import owner_from
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeQueue,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
    modelshare_wrote,
)

STRANGER = "999900001111"
RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}
INVALID = {"version": 1, "shares": [{**RULE, "consumers": [OWNER]}]}  # the owner as its own consumer
DISCOVER = ACCESS_ACTIONS["discover"]
DEPLOY = (*ACCESS_ACTIONS["discover"], *ACCESS_ACTIONS["deploy"])
PATH = "/modelshare/allowlist"


def ours(*consumers: str, name: str = "churn-xgb", actions: tuple[str, ...] = DISCOVER) -> dict[str, Any]:
    return policies.modelshare_statement(group_arn(name), consumers, actions)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def promoted(shares: FakeShares, name: str = "churn-xgb", principals: tuple[str, ...] = (CONSUMER,),
             actions: tuple[str, ...] = DISCOVER) -> str:
    arn = shares.add_policy_share(group_arn(name), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}",
                                  feature_set=STANDARD)
    shares.principals[arn] = list(principals)
    permission = f"arn:aws:ram::aws:permission/{len(actions)}"
    shares.share_permissions[arn] = [SharePermission(permission, "", STANDARD, MODEL_PACKAGE_GROUP_TYPE)]
    shares.permission_action_sets[permission] = frozenset(a.lower() for a in actions)
    shares.managed_action_sets = [frozenset(a.lower() for a in DISCOVER), frozenset(a.lower() for a in DEPLOY)]
    return arn


class Said:
    """What allowlist_loading logged and counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []
        self.metrics: list[str] = []
        monkeypatch.setattr(allowlist_loading, "count", lambda name, value=1: self.metrics.append(name))
        for level in ("warning", "error"):
            monkeypatch.setattr(allowlist_loading.logger, level,
                                lambda message, extra, level=level: self.lines.append((level, message, extra)))


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> Said:
    return Said(monkeypatch)


def owner_with(source: FixedAllowlist, *groups: str, queue: FakeQueue | None = None
               ) -> tuple[OwnerService, FakeRegistry, FakeShares]:
    registry, shares = FakeRegistry(names=set(groups or ("churn-xgb",))), FakeShares()
    return (owner_from(OWNER, registry, shares, source, shares.ledger, sleep=lambda s: None, work_queue=queue),
            registry, shares)


# -- the sweep ------------------------------------------------------------------------------------
def test_a_removal_then_an_invalid_edit_still_removes_the_consumer_and_adds_no_one(said):
    """Valid edit: CONSUMER out, OTHER in (and churn-new shared with OTHER); two seconds later an
    invalid edit. The sweep removes CONSUMER everywhere, and shares nothing with OTHER."""
    source = FixedAllowlist(allowlist_doc(RULE))
    service, registry, shares = owner_with(source, "churn-xgb", "churn-lr", "churn-new")
    xgb = promoted(shares)
    modelshare_wrote(registry, shares.ledger, "churn-lr", ours(CONSUMER, name="churn-lr"))
    source.edit(allowlist_doc({**RULE, "consumers": [OTHER]}))
    source.edit(INVALID)

    outcomes = {o.group: o for o in service.reconcile()}

    assert shares.principal_changes == [("remove", xgb, (CONSUMER,))]
    assert "churn-lr" not in registry.policies and registry.deletes == ["churn-lr"]
    assert registry.puts == [] and "churn-new" not in registry.policies
    assert outcomes["churn-xgb"].action == GroupAction.RESTRICTED
    assert outcomes["churn-xgb"].reason == f"removed {CONSUMER}; waits for a valid allowlist: adding {OTHER}"
    assert outcomes["churn-lr"].action == GroupAction.RESTRICTED
    assert outcomes["churn-new"].action == GroupAction.RESTRICTED
    assert outcomes["churn-new"].reason == f"waits for a valid allowlist: sharing with {OTHER}"
    # Said once for the run: the invalid version's problems and the version used instead.
    (level, message, extra), = [line for line in said.lines if line[1].startswith("Applying")]
    assert level == "warning"
    assert extra == {"problems": ["$.shares[0].consumers[0]: the owner cannot be its own consumer"],
                     "last_valid_version": "version 2"}
    assert "nothing is added or promoted" in message
    assert said.metrics == ["AllowlistInvalid", "AllowlistLastValidApplied"]
    # As far as an invalid allowlist goes, done: the next sweep writes nothing (what the last
    # valid version would add still waits).
    assert {o.action for o in service.reconcile()} == {GroupAction.RESTRICTED}
    assert shares.principal_changes == [("remove", xgb, (CONSUMER,))] and registry.puts == []


def test_a_statement_is_narrowed_to_what_both_grant_and_never_widened():
    """Live: CONSUMER and OTHER with deploy. Last valid: CONSUMER and STRANGER, discover only.
    Kept: CONSUMER (allowed and live) with discover (the intersection); STRANGER is not added."""
    source = FixedAllowlist(allowlist_doc({**RULE, "consumers": [CONSUMER, STRANGER]}), history=[])
    source.edit(INVALID)
    service, registry, shares = owner_with(source)
    foreign = {"Sid": "TheirOwn", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
               "Action": "sagemaker:DescribeModelPackageGroup", "Resource": group_arn("churn-xgb")}
    modelshare_wrote(registry, shares.ledger, "churn-xgb", foreign, ours(CONSUMER, OTHER, actions=DEPLOY))

    outcome, = service.reconcile()

    assert outcome.action == GroupAction.RESTRICTED
    assert registry.policies["churn-xgb"] == policy(foreign, ours(CONSUMER, actions=DISCOVER))
    assert outcome.reason == f"modelshare's statement narrowed; waits for a valid allowlist: sharing with {STRANGER}"


def test_a_promoted_share_keeps_the_intersection_of_the_actions():
    deploy_everywhere = {**RULE, "access": ["discover", "deploy"]}
    source = FixedAllowlist(allowlist_doc(RULE))
    source.edit(INVALID)
    service, _, shares = owner_with(source, "churn-xgb", "churn-lr")
    narrowed = promoted(shares, actions=DEPLOY)  # the last valid version says discover: narrowed
    untouched = promoted(shares, name="churn-lr", actions=DISCOVER)
    outcomes = {o.group: o for o in service.reconcile()}
    assert outcomes["churn-xgb"].action == GroupAction.ACCESS_CHANGED
    assert shares.replaced_permissions == [(narrowed, "arn:aws:ram::aws:permission/aws-managed-0")]

    # The other way round: the last valid version grants deploy, the share discover: nothing widens.
    source.edit(allowlist_doc(deploy_everywhere))
    source.edit(INVALID)
    shares.replaced_permissions.clear()
    outcomes = {o.group: o for o in service.reconcile()}
    assert shares.replaced_permissions == [] and shares.principal_changes == []
    assert outcomes["churn-lr"].action == GroupAction.RESTRICTED
    assert "waits for a valid allowlist: granting sagemaker:createmodel" in outcomes["churn-lr"].reason
    assert untouched in shares.shares


def test_nothing_is_promoted_while_the_allowlist_is_invalid():
    source = FixedAllowlist(allowlist_doc(RULE))
    source.edit(INVALID)
    service, registry, shares = owner_with(source)
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours(CONSUMER))
    share = shares.add_policy_share(group_arn("churn-xgb"))
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.RESTRICTED and outcome.reason == f"waits for a valid allowlist: promotion {share}"
    assert shares.shares[share].feature_set == CREATED_FROM_POLICY and shares.promoted_shares == []


def test_with_no_valid_version_in_the_history_nothing_is_changed_and_it_says_so(said):
    source = FixedAllowlist(INVALID, history=[{"version": 1, "shares": "all"}])
    service, registry, shares = owner_with(source, "churn-xgb", "churn-lr")
    promoted(shares)
    modelshare_wrote(registry, shares.ledger, "churn-lr", ours(CONSUMER, name="churn-lr"))
    assert service.reconcile() == []
    assert shares.principal_changes == [] and registry.puts == [] and registry.deletes == []
    assert [line[1] for line in said.lines] == ["Allowlist invalid: nothing new is shared",
                                                "No valid allowlist in Parameter Store's history: nothing is changed"]
    assert said.metrics == ["AllowlistInvalid", "AllowlistNoValidVersion"]


def test_the_history_is_read_only_when_the_current_allowlist_is_invalid():
    source = FixedAllowlist(allowlist_doc(RULE), history=[allowlist_doc()])
    service, _, shares = owner_with(source)
    promoted(shares)
    service.reconcile()
    assert source.history_reads == 0
    source.edit(INVALID)
    service.reconcile()
    assert source.history_reads == 1


def test_the_event_paths_still_do_nothing_on_an_invalid_allowlist():
    source = FixedAllowlist(allowlist_doc({**RULE, "consumers": [OTHER]}), history=[allowlist_doc(RULE)])
    source.edit(INVALID)
    service, registry, shares = owner_with(source)
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours(CONSUMER))
    shares.add_policy_share(group_arn("churn-xgb"))
    assert service.share_group("churn-xgb").action == GroupAction.SKIPPED
    assert service.promote_group("churn-xgb").action == GroupAction.SKIPPED
    assert [o.action for o in service.promote_pending_shares()] == [GroupAction.SKIPPED]
    assert registry.puts == [] and shares.promoted_shares == [] and source.history_reads == 0


def test_the_fanned_out_sweep_hands_out_only_groups_with_something_to_take_away():
    source = FixedAllowlist(allowlist_doc({**RULE, "consumers": [OTHER]}), history=[allowlist_doc(RULE)])
    source.edit(INVALID)
    queue = FakeQueue(waiting=3)  # earlier work still queued: a removal is never deferred for it
    service, _, shares = owner_with(source, "churn-xgb", "churn-lr", queue=queue)
    share = promoted(shares, principals=(CONSUMER, OTHER))  # OTHER stays: allowed and live
    promoted(shares, name="churn-lr", principals=())  # the last valid version would add OTHER: held
    outcomes = {o.group: o.action for o in service.sweep()}
    assert outcomes == {"churn-xgb": GroupAction.QUEUED, "churn-lr": GroupAction.RESTRICTED}
    assert [item["group"] for item in queue.items] == ["churn-xgb"]
    outcome, = service.reconcile_items(queue.items)
    assert outcome.action == GroupAction.CONSUMERS_CHANGED  # only taken away: as a valid allowlist does
    assert shares.principal_changes == [("remove", share, (CONSUMER,))]


# -- the restriction, pure --------------------------------------------------------------------------
def _share(name: str, feature_set: str = STANDARD) -> ResourceShare:
    return ResourceShare(f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}", name, feature_set, "ACTIVE")


def test_a_restriction_that_only_takes_away_is_the_valid_decision_itself():
    holding = Holding(_share("s"), (group_arn("churn-xgb"),), (CONSUMER, OTHER))
    group = GroupSnapshot("churn-xgb", group_arn("churn-xgb"), (holding,), Ownership(shares=frozenset({holding.share.arn})))
    verdict = decide(group, FixedAllowlist(allowlist_doc(RULE)).load().decide(OWNER, "churn-xgb"))
    assert restrict(group, verdict) is verdict
    assert [(w.kind, w.accounts) for w in verdict.writes] == [(WriteKind.REMOVE_CONSUMERS, (OTHER,))]


def test_actions_nothing_grants_in_common_remove_the_consumers_first():
    permission = SharePermission("arn:aws:ram::aws:permission/odd", "", STANDARD, MODEL_PACKAGE_GROUP_TYPE)
    holding = Holding(_share("s"), (group_arn("churn-xgb"),), (CONSUMER,), permission,
                      frozenset({"sagemaker:createmodel"}))
    group = GroupSnapshot("churn-xgb", group_arn("churn-xgb"), (holding,), Ownership(shares=frozenset({holding.share.arn})))
    verdict = decide(group, FixedAllowlist(allowlist_doc(RULE)).load().decide(OWNER, "churn-xgb"))
    assert [w.kind for w in verdict.writes] == [WriteKind.SET_ACTIONS]
    restricted = restrict(group, verdict)
    assert [(w.kind, w.accounts) for w in restricted.writes] == [(WriteKind.REMOVE_CONSUMERS, (CONSUMER,))]


# -- the history, as Parameter Store keeps it ---------------------------------------------------------
def test_the_newest_valid_version_of_the_parameter_whatever_order_the_history_comes_in():
    versions = [StoredVersion(3, json.dumps(allowlist_doc(RULE))), StoredVersion(5, "{"),
                StoredVersion(4, json.dumps(allowlist_doc({**RULE, "consumers": [OTHER]}))), StoredVersion(1, "[]")]
    found = last_valid_of_parameter("/a", versions)
    assert found is not None and found.version == "version 4 of /a"
    assert found.allowlist.decide(OWNER, "churn-xgb").consumers == (OTHER,)
    assert last_valid_of_parameter("/a", [StoredVersion(1, "{}")]) is None


def rules(count: int, consumer: str = CONSUMER) -> list[dict[str, Any]]:
    return [{"owner": OWNER, "groups": [f"team-{i:03d}-*"], "consumers": [consumer]} for i in range(count)]


def parts_of(document: dict[str, Any]) -> dict[str, str]:
    return {part_name(n): value for n, value in enumerate(split(document, TIER_LIMITS["Standard"]), start=1)}


class PartHistories:
    """Each part's versions as Parameter Store numbers them, written as the CLI writes (part-001 first)."""

    def __init__(self) -> None:
        self.versions: dict[str, list[StoredVersion]] = {}

    def write(self, values: dict[str, str]) -> None:
        for name, value in sorted(values.items()):
            history = self.versions.setdefault(name, [])
            history.append(StoredVersion(len(history) + 1, value))

    def delete(self, name: str) -> None:
        del self.versions[name]  # deleting a parameter deletes its history


def test_path_mode_the_last_complete_valid_revision_when_a_newer_one_is_half_written():
    first, second, third = (allowlist_doc(*rules(120, c)) for c in (CONSUMER, OTHER, STRANGER))
    histories = PartHistories()
    histories.write(parts_of(first))
    histories.write(parts_of(second))
    assert len(parts_of(second)) > 1
    histories.write({"part-001": parts_of(third)["part-001"]})  # the write stopped after its first part
    found = last_valid_of_parts(PATH, histories.versions)
    assert found is not None and found.allowlist.decide(OWNER, "team-007-a").consumers == (OTHER,)
    assert found.version.startswith("revision ") and f"parts under {PATH}" in found.version


def test_path_mode_a_revision_missing_a_part_or_edited_by_hand_is_passed_over():
    first, second = allowlist_doc(*rules(120, CONSUMER)), allowlist_doc(*rules(120, OTHER))
    histories = PartHistories()
    histories.write(parts_of(first))
    edited = json.loads(parts_of(second)["part-002"])
    edited["shares"][0]["consumers"] = [STRANGER]
    histories.write({**parts_of(second), "part-002": json.dumps(edited)})  # the digest no longer adds up
    found = last_valid_of_parts(PATH, histories.versions)
    assert found is not None and found.allowlist.decide(OWNER, "team-000-a").consumers == (CONSUMER,)
    histories.delete("part-002")
    assert last_valid_of_parts(PATH, histories.versions) is None
    assert last_valid_of_parts(PATH, {"notes": [StoredVersion(1, json.dumps(allowlist_doc(RULE)))]}) is None


def test_path_mode_a_revision_written_again_is_the_newest():
    first, second = allowlist_doc(*rules(120, CONSUMER)), allowlist_doc(*rules(120, OTHER))
    histories = PartHistories()
    for document in (first, second, first):
        histories.write(parts_of(document))
    histories.write({"part-001": "not json"})
    found = last_valid_of_parts(PATH, histories.versions)
    assert found is not None and found.allowlist.decide(OWNER, "team-000-a").consumers == (CONSUMER,)


# -- the adapters ---------------------------------------------------------------------------------------
def _session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")


def _history_page(name: str, versions: list[tuple[int, str]], token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"Parameters": [{"Name": name, "Version": v, "Value": value, "Type": "String"}
                                           for v, value in versions]}
    if token:
        page["NextToken"] = token
    return page


def test_the_parameter_history_is_read_page_by_page_fifty_versions_at_a_time():
    source = SsmAllowlistSource(_session(), "/modelshare/allowlist")
    valid = json.dumps(allowlist_doc(RULE))
    with Stubber(source._ssm) as ssm:
        ssm.add_response("get_parameter_history", _history_page("/modelshare/allowlist", [(1, valid), (2, "{")], "t"),
                         {"Name": "/modelshare/allowlist", "MaxResults": 50})
        ssm.add_response("get_parameter_history", _history_page("/modelshare/allowlist", [(3, "[]")]),
                         {"Name": "/modelshare/allowlist", "MaxResults": 50, "NextToken": "t"})
        found = source.last_valid()
    assert found is not None and found.version == "version 1 of /modelshare/allowlist"
    with Stubber(source._ssm) as ssm:
        ssm.add_client_error("get_parameter_history", "ParameterNotFound", expected_params=None)
        assert source.last_valid() is None


def test_in_path_mode_the_history_of_each_part_now_under_the_path_is_read():
    source = SsmAllowlistPathSource(_session(), PATH)
    values = parts_of(allowlist_doc(*rules(120)))
    with Stubber(source._ssm) as ssm:
        ssm.add_response("get_parameters_by_path", {"Parameters": [
            {"Name": f"{PATH}/{name}", "Value": "changed since", "Version": 2, "Type": "String"} for name in values]},
            {"Path": PATH, "Recursive": False, "MaxResults": 10})
        for name, value in sorted(values.items()):
            ssm.add_response("get_parameter_history", _history_page(f"{PATH}/{name}", [(1, value), (2, "changed since")]),
                             {"Name": f"{PATH}/{name}", "MaxResults": 50})
        found = source.last_valid()
    assert found is not None and found.allowlist.decide(OWNER, "team-003-a").consumers == (CONSUMER,)
