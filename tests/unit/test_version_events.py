"""Version events (issue 22 part 2): who is told of an approved version, with what, and the
consumer's bus policy kept to exactly the allowlisted owners."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelshare.allowlist import Allowlist
from modelshare.version_events import (
    NotAVersionEvent,
    Version,
    forwards,
    policy_changes,
    version_arn_in,
)
from modelshare.version_forwarding import VersionForwarder, VersionsUnread, keep_bus_policy
from tests.unit.version_fakes import INFERENCE, FakeBusPolicy, FakeModelVersions, FakeVersionBus, principal_of

OWNER, DEPLOYER, VIEWER, OTHER = "111122223333", "444455556666", "777788889999", "222233334444"
VIEWER_BUS = f"arn:aws:events:eu-west-1:{VIEWER}:event-bus/modelshare-versions"
ARN = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/churn-model/3"


def allowlist(*rules: dict[str, Any]) -> Allowlist:
    return Allowlist.parse({"version": 1, "shares": list(rules)})


SHARED = allowlist(
    {"owner": OWNER, "groups": ["churn-*"], "consumers": [DEPLOYER], "access": ["deploy"]},
    {"owner": OWNER, "groups": ["churn-model"], "consumers": [VIEWER], "access": ["deploy"]},
    {"owner": OWNER, "groups": ["fraud-*"], "consumers": [VIEWER]},
)


def version(approval: str = "Approved", group: str = "churn-model", modified: str = "2026-12-06T03:00:00+00:00",
            ) -> Version:
    arn = ARN.replace("churn-model", group)
    return Version(owner=OWNER, group=group, number=3, arn=arn, approval=approval, last_modified=modified,
                   inference=INFERENCE)


def test_an_approved_version_goes_to_exactly_the_consumers_granted_its_group():
    sent = forwards(SHARED, version())
    assert sorted(f.consumer for f in sent) == [DEPLOYER, VIEWER]
    assert forwards(SHARED, version(group="other-model")) == []


def test_only_deploy_access_sees_the_inference_specification():
    deploy = forwards(SHARED, version())[0].detail
    assert deploy["inferenceSpecification"] == INFERENCE and "deploy" in deploy["access"]
    discover, = forwards(SHARED, version(group="fraud-model"))
    assert discover.consumer == VIEWER
    assert "inferenceSpecification" not in discover.detail
    assert discover.detail["access"] == ["discover"]
    assert discover.detail["modelPackageArn"].endswith("/fraud-model/3")
    assert discover.detail["modelApprovalStatus"] == "Approved"


@pytest.mark.parametrize("approval", ["PendingManualApproval", "Rejected"])
def test_versions_not_approved_are_not_forwarded(approval):
    assert forwards(SHARED, version(approval)) == []


def test_a_conflicting_group_tells_nobody():
    conflict = allowlist({"owner": OWNER, "groups": ["churn-*"], "consumers": [DEPLOYER], "access": ["deploy"]},
                         {"owner": OWNER, "groups": ["churn-model"], "consumers": [VIEWER]})
    assert forwards(conflict, version()) == []


def test_the_forward_id_is_stable_for_one_state_and_new_for_another():
    assert version().forward_id == version().forward_id
    assert version().forward_id != version(modified="2026-12-06T04:00:00+00:00").forward_id
    assert version().forward_id != version("Rejected").forward_id


def test_an_event_naming_another_account_s_version_is_refused():
    assert version_arn_in({"ModelPackageArn": ARN}, OWNER) == ARN
    with pytest.raises(NotAVersionEvent):
        version_arn_in({"ModelPackageArn": ARN}, OTHER)
    with pytest.raises(NotAVersionEvent):
        version_arn_in({"ModelPackageArn": ARN.rsplit("/", 1)[0]}, OWNER)


# -- the service, over fakes ---------------------------------------------------------------------

class Source:
    def __init__(self, document: Allowlist | None) -> None:
        self.document = document

    def load(self, *, fresh: bool = False) -> Allowlist:
        from modelshare.allowlist import AllowlistError
        if self.document is None:
            raise AllowlistError([("$", "broken")])
        return self.document

    def last_valid(self) -> None:
        return None


def test_the_forwarder_reads_the_version_and_the_allowlist_now():
    bus = FakeVersionBus()
    VersionForwarder(OWNER, FakeModelVersions(), bus, Source(SHARED)).forward([ARN, ARN])
    assert sorted(f.consumer for f in bus.sent) == [DEPLOYER, VIEWER]
    # The event said approved, the registry says rejected now: nothing is sent.
    rejected = FakeVersionBus()
    VersionForwarder(OWNER, FakeModelVersions({ARN: "Rejected"}), rejected, Source(SHARED)).forward([ARN])
    assert rejected.sent == []


def test_an_invalid_allowlist_tells_nobody():
    bus = FakeVersionBus()
    assert VersionForwarder(OWNER, FakeModelVersions(), bus, Source(None)).forward([ARN]).sent == 0
    assert bus.sent == []


def test_a_refusing_bus_is_reported_not_raised():
    report = VersionForwarder(OWNER, FakeModelVersions(), FakeVersionBus(frozenset({VIEWER})), Source(SHARED)).forward([ARN])
    assert report.sent == 1 and report.failed == [{"consumer": VIEWER, "version": ARN,
                                                   "error": "AccessDeniedException"}]


def test_the_repair_sends_the_latest_approved_version_of_shared_groups_only():
    bus = FakeVersionBus()
    registry = FakeModelVersions({ARN: "Approved", ARN.replace("churn-model", "unlisted-model"): "Approved"},
                                 groups=("churn-model", "unlisted-model"))
    VersionForwarder(OWNER, registry, bus, Source(SHARED)).repair()
    assert {f.detail["modelPackageGroupName"] for f in bus.sent} == {"churn-model"}


# -- the consumer's bus policy -------------------------------------------------------------------

def policy(*sids: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal_of(sid)}, "Action": "events:PutEvents",
         "Resource": "arn:aws:events:eu-west-1:777788889999:event-bus/modelshare-versions"} for sid in sids]})


def test_the_bus_policy_admits_exactly_the_allowlisted_owners_and_keeps_other_statements():
    admit, take_out, not_ours = policy_changes(policy("modelshare-owner-" + OTHER, "someone-else"), frozenset({OWNER}),
                                               VIEWER_BUS)
    assert admit == [OWNER] and take_out == ["modelshare-owner-" + OTHER] and not_ours == []
    assert policy_changes(None, frozenset(), VIEWER_BUS) == ([], [], [])


def test_keeping_the_bus_policy_takes_out_before_it_admits_and_an_invalid_allowlist_changes_nothing():
    bus = FakeBusPolicy("modelshare-owner-" + OTHER)
    keep_bus_policy(VIEWER_BUS, bus, bus, Source(SHARED))
    assert bus.calls == [("take_out", "modelshare-owner-" + OTHER), ("admit", OWNER)]
    untouched = FakeBusPolicy("modelshare-owner-" + OTHER)
    keep_bus_policy(VIEWER_BUS, untouched, untouched, Source(None))
    assert untouched.calls == []


# -- statuses other than approved, when the allowlist asks (docs/allowlist.md, `versions`) --------

ASKING = allowlist(
    {"owner": OWNER, "groups": ["churn-*"], "consumers": [DEPLOYER], "access": ["deploy"],
     "versions": ["Approved", "Rejected"]},
    {"owner": OWNER, "groups": ["churn-model"], "consumers": [VIEWER], "access": ["deploy"]},
    {"owner": OWNER, "groups": ["fraud-*"], "consumers": [OTHER], "versions": ["PendingManualApproval"]},
)


def test_a_rejected_version_goes_only_to_the_consumers_whose_rule_asks_for_it():
    rejected, = forwards(ASKING, version("Rejected"))
    assert rejected.consumer == DEPLOYER and rejected.detail_type == "Model Version Rejected"
    assert rejected.detail["modelApprovalStatus"] == "Rejected"
    assert forwards(ASKING, version("PendingManualApproval")) == []
    assert sorted(f.consumer for f in forwards(ASKING, version())) == [DEPLOYER, VIEWER]


def test_a_rule_asking_for_pending_versions_only_is_not_told_of_approved_ones():
    pending, = forwards(ASKING, version("PendingManualApproval", group="fraud-model"))
    assert pending.consumer == OTHER and pending.detail_type == "Model Version Pending Approval"
    assert forwards(ASKING, version(group="fraud-model")) == []


def test_the_repair_tells_the_latest_approved_version_to_those_that_ask_for_approved_ones():
    bus = FakeVersionBus()
    fraud = ARN.replace("churn-model", "fraud-model")
    registry = FakeModelVersions({ARN: "Approved", fraud: "Approved"}, groups=("churn-model", "fraud-model"))
    VersionForwarder(OWNER, registry, bus, Source(ASKING)).repair()
    assert sorted((f.consumer, f.detail["modelPackageArn"]) for f in bus.sent) == [(DEPLOYER, ARN), (VIEWER, ARN)]


def test_an_event_whose_status_is_no_longer_the_version_s_leaves_it_to_the_event_of_its_change():
    """Made (pending) and approved before the function ran: the pending event tells nothing, the
    approval's own event tells it once."""
    pending_said = FakeVersionBus()
    VersionForwarder(OWNER, FakeModelVersions(), pending_said, Source(SHARED)).forward(
        [ARN], {ARN: frozenset({"PendingManualApproval"})})
    assert pending_said.sent == []
    both_said = FakeVersionBus()
    VersionForwarder(OWNER, FakeModelVersions(), both_said, Source(SHARED)).forward(
        [ARN], {ARN: frozenset({"PendingManualApproval", "Approved"})})
    assert sorted(f.consumer for f in both_said.sent) == [DEPLOYER, VIEWER]


class FailingOnce(FakeModelVersions):
    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    def describe(self, version_arn: str) -> dict[str, Any]:
        if version_arn == self.failing:
            raise RuntimeError("ThrottlingException")
        return super().describe(version_arn)


def test_a_version_that_cannot_be_read_does_not_hold_back_the_others_and_fails_the_run_at_the_end():
    first, second = ARN.replace("/3", "/7"), ARN
    bus = FakeVersionBus()
    forwarder = VersionForwarder(OWNER, FailingOnce(first), bus, Source(SHARED))
    with pytest.raises(VersionsUnread) as unread:
        forwarder.forward([first, second])
    assert list(unread.value.unread) == [first]
    assert {f.detail["modelPackageArn"] for f in bus.sent} == {second}
