"""The owner's RAM adapter (modelshare.ram_ports.OwnerShares): this account's shares and
managed permissions, read and changed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import client, ram_calls
from modelshare.aws.ram_calls import PAGE, error_code, error_message, follow_tokens
from modelshare.org_principals import Organization, is_org_principal
from modelshare.ports import (
    ARNS_PER_CALL,
    LIVE_ASSOCIATIONS,
    MODEL_PACKAGE_GROUP_TYPE,
    RAM_PAGE_SIZE,
    Association,
    AssociationKind,
    AssociationStatus,
    GroupNotFound,
    ManagedPermission,
    OrganizationSharingDisabled,
    PermissionNameTaken,
    PermissionNotMatched,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceTypeUnknown,
    SharePermission,
)

if TYPE_CHECKING:
    from mypy_boto3_ram.type_defs import (
        GetResourceShareAssociationsRequestPaginateTypeDef,
        GetResourceSharesRequestPaginateTypeDef,
        ListPermissionAssociationsResponseTypeDef,
        ResourceShareAssociationTypeDef,
    )

# ResourceShareLimitExceededException covers shares, resources per call and (UNVERIFIED) pending
# invitations: all account wide (docs/aws-behaviour.md, RAM-QUOTAS).
_SHARE_QUOTA = "resource shares or pending invitations"
_PERMISSION_QUOTA = "customer managed permissions per resource type"
_RESOURCE_QUOTA = "resource associations (per share or per Region)"


class RamOwnerShares:
    def __init__(self, session: boto3.session.Session) -> None:
        self._client = client(session, "ram")
        self._session = session
        self._group_type: str | None = None  # RAM's spelling, once read (ListResourceTypes)

    # -- reads ---------------------------------------------------------------------
    def shares_holding(self, resource_arn: str) -> list[ResourceShare]:
        paginator = self._client.get_paginator("get_resource_share_associations")
        share_arns = sorted({
            association["resourceShareArn"]
            for page in paginator.paginate(associationType="RESOURCE", resourceArn=resource_arn)
            for association in page["resourceShareAssociations"]
            if association["status"] in LIVE_ASSOCIATIONS
        })
        if not share_arns:
            return []
        return list(self._shares(share_arns))

    def owned_shares(self) -> Iterator[ResourceShare]:
        return self._shares()

    def _share(self, share_arn: str) -> ResourceShare | None:
        try:
            return next(self._shares([share_arn]), None)
        except ClientError as error:
            if error_code(error) == "UnknownResourceException":
                return None
            raise

    def shares_by_arn(self, share_arns: Sequence[str]) -> list[ResourceShare]:
        found: list[ResourceShare] = []
        arns = list(dict.fromkeys(share_arns))
        for start in range(0, len(arns), ARNS_PER_CALL):
            chunk = arns[start:start + ARNS_PER_CALL]
            try:
                found.extend(self._shares(chunk))
            except ClientError as error:  # one of them is gone: ask one by one
                if error_code(error) != "UnknownResourceException":
                    raise
                found.extend(s for arn in chunk if (s := self._share(arn)) is not None)
        return found

    def _shares(self, share_arns: Sequence[str] | None = None) -> Iterator[ResourceShare]:
        """This account's active shares: every one, or those of `share_arns`."""
        request: GetResourceSharesRequestPaginateTypeDef = {
            "resourceOwner": "SELF", "resourceShareStatus": "ACTIVE", "PaginationConfig": PAGE}
        if share_arns is not None:
            request["resourceShareArns"] = share_arns
        for page in self._client.get_paginator("get_resource_shares").paginate(**request):
            for share in page["resourceShares"]:
                tags = tuple((t["key"], t.get("value", "")) for t in share.get("tags", []))
                yield ResourceShare(share["resourceShareArn"], share.get("name", ""),
                                    share.get("featureSet", "STANDARD"), share["status"], tags)

    def share_resources(self, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return self._live_associations("RESOURCE", share_arns)

    def _live_associations(self, kind: AssociationKind, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each share's live associations of `kind`, asked for ARNS_PER_CALL shares at a time."""
        arns = list(dict.fromkeys(share_arns))
        found: dict[str, list[str]] = {arn: [] for arn in arns}
        for start in range(0, len(arns), ARNS_PER_CALL):
            for association in self._associations(kind, share_arns=arns[start:start + ARNS_PER_CALL]):
                if association["status"] in LIVE_ASSOCIATIONS and association["resourceShareArn"] in found:
                    found[association["resourceShareArn"]].append(association["associatedEntity"])
        return {arn: tuple(entities) for arn, entities in found.items()}

    def share_principals(self, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return self._live_associations("PRINCIPAL", share_arns)

    def associations(self, kind: AssociationKind, *, status: AssociationStatus | None = None) -> Iterator[Association]:
        for item in self._associations(kind, status=status):
            yield Association(item["resourceShareArn"], item["associatedEntity"], item["status"])

    def _associations(self, kind: AssociationKind, *, status: AssociationStatus | None = None,
                      share_arns: Sequence[str] | None = None) -> Iterator[ResourceShareAssociationTypeDef]:
        """The associations of `kind` of this account's shares (or of `share_arns`), in that
        `status` only when one is given."""
        request: GetResourceShareAssociationsRequestPaginateTypeDef = {"associationType": kind, "PaginationConfig": PAGE}
        if status is not None:
            request["associationStatus"] = status
        if share_arns is not None:
            request["resourceShareArns"] = share_arns
        for page in self._client.get_paginator("get_resource_share_associations").paginate(**request):
            yield from page["resourceShareAssociations"]

    def permissions(self, share_arn: str) -> list[SharePermission]:
        return ram_calls.share_permissions(self._client, share_arn)

    def permission_actions(self, permission_arn: str) -> frozenset[str]:
        return ram_calls.permission_actions(self._client, permission_arn)

    def model_package_group_type(self) -> str:
        if self._group_type is None:
            listed = [t["resourceType"] for page in follow_tokens(lambda token: self._client.list_resource_types(**token))
                      for t in page["resourceTypes"] if "resourceType" in t]
            self._group_type = group_type_in(listed)
        return self._group_type

    def customer_managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        pages = follow_tokens(lambda token: self._client.list_permissions(
            permissionType="CUSTOMER_MANAGED", resourceType=resource_type, **token))
        return [ManagedPermission(p["arn"], p["name"], p.get("status", "")) for page in pages for p in page["permissions"]]

    def managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        pages = follow_tokens(lambda token: self._client.list_permissions(
            permissionType="ALL", resourceType=resource_type, **token))
        return [ManagedPermission(p["arn"], p["name"], p.get("status", "")) for page in pages for p in page["permissions"]
                if p.get("featureSet", "STANDARD") == "STANDARD"]

    def shareable_permissions(self) -> list[str]:
        pages = follow_tokens(lambda token: self._client.list_permissions(permissionType="ALL", maxResults=RAM_PAGE_SIZE,
                                                                           **token))
        return [p["arn"] for page in pages for p in page["permissions"] if "arn" in p]

    def permission_associations(self, permission_arns: Sequence[str]) -> dict[str, tuple[SharePermission, ...]]:
        found: dict[str, list[SharePermission]] = {}
        # One permission a call: nothing documents a call without permissionArn as listing every
        # permission (docs/aws-behaviour.md, RAM-PERMISSION-ASSOCIATIONS). The caller's own
        # shares by default (resourceOwner, which older botocore lacks); shares made from policies
        # (or being promoted) are not modelshare's to change.
        for permission_arn in dict.fromkeys(permission_arns):
            for page in self._association_pages(permission_arn):
                for p in page["permissions"]:
                    if "resourceShareArn" in p and "arn" in p:
                        found.setdefault(p["resourceShareArn"], []).append(
                            SharePermission(p["arn"], "", p.get("featureSet", "STANDARD"), p.get("resourceType", ""),
                                            p.get("defaultVersion", True)))
        return {arn: tuple(permissions) for arn, permissions in found.items()}

    def _association_pages(self, permission_arn: str) -> Iterator[ListPermissionAssociationsResponseTypeDef]:
        return follow_tokens(lambda token: self._client.list_permission_associations(
            permissionArn=permission_arn, featureSet="STANDARD", maxResults=RAM_PAGE_SIZE, **token))

    def organization(self) -> Organization | None:
        return ram_calls.organization(self._session)

    def usage(self) -> dict[str, Any]:
        """What this account uses of RAM's quotas (for `modelshare status`): customer managed
        permissions per resource type, invitations sent and still pending (principal
        associations being associated), active shares."""
        per_type: dict[str, int] = {}
        for page in follow_tokens(lambda token: self._client.list_permissions(permissionType="CUSTOMER_MANAGED", **token)):
            for permission in page["permissions"]:
                kind = permission.get("resourceType", "")
                per_type[kind] = per_type.get(kind, 0) + 1
        pending = sum(1 for _ in self._associations("PRINCIPAL", status="ASSOCIATING"))
        shares = sum(1 for _ in self._shares())
        return {"customer_managed_permissions": per_type, "pending_invitations_sent": pending, "resource_shares": shares}

    # -- writes -------------------------------------------------------------------
    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        try:
            self._client.associate_resource_share(resourceShareArn=share_arn, principals=principals)
        except ClientError as error:
            if error_code(error) == "ResourceShareLimitExceededException":
                raise _share_quota(error) from error
            if (error_code(error) in ("OperationNotPermittedException", "InvalidParameterException")
                    and any(is_org_principal(p) for p in principals)
                    and "sharing with your AWS organization" in str(error.response.get("Error", {}).get("Message", ""))):
                # RAM's answer while sharing with the organization is not enabled, or its
                # onboarding is in progress (docs/aws-behaviour.md, ORG-RAM-ENABLED).
                raise OrganizationSharingDisabled(str(error)) from error
            raise

    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None:
        self._client.disassociate_resource_share(resourceShareArn=share_arn, principals=principals)

    def disassociate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        # RAM takes at most 100 resources a call (docs/aws-behaviour.md, RAM-QUOTAS).
        for start in range(0, len(resource_arns), ARNS_PER_CALL):
            self._client.disassociate_resource_share(resourceShareArn=share_arn,
                                                     resourceArns=resource_arns[start:start + ARNS_PER_CALL])

    def delete_share(self, share_arn: str) -> None:
        try:
            self._client.delete_resource_share(resourceShareArn=share_arn)
        except ClientError as error:
            if error_code(error) != "UnknownResourceException":  # already gone: the wanted state
                raise

    def promote_permission(self, permission_arn: str, name: str) -> None:
        try:
            self._client.promote_permission_created_from_policy(permissionArn=permission_arn, name=name)
        except ClientError as error:
            if error_code(error) in ("OperationNotPermittedException", "InvalidPolicyException"):
                raise PromotionRefused(error_message(error)) from error
            _raise_new_permission_error(error)
            raise

    def create_share(self, name: str, permission_arn: str, client_token: str) -> ResourceShare:
        try:
            made = self._client.create_resource_share(name=name, permissionArns=[permission_arn],
                                                      allowExternalPrincipals=True, clientToken=client_token)
        except ClientError as error:
            if error_code(error) == "ResourceShareLimitExceededException":
                raise RamQuotaReached(_SHARE_QUOTA, error_message(error), account_wide=True) from error
            raise
        share = made["resourceShare"]
        return ResourceShare(share["resourceShareArn"], share.get("name", name), share.get("featureSet", "STANDARD"),
                             share.get("status", "ACTIVE"))

    def associate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        # RAM takes at most 100 resources a call (docs/aws-behaviour.md, RAM-QUOTAS).
        for start in range(0, len(resource_arns), ARNS_PER_CALL):
            try:
                self._client.associate_resource_share(resourceShareArn=share_arn,
                                                      resourceArns=resource_arns[start:start + ARNS_PER_CALL])
            except ClientError as error:
                if error_code(error) == "ResourceShareLimitExceededException":
                    raise RamQuotaReached(_RESOURCE_QUOTA, error_message(error), account_wide=True) from error
                if error_code(error) == "UnknownResourceException":
                    # A group of the call no longer exists (RAM fails the whole call: docs/
                    # aws-behaviour.md, RAM-ASSOCIATE-GONE); or the share itself is gone, when no
                    # group of it goes in either way.
                    raise GroupNotFound(error_message(error)) from error
                raise

    def create_permission(self, name: str, resource_type: str, actions: Sequence[str]) -> None:
        template = json.dumps({"Effect": "Allow", "Action": list(actions)})
        try:
            self._client.create_permission(name=name, resourceType=resource_type, policyTemplate=template)
        except ClientError as error:
            _raise_new_permission_error(error)
            raise

    def replace_permission(self, share_arn: str, permission_arn: str) -> None:
        self._client.associate_resource_share_permission(resourceShareArn=share_arn, permissionArn=permission_arn,
                                                         replace=True)

    def disassociate_permission(self, share_arn: str, permission_arn: str) -> None:
        self._client.disassociate_resource_share_permission(resourceShareArn=share_arn, permissionArn=permission_arn)

    def promote_share(self, share_arn: str) -> bool:
        try:
            self._client.promote_resource_share_created_from_policy(resourceShareArn=share_arn)
        except ClientError as error:
            code = error_code(error)
            if code == "OperationNotPermittedException":
                raise PromotionRefused(error_message(error)) from error
            if code == "UnmatchedPolicyPermissionException":
                raise PermissionNotMatched(error_message(error)) from error
            if code == "ResourceShareLimitExceededException":
                raise _share_quota(error) from error
            if code == "InvalidStateTransitionException":
                return False  # already promoting or promoted
            raise
        return True


def group_type_in(listed: Sequence[str]) -> str:
    """The one of RAM's resource types that is a model package group's, in RAM's spelling: the
    code's MODEL_PACKAGE_GROUP_TYPE is a guess, matched case-insensitively (docs/aws-behaviour.md,
    RAM-TYPE). None or two such: ResourceTypeUnknown (fail closed)."""
    found = sorted({t for t in listed if t.lower() == MODEL_PACKAGE_GROUP_TYPE.lower()})
    if len(found) != 1:
        why = "ambiguous: " + ", ".join(found) if found else "none listed"
        raise ResourceTypeUnknown(f"RAM's ListResourceTypes names no single resource type {MODEL_PACKAGE_GROUP_TYPE} "
                                  f"(any case) for model package groups ({why})")
    return found[0]


def _raise_new_permission_error(error: ClientError) -> None:
    """What RAM answers when a new customer managed permission cannot be made (promoted or
    created), as the port's exceptions; other errors are left to the caller."""
    code = error_code(error)
    if code == "PermissionAlreadyExistsException":
        raise PermissionNameTaken(error_message(error)) from error
    if code == "PermissionLimitExceededException":
        raise RamQuotaReached(_PERMISSION_QUOTA, error_message(error), account_wide=False) from error


def _share_quota(error: ClientError) -> RamQuotaReached:
    """RAM's ResourceShareLimitExceededException. Which quota it was is known from its message
    only (wording UNVERIFIED: docs/aws-behaviour.md, RAM-QUOTA-REGION): a message naming
    associations is taken for a Region quota, which only paces retries (a minute's wait cannot
    help); anything else is retried as the pending-invitation quota is. What is decided never
    depends on it."""
    message = error_message(error)
    if "association" in message.lower():
        return RamQuotaReached("resource or principal associations per Region", message, account_wide=True, region=True)
    return RamQuotaReached(_SHARE_QUOTA, message, account_wide=True)
