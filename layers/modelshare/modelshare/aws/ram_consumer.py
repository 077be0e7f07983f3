"""The consumer's RAM adapter (modelshare.ram_ports.ConsumerShares): this account's
invitations, and what other accounts share with it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import client, ram_calls
from modelshare.aws.ram_calls import PAGE, error_code, error_message, follow_tokens
from modelshare.org_principals import Organization
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import ARNS_PER_CALL, RAM_PAGE_SIZE, InvitationAlreadyAccepted, InvitationClosed, SharePermission

if TYPE_CHECKING:
    from mypy_boto3_ram.type_defs import GetResourceShareInvitationsRequestPaginateTypeDef, ResourceShareInvitationTypeDef

# What GetResourceShareInvitations looks invitations up by.
type _InvitationFilter = Literal["resourceShareInvitationArns", "resourceShareArns"]
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


class RamConsumerShares:
    def __init__(self, session: boto3.session.Session) -> None:
        self._client = client(session, "ram")
        self._session = session

    # -- reads ------------------------------------------------------------------------------
    def organization(self) -> Organization | None:
        return ram_calls.organization(self._session)

    def invitations(self, about: Sequence[str] | None = None) -> Iterator[Invitation]:
        if about is None:
            # No status filter exists (docs/aws-behaviour.md, RAM-INVITATIONS): read every page,
            # the caller keeps PENDING.
            paginator = self._client.get_paginator("get_resource_share_invitations")
            for page in paginator.paginate(PaginationConfig=PAGE):
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
        request: GetResourceShareInvitationsRequestPaginateTypeDef = {"PaginationConfig": PAGE}
        request[key] = arns
        try:
            return [item for page in self._client.get_paginator("get_resource_share_invitations").paginate(**request)
                    for item in page["resourceShareInvitations"]]
        except ClientError as error:
            if error_code(error) not in _UNKNOWN_INVITATION_TARGET:
                raise
            if len(arns) == 1:
                return []
        return [item for arn in arns for item in self._invitations_of(key, [arn])]

    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        try:
            # RAM's largest page: its default is smaller, and a share of the shares mode holds
            # up to 4,000 groups (docs/aws-behaviour.md, COST-PAGES).
            pages = follow_tokens(lambda token: self._client.list_pending_invitation_resources(
                resourceShareInvitationArn=invitation_arn, maxResults=RAM_PAGE_SIZE, **token))
            return [SharedResource(r["arn"], r.get("type", "")) for page in pages for r in page["resources"]]
        except ClientError as error:
            if error_code(error) in _CLOSED_INVITATION:
                raise InvitationClosed(f"{error_code(error)}: {error_message(error)}") from error
            # Not among this operation's documented errors, but what a concurrent run's acceptance
            # may make RAM answer (the local AWS does: docs/aws-behaviour.md, RAM-INVITATIONS).
            if error_code(error) == "ResourceShareInvitationAlreadyAcceptedException":
                raise InvitationAlreadyAccepted(error_message(error)) from error
            raise

    def received_resources(self) -> dict[str, tuple[SharedResource, ...]]:
        found: dict[str, list[SharedResource]] = {}
        paginator = self._client.get_paginator("list_resources")
        for page in paginator.paginate(resourceOwner="OTHER-ACCOUNTS", PaginationConfig=PAGE):
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
                found[share_arn] = tuple(ram_calls.share_permissions(self._client, share_arn))
            except ClientError as error:
                if error_code(error) not in _UNREADABLE:
                    raise
                found[share_arn] = None
        return found

    def received_permission_actions(self, permission_arn: str) -> frozenset[str] | None:
        try:
            return ram_calls.permission_actions(self._client, permission_arn)
        except ClientError as error:
            if error_code(error) not in _UNREADABLE:
                raise
            return None

    # -- writes -----------------------------------------------------------------------------
    def accept(self, invitation_arn: str) -> bool:
        try:
            self._client.accept_resource_share_invitation(resourceShareInvitationArn=invitation_arn)
        except ClientError as error:
            if error_code(error) == "ResourceShareInvitationAlreadyAcceptedException":
                return False
            if error_code(error) in _CLOSED_INVITATION:
                raise InvitationClosed(f"{error_code(error)}: {error_message(error)}") from error
            raise
        return True


def _invitation(item: ResourceShareInvitationTypeDef) -> Invitation:
    return Invitation(item["resourceShareInvitationArn"], item.get("resourceShareArn", ""),
                      item.get("resourceShareName", ""), item.get("senderAccountId", ""),
                      item.get("status", ""), item.get("invitationTimestamp"))
