"""RAM's consumer side: invitations (reading, accepting, rejecting) and the resources shared
with the caller (and, with resourceOwner SELF, its own)."""

from __future__ import annotations

from typing import Any

from localaws.services.ram.errors import (
    check_share_arn,
    error,
)
from localaws.services.ram.model import INVITATION_VISIBLE
from localaws.services.ram.requests import (
    idempotent,
    page_of,
)
from localaws.services.ram.state import RamStateMachine
from localaws.services.registry_state import (
    Invitation,
)


class ConsumerOperations:
    """The operations a consumer calls: its invitations and the resources it can reach."""

    OPERATIONS = frozenset({"AcceptResourceShareInvitation", "GetResourceShareInvitations", "ListPendingInvitationResources",
                            "ListResources", "RejectResourceShareInvitation"})

    def __init__(self, ram: RamStateMachine) -> None:
        self.ram = ram
        self.state = ram.state
        self.clock = ram.clock

    def GetResourceShareInvitations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("resourceShareInvitationArns")
        for arn in wanted or []:
            invitation = self.ram.visible_invitation(account, region, arn)
            if invitation.receiver != account:
                raise error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} not found.")
        for arn in params.get("resourceShareArns", []):
            check_share_arn(arn)
        now = self.clock.now()
        invitations = [i for i in self.state.invitations.values()
                       if i.receiver == account and i.region == region and now - i.timestamp <= INVITATION_VISIBLE
                       and (wanted is None or i.arn in wanted)
                       and ("resourceShareArns" not in params or i.share_arn in params["resourceShareArns"])]
        invitations.sort(key=lambda i: (i.timestamp, i.arn))
        chunk, token = page_of(invitations, f"GetResourceShareInvitations|{account}|{region}", params)
        return {"resourceShareInvitations": [self.ram.invitation_out(i) for i in chunk], "nextToken": token}

    def ListPendingInvitationResources(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        invitation = self.ram.visible_invitation(account, region, params["resourceShareInvitationArn"])
        if invitation.receiver != account:
            raise error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {invitation.arn} not found.")
        # Stricter reading for ACCEPTED (UNVERIFIED; not among this operation's documented
        # errors): the invitation is no longer pending, so there is nothing pending to list.
        self._require_pending(invitation)
        share = self.state.shares[invitation.share_arn]
        scope = params.get("resourceRegionScope", "ALL")
        resources = [a for a in share.resources.values() if a.status == "ASSOCIATED"] if scope != "GLOBAL" else []
        chunk, token = page_of(resources, f"ListPendingInvitationResources|{account}|{invitation.arn}", params)
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
            raise error("InvalidParameterException", f"resourceOwner {owner} is not valid.")
        for arn in params.get("resourceShareArns", []):
            check_share_arn(arn)
        if params.get("resourceType") and params["resourceType"].lower() not in {
                t["resourceType"].lower() for t in self.ram.resource_types()}:
            raise error("InvalidResourceTypeException", f"Resource type {params['resourceType']} is not valid.")
        found = []
        for share in sorted(self.state.shares.values(), key=lambda s: (s.creation_time, s.arn)):
            if share.region != region or share.status != "ACTIVE":
                continue
            if owner == "SELF" and share.account != account:
                continue
            if owner == "OTHER-ACCOUNTS" and not (self.ram.visible_to_principal(account, region, share)
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
        chunk, token = page_of(found, f"ListResources|{account}|{region}|{owner}", params)
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
            raise error(code, f"{invitation.arn} {words}.")

    def _answer_invitation(self, account: str, region: str, params: dict[str, Any], accept: bool) -> dict[str, Any]:
        invitation = self.ram.visible_invitation(account, region, params["resourceShareInvitationArn"])
        operation = "AcceptResourceShareInvitation" if accept else "RejectResourceShareInvitation"

        def run() -> dict[str, Any]:
            if invitation.receiver != account:
                raise error("OperationNotPermittedException", f"{invitation.arn} is not addressed to {account}.")
            self._require_pending(invitation)
            share = self.state.shares[invitation.share_arn]
            association = share.principals.get(account)
            if share.status != "ACTIVE" or association is None or association.status != "ASSOCIATING":
                # Stricter reading (UNVERIFIED): the owner withdrew the share or this principal.
                raise error("OperationNotPermittedException", f"{share.arn} is no longer shared with {account}.")
            now = self.clock.now()
            invitation.status = "ACCEPTED" if accept else "REJECTED"
            association.move("ASSOCIATED" if accept else "DISASSOCIATED", now)
            share.touch(now)
            status = "ASSOCIATED" if accept else "DISASSOCIATED"
            self.ram.event(share.account, share.region, {
                "event": "Resource Share Association", "status": status, "resourceShareArn": share.arn,
                "associatedEntity": account}, [share.arn])
            self.ram.event(account, share.region, {
                "event": "Resource Share Invitation", "status": invitation.status, "resourceShareArn": share.arn,
                "resourceShareInvitationArn": invitation.arn, "senderAccountId": share.account}, [invitation.arn])
            return {"resourceShareInvitation": self.ram.invitation_out(invitation), "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, operation, params, run)

    def AcceptResourceShareInvitation(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._answer_invitation(account, region, params, accept=True)

    def RejectResourceShareInvitation(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._answer_invitation(account, region, params, accept=False)

