"""In-memory implementations of the version-event ports (modelshare.version_ports), for unit
tests without any network. Beside tests/unit/fakes.py, which holds the other ports' fakes."""

from __future__ import annotations

import json
from typing import Any

from modelshare.version_ports import Forward

INFERENCE = {"Containers": [{"Image": "img:3", "ModelDataUrl": "s3://m/3.tar.gz"}]}


class FakeModelVersions:
    """A registry of versions: ARN -> approval status (and when it last changed)."""

    def __init__(self, approvals: dict[str, str] | None = None, *, groups: tuple[str, ...] = (),
                 modified: str = "2026-12-06T03:00:00Z") -> None:
        self.approvals = dict(approvals or {})
        self.groups = list(groups)
        self.modified = modified
        self.calls: list[tuple[str, str]] = []

    def describe(self, version_arn: str) -> dict[str, Any]:
        self.calls.append(("describe", version_arn))
        return {"ModelPackageArn": version_arn, "ModelApprovalStatus": self.approvals.get(version_arn, "Approved"),
                "LastModifiedTime": self.modified, "InferenceSpecification": INFERENCE}

    def shared_group_names(self) -> list[str]:
        self.calls.append(("groups", ""))
        return list(self.groups)

    def latest_approved(self, group_name: str) -> str | None:
        self.calls.append(("latest_approved", group_name))
        name = group_name.rpartition("/")[2]
        approved = [arn for arn, status in self.approvals.items()
                    if status == "Approved" and arn.split("/")[-2] == name]
        return max(approved, key=lambda arn: int(arn.rpartition("/")[2]), default=None)


class FakeVersionBus:
    """The consumers' buses: what each took; those in `refuse` answer AccessDeniedException."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.sent: list[Forward] = []
        self.refuse = refuse

    def put(self, forwards: list[Forward]) -> list[tuple[Forward, str]]:
        self.sent.extend(f for f in forwards if f.consumer not in self.refuse)
        return [(f, "AccessDeniedException") for f in forwards if f.consumer in self.refuse]


def principal_of(sid: str) -> str:
    """As DescribeEventBus shows PutPermission's statement for an account: its root; other
    statements (a person's) admit every account."""
    owner = sid.removeprefix("modelshare-owner-")
    return f"arn:aws:iam::{owner}:root" if owner != sid else "*"


class FakeBusPolicy:
    """A consumer's bus policy: its statements' ids; every write is also kept in `calls`."""

    def __init__(self, *sids: str) -> None:
        self.sids = list(sids)
        self.calls: list[tuple[str, str]] = []

    def read(self) -> str | None:
        if not self.sids:
            return None
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal_of(sid)}, "Action": "events:PutEvents",
             "Resource": "arn:aws:events:eu-west-1:777788889999:event-bus/modelshare-versions"} for sid in self.sids]})

    def admit(self, owner: str) -> None:
        self.calls.append(("admit", owner))
        self.sids.append(f"modelshare-owner-{owner}")

    def take_out(self, statement_id: str) -> None:
        self.calls.append(("take_out", statement_id))
        self.sids.remove(statement_id)
