"""RAM's data model as RAM reads it: which shares, permissions and invitations a caller sees,
which managed permission matches a policy, what counts against the quotas, and each resource as
the API shows it. The shares themselves live in the registry state, beside the groups they hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from localaws.core.clock import SimClock
from localaws.services.organizations.api import is_org_principal
from localaws.services.ram import quotas as ram_quotas
from localaws.services.ram.errors import CHANGE_ERRORS, check_share_arn, error
from localaws.services.registry_state import (
    INVITATION_ARN,
    PERMISSION_ARN,
    Association,
    Invitation,
    Permission,
    RegistryState,
    Share,
    as_list,
)

INVITATION_VISIBLE = timedelta(days=7)
LIVE = ("ASSOCIATED", "ASSOCIATING")


class RamModel:
    """What RAM holds, read: the caller's view of it and the quotas it counts."""

    def __init__(self, state: RegistryState, clock: SimClock) -> None:
        self.state = state
        self.clock = clock

    def owned_share(self, account: str, region: str, arn: str) -> Share:
        check_share_arn(arn)
        share = self.state.shares.get(arn)
        if share is None or share.account != account or share.region != region:
            raise error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        return share

    def editable_share(self, account: str, region: str, arn: str, errors: dict[str, str] | None = None) -> Share:
        """An ACTIVE, STANDARD share of the caller's; else the error `errors` names for why not
        (by default the ones Associate/Disassociate document)."""
        share = self.owned_share(account, region, arn)
        codes = errors or CHANGE_ERRORS
        if share.feature_set == "CREATED_FROM_POLICY":
            raise error(codes["from-policy"], f"Resource share {arn} was created from a resource policy and cannot be "
                                               "modified through RAM. Promote it first.")
        if share.feature_set == "PROMOTING_TO_STANDARD":
            raise error(codes["promoting"], f"Resource share {arn} is being promoted.")
        if share.status != "ACTIVE":
            raise error(codes["inactive"], f"Resource share {arn} is {share.status}.")
        return share

    def visible_invitation(self, account: str, region: str, arn: str) -> Invitation:
        if INVITATION_ARN.fullmatch(arn) is None:
            raise error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        invitation = self.state.invitations.get(arn)
        if (invitation is None or invitation.region != region
            or self.clock.now() - invitation.timestamp > INVITATION_VISIBLE):
            raise error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} not found.")
        return invitation

    def permission(self, account: str, region: str, arn: str, *, shared_with_caller: bool = False) -> Permission:
        """A permission the caller can see: AWS managed ones, or its own (not deleted); with
        `shared_with_caller`, also another account's that a share shared with the caller uses."""
        if PERMISSION_ARN.fullmatch(arn) is None:
            raise error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        permission = self.state.permissions.get(arn)
        if (permission is None or permission.status == "DELETED"
            or (permission.permission_type != "AWS_MANAGED"
                    and (permission.account != account or permission.region != region)
                    and not (shared_with_caller and self.shared_with(account, region, permission)))):
            raise error("UnknownResourceException", f"Permission {arn} could not be found.")
        return permission

    def visible_to_principal(self, account: str, region: str, share: Share) -> bool:
        """Whether another account's share is visible to `account` as one of its principals:
        a STANDARD share ("visible to all principals you share the resource share with", the
        ResourceShare featureSet documentation) that names it, its invitation pending or accepted.
        That a pending principal sees it too is UNVERIFIED (docs/aws-behaviour.md,
        RAM-CONSUMER-READS); a share made from a policy is visible to its owner only."""
        return (share.account != account and share.region == region and share.status == "ACTIVE"
                and share.feature_set == "STANDARD" and self.state.principal_status(share, account) in LIVE)

    def shared_with(self, account: str, region: str, permission: Permission) -> bool:
        """Whether a share visible to `account` as its principal uses `permission`: then the
        permission is "shared with the current account" (ResourceSharePermissionDetail
        resourceOwner OTHER-ACCOUNTS) and GetPermission shows it."""
        return any(permission.arn in s.permission_arns and self.visible_to_principal(account, region, s)
                   for s in self.state.shares.values())

    def permission_version(self, account: str, region: str, params: dict[str, Any]) -> Permission:
        """The permission a request names (permissionArn), in the one version the local AWS keeps."""
        permission = self.permission(account, region, params["permissionArn"])
        if params.get("permissionVersion", 1) != 1:
            raise error("InvalidParameterException", f"Permission {permission.arn} has no version {params['permissionVersion']}.")
        return permission

    @staticmethod
    def tags_out(tags: dict[str, str]) -> list[dict[str, str]]:
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]

    def share_out(self, share: Share) -> dict[str, Any]:
        return {
            "resourceShareArn": share.arn, "name": share.name, "owningAccountId": share.account,
            "allowExternalPrincipals": share.allow_external_principals, "status": share.status,
            "creationTime": share.creation_time, "lastUpdatedTime": share.last_updated,
            "featureSet": share.feature_set, "tags": self.tags_out(share.tags),
        }

    @staticmethod
    def association_out(share: Share, association: Association) -> dict[str, Any]:
        out = {
            "resourceShareArn": share.arn, "resourceShareName": share.name,
            "associatedEntity": association.entity, "associationType": association.kind,
            "status": association.status, "creationTime": association.creation_time,
            "lastUpdatedTime": association.last_updated, "external": association.external,
        }
        if association.status_message:
            out["statusMessage"] = association.status_message
        return out

    def permission_out(self, permission: Permission) -> dict[str, Any]:
        return {
            "arn": permission.arn, "version": "1", "defaultVersion": True, "name": permission.name,
            "resourceType": permission.resource_type, "status": permission.status,
            "creationTime": permission.creation_time, "lastUpdatedTime": permission.last_updated,
            "isResourceTypeDefault": permission.is_default, "permissionType": permission.permission_type,
            "featureSet": permission.feature_set, "tags": self.tags_out(permission.tags),
        }

    def invitation_out(self, invitation: Invitation) -> dict[str, Any]:
        share = self.state.shares[invitation.share_arn]
        return {
            "resourceShareInvitationArn": invitation.arn, "resourceShareName": share.name,
            "resourceShareArn": share.arn, "senderAccountId": invitation.sender,
            "receiverAccountId": invitation.receiver, "invitationTimestamp": invitation.timestamp,
            "status": invitation.status,
        }

    def managed_permissions(self, account: str, region: str) -> list[Permission]:
        """What a share can use: AWS managed permissions, then this account's customer managed
        ones, oldest first. CREATED_FROM_POLICY and deleted ones are not managed permissions."""
        aws_managed = [p for p in self.state.permissions.values() if p.permission_type == "AWS_MANAGED"]
        own = sorted((p for p in self.state.permissions.values()
                      if p.permission_type == "CUSTOMER_MANAGED" and p.feature_set == "STANDARD"
                      and p.account == account and p.region == region and p.status != "DELETED"),
                     key=lambda p: (p.creation_time, p.arn))
        return aws_managed + own

    def matching_permission(self, account: str, region: str, resource_type: str,
                            statements: list[dict[str, Any]]) -> Permission | None:
        """The managed permission (AWS or customer managed, attachable) whose actions are exactly
        those of `statements`, or None (docs/aws-behaviour.md, RAM-MATCH). Stricter reading: only
        a policy a managed permission could express (one Allow statement with explicit actions, no
        conditions) matches."""
        if unpromotable(statements) is not None:
            return None
        wanted = actions(statements)
        for permission in self.managed_permissions(account, region):
            if (permission.status == "ATTACHABLE" and permission.resource_type.lower() == resource_type.lower()
                and permission.actions() == wanted):
                return permission
        return None

    def customer_managed(self, account: str, region: str) -> list[Permission]:
        return [p for p in self.managed_permissions(account, region) if p.permission_type == "CUSTOMER_MANAGED"]

    def pending_invitations_sent(self, account: str, region: str) -> int:
        now = self.clock.now()
        return sum(1 for i in self.state.invitations.values()
                   if i.sender == account and i.region == region and i.status == "PENDING"
                   and now - i.timestamp <= INVITATION_VISIBLE)

    def check_invitation_quota(self, account: str, region: str, new_invitations: int) -> None:
        limit = self.state.quotas.pending_invitations_per_account
        pending = self.pending_invitations_sent(account, region)
        if new_invitations and pending + new_invitations > limit:
            raise error("ResourceShareLimitExceededException",
                        f"The operation would exceed the limit of {limit} pending invitations for account "
                        f"{account} ({pending} pending, {new_invitations} more requested).")

    def active_shares(self, account: str, region: str) -> int:
        # Stricter reading (UNVERIFIED): shares made from policies count against the quota too.
        return sum(1 for s in self.state.shares.values()
                   if s.account == account and s.region == region and s.status == "ACTIVE")

    def check_share_quota(self, account: str, region: str) -> None:
        limit = self.state.quotas.resource_shares_per_region
        if self.active_shares(account, region) >= limit:
            raise error("ResourceShareLimitExceededException",
                        f"The operation would exceed the limit of {limit} resource shares for account {account}.")

    def needs_invitation(self, share: Share, principal: str) -> bool:
        """Whether associating `principal` adds an association (it is not live on the share)."""
        association = share.principals.get(principal)
        return principal != share.account and (association is None or association.status not in LIVE)

    def invites(self, share: Share, principal: str) -> bool:
        """Whether associating `principal` sends an invitation: not to an organization or OU, nor
        to an account of the owner's organization with RAM sharing enabled (docs/aws-behaviour.md,
        ORG-NO-INVITATION)."""
        return (self.needs_invitation(share, principal) and not is_org_principal(principal)
                and not self.state.in_shared_organization(share.account, principal))

    def usage(self, account: str, region: str) -> dict[str, int]:
        """What the account uses of the quotas above (for `modelshare simulate`'s report)."""
        return {
            "customer_managed_permissions": len(self.customer_managed(account, region)),
            "resource_shares": self.active_shares(account, region),
            "pending_invitations_sent": self.pending_invitations_sent(account, region),
            **ram_quotas.usage(self.state, account, region),
        }

    def resource_types(self) -> list[dict[str, str]]:
        return [
            {"resourceType": self.state.group_type, "serviceName": "sagemaker", "resourceRegionScope": "REGIONAL"},
            {"resourceType": "ec2:Subnet", "serviceName": "ec2", "resourceRegionScope": "REGIONAL"},
            {"resourceType": "glue:Catalog", "serviceName": "glue", "resourceRegionScope": "REGIONAL"},
            {"resourceType": "route53profiles:Profile", "serviceName": "route53profiles", "resourceRegionScope": "GLOBAL"},
        ]


def actions(statements: list[dict[str, Any]]) -> frozenset[str]:
    return frozenset(str(a).lower() for s in statements for a in as_list(s.get("Action")))


def unpromotable(statements: list[dict[str, Any]]) -> str | None:
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


