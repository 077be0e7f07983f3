"""Emulated AWS RAM (rest-json protocol), owner and consumer sides, for model package groups.

AWS's own asynchronous work (creating a share from a policy, finishing a promotion, expiring an
invitation) runs as internal tasks on the SimClock. Each behaviour follows the RAM API reference
(botocore's `ram` model documentation) and the RAM user guide, as listed in
docs/aws-behaviour.md; where AWS does not document it, the stricter reading is taken and the
place says so.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.services.organizations.api import is_org_principal
from localaws.services.ram import quotas as ram_quotas
from localaws.services.registry_state import (
    ACCOUNT,
    AWS_MANAGED_GROUP_PERMISSIONS,
    GROUP_ARN,
    INVITATION_ARN,
    PERMISSION_ARN,
    SHARE_ARN,
    Association,
    Group,
    Invitation,
    Permission,
    RegistryState,
    Share,
    as_list,
    page,
    principal_account,
    statement_principals,
)

Emit = Callable[[str, str, str, str, dict[str, Any], list[str]], None]
DependentCheck = Callable[[str, str, str, str], None]
"""(account, region, IAM action, resource ARN): raises AwsError when the caller may not."""

_ANY_ARN = re.compile(r"arn:aws[a-z\-]*:[a-z0-9\-]+:[a-z0-9\-]*:([0-9]{12}|aws)?:.+")
_PERMISSION_NAME = re.compile(r"[A-Za-z0-9_\-]{1,36}")
_SHARE_NAME = re.compile(r".{1,255}", re.DOTALL)
_TAG_KEY = re.compile(r"[\w.:/=+\-@ ]{1,128}")
_INVITATION_VISIBLE = timedelta(days=7)
_DETAIL_TYPE = "Resource Sharing State Change"
# RAM needs the owning service's policy-writing permission from whoever attaches a permission to
# a share or changes who it reaches (RAM guide, access-denied troubleshooting; docs/aws-behaviour.md
# IAM-DEPENDENT).
_GROUP_POLICY_ACTION = "sagemaker:PutModelPackageGroupPolicy"
_LIVE = ("ASSOCIATED", "ASSOCIATING")
# Why a share cannot be changed -> the error: as Associate/Disassociate document them, and as
# TagResource documents them (it lists neither OperationNotPermitted nor InvalidStateTransition).
_CHANGE_ERRORS = {"from-policy": "OperationNotPermittedException", "promoting": "InvalidStateTransitionException",
                  "inactive": "InvalidStateTransitionException"}
_PERMISSION_CHANGE_ERRORS = {"from-policy": "OperationNotPermittedException", "promoting": "OperationNotPermittedException",
                             "inactive": "UnknownResourceException"}
_TAG_ERRORS = {"from-policy": "InvalidParameterException", "promoting": "InvalidParameterException",
               "inactive": "UnknownResourceException"}

ManagedPermissionTable = Iterable[tuple[str, bool, Iterable[str]]]


def _error(code: str, message: str) -> AwsError:
    return AwsError(code, message)


class Ram:
    OPERATIONS = frozenset({
        "GetResourceShares", "GetResourceShareAssociations", "ListResourceSharePermissions",
        "ListResourceTypes", "ListPermissions", "GetPermission", "DeletePermission",
        "PromotePermissionCreatedFromPolicy", "PromoteResourceShareCreatedFromPolicy",
        "CreateResourceShare", "TagResource", "UntagResource",
        "GetResourceShareInvitations", "ListPendingInvitationResources", "AcceptResourceShareInvitation",
        "RejectResourceShareInvitation", "AssociateResourceShare", "DisassociateResourceShare", "DeleteResourceShare",
        "ListPermissionAssociations", "AssociateResourceSharePermission", "CreatePermission", "ListResources",
        "DisassociateResourceSharePermission",
        "EnableSharingWithAwsOrganization",
    })
    # UNVERIFIED: RAM's default page size is operation specific; a small one makes callers page.
    DEFAULT_MAX_RESULTS = 10

    def __init__(self, state: RegistryState, clock: SimClock, emit: Emit, *,
                 promotion_delay_seconds: float, invitation_ttl_seconds: float,
                 aws_managed_permissions: ManagedPermissionTable = AWS_MANAGED_GROUP_PERMISSIONS,
                 share_from_policy_event: bool = False) -> None:
        self.state = state
        # AWS documents no event for the share RAM makes from a policy: none by default; True
        # sends one, as a RAM that did would (docs/aws-behaviour.md, EVENT-RAM-CFP).
        self.share_from_policy_event = share_from_policy_event
        self.clock = clock
        self.emit = emit
        self.promotion_delay_seconds = promotion_delay_seconds
        self.invitation_ttl_seconds = invitation_ttl_seconds
        # Set by LocalCloud: the IAM check of the calling function for a dependent action.
        self.authorize_dependent: DependentCheck = lambda account, region, action, resource: None
        self._aws_managed_permissions(aws_managed_permissions)

    def _aws_managed_permissions(self, table: ManagedPermissionTable) -> None:
        now = self.clock.now()
        entries = [(name, self.state.group_type, default, list(actions)) for name, default, actions in table]
        # A permission of another resource type, so type filters have something to filter out.
        entries.append(("AWSRAMDefaultPermissionSubnet", "ec2:Subnet", True, ["ec2:RunInstances"]))
        for name, resource_type, default, actions in entries:
            arn = f"arn:aws:ram::aws:permission/{name}"
            self.state.permissions[arn] = Permission(
                arn=arn, account="aws", region="", name=name, resource_type=resource_type,
                feature_set="STANDARD", permission_type="AWS_MANAGED",
                statements=[{"Effect": "Allow", "Action": actions}], creation_time=now, last_updated=now,
                is_default=default)

    # -- helpers -----------------------------------------------------------------------------
    def _later(self, delay: float, run: Callable[[], None], label: str, *, timer: bool = False) -> None:
        self.clock.call_later(delay, run, f"ram: {label}", internal=True, timer=timer)

    def _disassociated(self, association: Association) -> Callable[[], None]:
        """What finishes a disassociation, a moment after it started."""
        return lambda: association.move("DISASSOCIATED", self.clock.now())

    def _event(self, account: str, region: str, detail: dict[str, Any], resources: list[str]) -> None:
        # AWS's documented example pattern matches "status": ["failed"]: statuses are lower case
        # in events (unlike the API's). Only `event` and `status` are documented; the other
        # detail fields are this emulator's guess (docs/aws-behaviour.md, EVENT-RAM).
        self.emit(account, region, "aws.ram", _DETAIL_TYPE, {**detail, "status": detail["status"].lower()}, resources)

    @staticmethod
    def _check_share_arn(arn: str) -> None:
        if SHARE_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")

    def _owned_share(self, account: str, region: str, arn: str) -> Share:
        self._check_share_arn(arn)
        share = self.state.shares.get(arn)
        if share is None or share.account != account or share.region != region:
            raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        return share

    def _editable_share(self, account: str, region: str, arn: str, errors: dict[str, str] | None = None) -> Share:
        """An ACTIVE, STANDARD share of the caller's; else the error `errors` names for why not
        (by default the ones Associate/Disassociate document)."""
        share = self._owned_share(account, region, arn)
        codes = errors or _CHANGE_ERRORS
        if share.feature_set == "CREATED_FROM_POLICY":
            raise _error(codes["from-policy"], f"Resource share {arn} was created from a resource policy and cannot be "
                                               "modified through RAM. Promote it first.")
        if share.feature_set == "PROMOTING_TO_STANDARD":
            raise _error(codes["promoting"], f"Resource share {arn} is being promoted.")
        if share.status != "ACTIVE":
            raise _error(codes["inactive"], f"Resource share {arn} is {share.status}.")
        return share

    def _visible_invitation(self, account: str, region: str, arn: str) -> Invitation:
        if INVITATION_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        invitation = self.state.invitations.get(arn)
        if (invitation is None or invitation.region != region
                or self.clock.now() - invitation.timestamp > _INVITATION_VISIBLE):
            raise _error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} not found.")
        return invitation

    def _permission(self, account: str, region: str, arn: str, *, shared_with_caller: bool = False) -> Permission:
        """A permission the caller can see: AWS managed ones, or its own (not deleted); with
        `shared_with_caller`, also another account's that a share shared with the caller uses."""
        if PERMISSION_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        permission = self.state.permissions.get(arn)
        if (permission is None or permission.status == "DELETED"
                or (permission.permission_type != "AWS_MANAGED"
                    and (permission.account != account or permission.region != region)
                    and not (shared_with_caller and self._shared_with(account, region, permission)))):
            raise _error("UnknownResourceException", f"Permission {arn} could not be found.")
        return permission

    def _visible_to_principal(self, account: str, region: str, share: Share) -> bool:
        """Whether another account's share is visible to `account` as one of its principals:
        a STANDARD share ("visible to all principals you share the resource share with", the
        ResourceShare featureSet documentation) that names it, its invitation pending or accepted.
        That a pending principal sees it too is UNVERIFIED (docs/aws-behaviour.md,
        RAM-CONSUMER-READS); a share made from a policy is visible to its owner only."""
        return (share.account != account and share.region == region and share.status == "ACTIVE"
                and share.feature_set == "STANDARD" and self.state.principal_status(share, account) in _LIVE)

    def _shared_with(self, account: str, region: str, permission: Permission) -> bool:
        """Whether a share visible to `account` as its principal uses `permission`: then the
        permission is "shared with the current account" (ResourceSharePermissionDetail
        resourceOwner OTHER-ACCOUNTS) and GetPermission shows it."""
        return any(permission.arn in s.permission_arns and self._visible_to_principal(account, region, s)
                   for s in self.state.shares.values())

    def _permission_version(self, account: str, region: str, params: dict[str, Any]) -> Permission:
        """The permission a request names (permissionArn), in the one version the local AWS keeps."""
        permission = self._permission(account, region, params["permissionArn"])
        if params.get("permissionVersion", 1) != 1:
            raise _error("InvalidParameterException", f"Permission {permission.arn} has no version {params['permissionVersion']}.")
        return permission

    def _page(self, items: list[Any], scope: str, params: dict[str, Any]) -> tuple[list[Any], str | None]:
        return page(items, scope=scope, token=params.get("nextToken"), max_results=params.get("maxResults"),
                    default_max=self.DEFAULT_MAX_RESULTS,
                    invalid_token=lambda: _error("InvalidNextTokenException", "The specified value for nextToken is not valid."))

    def _idempotent(self, account: str, operation: str, params: dict[str, Any],
                    run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        token = params.get("clientToken")
        if token is None:
            return run()
        key = (account, operation, token)
        fingerprint = json.dumps({k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True, default=str)
        if key in self.state.idempotency:
            seen, response = self.state.idempotency[key]
            if seen != fingerprint:
                raise _error("IdempotentParameterMismatchException",
                             f"The client token {token} was already used with different parameters.")
            return response
        response = run()
        self.state.idempotency[key] = (fingerprint, response)
        return response

    @staticmethod
    def _tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]

    def _share_out(self, share: Share) -> dict[str, Any]:
        return {
            "resourceShareArn": share.arn, "name": share.name, "owningAccountId": share.account,
            "allowExternalPrincipals": share.allow_external_principals, "status": share.status,
            "creationTime": share.creation_time, "lastUpdatedTime": share.last_updated,
            "featureSet": share.feature_set, "tags": self._tags_out(share.tags),
        }

    @staticmethod
    def _association_out(share: Share, association: Association) -> dict[str, Any]:
        out = {
            "resourceShareArn": share.arn, "resourceShareName": share.name,
            "associatedEntity": association.entity, "associationType": association.kind,
            "status": association.status, "creationTime": association.creation_time,
            "lastUpdatedTime": association.last_updated, "external": association.external,
        }
        if association.status_message:
            out["statusMessage"] = association.status_message
        return out

    def _permission_out(self, permission: Permission) -> dict[str, Any]:
        return {
            "arn": permission.arn, "version": "1", "defaultVersion": True, "name": permission.name,
            "resourceType": permission.resource_type, "status": permission.status,
            "creationTime": permission.creation_time, "lastUpdatedTime": permission.last_updated,
            "isResourceTypeDefault": permission.is_default, "permissionType": permission.permission_type,
            "featureSet": permission.feature_set, "tags": self._tags_out(permission.tags),
        }

    def _invitation_out(self, invitation: Invitation) -> dict[str, Any]:
        share = self.state.shares[invitation.share_arn]
        return {
            "resourceShareInvitationArn": invitation.arn, "resourceShareName": share.name,
            "resourceShareArn": share.arn, "senderAccountId": invitation.sender,
            "receiverAccountId": invitation.receiver, "invitationTimestamp": invitation.timestamp,
            "status": invitation.status,
        }

    # -- managed permissions -----------------------------------------------------------------
    def _managed_permissions(self, account: str, region: str) -> list[Permission]:
        """What a share can use: AWS managed permissions, then this account's customer managed
        ones, oldest first. CREATED_FROM_POLICY and deleted ones are not managed permissions."""
        aws_managed = [p for p in self.state.permissions.values() if p.permission_type == "AWS_MANAGED"]
        own = sorted((p for p in self.state.permissions.values()
                      if p.permission_type == "CUSTOMER_MANAGED" and p.feature_set == "STANDARD"
                      and p.account == account and p.region == region and p.status != "DELETED"),
                     key=lambda p: (p.creation_time, p.arn))
        return aws_managed + own

    def _matching_permission(self, account: str, region: str, resource_type: str,
                             statements: list[dict[str, Any]]) -> Permission | None:
        """The managed permission (AWS or customer managed, attachable) whose actions are exactly
        those of `statements`, or None (docs/aws-behaviour.md, RAM-MATCH). Stricter reading: only
        a policy a managed permission could express (one Allow statement with explicit actions, no
        conditions) matches."""
        if _unpromotable(statements) is not None:
            return None
        wanted = _actions(statements)
        for permission in self._managed_permissions(account, region):
            if (permission.status == "ATTACHABLE" and permission.resource_type.lower() == resource_type.lower()
                    and permission.actions() == wanted):
                return permission
        return None

    def _delete_if_unused(self, permission: Permission) -> None:
        """RAM deletes a CREATED_FROM_POLICY permission once no share uses it."""
        if permission.feature_set != "CREATED_FROM_POLICY":
            return
        if any(permission.arn in s.permission_arns for s in self.state.shares.values() if s.status == "ACTIVE"):
            return
        permission.status = "DELETED"
        permission.last_updated = self.clock.now()

    def _customer_managed(self, account: str, region: str) -> list[Permission]:
        return [p for p in self._managed_permissions(account, region) if p.permission_type == "CUSTOMER_MANAGED"]

    # -- quotas ------------------------------------------------------------------------------
    def pending_invitations_sent(self, account: str, region: str) -> int:
        now = self.clock.now()
        return sum(1 for i in self.state.invitations.values()
                   if i.sender == account and i.region == region and i.status == "PENDING"
                   and now - i.timestamp <= _INVITATION_VISIBLE)

    def _check_invitation_quota(self, account: str, region: str, new_invitations: int) -> None:
        limit = self.state.quotas.pending_invitations_per_account
        pending = self.pending_invitations_sent(account, region)
        if new_invitations and pending + new_invitations > limit:
            raise _error("ResourceShareLimitExceededException",
                         f"The operation would exceed the limit of {limit} pending invitations for account "
                         f"{account} ({pending} pending, {new_invitations} more requested).")

    def _active_shares(self, account: str, region: str) -> int:
        # Stricter reading (UNVERIFIED): shares made from policies count against the quota too.
        return sum(1 for s in self.state.shares.values()
                   if s.account == account and s.region == region and s.status == "ACTIVE")

    def _check_share_quota(self, account: str, region: str) -> None:
        limit = self.state.quotas.resource_shares_per_region
        if self._active_shares(account, region) >= limit:
            raise _error("ResourceShareLimitExceededException",
                         f"The operation would exceed the limit of {limit} resource shares for account {account}.")

    def _needs_invitation(self, share: Share, principal: str) -> bool:
        """Whether associating `principal` adds an association (it is not live on the share)."""
        association = share.principals.get(principal)
        return principal != share.account and (association is None or association.status not in _LIVE)

    def _invites(self, share: Share, principal: str) -> bool:
        """Whether associating `principal` sends an invitation: not to an organization or OU, nor
        to an account of the owner's organization with RAM sharing enabled (docs/aws-behaviour.md,
        ORG-NO-INVITATION)."""
        return (self._needs_invitation(share, principal) and not is_org_principal(principal)
                and not self.state.in_shared_organization(share.account, principal))

    def _associate_or_fail(self, share: Share, association: Association, kind: str) -> None:
        """RAM's own association (a share made from a policy): ASSOCIATED when the Region quota
        has room, else FAILED with why, and a FAILED event (ram_quotas' stricter reading)."""
        association.status_message = None
        if self._region_room(share, association, kind):
            association.move("ASSOCIATED", self.clock.now())
        else:
            self._fail(share, association, ram_quotas.full_message(self.state, share.account, kind))

    def _region_room(self, share: Share, association: Association, kind: str) -> bool:
        """Whether the Region quota of `kind` takes `association` (not counting itself)."""
        others = ram_quotas.associations_held(self.state, share.account, share.region, kind) - \
            (1 if association.status in ram_quotas.HELD else 0)
        return others < ram_quotas.limit(self.state, kind)

    def _fail(self, share: Share, association: Association, why: str) -> None:
        association.move("FAILED", self.clock.now())
        association.status_message = why
        self._event(share.account, share.region, {
            "event": "Resource Share Association", "status": "FAILED", "resourceShareArn": share.arn,
            "associatedEntity": association.entity}, [share.arn])

    def usage(self, account: str, region: str) -> dict[str, int]:
        """What the account uses of the quotas above (for `modelshare simulate`'s report)."""
        return {
            "customer_managed_permissions": len(self._customer_managed(account, region)),
            "resource_shares": self._active_shares(account, region),
            "pending_invitations_sent": self.pending_invitations_sent(account, region),
            **ram_quotas.usage(self.state, account, region),
        }

    # -- the share a resource policy creates (called from SageMaker, run as clock tasks) -------
    def sync_share_from_policy(self, group: Group) -> None:
        """Create, update or delete the CREATED_FROM_POLICY share for `group`'s current policy (run some
        time after each put: docs/aws-behaviour.md, RAM-CFP-LAG)."""
        if self.state.groups_in(group.account, group.region).get(group.name) is not group:
            return  # the group was deleted meanwhile
        # The share RAM made for this group (one whose resource association failed at the Region
        # quota included: RAM keeps it).
        share = next((s for s in self.state.shares.values()
                      if s.from_policy_of == group.arn and s.status == "ACTIVE" and group.arn in s.resources
                      and s.resources[group.arn].status in ("ASSOCIATED", "FAILED")), None)
        if share is not None and share.feature_set != "CREATED_FROM_POLICY":
            # UNVERIFIED what AWS does; stricter reading: a promoted share is RAM's now, and a later
            # PutModelPackageGroupPolicy does not touch it (docs/aws-behaviour.md, RAM-PUT-AFTER-PROMOTE).
            return
        now = self.clock.now()
        if group.policy is None:
            if share is not None:
                self._retire(share)
            return
        statements = as_list(json.loads(group.policy)["Statement"])
        principals: list[str] = []
        for statement in statements:
            principals += [p for p in statement_principals(statement) if p not in principals]
        created = share is None
        if share is None:
            share = Share(arn=f"arn:aws:ram:{group.region}:{group.account}:resource-share/{uuid.uuid4()}",
                          account=group.account, region=group.region, name=f"LinkedResourceShare-{uuid.uuid4()}",
                          feature_set="CREATED_FROM_POLICY", creation_time=now, last_updated=now,
                          from_policy_of=group.arn)
            share.resources[group.arn] = Association(group.arn, "RESOURCE", "ASSOCIATING", now, now)
            self.state.shares[share.arn] = share
            self._associate_or_fail(share, share.resources[group.arn], ram_quotas.RESOURCE)
        else:
            share.touch(now)
        self._attach_policy_permission(share, group, statements)
        for principal in principals:
            association = share.principals.get(principal)
            made = association is None
            if association is None:
                association = share.principals[principal] = Association(
                    principal, "PRINCIPAL", "ASSOCIATING", now, now, external=principal_account(principal) != group.account)
            if made or association.status not in _LIVE:
                self._associate_or_fail(share, association, ram_quotas.PRINCIPAL)
        for entity, association in share.principals.items():
            if entity not in principals:
                association.move("DISASSOCIATED", now)
        if created and self.share_from_policy_event:
            self._event(group.account, group.region, {"event": "Resource Share Association", "status": "ASSOCIATED",
                                                      "resourceShareArn": share.arn,
                                                      "associatedEntity": group.arn}, [share.arn])

    def _attach_policy_permission(self, share: Share, group: Group, statements: list[dict[str, Any]]) -> None:
        """RAM gives a share made from a policy a CREATED_FROM_POLICY permission only when no
        managed permission matches the policy's actions; otherwise that managed permission
        (docs/aws-behaviour.md, RAM-MATCH)."""
        now = self.clock.now()
        current = self.state.permissions.get(share.permission_arns[0]) if share.permission_arns else None
        matched = self._matching_permission(group.account, group.region, self.state.group_type, statements)
        if matched is not None:
            share.permission_arns = [matched.arn]
            if current is not None and current is not matched:
                self._delete_if_unused(current)
            return
        if current is not None and current.feature_set == "CREATED_FROM_POLICY" and current.status != "DELETED":
            current.statements = statements
            current.last_updated = now
            return
        name = f"CreatedFromPolicy-{uuid.uuid4().hex[:16]}"
        permission = Permission(
            arn=f"arn:aws:ram:{group.region}:{group.account}:permission/{name}", account=group.account,
            region=group.region, name=name, resource_type=self.state.group_type, feature_set="CREATED_FROM_POLICY",
            permission_type="CUSTOMER_MANAGED", statements=statements, creation_time=now, last_updated=now)
        self.state.permissions[permission.arn] = permission
        share.permission_arns = [permission.arn]

    def _retire(self, share: Share) -> None:
        now = self.clock.now()
        share.status = "DELETED"
        share.touch(now)
        for association in [*share.resources.values(), *share.principals.values()]:
            association.move("DISASSOCIATED", now)
        for arn in share.permission_arns:
            permission = self.state.permissions.get(arn)
            if permission is not None:
                self._delete_if_unused(permission)

    def on_group_deleted(self, group: Group) -> None:
        now = self.clock.now()
        for share in self.state.shares.values():
            if group.arn in share.resources:
                share.resources[group.arn].move("DISASSOCIATED", now)
                share.touch(now)

    # -- invitations -------------------------------------------------------------------------
    def _invite(self, share: Share, account: str) -> None:
        now = self.clock.now()
        invitation = Invitation(
            arn=f"arn:aws:ram:{share.region}:{share.account}:resource-share-invitation/{uuid.uuid4()}",
            share_arn=share.arn, sender=share.account, receiver=account, region=share.region,
            status="PENDING", timestamp=now)
        self.state.invitations[invitation.arn] = invitation

        def expire() -> None:
            # After 12 hours the invitation expires and the principal is disassociated
            # (RAM guide, working-with-shared-invitations; docs/aws-behaviour.md, RAM-EXPIRY).
            if invitation.status == "PENDING":
                invitation.status = "EXPIRED"
                association = share.principals.get(account)
                if association is not None and association.status == "ASSOCIATING":
                    association.move("DISASSOCIATED", self.clock.now())

        # A deadline, not work in progress: quiescence does not wait 12 hours for it.
        self._later(self.invitation_ttl_seconds, expire, f"expire invitation {invitation.arn}", timer=True)
        self._event(account, share.region, {
            "event": "Resource Share Invitation", "status": "PENDING", "resourceShareArn": share.arn,
            "resourceShareInvitationArn": invitation.arn, "senderAccountId": share.account,
        }, [invitation.arn])
        self._event(share.account, share.region, {
            "event": "Resource Share Association", "status": "ASSOCIATING", "resourceShareArn": share.arn,
            "associatedEntity": account,
        }, [share.arn])

    def _associate_principal(self, share: Share, account: str, *, fail_over_quota: bool = False) -> Association:
        """Associate an account principal: an invitation for another account. The callers check
        the pending-invitation quota first; with `fail_over_quota` (RAM's own asynchronous work,
        which has nobody to answer an error to) an association over the quota ends FAILED
        instead (stricter reading, UNVERIFIED: docs/aws-behaviour.md, RAM-QUOTA-INVITATIONS)."""
        now = self.clock.now()
        association = share.principals.get(account)
        if association is not None and association.status in _LIVE:
            return association
        inside = is_org_principal(account) or self.state.in_shared_organization(share.account, account)
        external = account != share.account and not inside
        if association is None:
            association = Association(account, "PRINCIPAL", "ASSOCIATING", now, now, external=external)
            share.principals[account] = association
        association.status_message = None
        if account == share.account or inside:
            # The owner itself, or inside the organization with RAM sharing enabled: no
            # invitation, access at once (ORG-NO-INVITATION).
            association.move("ASSOCIATED", now)
            return association
        if fail_over_quota and not self._region_room(share, association, ram_quotas.PRINCIPAL):
            self._fail(share, association, ram_quotas.full_message(self.state, share.account, ram_quotas.PRINCIPAL))
            return association
        limit = self.state.quotas.pending_invitations_per_account
        if fail_over_quota and self.pending_invitations_sent(share.account, share.region) >= limit:
            self._fail(share, association,
                       f"The limit of {limit} pending invitations for account {share.account} was reached.")
            return association
        association.move("ASSOCIATING", now)
        self._invite(share, account)
        return association

    # -- owner side: reads -------------------------------------------------------------------
    def GetResourceShares(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("resourceShareArns")
        for arn in wanted or []:
            self._check_share_arn(arn)
            if arn not in self.state.shares:
                raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        if params["resourceOwner"] == "SELF":
            shares = [s for s in self.state.shares.values() if s.account == account and s.region == region]
        else:
            # CREATED_FROM_POLICY shares are visible to their owner only.
            shares = [s for s in self.state.shares.values()
                      if s.account != account and s.region == region and s.feature_set != "CREATED_FROM_POLICY"
                      and self.state.principal_status(s, account) == "ASSOCIATED"]
        if wanted is not None:
            shares = [s for s in shares if s.arn in wanted]
        if "resourceShareStatus" in params:
            shares = [s for s in shares if s.status == params["resourceShareStatus"]]
        if "name" in params:
            shares = [s for s in shares if s.name == params["name"]]
        if "permissionArn" in params:
            if PERMISSION_ARN.fullmatch(params["permissionArn"]) is None:
                raise _error("MalformedArnException", f"The format of ARN {params['permissionArn']} is not valid.")
            shares = [s for s in shares if params["permissionArn"] in s.permission_arns]
        for tag_filter in params.get("tagFilters", []):
            key, values = tag_filter.get("tagKey"), tag_filter.get("tagValues")
            shares = [s for s in shares if key in s.tags and (not values or s.tags[key] in values)]
        shares.sort(key=lambda s: (s.creation_time, s.arn))
        chunk, token = self._page(shares, f"GetResourceShares|{account}|{region}|{params['resourceOwner']}", params)
        return {"resourceShares": [self._share_out(s) for s in chunk], "nextToken": token}

    def GetResourceShareAssociations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = params["associationType"]
        if "resourceArn" in params and kind != "RESOURCE":
            raise _error("InvalidParameterException", "resourceArn can be used only with associationType RESOURCE.")
        if "principal" in params and kind != "PRINCIPAL":
            raise _error("InvalidParameterException", "principal can be used only with associationType PRINCIPAL.")
        if "resourceArn" in params and _ANY_ARN.fullmatch(params["resourceArn"]) is None:
            raise _error("MalformedArnException", f"The format of ARN {params['resourceArn']} is not valid.")
        shares = [self._owned_share(account, region, arn) for arn in params.get("resourceShareArns", [])] or [
            s for s in self.state.shares.values() if s.account == account and s.region == region]
        shares.sort(key=lambda s: (s.creation_time, s.arn))
        found = []
        for share in shares:
            pool = {"PRINCIPAL": share.principals, "RESOURCE": share.resources}.get(kind, {})
            for association in pool.values():
                if "resourceArn" in params and association.entity != params["resourceArn"]:
                    continue
                if "principal" in params and association.entity != params["principal"]:
                    continue
                if "associationStatus" in params and association.status != params["associationStatus"]:
                    continue
                found.append((share, association))
        chunk, token = self._page(found, f"GetResourceShareAssociations|{account}|{region}|{kind}", params)
        return {"resourceShareAssociations": [self._association_out(s, a) for s, a in chunk], "nextToken": token}

    def ListResourceSharePermissions(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceShareArn"]
        self._check_share_arn(arn)
        share = self.state.shares.get(arn)
        visible = share is not None and share.region == region and (
            share.account == account or self._visible_to_principal(account, region, share))
        if share is None or not visible:
            raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        permissions = [self.state.permissions[p] for p in share.permission_arns]
        chunk, token = self._page(permissions, f"ListResourceSharePermissions|{account}|{arn}", params)
        return {"permissions": [self._permission_out(p) for p in chunk], "nextToken": token}

    def _resource_types(self) -> list[dict[str, str]]:
        return [
            {"resourceType": self.state.group_type, "serviceName": "sagemaker", "resourceRegionScope": "REGIONAL"},
            {"resourceType": "ec2:Subnet", "serviceName": "ec2", "resourceRegionScope": "REGIONAL"},
            {"resourceType": "glue:Catalog", "serviceName": "glue", "resourceRegionScope": "REGIONAL"},
            {"resourceType": "route53profiles:Profile", "serviceName": "route53profiles", "resourceRegionScope": "GLOBAL"},
        ]

    def ListResourceTypes(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("resourceRegionScope", "ALL")
        types = [t for t in self._resource_types() if scope == "ALL" or t["resourceRegionScope"] == scope]
        chunk, token = self._page(types, f"ListResourceTypes|{account}|{scope}", params)
        return {"resourceTypes": chunk, "nextToken": token}

    def ListPermissions(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("permissionType", "ALL")
        permissions = [p for p in self._managed_permissions(account, region) if kind == "ALL" or p.permission_type == kind]
        if "resourceType" in params:
            # "This parameter is not case sensitive" (ListPermissions, botocore ram model).
            permissions = [p for p in permissions if p.resource_type.lower() == params["resourceType"].lower()]
        permissions.sort(key=lambda p: (p.permission_type, p.name))
        chunk, token = self._page(permissions, f"ListPermissions|{account}|{region}", params)
        return {"permissions": [self._permission_out(p) for p in chunk], "nextToken": token}

    def GetPermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        permission = self._permission(account, region, params["permissionArn"], shared_with_caller=True)
        if params.get("permissionVersion", 1) != 1:
            raise _error("InvalidParameterException", f"Permission {permission.arn} has no version {params['permissionVersion']}.")
        if permission.feature_set == "CREATED_FROM_POLICY":
            # The policy it was made from, statement by statement (format UNVERIFIED).
            document: Any = {"Version": "2012-10-17", "Statement": [
                {k: v for k, v in s.items() if k not in ("Sid", "Principal", "Resource")} for s in permission.statements]}
        else:
            # A managed permission's policy template: one statement, no principal or resource.
            document = permission.statements[0]
        return {"permission": {**self._permission_out(permission), "permission": json.dumps(document)}}

    def _check_new_permission(self, account: str, region: str, name: str, resource_type: str) -> None:
        """A new customer managed permission: its name free in the Region, the type's quota not reached."""
        if any(p.name == name for p in self._customer_managed(account, region)):
            # docs/aws-behaviour.md, RAM-PROMOTE-PERMISSION: the name is taken.
            raise AwsError("PermissionAlreadyExistsException",
                           f"A permission with the name {name} already exists in {region}. Choose a different name.")
        limit = self.state.quotas.customer_managed_permissions_per_resource_type
        if sum(1 for p in self._customer_managed(account, region)
               if p.resource_type.lower() == resource_type.lower()) >= limit:
            raise _error("PermissionLimitExceededException",
                         f"The operation would exceed the limit of {limit} customer managed permissions for "
                         f"resource type {resource_type} in {region}.")
        ram_quotas.check_customer_managed_total(self.state, account, region)

    def _add_unattachable(self, permission: Permission, label: str, client_token: Any) -> dict[str, Any]:
        """Store a new permission that becomes attachable a moment later (UNVERIFIED, the stricter
        reading: docs/aws-behaviour.md, RAM-PERMISSION-READY) and answer with it."""
        self.state.permissions[permission.arn] = permission

        def finish() -> None:
            if permission.status == "UNATTACHABLE":
                permission.status = "ATTACHABLE"
                permission.last_updated = self.clock.now()

        self._later(self.promotion_delay_seconds, finish, label)
        return {"permission": self._permission_out(permission), "clientToken": client_token}

    # -- owner side: permissions -------------------------------------------------------------
    def PromotePermissionCreatedFromPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn, name = params["permissionArn"], params["name"]
        if PERMISSION_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        if _PERMISSION_NAME.fullmatch(name) is None:
            raise _error("InvalidParameterException",
                         "name must be 1 to 36 letters, digits, hyphens or underscores.")
        source = self.state.permissions.get(arn)
        if source is None or source.account != account or source.region != region or source.status == "DELETED":
            raise _error("UnknownResourceException", f"Permission {arn} could not be found.")

        def run() -> dict[str, Any]:
            if source.feature_set != "CREATED_FROM_POLICY":
                raise _error("OperationNotPermittedException",
                             f"Permission {arn} is {source.feature_set}, not CREATED_FROM_POLICY.")
            problem = _unpromotable(source.statements)
            if problem:
                raise _error("OperationNotPermittedException", f"Permission {arn} cannot be promoted: {problem}.")
            self._check_new_permission(account, region, name, source.resource_type)
            now = self.clock.now()
            statement = source.statements[0]
            # A separate, new permission; the CREATED_FROM_POLICY one is left as it is
            # (docs/aws-behaviour.md, RAM-PROMOTE-PERMISSION). UNVERIFIED: it cannot be attached
            # until its promotion finishes (stricter reading).
            promoted = Permission(
                arn=f"arn:aws:ram:{region}:{account}:permission/{name}", account=account, region=region,
                name=name, resource_type=source.resource_type, feature_set="STANDARD",
                permission_type="CUSTOMER_MANAGED",
                statements=[{"Effect": "Allow", "Action": as_list(statement["Action"])}],
                creation_time=now, last_updated=now, status="UNATTACHABLE")
            return self._add_unattachable(promoted, f"finish promoting permission {arn} as {name}",
                                          params.get("clientToken"))

        return self._idempotent(account, "PromotePermissionCreatedFromPolicy", params, run)

    def CreatePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name, resource_type = params["name"], params["resourceType"]
        if _PERMISSION_NAME.fullmatch(name) is None:
            raise _error("InvalidParameterException", "name must be 1 to 36 letters, digits, hyphens or underscores.")
        known = {t["resourceType"] for t in self._resource_types()}
        if resource_type not in known:  # "case sensitive" (CreatePermission, botocore ram model)
            raise _error("InvalidParameterException", f"Resource type {resource_type} is not supported.")
        if params.get("permissionTemplateParameters"):
            # Not modelled: modelshare declares none.
            raise _error("InvalidParameterException", "permissionTemplateParameters are not supported here.")
        try:
            template = json.loads(params["policyTemplate"])
        except ValueError:
            raise _error("MalformedPolicyTemplateException", "The policy template is not valid JSON.") from None
        statement = template if isinstance(template, dict) else None
        if statement is None or set(statement) - {"Effect", "Action", "Condition"} or str(statement.get("Effect")).lower() != "allow":
            raise _error("MalformedPolicyTemplateException",
                         "The policy template holds Effect (Allow), Action and optionally Condition, nothing else.")
        actions = as_list(statement.get("Action"))
        # Stricter reading: an action is supported by a model package group when one of the AWS
        # managed permissions AWS documents for it grants it (the Service Authorization Reference
        # lists more); other types take none here.
        supported = {a.lower() for _, _, actions in AWS_MANAGED_GROUP_PERMISSIONS for a in actions} \
            if resource_type == self.state.group_type else set()
        if not actions or any(not isinstance(a, str) or a.lower() not in supported for a in actions):
            raise _error("InvalidPolicyException", f"The actions {actions} are not all supported by {resource_type}.")

        def run() -> dict[str, Any]:
            self._check_new_permission(account, region, name, resource_type)
            now = self.clock.now()
            # UNVERIFIED whether a new permission is attachable at once (docs/aws-behaviour.md,
            # RAM-SET-ACTIONS): as a promoted one, not until a moment later.
            created = Permission(
                arn=f"arn:aws:ram:{region}:{account}:permission/{name}", account=account, region=region, name=name,
                resource_type=resource_type, feature_set="STANDARD", permission_type="CUSTOMER_MANAGED",
                statements=[{k: v for k, v in statement.items()}], creation_time=now, last_updated=now,
                status="UNATTACHABLE", tags=self._check_tags(params.get("tags", []), {}))
            return self._add_unattachable(created, f"finish creating permission {name}", params.get("clientToken"))

        return self._idempotent(account, "CreatePermission", params, run)

    def AssociateResourceSharePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("permissionTemplateParameters"):
            raise _error("InvalidParameterException", "permissionTemplateParameters are not supported here.")
        # Stricter reading: a share made from a policy (or being promoted) takes its permission
        # from the policy, never from this call (the operation's error list has these codes).
        share = self._editable_share(account, region, params["resourceShareArn"], _PERMISSION_CHANGE_ERRORS)
        permission = self._permission_version(account, region, params)

        def run() -> dict[str, Any]:
            if permission.feature_set != "STANDARD" or permission.status != "ATTACHABLE":
                raise _error("InvalidParameterException", f"Permission {permission.arn} cannot be attached.")
            kind = permission.resource_type.lower()
            current = [arn for arn in share.permission_arns if self.state.permissions[arn].resource_type.lower() == kind]
            if current and not params.get("replace", False):
                raise _error("InvalidParameterException",
                             f"ResourceShare {share.arn} already has a permission for {permission.resource_type}; "
                             "set replace to replace it.")
            live_types = {self.state.resource_type(a.entity).lower() for a in share.resources.values()
                          if a.status == "ASSOCIATED"}
            if not current and kind in live_types:
                raise _error("InvalidParameterException",
                             f"A permission can be added only while the share holds no resource of type {permission.resource_type}.")
            # Attaching a permission to a share needs the group's policy-writing action too.
            self._check_dependent(account, region, share)
            share.permission_arns = [arn for arn in share.permission_arns if arn not in current] + [permission.arn]
            share.touch(self.clock.now())
            for arn in current:
                if arn != permission.arn:
                    self._delete_if_unused(self.state.permissions[arn])
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "AssociateResourceSharePermission", params, run)

    def DisassociateResourceSharePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        # A share made from a policy (or being promoted) takes its permission from the policy
        # (stricter reading, as AssociateResourceSharePermission).
        share = self._editable_share(account, region, params["resourceShareArn"], _PERMISSION_CHANGE_ERRORS)
        permission = self._permission(account, region, params["permissionArn"])

        def run() -> dict[str, Any]:
            if permission.arn not in share.permission_arns:
                # Stricter reading (UNVERIFIED): taking off what is not on the share is an error.
                raise _error("UnknownResourceException", f"Permission {permission.arn} is not associated with {share.arn}.")
            kind = permission.resource_type.lower()
            # "only if there are currently no resources of the relevant resource type currently
            # attached" (botocore ram model). Which error says so is UNVERIFIED (docs/aws-behaviour.md,
            # RAM-PERMISSION-OFF); stricter reading: one still disassociating counts as attached.
            if any(self.state.resource_type(a.entity).lower() == kind for a in share.resources.values()
                   if a.status != "DISASSOCIATED"):
                raise _error("OperationNotPermittedException",
                             f"ResourceShare {share.arn} still holds resources of type {permission.resource_type}.")
            # Stricter reading (UNVERIFIED), as for attaching: the group's policy-writing action too.
            self._check_dependent(account, region, share)
            share.permission_arns = [arn for arn in share.permission_arns if arn != permission.arn]
            share.touch(self.clock.now())
            self._delete_if_unused(permission)
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "DisassociateResourceSharePermission", params, run)

    def ListPermissionAssociations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        # Stricter reading (docs/aws-behaviour.md, RAM-PERMISSION-ASSOCIATIONS): the operation
        # "lists information about the managed permission" and nothing says that leaving
        # permissionArn out lists them all, so a call without one is refused with an error the
        # operation documents.
        if "permissionArn" not in params:
            raise _error("InvalidParameterException", "permissionArn is required: name the managed permission.")
        self._permission(account, region, params["permissionArn"])
        if "resourceShareArn" in params:
            self._check_share_arn(params["resourceShareArn"])
        owner = params.get("resourceOwner", "SELF")
        found = []
        for share in sorted(self.state.shares.values(), key=lambda s: (s.creation_time, s.arn)):
            if share.region != region or share.status == "DELETED":
                continue
            if owner == "SELF" and share.account != account:
                continue
            if owner == "OTHER-ACCOUNTS" and (share.account == account or self.state.principal_status(share, account) != "ASSOCIATED"):
                continue
            # featureSet and resourceType are the share's: its feature set, a type it holds.
            held = {self.state.resource_type(a.entity).lower() for a in share.resources.values() if a.status == "ASSOCIATED"}
            if "resourceType" in params and params["resourceType"].lower() not in held:
                continue
            for arn in share.permission_arns:
                permission = self.state.permissions[arn]
                checks = {"permissionArn": permission.arn, "resourceShareArn": share.arn, "featureSet": share.feature_set,
                          "associationStatus": "ASSOCIATED", "permissionVersion": 1, "defaultVersion": True}
                if any(key in params and params[key] != value for key, value in checks.items()):
                    continue
                found.append((share, permission))
        chunk, token = self._page(found, f"ListPermissionAssociations|{account}|{region}|{owner}", params)
        return {"permissions": [{
            "arn": p.arn, "permissionVersion": "1", "defaultVersion": True, "resourceType": p.resource_type,
            "status": "ASSOCIATED", "featureSet": p.feature_set, "lastUpdatedTime": s.last_updated,
            "resourceShareArn": s.arn} for s, p in chunk], "nextToken": token}

    def DeletePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        permission = self._permission(account, region, params["permissionArn"])

        def run() -> dict[str, Any]:
            if permission.permission_type != "CUSTOMER_MANAGED" or permission.feature_set != "STANDARD":
                raise _error("OperationNotPermittedException", f"Permission {permission.arn} cannot be deleted.")
            if any(permission.arn in s.permission_arns for s in self.state.shares.values() if s.status == "ACTIVE"):
                raise _error("OperationNotPermittedException",
                             f"Permission {permission.arn} is associated with resource shares.")
            permission.status = "DELETED"
            permission.last_updated = self.clock.now()
            return {"returnValue": True, "clientToken": params.get("clientToken"), "permissionStatus": "DELETED"}

        return self._idempotent(account, "DeletePermission", params, run)

    # -- owner side: promotion ---------------------------------------------------------------
    def PromoteResourceShareCreatedFromPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._owned_share(account, region, params["resourceShareArn"])
        if share.status != "ACTIVE" or share.feature_set != "CREATED_FROM_POLICY":
            raise _error("InvalidStateTransitionException",
                         f"Resource share {share.arn} is {share.status} with featureSet {share.feature_set}.")
        principals = [a.entity for a in share.principals.values() if a.status == "ASSOCIATED"]
        not_accounts = [p for p in principals if principal_account(p) is None]
        if not_accounts:
            raise _error("OperationNotPermittedException",
                         f"Resource share {share.arn} has principals that are not accounts: {not_accounts}.")
        source = self.state.permissions[share.permission_arns[0]]
        # Any managed permission that matches exactly will do, AWS or customer managed; a share
        # RAM already gave a managed permission matches it (docs/aws-behaviour.md, RAM-MATCH).
        match = source if source.feature_set == "STANDARD" else self._matching_permission(
            account, region, source.resource_type, source.statements)
        if match is None:
            raise _error("UnmatchedPolicyPermissionException",
                         f"No managed permission matches permission {source.arn} exactly: promote it first.")
        self._check_share_quota(account, region)
        members = {m for p in principals if (m := principal_account(p)) is not None and m != account}
        self._check_invitation_quota(account, region, len(members))
        self._check_dependent(account, region, share)
        share.feature_set = "PROMOTING_TO_STANDARD"
        share.touch(self.clock.now())

        def finish() -> None:
            if share.status != "ACTIVE" or share.feature_set != "PROMOTING_TO_STANDARD":
                return
            now = self.clock.now()
            share.feature_set = "STANDARD"
            share.permission_arns = [match.arn]
            share.touch(now)
            self._delete_if_unused(source)
            for arn in share.resources:
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
            old = dict(share.principals)
            share.principals = {}
            for entity, association in old.items():
                member = principal_account(entity)
                if association.status != "ASSOCIATED" or member is None:
                    share.principals.setdefault(entity, association)
                elif member == account:
                    share.principals[member] = Association(member, "PRINCIPAL", "ASSOCIATED", now, now)
                elif member not in share.principals:
                    # Principals are accounts from now on; each must accept an invitation.
                    self._associate_principal(share, member, fail_over_quota=True)

        self._later(self.promotion_delay_seconds, finish, f"finish promoting share {share.arn}")
        return {"returnValue": True}

    def _check_dependent(self, account: str, region: str, share: Share, extra_resources: Iterable[str] = ()) -> None:
        """The caller must also be allowed to write each model package group's policy."""
        groups = {arn for arn, a in share.resources.items() if a.status in _LIVE} | set(extra_resources)
        for arn in sorted(groups):
            if GROUP_ARN.fullmatch(arn):
                self.authorize_dependent(account, region, _GROUP_POLICY_ACTION, arn)

    # -- owner side: shares made directly in RAM ------------------------------------------------
    def CreateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        if _SHARE_NAME.fullmatch(name) is None:
            raise _error("InvalidParameterException", "name must be 1 to 255 characters.")
        if params.get("sources"):
            raise _error("InvalidParameterException", "sources are not supported for these resource types.")
        resources = params.get("resourceArns", [])
        principals = params.get("principals", [])
        if len(resources) > self.state.quotas.resources_per_call:
            raise _error("ResourceShareLimitExceededException",
                         f"You can associate up to {self.state.quotas.resources_per_call} resources per call.")
        self._check_resources(account, region, resources)
        self._check_principals(account, principals)
        external = params.get("allowExternalPrincipals", True)
        if not external and any(p != account and not is_org_principal(p) and not self.state.in_shared_organization(account, p)
                                for p in principals):
            raise _error("OperationNotPermittedException",
                         "The resource share does not allow external principals.")
        tags = self._check_tags(params.get("tags", []), {})
        permissions = self._permissions_for(account, region, resources, params.get("permissionArns", []))

        def run() -> dict[str, Any]:
            self._check_share_quota(account, region)
            self._check_invitation_quota(account, region, sum(
                1 for p in set(principals) if p != account and not is_org_principal(p)
                and not self.state.in_shared_organization(account, p)))
            if len(set(resources)) > self.state.quotas.resources_per_share or len(set(principals)) > self.state.quotas.principals_per_share:
                raise _error("ResourceShareLimitExceededException",
                             f"A resource share can have at most {self.state.quotas.resources_per_share} resources and "
                             f"{self.state.quotas.principals_per_share} principals.")
            ram_quotas.check_room(self.state, account, region, resources=len(set(resources)), principals=len(set(principals)))
            now = self.clock.now()
            share = Share(arn=f"arn:aws:ram:{region}:{account}:resource-share/{uuid.uuid4()}", account=account,
                          region=region, name=name, feature_set="STANDARD", creation_time=now, last_updated=now,
                          allow_external_principals=external, tags=tags, permission_arns=permissions)
            self._check_dependent(account, region, share, resources)
            self.state.shares[share.arn] = share
            for arn in resources:
                share.resources[arn] = Association(arn, "RESOURCE", "ASSOCIATED", now, now)
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
            for principal in principals:
                self._associate_principal(share, principal)
            return {"resourceShare": self._share_out(share), "clientToken": params.get("clientToken")}

        return self._idempotent(account, "CreateResourceShare", params, run)

    def _permissions_for(self, account: str, region: str, resources: list[str], arns: list[str]) -> list[str]:
        """One managed permission per resource type: the given ones, else the type's default."""
        chosen: dict[str, str] = {}
        for arn in arns:
            permission = self._permission(account, region, arn)
            if permission.feature_set != "STANDARD" or permission.status != "ATTACHABLE":
                raise _error("InvalidParameterException", f"Permission {arn} cannot be attached.")
            key = permission.resource_type.lower()
            if key in chosen:
                raise _error("InvalidParameterException", f"Only one permission per resource type: {permission.resource_type}.")
            chosen[key] = permission.arn
        types = {self.state.resource_type(arn).lower() for arn in resources}
        for resource_type in sorted(types - set(chosen)):
            default = next((p for p in self.state.permissions.values()
                            if p.permission_type == "AWS_MANAGED" and p.is_default
                            and p.resource_type.lower() == resource_type), None)
            if default is None:
                raise _error("InvalidParameterException", f"No default permission for resource type {resource_type}.")
            chosen[resource_type] = default.arn
        unused = set(chosen) - types
        if resources and unused:
            raise _error("InvalidParameterException", f"Permissions given for resource types not in the share: {sorted(unused)}.")
        return list(chosen.values())

    def TagResource(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        target = self._tag_target(account, region, params)
        target.tags.update(self._check_tags(params["tags"], target.tags))
        return {}

    def UntagResource(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        target = self._tag_target(account, region, params)
        for key in params["tagKeys"]:
            target.tags.pop(key, None)
        return {}

    def _tag_target(self, account: str, region: str, params: dict[str, Any]) -> Share | Permission:
        share_arn, resource_arn = params.get("resourceShareArn"), params.get("resourceArn")
        if (share_arn is None) == (resource_arn is None):
            raise _error("InvalidParameterException", "Specify exactly one of resourceShareArn and resourceArn.")
        if share_arn is not None or SHARE_ARN.fullmatch(resource_arn or ""):
            # Stricter reading (UNVERIFIED, docs/aws-behaviour.md RAM-TAG-CFP): a share made from a
            # policy "can't be modified in RAM unless you promote it", tags included, and one
            # being promoted cannot be changed until the promotion finishes.
            return self._editable_share(account, region, share_arn or resource_arn or "", _TAG_ERRORS)
        permission = self._permission(account, region, resource_arn or "")
        if permission.permission_type != "CUSTOMER_MANAGED" or permission.feature_set != "STANDARD":
            raise _error("OperationNotPermittedException", f"Permission {permission.arn} cannot be tagged.")
        return permission

    def _check_tags(self, tags: list[dict[str, str]], existing: dict[str, str]) -> dict[str, str]:
        found = {}
        for tag in tags:
            key = tag.get("key", "")
            if not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
                raise _error("InvalidParameterException", f"Tag key {key!r} is not valid.")
            found[key] = tag.get("value", "")
        if len({**existing, **found}) > self.state.quotas.tags_per_resource:
            raise _error("TagLimitExceededException",
                         f"A resource can have at most {self.state.quotas.tags_per_resource} tags.")
        return found

    # -- owner side: changing shares ---------------------------------------------------------
    def AssociateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._editable_share(account, region, params["resourceShareArn"])
        principals, resources = self._check_members(account, region, params)

        def run() -> dict[str, Any]:
            new = [p for p in dict.fromkeys(principals) if self._needs_invitation(share, p)]
            self._check_invitation_quota(account, region, sum(1 for p in new if self._invites(share, p)))
            added = [r for r in dict.fromkeys(resources)
                     if r not in share.resources or share.resources[r].status not in ram_quotas.HELD]
            ram_quotas.check_share_size(self.state, share, resources=len(added), principals=len(new))
            ram_quotas.check_room(self.state, account, region, resources=len(added), principals=len(new))
            self._check_dependent(account, region, share, resources)
            now = self.clock.now()
            out = [self._association_out(share, self._associate_principal(share, p)) for p in principals]
            for arn in resources:
                association = share.resources.setdefault(arn, Association(arn, "RESOURCE", "ASSOCIATED", now, now))
                association.move("ASSOCIATED", now)
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
                out.append(self._association_out(share, association))
            share.touch(now)
            return {"resourceShareAssociations": out, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "AssociateResourceShare", params, run)

    def DisassociateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._editable_share(account, region, params["resourceShareArn"])
        principals, resources = self._check_members(account, region, params, associating=False)

        def run() -> dict[str, Any]:
            now = self.clock.now()
            out = []
            for entity, pool in [(p, share.principals) for p in principals] + [(r, share.resources) for r in resources]:
                association = pool.get(entity)
                if association is None or association.status not in _LIVE:
                    # Stricter reading (UNVERIFIED): disassociating what is not associated is an error.
                    raise _error("UnknownResourceException", f"{entity} is not associated with {share.arn}.")
            # Stricter reading (UNVERIFIED): changing who a group reaches rewrites its policy too.
            self._check_dependent(account, region, share)
            for entity, pool in [(p, share.principals) for p in principals] + [(r, share.resources) for r in resources]:
                association = pool[entity]
                association.move("DISASSOCIATING", now)  # access ends now
                self._later(1.0, self._disassociated(association), f"disassociate {entity} from {share.arn}")
                out.append(self._association_out(share, association))
            share.touch(now)
            return {"resourceShareAssociations": out, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "DisassociateResourceShare", params, run)

    def _check_members(self, account: str, region: str, params: dict[str, Any], *,
                       associating: bool = True) -> tuple[list[str], list[str]]:
        if params.get("sources"):
            raise _error("InvalidParameterException", "sources are not supported for these resource types.")
        principals, resources = params.get("principals", []), params.get("resourceArns", [])
        if not principals and not resources:
            raise _error("InvalidParameterException", "Specify principals or resourceArns.")
        if len(resources) > self.state.quotas.resources_per_call:
            raise _error("ResourceShareLimitExceededException",
                         f"You can associate up to {self.state.quotas.resources_per_call} resources per call.")
        self._check_principals(account, principals, associating=associating)
        self._check_resources(account, region, resources)
        return principals, resources

    def _check_principals(self, account: str, principals: list[str], *, associating: bool = True) -> None:
        for principal in principals:
            if is_org_principal(principal):
                if associating:  # taking one off a share needs no organization sharing
                    self._check_org_principal(account, principal)
                continue
            # Stricter reading: model package groups are shared with accounts, organizations and
            # OUs only (not with IAM roles or users: RAM-PRINCIPAL-ID).
            if ACCOUNT.fullmatch(principal) is None:
                raise _error("InvalidParameterException", f"Principal {principal} is not an AWS account ID.")
            if principal == account:
                raise _error("InvalidParameterException", "A resource share cannot have its owner as a principal.")

    def _check_org_principal(self, account: str, principal: str) -> None:
        """An organization or OU principal must be the owner's own organization (its exact ARN:
        ID and management account) or one of its OUs, and RAM sharing with the organization must
        be enabled (docs/aws-behaviour.md, ORG-RAM-ENABLED, ORG-UNKNOWN)."""
        organization = self.state.organization
        if organization is None or account not in organization.accounts or not organization.knows(principal):
            # The code RAM gives an organization that is not the owner's: seen as
            # UnknownResourceException ("Organization o-... could not be found"); an OU of
            # another organization, or with another management account: the same (UNVERIFIED).
            raise _error("UnknownResourceException", f"Principal {principal} could not be found.")
        if not organization.ram_sharing_enabled:
            raise _error("OperationNotPermittedException",
                         "The resource you are attempting to share can only be shared within your AWS Organization. "
                         "This error may also occur if you have not enabled sharing with your AWS organization, "
                         "or that onboarding process is still in progress.")

    def EnableSharingWithAwsOrganization(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """Only the organization's management account may call it (botocore `ram` model)."""
        organization = self.state.organization
        if organization is None or account != organization.management_account:
            raise _error("OperationNotPermittedException",
                         "Only the management account of an organization can enable sharing with it.")
        organization.ram_sharing_enabled = True
        return {"returnValue": True}

    def _check_resources(self, account: str, region: str, resources: list[str]) -> None:
        for arn in resources:
            if _ANY_ARN.fullmatch(arn) is None:
                raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
            if arn in self.state.other_resources and arn.split(":")[3:5] == [region, account]:
                continue
            match = GROUP_ARN.fullmatch(arn)
            if match is None or match.group(2) != account or match.group(1) != region or self.state.group_by_arn(arn) is None:
                raise _error("UnknownResourceException", f"Resource {arn} could not be found.")

    def DeleteResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._owned_share(account, region, params["resourceShareArn"])

        def run() -> dict[str, Any]:
            if share.feature_set == "CREATED_FROM_POLICY":
                # Stricter reading: the policy owns it; delete the resource policy instead.
                raise _error("OperationNotPermittedException",
                             f"Resource share {share.arn} was created from a resource policy and cannot be deleted through RAM.")
            if share.feature_set == "PROMOTING_TO_STANDARD":
                raise _error("InvalidStateTransitionException", f"Resource share {share.arn} is being promoted.")
            if share.status != "ACTIVE":
                raise _error("InvalidStateTransitionException", f"Resource share {share.arn} is {share.status}.")
            self._retire(share)
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "DeleteResourceShare", params, run)

    # -- consumer side -----------------------------------------------------------------------
    def GetResourceShareInvitations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("resourceShareInvitationArns")
        for arn in wanted or []:
            invitation = self._visible_invitation(account, region, arn)
            if invitation.receiver != account:
                raise _error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} not found.")
        for arn in params.get("resourceShareArns", []):
            self._check_share_arn(arn)
        now = self.clock.now()
        invitations = [i for i in self.state.invitations.values()
                       if i.receiver == account and i.region == region and now - i.timestamp <= _INVITATION_VISIBLE
                       and (wanted is None or i.arn in wanted)
                       and ("resourceShareArns" not in params or i.share_arn in params["resourceShareArns"])]
        invitations.sort(key=lambda i: (i.timestamp, i.arn))
        chunk, token = self._page(invitations, f"GetResourceShareInvitations|{account}|{region}", params)
        return {"resourceShareInvitations": [self._invitation_out(i) for i in chunk], "nextToken": token}

    def ListPendingInvitationResources(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        invitation = self._visible_invitation(account, region, params["resourceShareInvitationArn"])
        if invitation.receiver != account:
            raise _error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {invitation.arn} not found.")
        # Stricter reading for ACCEPTED (UNVERIFIED; not among this operation's documented
        # errors): the invitation is no longer pending, so there is nothing pending to list.
        self._require_pending(invitation)
        share = self.state.shares[invitation.share_arn]
        scope = params.get("resourceRegionScope", "ALL")
        resources = [a for a in share.resources.values() if a.status == "ASSOCIATED"] if scope != "GLOBAL" else []
        chunk, token = self._page(resources, f"ListPendingInvitationResources|{account}|{invitation.arn}", params)
        return {"resources": [{
            "arn": a.entity, "type": self.state.resource_type(a.entity), "resourceShareArn": share.arn,
            "status": "AVAILABLE",
            "creationTime": a.creation_time, "lastUpdatedTime": a.last_updated, "resourceRegionScope": "REGIONAL",
        } for a in chunk], "nextToken": token}

    def ListResources(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """SELF: the resources of the caller's shares; OTHER-ACCOUNTS: those other accounts share
        with it through shares it accepted (a pending invitation's are listed by
        ListPendingInvitationResources: stricter reading, UNVERIFIED). Live associations only."""
        owner = params["resourceOwner"]
        if owner not in ("SELF", "OTHER-ACCOUNTS"):
            raise _error("InvalidParameterException", f"resourceOwner {owner} is not valid.")
        for arn in params.get("resourceShareArns", []):
            self._check_share_arn(arn)
        if params.get("resourceType") and params["resourceType"].lower() not in {
                t["resourceType"].lower() for t in self._resource_types()}:
            raise _error("InvalidResourceTypeException", f"Resource type {params['resourceType']} is not valid.")
        found = []
        for share in sorted(self.state.shares.values(), key=lambda s: (s.creation_time, s.arn)):
            if share.region != region or share.status != "ACTIVE":
                continue
            if owner == "SELF" and share.account != account:
                continue
            if owner == "OTHER-ACCOUNTS" and not (self._visible_to_principal(account, region, share)
                                                  and self.state.principal_status(share, account) == "ASSOCIATED"):
                continue
            if "resourceShareArns" in params and share.arn not in params["resourceShareArns"]:
                continue
            if "principal" in params and params["principal"] not in share.principals:
                continue
            for association in share.resources.values():
                kind = self.state.resource_type(association.entity)
                if (association.status != "ASSOCIATED"
                        or ("resourceArns" in params and association.entity not in params["resourceArns"])
                        or (params.get("resourceType") and kind.lower() != params["resourceType"].lower())
                        or params.get("resourceRegionScope") == "GLOBAL"):
                    continue
                found.append((share, association, kind))
        chunk, token = self._page(found, f"ListResources|{account}|{region}|{owner}", params)
        return {"resources": [{
            "arn": a.entity, "type": kind, "resourceShareArn": s.arn, "status": "AVAILABLE",
            "creationTime": a.creation_time, "lastUpdatedTime": a.last_updated, "resourceRegionScope": "REGIONAL",
        } for s, a, kind in chunk], "nextToken": token}

    @staticmethod
    def _require_pending(invitation: Invitation) -> None:
        errors = {
            "ACCEPTED": ("ResourceShareInvitationAlreadyAcceptedException", "was already accepted"),
            "REJECTED": ("ResourceShareInvitationAlreadyRejectedException", "was already rejected"),
            "EXPIRED": ("ResourceShareInvitationExpiredException", "has expired"),
        }
        if invitation.status in errors:
            code, words = errors[invitation.status]
            raise _error(code, f"{invitation.arn} {words}.")

    def _answer_invitation(self, account: str, region: str, params: dict[str, Any], accept: bool) -> dict[str, Any]:
        invitation = self._visible_invitation(account, region, params["resourceShareInvitationArn"])
        operation = "AcceptResourceShareInvitation" if accept else "RejectResourceShareInvitation"

        def run() -> dict[str, Any]:
            if invitation.receiver != account:
                raise _error("OperationNotPermittedException", f"{invitation.arn} is not addressed to {account}.")
            self._require_pending(invitation)
            share = self.state.shares[invitation.share_arn]
            association = share.principals.get(account)
            if share.status != "ACTIVE" or association is None or association.status != "ASSOCIATING":
                # Stricter reading (UNVERIFIED): the owner withdrew the share or this principal.
                raise _error("OperationNotPermittedException", f"{share.arn} is no longer shared with {account}.")
            now = self.clock.now()
            invitation.status = "ACCEPTED" if accept else "REJECTED"
            association.move("ASSOCIATED" if accept else "DISASSOCIATED", now)
            share.touch(now)
            status = "ASSOCIATED" if accept else "DISASSOCIATED"
            self._event(share.account, share.region, {
                "event": "Resource Share Association", "status": status, "resourceShareArn": share.arn,
                "associatedEntity": account}, [share.arn])
            self._event(account, share.region, {
                "event": "Resource Share Invitation", "status": invitation.status, "resourceShareArn": share.arn,
                "resourceShareInvitationArn": invitation.arn, "senderAccountId": share.account}, [invitation.arn])
            return {"resourceShareInvitation": self._invitation_out(invitation), "clientToken": params.get("clientToken")}

        return self._idempotent(account, operation, params, run)

    def AcceptResourceShareInvitation(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._answer_invitation(account, region, params, accept=True)

    def RejectResourceShareInvitation(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._answer_invitation(account, region, params, accept=False)

    # -- what IAM conditions see ---------------------------------------------------------------
    def condition_context(self, account: str, region: str, params: dict[str, Any]) -> dict[str, list[str]]:
        """RAM's condition keys for a request (Service Authorization Reference): the local IAM
        keeps those the action supports."""
        context: dict[str, list[str]] = {}
        share = self.state.shares.get(params.get("resourceShareArn") or params.get("resourceArn") or "")
        invitation = self.state.invitations.get(params.get("resourceShareInvitationArn", ""))
        if invitation is not None:
            share = self.state.shares.get(invitation.share_arn)
        if share is not None:
            context["ram:ShareOwnerAccountId"] = [share.account]
            context["ram:ResourceShareName"] = [share.name]
            context["ram:AllowsExternalPrincipals"] = [str(share.allow_external_principals).lower()]
            if invitation is None:
                for key, value in share.tags.items():
                    context[f"aws:ResourceTag/{key}"] = [value]
                    context[f"ram:ResourceTag/{key}"] = [value]
        permission = self.state.permissions.get(params.get("permissionArn") or params.get("resourceArn") or "")
        if permission is not None:
            context["ram:PermissionArn"] = [permission.arn]
            context["ram:PermissionResourceType"] = [permission.resource_type]
            for key, value in permission.tags.items():
                context[f"aws:ResourceTag/{key}"] = [value]
        elif isinstance(params.get("resourceType"), str) and "policyTemplate" in params:
            # CreatePermission: the type of the permission asked for, as the request spells it
            # (UNVERIFIED; docs/aws-behaviour.md, IAM-PERMISSION-TYPE).
            context["ram:PermissionResourceType"] = [params["resourceType"]]
        if params.get("principals"):
            context["ram:Principal"] = list(params["principals"])
        resources = params.get("resourceArns") or []
        if resources:
            context["ram:ResourceArn"] = list(resources)
            context["ram:RequestedResourceType"] = sorted({
                self.state.resource_type(arn) for arn in resources
                if GROUP_ARN.fullmatch(arn) or arn in self.state.other_resources})
        if "allowExternalPrincipals" in params:
            context["ram:RequestedAllowsExternalPrincipals"] = [str(params["allowExternalPrincipals"]).lower()]
        return context

    def member_contexts(self, account: str, region: str, params: dict[str, Any]) -> list[dict[str, list[str]]]:
        """The request contexts IAM evaluates a request in: RAM authorizes each principal and each
        resource of CreateResourceShare, AssociateResourceShare and DisassociateResourceShare on
        its own, so a principal's context has no ram:ResourceArn or ram:RequestedResourceType and a
        resource's has no ram:Principal (RAM user guide, "Example IAM policies"; docs/aws-behaviour.md,
        IAM-RAM-MEMBERS). One context for every other request, and for a request naming neither."""
        principals, resources = params.get("principals") or [], params.get("resourceArns") or []
        if not principals and not resources:
            return [self.condition_context(account, region, params)]
        bare = {k: v for k, v in params.items() if k not in ("principals", "resourceArns")}
        return ([self.condition_context(account, region, {**bare, "principals": [p]}) for p in principals]
                + [self.condition_context(account, region, {**bare, "resourceArns": [r]}) for r in resources])


def _actions(statements: list[dict[str, Any]]) -> frozenset[str]:
    return frozenset(str(a).lower() for s in statements for a in as_list(s.get("Action")))


def _unpromotable(statements: list[dict[str, Any]]) -> str | None:
    """Why a CREATED_FROM_POLICY permission cannot become a customer managed one (None if it can)."""
    if len(statements) != 1:
        return "a customer managed permission holds exactly one statement"
    statement = statements[0]
    if statement.get("Effect") != "Allow":
        return "only Allow statements can be promoted"
    for key in ("NotAction", "NotPrincipal", "NotResource"):
        if key in statement:
            return f"{key} is not supported"
    if "Condition" in statement:
        return "conditions are not supported"
    actions = as_list(statement.get("Action"))
    if not actions or any("*" in str(a) for a in actions):
        return "actions must be listed explicitly, without wildcards"
    return None
