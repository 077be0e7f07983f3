"""Consumer side: accept a pending RAM invitation only when the allowlist allows all of it.

An invitation is accepted when its sender is an allowlisted owner for this account and every
resource in it is a model package group of that owner which the allowlist shares with this
account. Anything else stays pending (it expires by itself), with the reason logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from modelshare.allowlist import Allowlist
from modelshare.observability import count, logger
from modelshare.owner import load_allowlist
from modelshare.policy import group_name_of
from modelshare.ports import (
    MODEL_PACKAGE_GROUP_TYPE,
    PENDING,
    RAM_PAGE_SIZE,
    AllowlistSource,
    Invitation,
    InvitationClosed,
    ResourceShares,
    SharedResource,
)


@dataclass(frozen=True)
class InvitationOutcome:
    invitation_arn: str
    sender: str
    action: str  # accepted | already-accepted | left-pending | closed
    reason: str = ""


@dataclass
class ConsumerService:
    account: str
    shares: ResourceShares
    allowlist_source: AllowlistSource
    # Calls the last listing of every invitation took (kept per execution environment): a batch
    # naming more than that lists them all instead of looking each up.
    _listing_calls: int = field(default=1, init=False, repr=False)

    def accept_allowed_invitations(self, *, fresh_allowlist: bool = False,
                                   about: Sequence[str] | None = None) -> list[InvitationOutcome]:
        """Every pending invitation of the account, or those `about` the invitation or share
        ARNs RAM's events named."""
        allowlist = load_allowlist(self.allowlist_source, fresh=fresh_allowlist)
        if allowlist is None:
            return []
        # Accepting is a grant: it is confirmed on a fresh read, never on a cached one. That read
        # is made once, and only when the cached allowlist would accept something.
        fresh: list[Allowlist | None] = [allowlist] if fresh_allowlist else []

        def current() -> Allowlist | None:
            if not fresh:
                fresh.append(load_allowlist(self.allowlist_source, fresh=True))
            return fresh[0]

        if about is not None and len(set(about)) >= self._listing_calls:
            about = None  # cheaper to list them all
        outcomes = []
        listed = 0
        for invitation in self.shares.invitations(about):
            listed += 1
            if invitation.status == PENDING:
                outcomes.append(self._consider(invitation, allowlist, current))
        if about is None:
            self._listing_calls = max(1, -(-listed // RAM_PAGE_SIZE))
        return outcomes

    def _consider(self, invitation: Invitation, allowlist: Allowlist,
                  current: Callable[[], Allowlist | None]) -> InvitationOutcome:
        context = {"invitation": invitation.arn, "sender": invitation.sender, "share": invitation.share_arn}
        try:
            # What the share holds is read once, and only for a sender the allowlist names.
            resources: list[SharedResource] = []
            if invitation.sender in allowlist.owners_sharing_with(self.account):
                resources = self.shares.pending_invitation_resources(invitation.arn)
            refusal = self.refusal(invitation, allowlist, resources)
            if refusal is None:
                confirmed = current()
                if confirmed is None:
                    refusal = "allowlist invalid"
                elif confirmed is not allowlist:
                    refusal = self.refusal(invitation, confirmed, resources)
            if refusal is not None:
                logger.warning("Invitation left pending", extra={**context, "reason": refusal})
                count("InvitationsLeftPending")
                return InvitationOutcome(invitation.arn, invitation.sender, "left-pending", refusal)
            accepted_now = self.shares.accept(invitation.arn)
        except InvitationClosed as closed:
            logger.info("Invitation can no longer be accepted", extra={**context, "reason": str(closed)})
            return InvitationOutcome(invitation.arn, invitation.sender, "closed", str(closed))
        if not accepted_now:
            return InvitationOutcome(invitation.arn, invitation.sender, "already-accepted")
        logger.info("Invitation accepted", extra=context)
        count("InvitationsAccepted")
        return InvitationOutcome(invitation.arn, invitation.sender, "accepted")

    def refusal(self, invitation: Invitation, allowlist: Allowlist, resources: Sequence[SharedResource]) -> str | None:
        """Why the invitation, holding `resources`, must not be accepted, or None when the
        allowlist allows it."""
        if invitation.sender not in allowlist.owners_sharing_with(self.account):
            return f"sender {invitation.sender} is not an allowlisted owner for account {self.account}"
        if not resources:
            return "the share holds no resources"
        for resource in resources:
            problem = self._resource_problem(resource, invitation.sender, allowlist)
            if problem:
                return problem
        return None

    def _resource_problem(self, resource: SharedResource, sender: str, allowlist: Allowlist) -> str | None:
        """A shared resource is judged by its ARN: a model package group of the sender that the
        allowlist shares with this account. RAM's type string is UNVERIFIED (docs/aws-behaviour.md,
        RAM-TYPE), so it is only a hint, compared case-insensitively."""
        name = group_name_of(resource.arn, sender)
        if name is None:
            return f"the share holds {resource.arn} ({resource.type}), not a model package group of {sender}"
        if resource.type.lower() != MODEL_PACKAGE_GROUP_TYPE.lower():
            logger.info("RAM names an unexpected resource type for a model package group; judged by its ARN",
                        extra={"resource": resource.arn, "type": resource.type})
        decision = allowlist.decide(sender, name)
        if decision.conflict:
            return decision.conflict
        if not decision.allows(self.account):
            return f"group {name!r} of {sender} is not allowlisted for account {self.account}"
        return None
