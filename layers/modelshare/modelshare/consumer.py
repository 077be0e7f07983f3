"""Consumer side: accept a pending RAM invitation only when the allowlist allows all of it, and
re-check the shares accepted.

An invitation is accepted when its sender is an allowlisted owner for this account, every
resource in it is a model package group of that owner which the allowlist shares with this
account, and the share grants no action beyond the access the allowlist gives this account on
each of them (read from RAM: unreadable is refused). Anything else stays pending (it expires by
itself), with the reason logged. A sweep (the schedule, an allowlist change) also re-reads the
shares this account accepted from allowlisted owners and reports those that now hold or grant
more (modelshare.received_shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from modelshare.allowlist import Allowlist
from modelshare.allowlist_loading import load_allowlist
from modelshare.deadline import Deadline, no_deadline
from modelshare.observability import count, logger
from modelshare.org_principals import is_org_principal, memberships
from modelshare.outcomes import InvitationAction
from modelshare.policy import group_name_of
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import (
    ARNS_PER_CALL,
    MODEL_PACKAGE_GROUP_TYPE,
    PENDING,
    RAM_PAGE_SIZE,
    AllowlistSource,
    InvitationAlreadyAccepted,
    InvitationClosed,
)
from modelshare.ram_ports import ConsumerShareReads, ConsumerShareWrites
from modelshare.received_shares import UNREADABLE, GrantReader, ShareFinding, allowed_actions, beyond_allowlist, recheck

# What a run keeps in hand when it starts on an invitation or on the re-check: more than either
# takes (an invitation of a 4,000-group share: some ten calls; the re-check: a page per 500 groups
# received and a read per share), so a run stops before Lambda's timeout cuts it off, and says so.
TIME_RESERVE_SECONDS = 15.0


@dataclass(frozen=True)
class InvitationOutcome:
    invitation_arn: str
    sender: str
    action: InvitationAction
    reason: str = ""


@dataclass
class ConsumerService:
    account: str
    shares: ConsumerShareReads
    allowlist_source: AllowlistSource
    # Accepting an invitation (a dry run records it instead: modelshare.dry_run).
    share_writes: ConsumerShareWrites
    # This account's OU path (stack parameter OrganizationPath, `o-…/r-…/ou-…/`): only the
    # re-check uses it, and only when its organization is the one the account reads
    # (docs/security.md, "Organization and OU consumers (shares mode)").
    organization_path: str | None = None
    # Calls the last listing of every invitation took (kept per execution environment): a batch
    # whose lookups would cost more lists them all instead.
    _listing_calls: int = field(default=1, init=False, repr=False)
    # The invitations the last run here left unread for lack of time, in its order: the next run
    # takes them first (a run judges again those it left pending, which could otherwise use up
    # every run's time before the others).
    _deferred: tuple[str, ...] = field(default=(), init=False, repr=False)

    def accept_allowed_invitations(self, *, about: Sequence[str] | None = None,
                                   deadline: Deadline = no_deadline) -> list[InvitationOutcome]:
        """Accept the pending invitations the allowlist allows: every one of the account's, or
        those `about` the invitation or share ARNs RAM's events named. Accepting is a grant: the
        allowlist is read afresh, once, and only when an invitation is pending. `deadline`: the
        invocation's (modelshare.wiring.remaining_time)."""
        if about is not None and not about:
            return []  # the events named nothing to accept
        pending = self._pending(about)
        if not pending:
            return []
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return []
        return self._consider_all(pending, allowlist, GrantReader(self.shares), deadline)

    def sweep(self, *, deadline: Deadline = no_deadline) -> tuple[list[InvitationOutcome], list[ShareFinding]]:
        """The schedule's and an allowlist change's run: every pending invitation, then every
        share accepted from an allowlisted owner re-checked (reported, never left: RAM-LEAVE), on
        one fresh read of the allowlist."""
        pending = self._pending(None)
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return [], []
        reader = GrantReader(self.shares)
        outcomes = self._consider_all(pending, allowlist, reader, deadline)
        if deadline() < TIME_RESERVE_SECONDS:
            logger.warning("Out of time: the re-check of the accepted shares is left to the next run",
                           extra={"seconds_left": round(deadline(), 1)})
            count("AcceptedSharesNotRechecked")
            return outcomes, []
        return outcomes, self.recheck_accepted(allowlist, reader)

    def recheck_accepted(self, allowlist: Allowlist, reader: GrantReader | None = None) -> list[ShareFinding]:
        """The accepted shares from allowlisted owners that hold or grant more than the allowlist
        gives this account, or whose grant cannot be read; each logged and counted."""
        findings = recheck(self.account, self.shares, allowlist, reader or GrantReader(self.shares),
                           self._memberships(allowlist))
        for finding in findings:
            context = {"share": finding.share_arn, "owner": finding.owner, "problems": list(finding.problems)}
            if finding.problems:
                logger.warning("Accepted share holds more than the allowlist allows", extra=context)
                count("SharedBeyondAllowlist")
            if finding.unreadable:
                logger.warning("Accepted share could not be re-checked", extra={**context, "reason": UNREADABLE})
                count("AcceptedSharesUnreadable")
        return findings

    def _memberships(self, allowlist: Allowlist) -> frozenset[str]:
        """The organization and OU ARNs this account belongs to, read only when the allowlist
        names one: its organization (DescribeOrganization) and the OUs of its path, when that
        path is of the same organization. Nothing it cannot read (fail closed)."""
        if not any(is_org_principal(c) for rule in allowlist.rules for c in rule.consumers):
            return frozenset()
        found, ignored = memberships(self.shares.organization(), self.organization_path)
        if ignored is not None:
            logger.warning("OrganizationPath not used: groups given to OUs are judged as not this account's",
                           extra={"reason": ignored})
            count("OrganizationPathIgnored")
        return found

    def _pending(self, about: Sequence[str] | None) -> list[Invitation]:
        if about is not None and self._listing_calls < _lookup_calls(about):
            # Cheaper to list them all. (At the same cost the named ones are looked up: a run
            # beside this one handles the others, and both would otherwise try every one.)
            about = None
        pending: list[Invitation] = []
        listed = 0
        for invitation in self.shares.invitations(about):
            listed += 1
            if invitation.status == PENDING:
                pending.append(invitation)
        if about is None:
            self._listing_calls = max(1, -(-listed // RAM_PAGE_SIZE))
        return pending

    def _consider_all(self, pending: Sequence[Invitation], allowlist: Allowlist,
                      reader: GrantReader, deadline: Deadline) -> list[InvitationOutcome]:
        """Each pending invitation in turn (those the last run left first), while the run has time
        for one more; the others are left, unread, to the next run (the schedule's, or RAM's next
        event), with a log."""
        first = {arn: place for place, arn in enumerate(self._deferred)}
        pending = sorted(pending, key=lambda i: first.get(i.arn, len(first)))
        # Those this run does not see (an event's run sees the invitations it names) stay first.
        self._deferred = tuple(arn for arn in self._deferred if arn not in {i.arn for i in pending})
        outcomes: list[InvitationOutcome] = []
        for done, invitation in enumerate(pending):
            if deadline() < TIME_RESERVE_SECONDS:
                left = pending[done:]
                self._deferred += tuple(i.arn for i in left)
                logger.warning("Out of time: invitations left to the next run",
                               extra={"invitations": [i.arn for i in left], "seconds_left": round(deadline(), 1)})
                count("InvitationsDeferred", len(left))
                return outcomes + [InvitationOutcome(i.arn, i.sender, InvitationAction.DEFERRED, "out of time")
                                   for i in left]
            outcomes.append(self._consider(invitation, allowlist, reader))
        return outcomes

    def _consider(self, invitation: Invitation, allowlist: Allowlist, reader: GrantReader) -> InvitationOutcome:
        context = {"invitation": invitation.arn, "sender": invitation.sender, "share": invitation.share_arn}
        try:
            refusal = self.invitation_refusal(invitation, allowlist, reader)
            if refusal is not None:
                logger.warning("Invitation left pending", extra={**context, "reason": refusal})
                count("InvitationsLeftPending")
                return InvitationOutcome(invitation.arn, invitation.sender, InvitationAction.LEFT_PENDING, refusal)
            accepted_now = self.share_writes.accept(invitation.arn)
        except InvitationClosed as closed:
            logger.info("Invitation can no longer be accepted", extra={**context, "reason": str(closed)})
            return InvitationOutcome(invitation.arn, invitation.sender, InvitationAction.CLOSED, str(closed))
        except InvitationAlreadyAccepted:  # by a run beside this one: what was wanted
            return InvitationOutcome(invitation.arn, invitation.sender, InvitationAction.ALREADY_ACCEPTED)
        if not accepted_now:
            return InvitationOutcome(invitation.arn, invitation.sender, InvitationAction.ALREADY_ACCEPTED)
        logger.info("Invitation accepted", extra=context)
        count("InvitationsAccepted")
        return InvitationOutcome(invitation.arn, invitation.sender, InvitationAction.ACCEPTED)

    def invitation_refusal(self, invitation: Invitation, allowlist: Allowlist,
                           reader: GrantReader | None = None) -> str | None:
        """Why the pending invitation must not be accepted, or None: what its share holds, and
        then what it grants, each read only when what came before allows it. Raises
        InvitationClosed or InvitationAlreadyAccepted."""
        resources: list[SharedResource] = []
        if invitation.sender in allowlist.owners_sharing_with(self.account):
            resources = self.shares.pending_invitation_resources(invitation.arn)
        refusal = self.refusal(invitation, allowlist, resources)
        if refusal is not None:
            return refusal
        granted = (reader or GrantReader(self.shares)).granted([invitation.share_arn]).get(invitation.share_arn)
        if granted is None:
            return f"{UNREADABLE} (account {self.account}): not accepted"
        names = [name for r in resources if (name := group_name_of(r.arn, invitation.sender))]
        allowed = allowed_actions(allowlist, invitation.sender, names, self.account)
        return beyond_allowlist(granted, allowed, invitation.sender, names, self.account)

    def refusal(self, invitation: Invitation, allowlist: Allowlist, resources: Sequence[SharedResource]) -> str | None:
        """Why the invitation, holding `resources`, must not be accepted by what it holds, or None
        when the allowlist allows all of it (what it grants is judged by invitation_refusal)."""
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


def _lookup_calls(about: Sequence[str]) -> int:
    """Calls looking up these invitation and share ARNs takes (batched per kind)."""
    invitations = sum(1 for a in set(about) if ":resource-share-invitation/" in a)
    shares = len(set(about)) - invitations
    return sum(-(-n // ARNS_PER_CALL) for n in (invitations, shares))
