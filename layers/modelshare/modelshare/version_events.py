"""What an owner tells consumers about a model version (issue 22; docs/version-events.md): pure.

A version of a group the allowlist shares is announced to each consumer account the allowlist
grants that group *at that moment*, on the consumer's own event bus, with what that consumer's
access lets it see: group, version, ARN and approval status for every access level; the inference
specification (image and artifact locations) only for `deploy`. Each announcement carries a
stable id (`forwardId`): the same version in the same state gives the same id, so a consumer
drops duplicates (SageMaker repeats events; the repair sends the latest approved version again).
Only approved versions are announced, unless a rule asks for other statuses (its `versions`: the
consumers it names are told of those too). Organization and OU consumers have no bus of their own to
be sent to: they are not told (said in the docs).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from modelshare.account_ids import is_account_id
from modelshare.allowlist import Allowlist, access_levels_for
from modelshare.version_ports import Forward

SOURCE = "modelshare"
APPROVED = "Approved"
# The detail-type a consumer's rule matches, per approval status (allowlist.VERSION_STATUSES).
DETAIL_TYPES: Mapping[str, str] = {APPROVED: "Model Version Approved", "Rejected": "Model Version Rejected",
                                   "PendingManualApproval": "Model Version Pending Approval"}
DETAIL_TYPE = DETAIL_TYPES[APPROVED]
# One PutEvents call takes at most 10 entries (EventBridge quotas).
ENTRIES_PER_CALL = 10
_PACKAGE_ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):([0-9]{12}):model-package/([a-zA-Z0-9-]{1,63})/([0-9]{1,9})")


class NotAVersionEvent(ValueError):
    """The event names no version of this account's registry: nothing to look at."""


def version_arn_in(event_detail: Mapping[str, Any], event_account: str) -> str:
    """The version an owner-side state-change event points to: only where to look (the
    forwarder reads the version itself). Refused unless it is a version of `event_account`."""
    arn = event_detail.get("ModelPackageArn")
    match = _PACKAGE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None or match.group(2) != event_account:
        raise NotAVersionEvent(f"no model package version of account {event_account} in the event: {arn!r}")
    return str(arn)


@dataclass(frozen=True)
class Version:
    """A model package version as DescribeModelPackage gives it (read by the forwarder)."""

    owner: str
    group: str
    number: int
    arn: str
    approval: str
    last_modified: str  # ISO 8601, as read
    inference: Mapping[str, Any] | None = None

    @classmethod
    def from_description(cls, described: Mapping[str, Any]) -> Version:
        arn = str(described["ModelPackageArn"])
        match = _PACKAGE_ARN.fullmatch(arn)
        if match is None:
            raise NotAVersionEvent(f"not a versioned model package: {arn!r}")
        modified = described.get("LastModifiedTime") or described.get("CreationTime")
        return cls(owner=match.group(2), group=match.group(3), number=int(match.group(4)), arn=arn,
                   approval=str(described.get("ModelApprovalStatus", "")),
                   last_modified=modified.isoformat() if isinstance(modified, datetime) else str(modified),
                   inference=described.get("InferenceSpecification"))

    @property
    def forward_id(self) -> str:
        """The same for every announcement of this version in this state (duplicates, repairs)."""
        text = f"{self.arn}|{self.approval}|{self.last_modified}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def forwards(allowlist: Allowlist, version: Version) -> list[Forward]:
    """The announcements of `version`: one per consumer account the allowlist grants its group
    now whose rules ask for the version's approval status (approved, unless they ask for more),
    none when the group is not shared (a conflict shares nothing)."""
    decision = allowlist.decide(version.owner, version.group)
    detail_type = DETAIL_TYPES.get(version.approval)
    if not decision.shared or detail_type is None:
        return []
    levels = access_levels_for(decision.actions) or ("discover",)
    return [Forward(consumer, detail_for(version, levels), detail_type) for consumer in decision.consumers
            if is_account_id(consumer) and consumer != version.owner
            and version.approval in decision.versions_told(consumer)]


def detail_for(version: Version, levels: tuple[str, ...]) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "forwardId": version.forward_id,
        "owner": version.owner,
        "modelPackageGroupName": version.group,
        "modelPackageGroupArn": version.arn.split(":model-package/")[0] + f":model-package-group/{version.group}",
        "modelPackageVersion": version.number,
        "modelPackageArn": version.arn,
        "modelApprovalStatus": version.approval,
        "lastModifiedTime": version.last_modified,
        "access": list(levels),
    }
    if "deploy" in levels and version.inference is not None:
        detail["inferenceSpecification"] = dict(version.inference)
    return detail


def bus_arn(consumer: str, region: str, bus_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:events:{region}:{consumer}:event-bus/{bus_name}"


# -- the consumer's bus policy ------------------------------------------------------------------

STATEMENT_PREFIX = "modelshare-owner-"


_ROOT = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):root")
_SHAPE = frozenset({"Sid", "Effect", "Principal", "Action", "Resource"})


class BusPolicyChanges(NamedTuple):
    """What keeping the bus policy does: owners to admit, modelshare's statements to take out,
    and the statements under modelshare's Sid prefix that are not what it writes (a person's:
    left alone, reported)."""

    admit: list[str]
    take_out: list[str]
    not_ours: list[str]


def is_modelshares(statement: Mapping[str, Any], bus: str) -> bool:
    """Exactly what `admit` (PutPermission) writes on the consumer's bus `bus` (its ARN): Allow,
    the owner's account named by the Sid as its only principal, events:PutEvents alone, this
    very bus, no condition. Anything wider or narrower (another bus of the account, another
    Region's) is a person's, whatever its Sid."""
    owner = str(statement.get("Sid", "")).removeprefix(STATEMENT_PREFIX)
    principal = statement.get("Principal")
    named = principal.get("AWS") if isinstance(principal, dict) and len(principal) == 1 else None
    root = _ROOT.fullmatch(named) if isinstance(named, str) else None
    return (set(statement) == _SHAPE and is_account_id(owner) and statement.get("Effect") == "Allow"
            and (named == owner or (root is not None and root.group(1) == owner))
            and statement.get("Action") in ("events:PutEvents", ["events:PutEvents"])
            and statement.get("Resource") == bus)


def policy_changes(policy: str | None, owners: frozenset[str], bus: str) -> BusPolicyChanges:
    """The changes that bring the bus's policy to admitting exactly `owners` through modelshare's
    statements (Sid `modelshare-owner-<account>`, in the shape `is_modelshares` checks). Other
    statements are someone else's and stay; one under modelshare's Sid prefix that is not in that
    shape is never taken out nor counted as admitting its owner, and its owner is not admitted
    over it either (PutPermission under a taken Sid would change a person's statement). A Sid is
    modelshare's only when every statement under it is: a person's second statement under the
    same Sid (whether the bus takes one is UNVERIFIED) keeps the whole Sid a person's."""
    statements = json.loads(policy).get("Statement", []) if policy else []
    if isinstance(statements, dict):
        statements = [statements]
    named = [s for s in statements if isinstance(s, dict) and str(s.get("Sid", "")).startswith(STATEMENT_PREFIX)]
    not_ours = sorted({str(s["Sid"]) for s in named if not is_modelshares(s, bus)})
    ours = {str(s["Sid"]) for s in named} - set(not_ours)
    wanted = {STATEMENT_PREFIX + owner for owner in owners if is_account_id(owner)}
    admit = sorted(sid.removeprefix(STATEMENT_PREFIX) for sid in wanted - ours - set(not_ours))
    return BusPolicyChanges(admit, sorted(ours - wanted), not_ours)
