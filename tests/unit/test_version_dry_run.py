"""A dry run of version events reads as a real run and records what it would send and change in
its plan (issue 22 part 2): the owner's events per consumer, the consumer's bus policy changes."""

from __future__ import annotations

from modelshare.dry_run import DryRunBusPolicyWrites, DryRunVersionBus, Plan
from modelshare.version_forwarding import VersionForwarder, keep_bus_policy
from tests.unit.fakes import FixedAllowlist, allowlist_doc
from tests.unit.version_fakes import FakeBusPolicy, FakeModelVersions

OWNER, DEPLOYER, VIEWER, OTHER = "111122223333", "444455556666", "777788889999", "222233334444"
VIEWER_BUS = f"arn:aws:events:eu-west-1:{VIEWER}:event-bus/modelshare-versions"
ARN = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/churn-model/3"
RULES = allowlist_doc({"owner": OWNER, "groups": ["churn-*"], "consumers": [DEPLOYER, VIEWER], "access": ["deploy"]})


def test_the_dry_run_forwarder_sends_nothing_and_plans_one_event_per_consumer() -> None:
    plan = Plan()
    report = VersionForwarder(OWNER, FakeModelVersions(), DryRunVersionBus(plan), FixedAllowlist(RULES)).forward([ARN])
    assert [str(w) for w in plan.writes] == [
        f"send-version-event {DEPLOYER}: Model Version Approved {ARN}",
        f"send-version-event {VIEWER}: Model Version Approved {ARN}"]
    assert report.sent == 2 and report.failed == []


def test_the_dry_run_keeps_the_bus_policy_in_its_plan_only() -> None:
    plan = Plan()
    policy = FakeBusPolicy(f"modelshare-owner-{OTHER}", "someone-else")
    changes = keep_bus_policy(VIEWER_BUS, policy, DryRunBusPolicyWrites(plan), FixedAllowlist(RULES))
    assert changes == {"admitted": [OWNER], "taken_out": [f"modelshare-owner-{OTHER}"], "not_ours": []}
    assert policy.calls == [], "the bus policy itself is not changed"
    assert [str(w) for w in plan.writes] == [
        f"take-out-bus-statement modelshare-owner-{OTHER}: from the version event bus",
        f"admit-owner {OWNER}: to the version event bus"]


def test_the_plan_records_nothing_when_the_allowlist_is_invalid() -> None:
    plan = Plan()
    broken = FixedAllowlist({"version": 2, "shares": []})
    VersionForwarder(OWNER, FakeModelVersions(), DryRunVersionBus(plan), broken).forward([ARN])
    keep_bus_policy(VIEWER_BUS, FakeBusPolicy(), DryRunBusPolicyWrites(plan), broken)
    assert plan.writes == []

