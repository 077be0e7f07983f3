"""In-memory implementations of the domain ports, for unit tests without any network."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from modelshare.allowlist import Allowlist
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    Invitation,
    InvitationClosed,
    PromotionNotReady,
    PromotionRefused,
    ResourceShare,
    SharedResource,
    SharePermission,
)

OWNER = "111122223333"
CONSUMER = "444455556666"
OTHER = "777788889999"
REGION = "eu-west-1"


def group_arn(name: str, account: str = OWNER) -> str:
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package-group/{name}"


@dataclass
class FakeRegistry:
    account: str = OWNER
    groups: set[str] = field(default_factory=set)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    puts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)

    def group_arn(self, group_name: str) -> str | None:
        return group_arn(group_name, self.account) if group_name in self.groups else None

    def group_names(self) -> Iterator[str]:
        return iter(sorted(self.groups))

    def get_policy(self, group_name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.policies.get(group_name))

    def delete_policy(self, group_name: str) -> None:
        self.deletes.append(group_name)
        self.policies.pop(group_name, None)

    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None:
        self.puts.append((group_name, copy.deepcopy(policy)))
        self.policies[group_name] = copy.deepcopy(policy)

    def cross_account_group_arns(self) -> list[str]:
        return []


@dataclass
class FakeShares:
    shares: dict[str, ResourceShare] = field(default_factory=dict)
    resources: dict[str, list[str]] = field(default_factory=dict)
    past_resources: dict[str, list[str]] = field(default_factory=dict)
    principals: dict[str, list[str]] = field(default_factory=dict)
    principal_changes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    deleted_shares: list[str] = field(default_factory=list)
    share_permissions: dict[str, list[SharePermission]] = field(default_factory=dict)
    pending: list[Invitation] = field(default_factory=list)
    invitation_resources: dict[str, list[SharedResource]] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    promoted_permissions: list[tuple[str, str]] = field(default_factory=list)
    promoted_shares: list[str] = field(default_factory=list)
    refuse_promotion: str | None = None
    unmatched_answers: int = 0  # promote_share answers Unmatched this many times first
    closed_invitations: set[str] = field(default_factory=set)
    appear_after_checks: int = 0  # shares_holding() finds nothing this many times
    checks: int = 0

    def add_policy_share(self, resource_arn: str, share_arn: str = "arn:aws:ram:eu-west-1:111122223333:resource-share/s1",
                         feature_set: str = CREATED_FROM_POLICY) -> str:
        self.shares[share_arn] = ResourceShare(share_arn, "LinkedResourceShare", feature_set, "ACTIVE")
        self.resources[share_arn] = [resource_arn]
        self.share_permissions[share_arn] = [
            SharePermission(f"{share_arn}/permission", "policy-permission", CREATED_FROM_POLICY)]
        return share_arn

    def shares_holding(self, resource_arn: str) -> list[ResourceShare]:
        self.checks += 1
        if self.checks <= self.appear_after_checks:
            return []
        return [s for arn, s in self.shares.items() if resource_arn in self.resources.get(arn, [])]

    def owned_shares(self) -> Iterator[ResourceShare]:
        return iter(list(self.shares.values()))

    def share_resource_arns(self, share_arn: str, *, include_past: bool = False) -> list[str]:
        return list(self.resources.get(share_arn, [])) + (self.past_resources.get(share_arn, []) if include_past else [])

    def share_principals(self, share_arn: str) -> list[str]:
        return list(self.principals.get(share_arn, []))

    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        self.principal_changes.append(("add", share_arn, tuple(principals)))
        self.principals.setdefault(share_arn, []).extend(principals)

    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None:
        self.principal_changes.append(("remove", share_arn, tuple(principals)))
        self.principals[share_arn] = [p for p in self.principals.get(share_arn, []) if p not in principals]

    def delete_share(self, share_arn: str) -> None:
        self.deleted_shares.append(share_arn)
        self.shares.pop(share_arn)

    def permissions(self, share_arn: str) -> list[SharePermission]:
        return list(self.share_permissions.get(share_arn, []))

    def promote_permission(self, permission_arn: str, name: str) -> None:
        if self.refuse_promotion:
            raise PromotionRefused(self.refuse_promotion)
        self.promoted_permissions.append((permission_arn, name))

    def promote_share(self, share_arn: str) -> bool:
        if self.unmatched_answers > 0:
            self.unmatched_answers -= 1
            raise PromotionNotReady("permission not matched yet")
        share = self.shares[share_arn]
        if share.feature_set != CREATED_FROM_POLICY:
            return False
        self.promoted_shares.append(share_arn)
        self.shares[share_arn] = ResourceShare(share.arn, share.name, PROMOTING_TO_STANDARD, share.status)
        return True

    def invitations(self) -> Iterator[Invitation]:
        return iter(list(self.pending))

    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        if invitation_arn in self.closed_invitations:
            raise InvitationClosed("ResourceShareInvitationExpiredException: expired")
        return list(self.invitation_resources.get(invitation_arn, []))

    def accept(self, invitation_arn: str) -> bool:
        if invitation_arn in self.accepted:
            return False
        self.accepted.append(invitation_arn)
        return True


class FixedAllowlist:
    def __init__(self, document: dict[str, Any] | str) -> None:
        self.document = document
        self.loads = 0

    def load(self, *, fresh: bool = False) -> Allowlist:
        self.loads += 1
        return Allowlist.parse(self.document)


def allowlist_doc(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "shares": list(rules)}


class StaleCacheAllowlist:
    """A cached copy that lags behind the parameter: `fresh` reads see `current`."""

    def __init__(self, cached: dict[str, Any], current: dict[str, Any]) -> None:
        self.cached, self.current = cached, current
        self.fresh_loads = 0

    def load(self, *, fresh: bool = False) -> Allowlist:
        self.fresh_loads += fresh
        return Allowlist.parse(self.current if fresh else self.cached)
