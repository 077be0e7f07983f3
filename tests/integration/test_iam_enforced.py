"""IAM as AWS enforces it, on the local AWS: every call a function makes is authorized against the
policy template.yaml gives that function. A tour through every path (sharing, promotion with and
without a permission of its own, the invitation quota, late duplicate events, lost events and
the sweep, a version approved and told on its consumer's own bus, edits adding and removing
consumers, an edit narrowing a promoted group's access, unsharing before promotion, a deleted
group, an invalid edit; and a second owner in the shares mode sharing with its organization: a
new group handed to the sweep, which makes the share, and one put into the share at once; a
person's permission for another type taken off it) runs with the template's permissions, uses
every one of them, and fails when any one is taken away: a function fails, or fails closed on an
allowlist it may not read, or an outcome the tour expects is missed (a denial the code reads as
"not allowed", failing closed)."""

from __future__ import annotations

import json
import os
import select
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest

from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import Invocation
from localaws.runtime.template import StackTemplate
from localaws.services.organizations.api import OrganizationModel
from localaws.services.registry_state import RamQuotas
from modelshare_cli.main import main
from tests.integration.conftest import CONSUMER, OWNER, World, group_arn
from tests.integration.test_version_events import BUS, INFERENCE
from tests.unit.test_template import as_list

# One worker (pytest-xdist) runs this module: its recording is made once, for every test here.
pytestmark = pytest.mark.xdist_group("iam-tour")

THIRD = "121212121212"
# A second owner, in the shares mode, in one organization (RAM sharing enabled) with THIRD: it
# shares its org-* groups with the organization. OWNER and CONSUMER are in none, so the policy
# mode's invitations are as before.
SHARES_OWNER = "343434343434"
ORG_ID, MANAGEMENT = "o-exampleorg1", "999988887777"
ORG_RULE = {"owner": SHARES_OWNER, "groups": ["org-*"], "consumers": [OrganizationModel(ORG_ID, MANAGEMENT).arn]}
ROOT = Path(__file__).resolve().parents[2]
# An AWS managed permission for another resource type (the local AWS has it whatever else it has).
SUBNET_PERMISSION = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSubnet"
CHURN = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}
DEPLOY = {"owner": OWNER, "groups": ["deploy-*"], "consumers": [CONSUMER], "access": ["register", "deploy"]}
DEPLOY_ONLY = {**DEPLOY, "access": ["deploy"]}
LATER = {"owner": OWNER, "groups": ["later-*"], "consumers": [CONSUMER]}
REGISTER = {"owner": OWNER, "groups": ["reg-*"], "consumers": [CONSUMER], "access": ["register"]}


def allowlist(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "modes": {SHARES_OWNER: "shares"}, "shares": [*rules, ORG_RULE]}


def _require(holds: bool, what: str) -> None:
    assert holds, what


def open_cloud() -> LocalCloud:
    # No AWS managed permission matches any access level (their action lists are UNVERIFIED), RAM
    # lets two invitations wait, and promotes more slowly than a function waits (so promoted
    # shares are tagged by a later run): every permission path and the quota are on the way.
    # CloudTrail's lag is the same for every call, so creations made together arrive together.
    return LocalCloud(ram_share_delay_seconds=20, promotion_delay_seconds=20,
                      ram_quotas=RamQuotas(pending_invitations_per_account=2), aws_managed_permissions=(),
                      cloudtrail_lag_seconds=(30.0, 30.0))


def tour(world: World, done: Callable[[], bool] = lambda: False,
         expect: Callable[[bool, str], None] = _require) -> None:
    """Every path the functions have. Stops early once `done()` says the outcome is known;
    `expect(holds, what)` is told each outcome the tour relies on."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    world.cloud.subscribe(lambda account, region, event: seen.append((account, region, event))
                          if event["source"] == "aws.sagemaker" and account == OWNER else None)
    organization = world.cloud.registry.state.organization = OrganizationModel(ORG_ID, MANAGEMENT,
                                                                               ram_sharing_enabled=True)
    for account in (SHARES_OWNER, THIRD):
        organization.move_account(account)
    world.install(OWNER, CONSUMER, THIRD, SHARES_OWNER, allowlist=allowlist(CHURN, DEPLOY))

    def phases() -> Iterator[None]:
        for name in ("churn-xgb", "churn-lr", "deploy-model", "later-model", "reg-model"):
            world.create_group(OWNER, name)
        # The shares mode: the first group of a bucket is handed to the sweep's workers, who make
        # its share and give it to the organization (no invitation inside it).
        world.create_group(SHARES_OWNER, "org-a")
        world.settle()
        expect(group_arn("org-a", SHARES_OWNER) in world.discoverable(THIRD), "the organization reaches org-a")
        yield
        # A group of a bucket whose share is ready goes into it at once (ShareOnCreate).
        world.create_group(SHARES_OWNER, "org-b")
        # Three promotions in one run (the policy events to PromoteFunction are lost, one RAM
        # wake-up finds all three shares), with a permission to match: RAM invites two consumers
        # (its quota here), leaves the third association FAILED, and a later wake-up invites again.
        world.lambdas.delivery_policy = lambda function, event: 0 if (
            function.spec.logical_id == "PromoteFunction" and event["source"] == "aws.sagemaker") else 1
        for name in ("churn-a", "churn-b", "churn-c"):
            world.create_group(OWNER, name)
        world.settle()
        world.lambdas.delivery_policy = lambda function, event: 1
        expect(group_arn("org-b", SHARES_OWNER) in world.discoverable(THIRD), "the organization reaches org-b")
        expect([c.caller for c in world.calls("AssociateResourceShare", SHARES_OWNER)
                if group_arn("org-b", SHARES_OWNER) in c.params.get("resourceArns", [])] == ["ShareOnCreateFunction"],
               "ShareOnCreate put org-b into its share")
        yield
        # Events arrive late and twice: every CloudTrail event so far, once more; a creation and
        # a policy put also without the call's response (its spelling is UNVERIFIED): the group
        # is described.
        for account, region, event in list(seen):
            world.lambdas.route(account, region, event)
        account, region, created = next(s for s in seen if s[2]["detail"]["eventName"] == "CreateModelPackageGroup"
                                        and s[2]["detail"]["requestParameters"]["modelPackageGroupName"] == "churn-xgb")
        world.lambdas.route(account, region, {**created, "detail": {**created["detail"], "responseElements": None}})
        account, region, put = next(s for s in seen if s[2]["detail"]["eventName"] == "PutModelPackageGroupPolicy")
        world.lambdas.route(account, region, {**put, "detail": {**put["detail"], "responseElements": None}})
        world.settle()
        yield
        # A version registered and approved in churn-xgb (shared with CONSUMER): SageMaker's state
        # change runs ForwardVersionsFunction, which reads the version and puts an event on
        # CONSUMER's own bus, whose policy AcceptInvitationsFunction keeps admitting OWNER.
        sagemaker = world.client(OWNER, "sagemaker")
        version = sagemaker.create_model_package(ModelPackageGroupName="churn-xgb",
                                                 InferenceSpecification=INFERENCE)["ModelPackageArn"]
        sagemaker.update_model_package(ModelPackageArn=version, ModelApprovalStatus="Approved")
        world.settle()
        expect(version in [e["detail"]["modelPackageArn"] for e in world.cloud.event_buses.on(CONSUMER, BUS)
                           if e["source"] == "modelshare"], "CONSUMER's bus was told of the approved version")
        yield
        world.edit_allowlist(allowlist({**CHURN, "consumers": [CONSUMER, THIRD]}, DEPLOY, LATER))
        # THIRD's re-check judges what its organization was given as given to it.
        expect(world.metric_total("SharedBeyondAllowlist", THIRD) == 0, "THIRD's re-check finds nothing beyond")
        yield
        world.edit_allowlist(allowlist({**CHURN, "consumers": [THIRD]}, DEPLOY, LATER))
        yield
        # RAM events and CloudTrail events to PromoteFunction are lost: the sweep promotes. A
        # person attaches a permission for another resource type to the shares mode's share: the
        # sweep takes it off.
        world.lambdas.delivery_policy = lambda function, event: 0 if function.spec.logical_id == "PromoteFunction" else 1
        world.edit_allowlist(allowlist({**CHURN, "consumers": [THIRD]}, DEPLOY, LATER, REGISTER))
        ram = world.client(SHARES_OWNER, "ram")
        made, = [s["resourceShareArn"] for s in ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
                 if s["name"].startswith("modelshare-") and s["status"] == "ACTIVE"]
        ram.associate_resource_share_permission(resourceShareArn=made, permissionArn=SUBNET_PERMISSION)
        world.run_for(hours=1)
        world.lambdas.delivery_policy = lambda function, event: 1
        expect([p["arn"] for p in ram.list_resource_share_permissions(resourceShareArn=made)["permissions"]
                if p["arn"] == SUBNET_PERMISSION] == [], "the sweep took the other type's permission off its share")
        yield
        # The promoted deploy-model loses register: no permission grants discover and deploy
        # alone, so the sweep creates one and gives it to the share (its consumers wait outside
        # while the new permission is not attachable yet: it grants more than allowed meanwhile).
        world.edit_allowlist(allowlist({**CHURN, "consumers": [THIRD]}, DEPLOY_ONLY, LATER, REGISTER))
        world.run_for(hours=1)
        yield
        # A group unshared before RAM made its share: modelshare's statement, the only one, goes.
        world.create_group(OWNER, "churn-brief")
        while not any(c.params.get("ModelPackageGroupName") == "churn-brief"
                      for c in world.calls("PutModelPackageGroupPolicy", OWNER)):
            world.cloud.clock.run_until(world.cloud.clock.now() + timedelta(seconds=1))  # CloudTrail's lag
        world.edit_allowlist(allowlist(DEPLOY_ONLY, LATER, REGISTER))
        yield
        world.client(OWNER, "sagemaker").delete_model_package_group(ModelPackageGroupName="deploy-model")
        world.settle()
        world.run_for(hours=1)
        yield
        # An invalid edit: the sweep reads the allowlist's history for its last valid version (a
        # history it may not read holds none: it then changes nothing, failing closed).
        world.edit_allowlist(json.dumps(allowlist(DEPLOY_ONLY, LATER, REGISTER))[:-2])
        for function in ("OwnerReconcileFunction", "AcceptInvitationsFunction"):  # the sweep, the bus keeper
            expect(any(i.metrics().get("AllowlistLastValidApplied", 0) for i in world.lambdas.invocations
                       if i.account == OWNER and i.function == function),
                   f"{function} applies the last valid allowlist's removals")

    for _ in phases():
        if done():
            return


def template_actions(parameters: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(function, action) of every grant the template makes with these stack parameters."""
    stack = StackTemplate(ROOT / "template.yaml").render(OWNER, "eu-west-1", {"Role": "both", **(parameters or {})})
    return sorted({(function.logical_id, action) for function in stack.functions()
                   for statement in function.policy_statements for action in as_list(statement["Action"])})


def denied(world: World) -> list[tuple[str, str, str, str, bool]]:
    return [d for d in world.cloud.iam.decisions if not d[4]]


@dataclass
class Removal:
    """What the tour did with one granted action taken away from one function."""

    broken: bool  # a function failed, or an outcome the tour expects was missed
    denied: list[tuple[str, str, str, str, bool]]
    failed: list[str]  # why it broke: the denied invocation's error, or the outcome missed
    error: str | None = None  # the run itself crashed (a traceback), or never reported


@dataclass
class Recording:
    """The tour run once with the template's permissions, and once more forked into one run per
    granted action with that action taken away (see `record`)."""

    denied: list[tuple[str, str, str, str, bool]]
    failures: list[Any]
    discoverable: dict[str, list[str]]
    share_makers: list[str | None]
    used: set[tuple[str, str]]
    allowlist_unreadable: float  # invocations that failed closed on an allowlist they could not read
    removals: dict[tuple[str, str], Removal] = field(default_factory=dict)


class _Broken(Exception):
    """The tour has failed: no need to run the rest of it."""


def _observe_safe_points(world: World, at_point: Callable[[int], None]) -> None:
    """Call `at_point(n)` at the n-th moment of the tour when only the main thread runs: between
    two tasks of the simulated clock, no invocation in flight (none waits to be woken). A fork
    there copies the whole world, and a run replays call for call, so the n-th moment of one run
    is the n-th of another until they differ."""
    clock = world.cloud.clock
    run_next = clock._run_next
    count = 0

    def observed() -> Any:
        nonlocal count
        if not any(task.wakes is not None for task in clock._tasks):
            count += 1
            at_point(count)
        return run_next()

    clock._run_next = observed  # type: ignore[method-assign]


def _take_away(world: World, function: str, action: str) -> None:
    """Remove `action` from `function`'s policy in the template (as an admin would edit it) and
    give the roles of stacks already installed the statements the edited template renders."""
    _remove_action(world.deployment.template.document, function, action)
    for account, installed in world.deployment.stacks.items():
        stack = world.deployment.template.render(account, installed.region, installed.parameters)
        for spec in stack.functions():
            if spec.logical_id == function:
                world.cloud.iam.attach(account, function, stack.role_name(function), stack.physical_name(function),
                                       spec.policy_statements)


class _Child:
    """In a forked run: the action taken away, what broke, and the pipe to the recording."""

    def __init__(self, pipe: int, world: World, function: str, action: str) -> None:
        self.pipe, self.world, self.function, self.action = pipe, world, function, action
        self.failed: list[str] = []

    def watch(self, invocation: Invocation) -> None:
        if invocation.function != self.function:
            return
        if not invocation.ok and "AccessDeniedException" in (invocation.error or ""):
            self.failed.append(invocation.error or "")
            raise _Broken
        if invocation.metrics().get("AllowlistUnreadable", 0) > 0:
            # Refused the allowlist, the function fails closed (docs/central-allowlist.md): it logs,
            # counts and succeeds having shared, accepted or told nothing. The recording never
            # counts this (test_the_tour_runs_with_exactly_the_template_s_permissions), so here the
            # removal did it: broken. Its log names only the code (AccessDeniedException), so IAM's
            # denials of the function in that account are added: the action taken away must be one.
            problems = [p for r in invocation.log_records if r.get("level") == "ERROR" for p in r.get("problems", [])]
            refused = sorted({f"{d[2]} on {d[3]}" for d in denied(self.world)
                              if d[0] == invocation.account and d[1] == self.function})
            self.failed.append(f"{self.function} failed closed, allowlist unreadable: {problems}; IAM denied {refused}")
            raise _Broken

    def expect(self, holds: bool, what: str) -> None:
        if not holds:  # a denial the code took for "not allowed" (failing closed)
            self.failed.append(what)
            raise _Broken

    def report(self, world: World, broken: bool, error: str | None) -> NoReturn:
        try:
            payload = json.dumps({"broken": broken, "denied": denied(world), "failed": self.failed, "error": error})
            with os.fdopen(self.pipe, "w") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)  # never back into pytest: the recording's process goes on


class _Forks:
    """Forks the tour, at the moments `plan` names, into runs with one action taken away each."""

    def __init__(self, plan: dict[int, list[tuple[str, str]]]) -> None:
        self.plan = plan
        self.removals: dict[tuple[str, str], Removal] = {}
        self.child: _Child | None = None

    def at(self, point: int, world: World) -> None:
        for function, action in self.plan.get(point, []):
            if self.child is not None:  # a forked run goes on with the tour, and forks no further
                return
            self.removals[(function, action)] = self._fork(world, function, action)

    def expect(self, holds: bool, what: str) -> None:
        (self.child.expect if self.child is not None else _require)(holds, what)

    def _fork(self, world: World, function: str, action: str) -> Removal:
        read, write = os.pipe()
        with warnings.catch_warnings():  # the child only goes on in this thread (execnet's are not its)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            os.close(read)
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            self.child = _Child(write, world, function, action)
            _take_away(world, function, action)
            world.lambdas.observers.append(self.child.watch)
            return Removal(False, [], [])  # unused: this process goes on with the tour
        os.close(write)
        return _collect(pid, read, f"{function} without {action}")


def _collect(pid: int, read: int, what: str, timeout: float = 600.0) -> Removal:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    with os.fdopen(read, "rb") as pipe:
        while (left := deadline - time.monotonic()) > 0 and select.select([pipe], [], [], left)[0]:
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if not chunks:
        return Removal(False, [], [], error=f"the run {what} reported nothing (crashed or timed out)")
    found = json.loads(b"".join(chunks))
    return Removal(found["broken"], [tuple(d) for d in found["denied"]], found["failed"], found["error"])


def _first_asks(decisions: list[tuple[str, str, str, str, bool]], marks: list[int]) -> dict[tuple[str, str], int]:
    """The last moment (see _observe_safe_points; 0: before the tour) before each (function,
    action) was first asked for; absent when it never was."""
    first: dict[tuple[str, str], int] = {}
    for index, (_, caller, action, _, _) in enumerate(decisions):
        first.setdefault((caller, action.lower()), sum(1 for mark in marks if mark <= index))
    return first


def record() -> Recording:
    """The tour with the template's permissions, watched at every moment only the main thread
    runs. Then, for every granted action, the tour with it taken away, as if from the start:
    nothing before its function first asks for it can tell, so the run forks (os.fork: the whole
    world, copied) from a second run with all permissions at the last such moment before that
    ask, and goes on alone without it. The second run must replay the first call for call."""
    with open_cloud() as cloud:
        world = World(cloud)
        marks: list[int] = []
        _observe_safe_points(world, lambda point: marks.append(len(cloud.iam.decisions)))
        tour(world)
        decisions = list(cloud.iam.decisions)
        recording = Recording(
            denied=denied(world), failures=list(world.lambdas.failures),
            discoverable={CONSUMER: world.discoverable(CONSUMER), THIRD: world.discoverable(THIRD)},
            share_makers=[c.caller for c in world.calls("CreateResourceShare", SHARES_OWNER)],
            allowlist_unreadable=world.metric_total("AllowlistUnreadable"),
            used={(caller, action.lower()) for _, caller, action, _, allowed in decisions if allowed})
    first = _first_asks(decisions, marks)
    plan: dict[int, list[tuple[str, str]]] = {}
    for function, action in template_actions():
        plan.setdefault(first.get((function, action.lower()), 0), []).append((function, action))
    forks = _Forks(plan)
    with open_cloud() as cloud:
        world = World(cloud)
        _observe_safe_points(world, lambda point: forks.at(point, world))
        broken, error = False, None
        try:
            forks.at(0, world)
            tour(world, expect=forks.expect)
        except _Broken:
            broken = True
        except BaseException:
            if forks.child is None:
                raise
            error = traceback.format_exc()
        if forks.child is not None:
            forks.child.report(world, broken, error)
        assert cloud.iam.decisions == decisions, "the second run did not replay the first: the forks are not sound"
    recording.removals = forks.removals
    return recording


# Session scope: a module-scoped fixture is made again whenever a worker's next test comes from
# another module (xdist hands work out in chunks), and the tour takes ~100 s.
@pytest.fixture(scope="session")
def recording() -> Recording:
    return record()


def test_the_tour_runs_with_exactly_the_template_s_permissions(recording):
    assert recording.denied == []
    assert recording.failures == []
    assert recording.allowlist_unreadable == 0
    assert recording.discoverable[CONSUMER] == sorted(group_arn(g) for g in ("later-model", "reg-model"))
    assert recording.discoverable[THIRD] == sorted(group_arn(g, SHARES_OWNER) for g in ("org-a", "org-b"))
    assert recording.share_makers == ["OwnerReconcileFunction"]


def test_every_action_the_template_grants_is_used_by_the_tour(recording):
    unused = [(f, a) for f, a in template_actions() if (f, a.lower()) not in recording.used]
    assert unused == []


@pytest.mark.parametrize(("function", "action"), template_actions(), ids=lambda value: value)
def test_taking_away_any_granted_action_breaks_the_tour(recording, function, action):
    removal = recording.removals[(function, action)]
    assert removal.error is None, removal.error
    assert removal.broken, f"the tour ran to its end without {action}"
    assert any(d[1] == function and d[2] == action for d in removal.denied), f"{action} was never asked for"
    if "AccessDeniedException" in removal.failed[0]:  # else an outcome the tour expects was missed
        assert action in removal.failed[0], removal.failed[0]


def _remove_action(document: dict[str, Any], function: str, action: str) -> None:
    for policy in document["Resources"][function]["Properties"]["Policies"]:
        policy["Statement"] = [kept for statement in policy["Statement"]
                               if (kept := _without(statement, action)) is not None]


def _without(statement: dict[str, Any], action: str) -> dict[str, Any] | None:
    """The statement without `action` (None when nothing is left); in both branches of a
    statement chosen by a condition."""
    if set(statement) == {"Fn::If"}:
        condition, *branches = statement["Fn::If"]
        kept = [_without(branch, action) if branch != {"Ref": "AWS::NoValue"} else branch for branch in branches]
        return {"Fn::If": [condition, *(branch or {"Ref": "AWS::NoValue"} for branch in kept)]}
    actions = [a for a in as_list(statement["Action"]) if a != action]
    return {**statement, "Action": actions} if actions else None


def test_simulate_a_template_without_share_promotion(capsys, tmp_path):
    """An admin tries a template change before deploying it: without
    ram:PromoteResourceShareCreatedFromPolicy nothing becomes discoverable, and the failed
    invocations say AccessDeniedException; the project's template makes the same groups
    discoverable."""
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"allowlist": allowlist(CHURN),
                                    "accounts": {OWNER: {"groups": ["churn-xgb", "churn-lr"]}, CONSUMER: {}}}))
    text = (ROOT / "template.yaml").read_text()
    changed = tmp_path / "template.yaml"
    changed.write_text(text.replace("                - ram:PromoteResourceShareCreatedFromPolicy\n", ""))
    assert "ram:PromoteResourceShareCreatedFromPolicy" not in changed.read_text()

    assert main(["simulate", str(scenario), "--json", "--template", str(changed)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["discoverable"][CONSUMER] == []
    errors = [f["error"] for f in report["failed_invocations"]]
    assert errors and all("AccessDeniedException" in e for e in errors)
    assert any("ram:PromoteResourceShareCreatedFromPolicy" in e for e in errors)
    # The oracle sees groups the allowlist shares that never became discoverable; a scenario that
    # waits no sweep period is not judged on that (exit 0), but reports it.
    assert any("not discoverable" in line for line in report["safety"]["unconverged"])
    assert report["safety"]["violations"] == []

    assert main(["simulate", str(scenario), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["discoverable"][CONSUMER] == [group_arn("churn-lr"), group_arn("churn-xgb")]
    assert report["failed_invocations"] == []


def test_simulate_refuses_a_template_it_cannot_read(capsys, tmp_path):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"allowlist": allowlist(), "accounts": {OWNER: {}}}))
    assert main(["simulate", str(scenario), "--template", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read template" in capsys.readouterr().err
