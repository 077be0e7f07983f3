"""AWS RAM shares, permissions and invitations (the ResourceShares port)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import client
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
    Invitation,
    InvitationAlreadyAccepted,
    InvitationClosed,
    ManagedPermission,
    OrganizationSharingDisabled,
    PermissionNameTaken,
    PermissionNotMatched,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceTypeUnknown,
    SharedResource,
    SharePermission,
)

if TYPE_CHECKING:
    from mypy_boto3_ram.type_defs import (
        GetResourceShareAssociationsRequestPaginateTypeDef,
        GetResourceShareInvitationsRequestPaginateTypeDef,
        GetResourceSharesRequestPaginateTypeDef,
        ListPermissionAssociationsResponseTypeDef,
        PaginatorConfigTypeDef,
        ResourceShareAssociationTypeDef,
        ResourceShareInvitationTypeDef,
    )

# What GetResourceShareInvitations looks invitations up by.
type _InvitationFilter = Literal["resourceShareInvitationArns", "resourceShareArns"]
# RAM's largest page (ram/service-2.json, MaxResults): fewer calls for a big account.
_PAGE: PaginatorConfigTypeDef = {"PageSize": RAM_PAGE_SIZE}
_CLOSED_INVITATION = {
    "ResourceShareInvitationExpiredException",
    "ResourceShareInvitationAlreadyRejectedException",
    "ResourceShareInvitationArnNotFoundException",
    # The owner withdrew the share or this account while the invitation was still listed as
    # pending: nothing to accept, and no retry will change it (docs/aws-behaviour.md RAM-INVITATION-ERRORS).
    "OperationNotPermittedException",
}
# What RAM answers when an invitation or share asked about is not there (any more).
_UNKNOWN_INVITATION_TARGET = {"ResourceShareInvitationArnNotFoundException", "UnknownResourceException",
                              "MalformedArnException"}
# What RAM may answer when it does not let this account read a share another account shares
# with it, or that share's permission (the errors those operations document): the consumer then
# judges the share unreadable (fail closed; docs/aws-behaviour.md, RAM-CONSUMER-READS). An
# AccessDenied is this function's own IAM: the run fails, loudly, before accepting anything.
_UNREADABLE = {"UnknownResourceException", "OperationNotPermittedException", "MalformedArnException",
               "InvalidParameterException"}
# ResourceShareLimitExceededException covers shares, resources per call and (UNVERIFIED) pending
# invitations: all account wide (docs/aws-behaviour.md, RAM-QUOTAS).
_SHARE_QUOTA = "resource shares or pending invitations"
_PERMISSION_QUOTA = "customer managed permissions per resource type"
_RESOURCE_QUOTA = "resource associations (per share or per Region)"


class RamShares:
    def __init__(self, session: boto3.session.Session) -> None:
        self._client = client(session, "ram")
        self._session = session
        self._group_type: str | None = None  # RAM's spelling, once read (ListResourceTypes)

    # -- owner side: reads ------------------------------------------------------------------
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

    def share(self, share_arn: str) -> ResourceShare | None:
        try:
            return next(self._shares([share_arn]), None)
        except ClientError as error:
            if _code(error) == "UnknownResourceException":
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
                if _code(error) != "UnknownResourceException":
                    raise
                found.extend(s for arn in chunk if (s := self.share(arn)) is not None)
        return found

    def _shares(self, share_arns: Sequence[str] | None = None) -> Iterator[ResourceShare]:
        """This account's active shares: every one, or those of `share_arns`."""
        request: GetResourceSharesRequestPaginateTypeDef = {
            "resourceOwner": "SELF", "resourceShareStatus": "ACTIVE", "PaginationConfig": _PAGE}
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
        request: GetResourceShareAssociationsRequestPaginateTypeDef = {"associationType": kind, "PaginationConfig": _PAGE}
        if status is not None:
            request["associationStatus"] = status
        if share_arns is not None:
            request["resourceShareArns"] = share_arns
        for page in self._client.get_paginator("get_resource_share_associations").paginate(**request):
            yield from page["resourceShareAssociations"]

    def permissions(self, share_arn: str) -> list[SharePermission]:
        pages = _follow_tokens(lambda token: self._client.list_resource_share_permissions(resourceShareArn=share_arn,
                                                                                          **token))
        return [SharePermission(p["arn"], p.get("name", ""), p.get("featureSet", "STANDARD"), p.get("resourceType", ""),
                                p.get("defaultVersion", True))
                for page in pages for p in page["permissions"]]

    def permission_actions(self, permission_arn: str) -> frozenset[str]:
        document = json.loads(self._client.get_permission(permissionArn=permission_arn)["permission"]["permission"])
        # A managed permission's template is one statement; one made from a policy may read as a
        # whole policy (format UNVERIFIED): take the actions of either.
        statements = document.get("Statement", document) if isinstance(document, dict) else document
        found: set[str] = set()
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action", []) if isinstance(statement, dict) else []
            found.update(a.lower() for a in ([actions] if isinstance(actions, str) else actions))
        return frozenset(found)

    def model_package_group_type(self) -> str:
        if self._group_type is None:
            listed = [t["resourceType"] for page in _follow_tokens(lambda token: self._client.list_resource_types(**token))
                      for t in page["resourceTypes"] if "resourceType" in t]
            self._group_type = group_type_in(listed)
        return self._group_type

    def customer_managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        pages = _follow_tokens(lambda token: self._client.list_permissions(
            permissionType="CUSTOMER_MANAGED", resourceType=resource_type, **token))
        return [ManagedPermission(p["arn"], p["name"], p.get("status", "")) for page in pages for p in page["permissions"]]

    def managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        pages = _follow_tokens(lambda token: self._client.list_permissions(
            permissionType="ALL", resourceType=resource_type, **token))
        return [ManagedPermission(p["arn"], p["name"], p.get("status", "")) for page in pages for p in page["permissions"]
                if p.get("featureSet", "STANDARD") == "STANDARD"]

    def shareable_permissions(self) -> list[str]:
        pages = _follow_tokens(lambda token: self._client.list_permissions(permissionType="ALL", maxResults=RAM_PAGE_SIZE,
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
        return _follow_tokens(lambda token: self._client.list_permission_associations(
            permissionArn=permission_arn, featureSet="STANDARD", maxResults=RAM_PAGE_SIZE, **token))

    def usage(self) -> dict[str, Any]:
        """What this account uses of RAM's quotas (for `modelshare status`): customer managed
        permissions per resource type, invitations sent and still pending (principal
        associations being associated), active shares."""
        per_type: dict[str, int] = {}
        for page in _follow_tokens(lambda token: self._client.list_permissions(permissionType="CUSTOMER_MANAGED", **token)):
            for permission in page["permissions"]:
                kind = permission.get("resourceType", "")
                per_type[kind] = per_type.get(kind, 0) + 1
        pending = sum(1 for _ in self._associations("PRINCIPAL", status="ASSOCIATING"))
        shares = sum(1 for _ in self._shares())
        return {"customer_managed_permissions": per_type, "pending_invitations_sent": pending, "resource_shares": shares}

    # -- owner side: writes -----------------------------------------------------------------
    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        try:
            self._client.associate_resource_share(resourceShareArn=share_arn, principals=principals)
        except ClientError as error:
            if _code(error) == "ResourceShareLimitExceededException":
                raise _share_quota(error) from error
            if (_code(error) in ("OperationNotPermittedException", "InvalidParameterException")
                    and any(is_org_principal(p) for p in principals)
                    and "sharing with your AWS organization" in str(error.response.get("Error", {}).get("Message", ""))):
                # RAM's answer while sharing with the organization is not enabled, or its
                # onboarding is in progress (docs/aws-behaviour.md, ORG-RAM-ENABLED).
                raise OrganizationSharingDisabled(str(error)) from error
            raise

    def organization(self) -> Organization | None:
        try:
            described = client(self._session, "organizations").describe_organization()["Organization"]
        except ClientError as error:
            if _code(error) in ("AWSOrganizationsNotInUseException", "AccessDeniedException"):
                return None  # in no organization, or may not read it: names none (fail closed)
            raise
        return Organization(str(described["Id"]), str(described["MasterAccountId"]))

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
            if _code(error) != "UnknownResourceException":  # already gone: the wanted state
                raise

    def promote_permission(self, permission_arn: str, name: str) -> None:
        try:
            self._client.promote_permission_created_from_policy(permissionArn=permission_arn, name=name)
        except ClientError as error:
            if _code(error) in ("OperationNotPermittedException", "InvalidPolicyException"):
                raise PromotionRefused(_message(error)) from error
            _raise_new_permission_error(error)
            raise

    def create_share(self, name: str, permission_arn: str, client_token: str) -> ResourceShare:
        try:
            made = self._client.create_resource_share(name=name, permissionArns=[permission_arn],
                                                      allowExternalPrincipals=True, clientToken=client_token)
        except ClientError as error:
            if _code(error) == "ResourceShareLimitExceededException":
                raise RamQuotaReached(_SHARE_QUOTA, _message(error), account_wide=True) from error
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
                if _code(error) == "ResourceShareLimitExceededException":
                    raise RamQuotaReached(_RESOURCE_QUOTA, _message(error), account_wide=True) from error
                if _code(error) == "UnknownResourceException":
                    # A group of the call no longer exists (RAM fails the whole call: docs/
                    # aws-behaviour.md, RAM-ASSOCIATE-GONE); or the share itself is gone, when no
                    # group of it goes in either way.
                    raise GroupNotFound(_message(error)) from error
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
            code = _code(error)
            if code == "OperationNotPermittedException":
                raise PromotionRefused(_message(error)) from error
            if code == "UnmatchedPolicyPermissionException":
                raise PermissionNotMatched(_message(error)) from error
            if code == "ResourceShareLimitExceededException":
                raise _share_quota(error) from error
            if code == "InvalidStateTransitionException":
                return False  # already promoting or promoted
            raise
        return True

    # -- consumer side ----------------------------------------------------------------------
    def invitations(self, about: Sequence[str] | None = None) -> Iterator[Invitation]:
        if about is None:
            # No status filter exists (docs/aws-behaviour.md, RAM-INVITATIONS): read every page,
            # the caller keeps PENDING.
            paginator = self._client.get_paginator("get_resource_share_invitations")
            for page in paginator.paginate(PaginationConfig=_PAGE):
                yield from map(_invitation, page["resourceShareInvitations"])
            return
        seen: set[str] = set()
        wanted = list(dict.fromkeys(about))
        keys: tuple[_InvitationFilter, ...] = ("resourceShareInvitationArns", "resourceShareArns")
        for key in keys:
            arns = [a for a in wanted if (":resource-share-invitation/" in a) == (key == "resourceShareInvitationArns")]
            for start in range(0, len(arns), ARNS_PER_CALL):
                for item in self._invitations_of(key, arns[start:start + ARNS_PER_CALL]):
                    if item["resourceShareInvitationArn"] not in seen:
                        seen.add(item["resourceShareInvitationArn"])
                        yield _invitation(item)

    def _invitations_of(self, key: _InvitationFilter, arns: list[str]) -> list[ResourceShareInvitationTypeDef]:
        """The invitations of (`key`) these invitation or share ARNs, in one paged call; one ARN
        that vanished (or is malformed) fails the whole call, so then they are asked one by one."""
        request: GetResourceShareInvitationsRequestPaginateTypeDef = {"PaginationConfig": _PAGE}
        request[key] = arns
        try:
            return [item for page in self._client.get_paginator("get_resource_share_invitations").paginate(**request)
                    for item in page["resourceShareInvitations"]]
        except ClientError as error:
            if _code(error) not in _UNKNOWN_INVITATION_TARGET:
                raise
            if len(arns) == 1:
                return []
        return [item for arn in arns for item in self._invitations_of(key, [arn])]

    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        try:
            # RAM's largest page: its default is smaller, and a share of the shares mode holds
            # up to 4,000 groups (docs/aws-behaviour.md, COST-PAGES).
            pages = _follow_tokens(lambda token: self._client.list_pending_invitation_resources(
                resourceShareInvitationArn=invitation_arn, maxResults=RAM_PAGE_SIZE, **token))
            return [SharedResource(r["arn"], r.get("type", "")) for page in pages for r in page["resources"]]
        except ClientError as error:
            if _code(error) in _CLOSED_INVITATION:
                raise InvitationClosed(f"{_code(error)}: {_message(error)}") from error
            # Not among this operation's documented errors, but what a concurrent run's acceptance
            # may make RAM answer (the local AWS does: docs/aws-behaviour.md, RAM-INVITATIONS).
            if _code(error) == "ResourceShareInvitationAlreadyAcceptedException":
                raise InvitationAlreadyAccepted(_message(error)) from error
            raise

    def received_resources(self) -> dict[str, tuple[SharedResource, ...]]:
        found: dict[str, list[SharedResource]] = {}
        paginator = self._client.get_paginator("list_resources")
        for page in paginator.paginate(resourceOwner="OTHER-ACCOUNTS", PaginationConfig=_PAGE):
            for resource in page["resources"]:
                if "resourceShareArn" in resource and "arn" in resource:
                    found.setdefault(resource["resourceShareArn"], []).append(
                        SharedResource(resource["arn"], resource.get("type", "")))
        return {arn: tuple(resources) for arn, resources in found.items()}

    def received_share_permissions(self, share_arns: Sequence[str]) -> dict[str, tuple[SharePermission, ...] | None]:
        # One call per share: the batched read (ListPermissionAssociations with resourceOwner)
        # is missing from the botocore the Lambda runtime ships.
        found: dict[str, tuple[SharePermission, ...] | None] = {}
        for share_arn in dict.fromkeys(share_arns):
            try:
                found[share_arn] = tuple(self.permissions(share_arn))
            except ClientError as error:
                if _code(error) not in _UNREADABLE:
                    raise
                found[share_arn] = None
        return found

    def received_permission_actions(self, permission_arn: str) -> frozenset[str] | None:
        try:
            return self.permission_actions(permission_arn)
        except ClientError as error:
            if _code(error) not in _UNREADABLE:
                raise
            return None

    def accept(self, invitation_arn: str) -> bool:
        try:
            self._client.accept_resource_share_invitation(resourceShareInvitationArn=invitation_arn)
        except ClientError as error:
            code = _code(error)
            if code == "ResourceShareInvitationAlreadyAcceptedException":
                return False
            if code in _CLOSED_INVITATION:
                raise InvitationClosed(f"{code}: {_message(error)}") from error
            raise
        return True


def _invitation(item: ResourceShareInvitationTypeDef) -> Invitation:
    return Invitation(item["resourceShareInvitationArn"], item.get("resourceShareArn", ""),
                      item.get("resourceShareName", ""), item.get("senderAccountId", ""),
                      item.get("status", ""), item.get("invitationTimestamp"))


def _follow_tokens[Page: Mapping[str, Any]](list_page: Callable[[dict[str, Any]], Page]) -> Iterator[Page]:
    """Every page of a listing that has no botocore paginator, following nextToken: `list_page`
    makes the call with the keyword arguments it is given (none for the first page)."""
    token: dict[str, Any] = {}
    while True:
        page = list_page(token)
        yield page
        if not page.get("nextToken"):
            return
        token = {"nextToken": page["nextToken"]}


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
    code = _code(error)
    if code == "PermissionAlreadyExistsException":
        raise PermissionNameTaken(_message(error)) from error
    if code == "PermissionLimitExceededException":
        raise RamQuotaReached(_PERMISSION_QUOTA, _message(error), account_wide=False) from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _share_quota(error: ClientError) -> RamQuotaReached:
    """RAM's ResourceShareLimitExceededException. Which quota it was is known from its message
    only (wording UNVERIFIED: docs/aws-behaviour.md, RAM-QUOTA-REGION): a message naming
    associations is taken for a Region quota, which only paces retries (a minute's wait cannot
    help); anything else is retried as the pending-invitation quota is. What is decided never
    depends on it."""
    message = _message(error)
    if "association" in message.lower():
        return RamQuotaReached("resource or principal associations per Region", message, account_wide=True, region=True)
    return RamQuotaReached(_SHARE_QUOTA, message, account_wide=True)


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
