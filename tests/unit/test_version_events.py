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
from modelshare.version_forwarding import VersionForwarder, keep_bus_policy

OWNER, DEPLOYER, VIEWER, OTHER = "111122223333", "444455556666", "777788889999", "222233334444"
ARN = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/churn-model/3"
INFERENCE = {"Containers": [{"Image": "img:3", "ModelDataUrl": "s3://m/3.tar.gz"}]}


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


class Registry:
    def __init__(self, approval: str = "Approved") -> None:
        self.approval = approval

    def describe(self, version_arn: str) -> dict[str, Any]:
        return {"ModelPackageArn": version_arn, "ModelApprovalStatus": self.approval,
                "LastModifiedTime": "2026-12-06T03:00:00Z", "InferenceSpecification": INFERENCE}

    def shared_group_names(self) -> list[str]:
        return ["churn-model", "unlisted-model"]

    def latest_approved(self, group_name: str) -> str | None:
        return ARN.replace("churn-model", group_name)


class Bus:
    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.sent: list[Any] = []
        self.refuse = refuse

    def put(self, planned: list[Any]) -> list[tuple[Any, str]]:
        self.sent.extend(p for p in planned if p.consumer not in self.refuse)
        return [(p, "AccessDeniedException") for p in planned if p.consumer in self.refuse]


def test_the_forwarder_reads_the_version_and_the_allowlist_now():
    bus = Bus()
    VersionForwarder(OWNER, Registry(), bus, Source(SHARED)).forward([ARN, ARN])
    assert sorted(f.consumer for f in bus.sent) == [DEPLOYER, VIEWER]
    # The event said approved, the registry says rejected now: nothing is sent.
    rejected = Bus()
    VersionForwarder(OWNER, Registry("Rejected"), rejected, Source(SHARED)).forward([ARN])
    assert rejected.sent == []


def test_an_invalid_allowlist_tells_nobody():
    bus = Bus()
    assert VersionForwarder(OWNER, Registry(), bus, Source(None)).forward([ARN]).sent == 0
    assert bus.sent == []


def test_a_refusing_bus_is_reported_not_raised():
    report = VersionForwarder(OWNER, Registry(), Bus(frozenset({VIEWER})), Source(SHARED)).forward([ARN])
    assert report.sent == 1 and report.failed == [{"consumer": VIEWER, "version": ARN,
                                                   "error": "AccessDeniedException"}]


def test_the_repair_sends_the_latest_approved_version_of_shared_groups_only():
    bus = Bus()
    VersionForwarder(OWNER, Registry(), bus, Source(SHARED)).repair()
    assert {f.detail["modelPackageGroupName"] for f in bus.sent} == {"churn-model"}


# -- the consumer's bus policy -------------------------------------------------------------------

def policy(*sids: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "events:PutEvents",
         "Resource": "arn:aws:events:eu-west-1:444455556666:event-bus/modelshare-versions"} for sid in sids]})


def test_the_bus_policy_admits_exactly_the_allowlisted_owners_and_keeps_other_statements():
    admit, take_out = policy_changes(policy("modelshare-owner-" + OTHER, "someone-else"), frozenset({OWNER}))
    assert admit == [OWNER] and take_out == ["modelshare-owner-" + OTHER]
    assert policy_changes(None, frozenset()) == ([], [])


class FakeBusPolicy:
    def __init__(self, text: str | None) -> None:
        self.text = text
        self.calls: list[tuple[str, str]] = []

    def read(self) -> str | None:
        return self.text

    def admit(self, owner: str) -> None:
        self.calls.append(("admit", owner))

    def take_out(self, statement_id: str) -> None:
        self.calls.append(("take_out", statement_id))


def test_keeping_the_bus_policy_takes_out_before_it_admits_and_an_invalid_allowlist_changes_nothing():
    bus = FakeBusPolicy(policy("modelshare-owner-" + OTHER))
    keep_bus_policy(VIEWER, bus, Source(SHARED))
    assert bus.calls == [("take_out", "modelshare-owner-" + OTHER), ("admit", OWNER)]
    untouched = FakeBusPolicy(policy("modelshare-owner-" + OTHER))
    keep_bus_policy(VIEWER, untouched, Source(None))
    assert untouched.calls == []
