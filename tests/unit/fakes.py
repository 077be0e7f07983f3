"""In-memory implementations of the domain ports, for unit tests without any network."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from modelshare import incarnation
from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS, Allowlist, AllowlistError
from modelshare.org_principals import Organization, is_org_principal
from modelshare.port_values import Invitation, LastValidAllowlist, SharedResource
from modelshare.ports import (
    ATTACHABLE,
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    STANDARD,
    Association,
    AssociationKind,
    AssociationStatus,
    GroupNotFound,
    InvitationAlreadyAccepted,
    InvitationClosed,
    LedgerContents,
    ManagedPermission,
    OrganizationSharingDisabled,
    Ownership,
    OwnershipLedger,
    PermissionNameTaken,
    PermissionNotMatched,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceTypeUnknown,
    SharePermission,
)

OWNER = "111122223333"
CONSUMER = "444455556666"
OTHER = "777788889999"
REGION = "eu-west-1"


# When FakeRegistry's groups were created, unless it says otherwise.
GROUPS_CREATED = datetime(2026, 1, 5, 9, 0, 0, 123000, tzinfo=UTC)


def group_arn(name: str, account: str = OWNER) -> str:
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package-group/{name}"


@dataclass
class FakeRegistry:
    account: str = OWNER
    names: set[str] = field(default_factory=set)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    puts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    policy_reads: list[str] = field(default_factory=list)
    # When each group was created (a group not named here: at GROUPS_CREATED); a group made
    # again under the same name (`create_group`) is created later, as SageMaker's CreationTime is.
    creation_times: dict[str, datetime] = field(default_factory=dict)
    creation_reads: list[str] = field(default_factory=list)

    def group_arn(self, group_name: str) -> str | None:
        return group_arn(group_name, self.account) if group_name in self.names else None

    def created(self, group_name: str) -> datetime | None:
        self.creation_reads.append(group_name)
        return self.creation_times.get(group_name, GROUPS_CREATED) if group_name in self.names else None

    def delete_group(self, group_name: str) -> None:
        """A person deletes the group: its policy goes with it."""
        self.names.discard(group_name)
        self.policies.pop(group_name, None)
        self.creation_times.pop(group_name, None)

    def create_group(self, group_name: str) -> None:
        """A person creates a group (again, perhaps): the same name and ARN, a later CreationTime."""
        latest = max([GROUPS_CREATED, *self.creation_times.values()])
        self.names.add(group_name)
        self.creation_times[group_name] = latest + timedelta(minutes=1)

    def groups(self) -> Iterator[tuple[str, str]]:
        return iter([(name, group_arn(name, self.account)) for name in sorted(self.names)])

    def get_policy(self, group_name: str) -> dict[str, Any] | None:
        self.policy_reads.append(group_name)
        return copy.deepcopy(self.policies.get(group_name))

    def delete_policy(self, group_name: str) -> None:
        self.deletes.append(group_name)
        self.policies.pop(group_name, None)

    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None:
        if group_name not in self.names:
            raise GroupNotFound(group_name)
        self.puts.append((group_name, copy.deepcopy(policy)))
        self.policies[group_name] = copy.deepcopy(policy)

    def cross_account_group_arns(self) -> list[str]:
        return []


@dataclass
class FakeLedger:
    """The ownership ledger in memory: group ARN -> what modelshare recorded making for it."""

    shares: dict[str, set[str]] = field(default_factory=dict)
    statements: dict[str, set[str]] = field(default_factory=dict)
    permission_names: set[str] = field(default_factory=set)
    writes: list[tuple[str, str, str]] = field(default_factory=list)  # (what, group ARN, value)
    reads: int = 0
    made: dict[str, str] = field(default_factory=dict)  # shares modelshare made: ARN -> name
    quota: str | None = None  # the Region quota a run said is full

    def everything(self) -> LedgerContents:
        self.reads += 1
        return LedgerContents({arn: self._of(arn) for arn in {*self.shares, *self.statements}}, self.made, self.quota)

    def of_groups(self, group_arns: Sequence[str]) -> dict[str, Ownership]:
        self.reads += 1
        return {arn: self._of(arn) for arn in group_arns if arn in self.shares or arn in self.statements}

    def _of(self, group_arn: str) -> Ownership:
        return Ownership(frozenset(self.shares.get(group_arn, ())), frozenset(self.statements.get(group_arn, ())))

    def record_share(self, group_arn: str, share_arn: str) -> None:
        self.writes.append(("record-share", group_arn, share_arn))
        self.shares.setdefault(group_arn, set()).add(share_arn)

    def forget_share(self, group_arn: str, share_arn: str) -> None:
        self.writes.append(("forget-share", group_arn, share_arn))
        self.shares.get(group_arn, set()).discard(share_arn)

    def record_statement(self, group_arn: str, digest: str) -> None:
        self.writes.append(("record-statement", group_arn, digest))
        self.statements.setdefault(group_arn, set()).add(digest)

    def forget_statements(self, group_arn: str, digests: Sequence[str]) -> None:
        for digest in digests:
            self.writes.append(("forget-statement", group_arn, digest))
            self.statements.get(group_arn, set()).discard(digest)

    def permissions(self) -> frozenset[str]:
        self.reads += 1
        return frozenset(self.permission_names)

    def record_permission(self, name: str) -> None:
        self.writes.append(("record-permission", "", name))
        self.permission_names.add(name)

    def made_shares(self) -> dict[str, str]:
        self.reads += 1
        return dict(self.made)

    def record_made_share(self, share_arn: str, name: str) -> None:
        self.writes.append(("record-made-share", share_arn, name))
        self.made[share_arn] = name

    def forget_made_share(self, share_arn: str) -> None:
        self.writes.append(("forget-made-share", share_arn, ""))
        self.made.pop(share_arn, None)

    def full_quota(self) -> str | None:
        self.reads += 1
        return self.quota

    def record_full_quota(self, quota: str) -> None:
        self.writes.append(("record-full-quota", "", quota))
        self.quota = quota

    def forget_full_quota(self) -> None:
        self.writes.append(("forget-full-quota", "", ""))
        self.quota = None


DISCOVER_ACTIONS = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])


def modelshare_wrote(registry: FakeRegistry, ledger: OwnershipLedger, name: str, *statements: dict[str, Any]) -> None:
    """The group's policy as modelshare would have written it: its statements, recorded in the
    ledger (every statement given under modelshare's Sid)."""
    registry.policies[name] = {"Version": "2012-10-17", "Statement": list(statements)}
    for statement in statements:
        if statement.get("Sid") == policies.MODELSHARE_SID:
            created = registry.created(name)
            assert created is not None, f"modelshare writes into groups that exist: {name}"
            ledger.record_statement(group_arn(name, registry.account),
                                    incarnation.stamped(policies.statement_digest(statement), incarnation.stamp(created)))


@dataclass
class FakeShares:
    """RAM as its API reference documents promotion: promoting a share succeeds when a managed
    permission (AWS managed: `managed_action_sets`; customer managed: `customer_permissions`)
    holds exactly the actions of the share's own permission; promoting a permission makes a new
    one (attachable after `permission_delay` promote attempts) and leaves the original alone."""

    shares: dict[str, ResourceShare] = field(default_factory=dict)
    resources: dict[str, list[str]] = field(default_factory=dict)
    past_resources: dict[str, list[str]] = field(default_factory=dict)
    principals: dict[str, list[str]] = field(default_factory=dict)
    failed_principals: dict[str, list[str]] = field(default_factory=dict)
    # (share ARN, principal) whose invitation is not accepted yet: RAM says ASSOCIATING.
    associating: set[tuple[str, str]] = field(default_factory=set)
    invitations_wait: bool = False  # principals associated from now on are ASSOCIATING until `accept_all`
    principal_changes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    deleted_shares: list[str] = field(default_factory=list)
    share_permissions: dict[str, list[SharePermission]] = field(default_factory=dict)
    permission_action_sets: dict[str, frozenset[str]] = field(default_factory=dict)
    managed_action_sets: list[frozenset[str]] = field(default_factory=list)  # AWS managed permissions
    customer_permissions: dict[str, tuple[ManagedPermission, frozenset[str]]] = field(default_factory=dict)
    permission_quota: int = 10
    permission_delay: int = 0  # promote_share attempts before a new permission becomes attachable
    share_quota_left: int | None = None  # promotions and associations left before the quota
    pending: list[Invitation] = field(default_factory=list)
    invitation_resources: dict[str, list[SharedResource]] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    promoted_permissions: list[tuple[str, str]] = field(default_factory=list)
    created_permissions: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    replaced_permissions: list[tuple[str, str]] = field(default_factory=list)
    taken_off_permissions: list[tuple[str, str]] = field(default_factory=list)  # (share, permission)
    # Refusals left for taking a permission off while a resource of its type is still leaving
    # the share (RAM disassociates asynchronously).
    permission_off_refusals: int = 0
    promoted_shares: list[str] = field(default_factory=list)
    resource_changes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (share, resources taken out)
    # Groups deleted since an event named them: RAM refuses a call associating one (UnknownResourceException).
    missing_resources: set[str] = field(default_factory=set)
    # What modelshare made: the ledger OwnerService is given in the tests (add_policy_share records
    # a share past CREATED_FROM_POLICY as modelshare's unless told otherwise).
    ledger: FakeLedger = field(default_factory=FakeLedger)
    # The organization this account reads (None: in none), and whether RAM refuses organization
    # and OU principals because sharing with the organization is not enabled.
    member_of: Organization | None = None
    org_sharing_disabled: bool = False
    refuse_promotion: str | None = None
    refuse_permission_promotion: str | None = None
    closed_invitations: set[str] = field(default_factory=set)
    accepted_elsewhere: set[str] = field(default_factory=set)  # by a run beside this one
    on_older_versions: set[str] = field(default_factory=set)  # received shares not on their permission's default version
    appear_after_checks: int = 0  # shares_holding() finds nothing this many times
    # Consumer side: shares other accounts share with this one. What each grants (a share not
    # named: discover only), what the accepted ones hold, and what RAM does not let it read (share
    # or permission ARNs).
    received_grants: dict[str, frozenset[str]] = field(default_factory=dict)
    received: dict[str, list[SharedResource]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    received_reads: list[str] = field(default_factory=list)  # share or permission ARNs read
    checks: int = 0
    # The shares mode's writes: shares made (client token -> share ARN) and resources put in.
    made_by_token: dict[str, str] = field(default_factory=dict)
    made_shares: list[str] = field(default_factory=list)
    resource_additions: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    resource_quota_left: int | None = None  # resource associations left before RAM's quota
    # RAM's spelling of a model package group's type (ListResourceTypes): deliberately not the
    # code's MODEL_PACKAGE_GROUP_TYPE, so passing that constant fails as CreatePermission would
    # (case sensitive). None: RAM lists no such type. `type_reads` counts the reads.
    group_type: str | None = "sagemaker:modelpackagegroup"
    type_reads: int = 0
    types_asked: list[str] = field(default_factory=list)  # resource types passed to permission calls

    def add_policy_share(self, resource_arn: str, share_arn: str = "arn:aws:ram:eu-west-1:111122223333:resource-share/s1",
                         feature_set: str = CREATED_FROM_POLICY, actions: frozenset[str] = DISCOVER_ACTIONS,
                         owned: bool | None = None, tags: tuple[tuple[str, str], ...] = ()) -> str:
        """A share holding `resource_arn`; `owned` (by default: once past CREATED_FROM_POLICY)
        records it in the ledger as modelshare's."""
        if feature_set != CREATED_FROM_POLICY if owned is None else owned:
            self.ledger.shares.setdefault(resource_arn, set()).add(share_arn)
        self.shares[share_arn] = ResourceShare(share_arn, "LinkedResourceShare", feature_set, "ACTIVE", tags)
        self.resources[share_arn] = [resource_arn]
        # A share made from a policy has a permission of its own; a promoted one (here) an AWS
        # managed one with those actions.
        permission = f"{share_arn}/permission" if feature_set == CREATED_FROM_POLICY else \
            f"arn:aws:ram::aws:permission/managed-{'-'.join(sorted(a.split(':')[1].lower() for a in actions))}"
        self.share_permissions[share_arn] = [
            SharePermission(permission, "policy-permission", CREATED_FROM_POLICY if feature_set == CREATED_FROM_POLICY
                            else STANDARD, "sagemaker:ModelPackageGroup")]
        self.permission_action_sets[permission] = actions
        return share_arn

    def accept_all(self) -> None:
        """Every consumer accepts its pending invitations."""
        self.associating.clear()

    def set_feature_set(self, share_arn: str, feature_set: str) -> None:
        self.shares[share_arn] = replace(self.shares[share_arn], feature_set=feature_set)

    # reads
    def shares_holding(self, resource_arn: str) -> list[ResourceShare]:
        self.checks += 1
        if self.checks <= self.appear_after_checks:
            return []
        return [s for arn, s in self.shares.items() if resource_arn in self.resources.get(arn, [])]

    def owned_shares(self) -> Iterator[ResourceShare]:
        return iter(list(self.shares.values()))

    def shares_by_arn(self, share_arns: Sequence[str]) -> list[ResourceShare]:
        return [self.shares[a] for a in dict.fromkeys(share_arns) if a in self.shares]

    def share_resources(self, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {arn: tuple(self.resources.get(arn, [])) for arn in share_arns}

    def share_principals(self, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {arn: tuple(self.principals.get(arn, [])) for arn in share_arns}

    def associations(self, kind: AssociationKind, *, status: AssociationStatus | None = None) -> Iterator[Association]:
        found: list[Association] = []
        for arn in self.shares:
            if kind == "RESOURCE":
                found += [Association(arn, r, "ASSOCIATED") for r in self.resources.get(arn, [])]
                found += [Association(arn, r, "DISASSOCIATED") for r in self.past_resources.get(arn, [])]
            else:
                found += [Association(arn, p, "ASSOCIATING" if (arn, p) in self.associating else "ASSOCIATED")
                          for p in self.principals.get(arn, [])]
                found += [Association(arn, p, "FAILED") for p in self.failed_principals.get(arn, [])]
        return iter([a for a in found if status is None or a.status == status])

    def permissions(self, share_arn: str) -> list[SharePermission]:
        return list(self.share_permissions.get(share_arn, []))

    def permission_actions(self, permission_arn: str) -> frozenset[str]:
        customer = {p.arn: actions for p, actions in self.customer_permissions.values()}
        return customer.get(permission_arn) or self.permission_action_sets[permission_arn]

    def model_package_group_type(self) -> str:
        self.type_reads += 1
        if self.group_type is None:
            raise ResourceTypeUnknown("ListResourceTypes names no model package group type")
        return self.group_type

    def customer_managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        self.types_asked.append(resource_type)
        return [permission for permission, _ in self.customer_permissions.values()]

    def managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        aws = []
        for i, actions in enumerate(self.managed_action_sets):
            arn = f"arn:aws:ram::aws:permission/aws-managed-{i}"
            self.permission_action_sets[arn] = actions
            aws.append(ManagedPermission(arn, f"aws-managed-{i}", ATTACHABLE))
        return aws + self.customer_managed_permissions(resource_type)

    def shareable_permissions(self) -> list[str]:
        """Every permission the fake knows of, of any type (AWS managed, customer managed, and
        whatever a share was given), as ListPermissions lists them all."""
        aws = (f"arn:aws:ram::aws:permission/aws-managed-{i}" for i in range(len(self.managed_action_sets)))
        known = {*aws, *self.permission_action_sets, *(p.arn for p, _ in self.customer_permissions.values()),
                 *(p.arn for found in self.share_permissions.values() for p in found)}
        return sorted(known)

    def permission_associations(self, permission_arns: Sequence[str]) -> dict[str, tuple[SharePermission, ...]]:
        asked = set(permission_arns)
        found = {arn: tuple(p for p in held if p.arn in asked) for arn, held in self.share_permissions.items()
                 if arn in self.shares and self.shares[arn].feature_set == STANDARD}
        return {arn: held for arn, held in found.items() if held}

    def invitations(self, about: Sequence[str] | None = None) -> Iterator[Invitation]:
        return iter([i for i in self.pending if about is None or i.arn in about or i.share_arn in about])

    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        if invitation_arn in self.closed_invitations:
            raise InvitationClosed("ResourceShareInvitationExpiredException: expired")
        if invitation_arn in self.accepted_elsewhere:
            raise InvitationAlreadyAccepted(f"{invitation_arn} was already accepted")
        return list(self.invitation_resources.get(invitation_arn, []))

    def received_resources(self) -> dict[str, tuple[SharedResource, ...]]:
        self.received_reads.append("ListResources")
        return {arn: tuple(resources) for arn, resources in self.received.items()}

    def received_share_permissions(self, share_arns: Sequence[str]) -> dict[str, tuple[SharePermission, ...] | None]:
        self.received_reads.extend(share_arns)
        return {arn: None if arn in self.unreadable else (
            SharePermission(f"{arn}/permission", "received", STANDARD, "sagemaker:ModelPackageGroup",
                            arn not in self.on_older_versions),)
            for arn in share_arns}

    def received_permission_actions(self, permission_arn: str) -> frozenset[str] | None:
        self.received_reads.append(permission_arn)
        share_arn = permission_arn.removesuffix("/permission")
        if permission_arn in self.unreadable:
            return None
        return self.received_grants.get(share_arn, DISCOVER_ACTIONS)

    # writes
    def _use_share_quota(self) -> None:
        if self.share_quota_left is not None:
            if self.share_quota_left <= 0:
                raise RamQuotaReached("resource shares or pending invitations", "limit of 20 pending invitations",
                                      account_wide=True)
            self.share_quota_left -= 1

    def organization(self) -> Organization | None:
        return self.member_of

    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        if self.org_sharing_disabled and any(is_org_principal(p) for p in principals):
            raise OrganizationSharingDisabled("RAM sharing with the organization is not enabled")
        self._use_share_quota()
        self.principal_changes.append(("add", share_arn, tuple(principals)))
        self.principals.setdefault(share_arn, []).extend(principals)
        if self.invitations_wait:
            self.associating.update((share_arn, p) for p in principals)
        self.failed_principals[share_arn] = [p for p in self.failed_principals.get(share_arn, []) if p not in principals]

    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None:
        self.principal_changes.append(("remove", share_arn, tuple(principals)))
        self.principals[share_arn] = [p for p in self.principals.get(share_arn, []) if p not in principals]

    def delete_share(self, share_arn: str) -> None:
        self.deleted_shares.append(share_arn)
        self.shares.pop(share_arn)

    def disassociate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        self.resource_changes.append((share_arn, tuple(resource_arns)))
        self.resources[share_arn] = [r for r in self.resources.get(share_arn, []) if r not in resource_arns]

    def promote_permission(self, permission_arn: str, name: str) -> None:
        if self.refuse_promotion or self.refuse_permission_promotion:
            raise PromotionRefused(self.refuse_promotion or self.refuse_permission_promotion or "")
        if name in self.customer_permissions:
            raise PermissionNameTaken(name)
        if len(self.customer_permissions) >= self.permission_quota:
            raise RamQuotaReached("customer managed permissions per resource type", "limit of 10", account_wide=False)
        self.promoted_permissions.append((permission_arn, name))
        status = "UNATTACHABLE" if self.permission_delay else ATTACHABLE
        permission = ManagedPermission(f"arn:aws:ram:eu-west-1:{OWNER}:permission/{name}", name, status)
        self.customer_permissions[name] = (permission, self.permission_action_sets[permission_arn])

    def create_permission(self, name: str, resource_type: str, actions: Sequence[str]) -> None:
        self.types_asked.append(resource_type)
        if resource_type != self.group_type:  # case sensitive, as ListResourceTypes spells it
            raise ValueError(f"InvalidParameterException: resource type {resource_type} is not supported")
        if name in self.customer_permissions:
            raise PermissionNameTaken(name)
        if len(self.customer_permissions) >= self.permission_quota:
            raise RamQuotaReached("customer managed permissions per resource type", "limit of 10", account_wide=False)
        self.created_permissions.append((name, tuple(actions)))
        status = "UNATTACHABLE" if self.permission_delay else ATTACHABLE
        permission = ManagedPermission(f"arn:aws:ram:eu-west-1:{OWNER}:permission/{name}", name, status)
        self.customer_permissions[name] = (permission, frozenset(a.lower() for a in actions))

    def create_share(self, name: str, permission_arn: str, client_token: str) -> ResourceShare:
        if client_token in self.made_by_token and self.made_by_token[client_token] in self.shares:
            return self.shares[self.made_by_token[client_token]]
        self._use_share_quota()
        arn = f"arn:aws:ram:{REGION}:{OWNER}:resource-share/made-{len(self.made_shares) + 1}"
        self.made_by_token[client_token] = arn
        self.made_shares.append(arn)
        self.shares[arn] = ResourceShare(arn, name, STANDARD, "ACTIVE")
        self.resources[arn] = []
        self.share_permissions[arn] = [SharePermission(permission_arn, "", STANDARD, "sagemaker:ModelPackageGroup")]
        return self.shares[arn]

    def associate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        for start in range(0, len(resource_arns), 100):
            batch = resource_arns[start:start + 100]
            if not self.missing_resources.isdisjoint(batch):  # RAM fails the whole call
                raise GroupNotFound(", ".join(sorted(self.missing_resources & set(batch))))
            if self.resource_quota_left is not None:
                if self.resource_quota_left < len(batch):
                    raise RamQuotaReached("resource associations (per share or per Region)", "limit reached",
                                          account_wide=True)
                self.resource_quota_left -= len(batch)
            self.resource_additions.append((share_arn, tuple(batch)))
            self.resources.setdefault(share_arn, []).extend(r for r in batch if r not in self.resources[share_arn])

    def replace_permission(self, share_arn: str, permission_arn: str) -> None:
        self.replaced_permissions.append((share_arn, permission_arn))
        self.share_permissions[share_arn] = [SharePermission(permission_arn, "", STANDARD, "sagemaker:ModelPackageGroup")]

    def disassociate_permission(self, share_arn: str, permission_arn: str) -> None:
        permission = next(p for p in self.share_permissions[share_arn] if p.arn == permission_arn)
        if permission.resource_type.lower() != "sagemaker:modelpackagegroup" and self.permission_off_refusals:
            self.permission_off_refusals -= 1
            raise ValueError("OperationNotPermittedException: a resource of that type is still disassociating")
        if permission.resource_type.lower() != "sagemaker:modelpackagegroup" \
                and any(":model-package-group/" not in r for r in self.resources.get(share_arn, [])):
            # RAM takes a permission off only while the share holds no resource of its type (here:
            # anything that is not a group is of the other type).
            raise ValueError("OperationNotPermittedException: the share holds resources of that type")
        self.taken_off_permissions.append((share_arn, permission_arn))
        self.share_permissions[share_arn] = [p for p in self.share_permissions[share_arn] if p.arn != permission_arn]

    def promote_share(self, share_arn: str) -> bool:
        if self.refuse_promotion:
            raise PromotionRefused(self.refuse_promotion)
        share = self.shares[share_arn]
        if share.feature_set != CREATED_FROM_POLICY:
            return False
        if self.permission_delay:
            self.permission_delay -= 1
            if not self.permission_delay:
                self.customer_permissions = {n: (replace(p, status=ATTACHABLE), a)
                                             for n, (p, a) in self.customer_permissions.items()}
        actions = self.permission_action_sets[self.share_permissions[share_arn][0].arn]
        attachable = [a for p, a in self.customer_permissions.values() if p.status == ATTACHABLE]
        if actions not in self.managed_action_sets and actions not in attachable:
            raise PermissionNotMatched("UnmatchedPolicyPermissionException")
        self._use_share_quota()
        self.promoted_shares.append(share_arn)
        self.set_feature_set(share_arn, PROMOTING_TO_STANDARD)
        return True

    def accept(self, invitation_arn: str) -> bool:
        if invitation_arn in self.accepted:
            return False
        self.accepted.append(invitation_arn)
        return True


class FixedAllowlist:
    """The allowlist parameter: `document` its current value, `history` its earlier versions
    (oldest first), as Parameter Store keeps them: the current one is the newest version."""

    def __init__(self, document: dict[str, Any] | str, history: Sequence[dict[str, Any] | str] = ()) -> None:
        self.document = document
        self.history = list(history)
        self.loads = 0
        self.history_reads = 0

    def load(self, *, fresh: bool = False) -> Allowlist:
        self.loads += 1
        return Allowlist.parse(self.document)

    def edit(self, document: dict[str, Any] | str) -> None:
        self.history.append(self.document)
        self.document = document

    def last_valid(self) -> LastValidAllowlist | None:
        self.history_reads += 1
        versions = [*self.history, self.document]
        for number in range(len(versions), 0, -1):
            try:
                return LastValidAllowlist(Allowlist.parse(versions[number - 1]), f"version {number}")
            except AllowlistError:
                continue
        return None


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

    def last_valid(self) -> LastValidAllowlist | None:
        try:
            return LastValidAllowlist(Allowlist.parse(self.current), "the current version")
        except AllowlistError:
            return None


class FakeQueue:
    """The sweep's work queue: what was sent, as SQS carries it (JSON), and with which delay."""

    def __init__(self, waiting: int = 0) -> None:
        self.items: list[dict[str, Any]] = []
        self.delays: list[int] = []
        self.paces: list[int] = []
        self.already_waiting = waiting  # messages sent before this test looked
        self.delivered = 0  # of the delayed sends, how many a test took as delivered since

    def waiting(self) -> int:
        return self.already_waiting

    def delayed(self) -> int:
        """The sends with a delay a test has not taken as delivered (`delivered`)."""
        return sum(1 for delay in self.delays if delay > 0) - self.delivered

    def send(self, items: Sequence[dict[str, Any]], *, delay_seconds: int = 0, pace_seconds: int = 0) -> None:
        self.items.extend(json.loads(json.dumps(list(items))))
        self.delays.append(delay_seconds)
        self.paces.append(pace_seconds)
