"""AWS RAM shares, permissions and invitations (the ResourceShares port)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import CLIENT_CONFIG
from modelshare.ports import (
    Invitation,
    InvitationClosed,
    PromotionNotReady,
    PromotionRefused,
    ResourceShare,
    SharedResource,
    SharePermission,
)

_LIVE_ASSOCIATIONS = ("ASSOCIATED", "ASSOCIATING")
_CLOSED_INVITATION = {
    "ResourceShareInvitationExpiredException",
    "ResourceShareInvitationAlreadyRejectedException",
    "ResourceShareInvitationArnNotFoundException",
}


class RamShares:
    def __init__(self, session: boto3.session.Session) -> None:
        self._client = session.client("ram", config=CLIENT_CONFIG)

    # -- owner side -------------------------------------------------------------------------
    def shares_holding(self, resource_arn: str) -> list[ResourceShare]:
        paginator = self._client.get_paginator("get_resource_share_associations")
        share_arns = sorted({
            association["resourceShareArn"]
            for page in paginator.paginate(associationType="RESOURCE", resourceArn=resource_arn)
            for association in page["resourceShareAssociations"]
            if association["status"] in _LIVE_ASSOCIATIONS
        })
        if not share_arns:
            return []
        return list(self._shares(resourceShareArns=share_arns))

    def owned_shares(self) -> Iterator[ResourceShare]:
        return self._shares()

    def _shares(self, **filters: object) -> Iterator[ResourceShare]:
        paginator = self._client.get_paginator("get_resource_shares")
        for page in paginator.paginate(resourceOwner="SELF", resourceShareStatus="ACTIVE", **filters):
            for share in page["resourceShares"]:
                yield ResourceShare(share["resourceShareArn"], share.get("name", ""),
                                    share.get("featureSet", "STANDARD"), share["status"])

    def share_resource_arns(self, share_arn: str, *, include_past: bool = False) -> list[str]:
        paginator = self._client.get_paginator("get_resource_share_associations")
        return [
            association["associatedEntity"]
            for page in paginator.paginate(associationType="RESOURCE", resourceShareArns=[share_arn])
            for association in page["resourceShareAssociations"]
            if include_past or association["status"] in _LIVE_ASSOCIATIONS
        ]

    def share_principals(self, share_arn: str) -> list[str]:
        paginator = self._client.get_paginator("get_resource_share_associations")
        return [
            association["associatedEntity"]
            for page in paginator.paginate(associationType="PRINCIPAL", resourceShareArns=[share_arn])
            for association in page["resourceShareAssociations"]
            if association["status"] in _LIVE_ASSOCIATIONS
        ]

    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        self._client.associate_resource_share(resourceShareArn=share_arn, principals=principals)

    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None:
        self._client.disassociate_resource_share(resourceShareArn=share_arn, principals=principals)

    def delete_share(self, share_arn: str) -> None:
        try:
            self._client.delete_resource_share(resourceShareArn=share_arn)
        except ClientError as error:
            if _code(error) != "UnknownResourceException":  # already gone: the wanted state
                raise

    def permissions(self, share_arn: str) -> list[SharePermission]:
        return [SharePermission(p["arn"], p.get("name", ""), p.get("featureSet", "STANDARD"))
                for p in _follow_tokens(self._client.list_resource_share_permissions, "permissions",
                                        resourceShareArn=share_arn)]

    def promote_permission(self, permission_arn: str, name: str) -> None:
        try:
            self._client.promote_permission_created_from_policy(permissionArn=permission_arn, name=name)
        except ClientError as error:
            if _code(error) in ("OperationNotPermittedException", "InvalidPolicyException"):
                raise PromotionRefused(_message(error)) from error
            raise

    def promote_share(self, share_arn: str) -> bool:
        try:
            self._client.promote_resource_share_created_from_policy(resourceShareArn=share_arn)
        except ClientError as error:
            code = _code(error)
            if code == "OperationNotPermittedException":
                raise PromotionRefused(_message(error)) from error
            if code == "UnmatchedPolicyPermissionException":
                raise PromotionNotReady(f"the promoted permission is not ready yet: {_message(error)}") from error
            if code == "InvalidStateTransitionException":
                return False  # already promoting or promoted
            raise
        return True

    # -- consumer side ----------------------------------------------------------------------
    def invitations(self) -> Iterator[Invitation]:
        # No status filter exists (AWS_FACTS.md): read every page, the caller keeps PENDING.
        paginator = self._client.get_paginator("get_resource_share_invitations")
        for page in paginator.paginate():
            for item in page["resourceShareInvitations"]:
                yield Invitation(item["resourceShareInvitationArn"], item.get("resourceShareArn", ""),
                                 item.get("resourceShareName", ""), item.get("senderAccountId", ""),
                                 item.get("status", ""), item.get("invitationTimestamp"))

    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        try:
            return [SharedResource(r["arn"], r.get("type", ""))
                    for r in _follow_tokens(self._client.list_pending_invitation_resources, "resources",
                                            resourceShareInvitationArn=invitation_arn)]
        except ClientError as error:
            if _code(error) in _CLOSED_INVITATION:
                raise InvitationClosed(f"{_code(error)}: {_message(error)}") from error
            raise

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


def _follow_tokens(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a listing that has no botocore paginator, following nextToken."""
    items: list[dict[str, Any]] = []
    while True:
        page = call(**kwargs)
        items.extend(page[key])
        if not page.get("nextToken"):
            return items
        kwargs["nextToken"] = page["nextToken"]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
