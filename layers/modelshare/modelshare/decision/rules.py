"""The one decision for one group in the policy mode: from the facts read about it
(decision.facts) and what the allowlist decides for it, its status now, the writes that bring it
to what the allowlist says, the outcome a reconcile reports once they are made, and the rule
that decided it. Pure: no AWS call.

The rules, in the order they are tried:
- modelshare's share is promoting: wait (PROMOTING);
- it is promoted: RAM holds the consumers; its permission, resources and principals are set to
  the allowlist's (decision.share_rules): PROMOTED_ACCESS, PROMOTED_CONSUMERS or PROMOTED_SETTLED;
- else the resource policy says who has access: a statement under modelshare's Sid that it did
  not write stops any widening (SID_TAKEN); modelshare's statement is written (STATEMENT_WRITTEN)
  or taken out (STATEMENT_REMOVED); the share RAM made from a settled policy is promoted
  (PROMOTE) unless the policy cannot be (NOT_PROMOTABLE), and one RAM has not made yet is
  waited for (AWAITING_SHARE: the wake-up waits, the sweep has nothing to do); else nothing to
  do (POLICY_SETTLED).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modelshare import policy as policies
from modelshare.allowlist import ShareDecision
from modelshare.decision.facts import GroupDecision, GroupSnapshot, Rule, ShareView, Write, view_of
from modelshare.decision.share_rules import ShareChange, accounts, share_changes
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind

# The reasons a status gives, where they are fixed words.
PROMOTING_REASON = "RAM is promoting the share"
PROMOTED_REASON = "promoted RAM share"
PROMOTED_EMPTY_REASON = "promoted share has no consumers"
INVITED_REASON = "promoted RAM share; invited, not accepted yet"
NO_POLICY_REASON = "no resource policy yet"
NO_RULE_REASON = "no allowlist rule matches"
NO_SHARE_YET_REASON = "RAM has not created the share yet"
FROM_POLICY_REASON = "share is CREATED_FROM_POLICY: promotion pending"
SID_TAKEN_REASON = (f"a statement with modelshare's Sid {policies.MODELSHARE_SID} that modelshare did not write is in "
                    "the policy: modelshare adds nothing to the policy")


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class Case:
    """One group and what the allowlist decides for it, with what every rule reads of them."""

    group: GroupSnapshot
    decision: ShareDecision

    @cached_property
    def view(self) -> ShareView:
        return view_of(self.group)

    @property
    def desired(self) -> tuple[str, ...]:
        return self.decision.consumers if self.decision.shared else ()

    @property
    def why_not(self) -> str:
        return self.decision.conflict or ("" if self.decision.consumers else NO_RULE_REASON)

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(h.share.arn for h in self.view.unmanaged)

    @property
    def note(self) -> str:
        return f"; also in {len(self.others)} share(s) modelshare leaves alone" if self.others else ""

    @cached_property
    def policy_accounts(self) -> tuple[str, ...]:
        return accounts(p for s in policies.statements(self.group.policy) for p in policies.principals_of(s))

    def changing(self, rule: Rule, status: GroupStatus, consumers: tuple[str, ...], reason: str,
                 outcome: GroupAction, detail: str, writes: tuple[Write, ...] = ()) -> GroupDecision:
        return GroupDecision(status, consumers, reason + self.note, outcome, detail, writes, self.others, rule)

    def settled(self, rule: Rule, status: GroupStatus, consumers: tuple[str, ...], reason: str) -> GroupDecision:
        """Nothing to change: shared as the allowlist wants, or not shared at all (and why)."""
        if self.decision.shared:
            return self.changing(rule, status, consumers, reason, GroupAction.CONVERGED, "")
        outcome = GroupAction.CONFLICT if self.decision.conflict else GroupAction.NOT_SHARED
        return self.changing(rule, status, consumers, reason, outcome, self.why_not)


def decide(group: GroupSnapshot, decision: ShareDecision) -> GroupDecision:
    """The group's status now, the writes that bring it to what the allowlist decides, and the
    outcome a reconcile reports once they are made. A "promote" write stands for the promotion
    procedure (the owner's promote job), which may still find RAM not ready or refusing."""
    case = Case(group, decision)
    if case.view.promoting:
        return promoting(case)
    if case.view.promoted:
        return promoted(case)
    return by_policy(case)


# -- modelshare's share is promoting or promoted: RAM holds the consumers ----------------------
def promoting(case: Case) -> GroupDecision:
    """RAM is promoting modelshare's share: nothing to do until it is done."""
    return case.changing(Rule.PROMOTING, GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, case.policy_accounts,
                         PROMOTING_REASON, GroupAction.PROMOTING, "RAM is promoting the share; the next run continues")


def promoted_status(case: Case, consumers: tuple[str, ...]) -> tuple[GroupStatus, str]:
    """Where a group with a promoted share of modelshare's stands, and why: as the owner knows
    it, so never discoverable while a consumer's invitation is pending (RAM-ACCEPTED)."""
    missing = sorted(set(case.desired) - set(consumers))
    uninvited = f"; not yet invited: {', '.join(missing)}" if missing else ""
    if case.decision.conflict:
        return GroupStatus.CONFLICT, case.decision.conflict
    if not consumers:
        return GroupStatus.NOT_SHARED, PROMOTED_EMPTY_REASON + uninvited
    invited = accounts(p for h in case.view.promoted for p in (h.pending or ()))
    if invited:
        return GroupStatus.INVITED, f"{INVITED_REASON}: {', '.join(invited)}" + uninvited
    return GroupStatus.DISCOVERABLE, PROMOTED_REASON + uninvited


def promoted(case: Case) -> GroupDecision:
    """After promotion RAM owns the principals: change them there, and leave the resource policy
    alone (what a later put does to a promoted share is UNVERIFIED: docs/aws-behaviour.md,
    RAM-PUT-AFTER-PROMOTE)."""
    consumers = accounts(p for h in case.view.promoted for p in h.principals)
    status, reason = promoted_status(case, consumers)
    change = sum((share_changes(case.group, h, case.desired, case.decision) for h in case.view.promoted), ShareChange())
    reason += change.reason
    if not change.writes:
        return case.settled(Rule.PROMOTED_SETTLED, status, consumers, reason)
    if all(w.kind == WriteKind.SET_ACTIONS for w in change.writes):
        rule, outcome = Rule.PROMOTED_ACCESS, GroupAction.ACCESS_CHANGED
    else:
        rule, outcome = Rule.PROMOTED_CONSUMERS, GroupAction.CONSUMERS_CHANGED
    return case.changing(rule, status, consumers, reason, outcome, "; ".join(change.changes), change.writes)


# -- not promoted: the resource policy says who has access --------------------------------------
def policy_status(case: Case) -> tuple[GroupStatus, str]:
    """Where a group shared (or not) by its resource policy stands, and why."""
    if case.decision.conflict:
        return GroupStatus.CONFLICT, case.decision.conflict
    if not policies.statements(case.group.policy):
        return GroupStatus.NOT_SHARED, (NO_POLICY_REASON if case.desired else NO_RULE_REASON)
    problems = promotion_problems(case)
    if problems:
        reason = "; ".join(problems)
    elif not case.view.from_policy:
        reason = NO_SHARE_YET_REASON
    else:
        reason = FROM_POLICY_REASON
    return GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, reason


def promotion_problems(case: Case) -> tuple[str, ...]:
    """Why the group's policy cannot be promoted (RAM's rules and the allowlist's), if it cannot."""
    return policies.assess(case.group.policy, case.desired, case.decision.actions).problems


def by_policy(case: Case) -> GroupDecision:
    if not case.group.policy_read:
        raise ValueError(f"deciding about {case.group.name} needs its policy (policy_matters)")
    status, reason = policy_status(case)
    ours = policies.modelshare_statement(case.group.arn, case.desired, case.decision.actions) if case.desired else None
    rules: tuple[Callable[[Case, GroupStatus, str, dict[str, Any] | None], GroupDecision | None], ...] = (
        sid_taken, statement_write, promotion)
    for rule in rules:
        if (decided := rule(case, status, reason, ours)) is not None:
            return decided
    return case.settled(Rule.POLICY_SETTLED, status, case.policy_accounts, reason)


def sid_taken(case: Case, status: GroupStatus, reason: str, ours: dict[str, Any] | None) -> GroupDecision | None:
    """Someone else wrote a statement under modelshare's Sid: it is theirs, and modelshare adds
    nothing beside it. What modelshare's own statement grants may still only shrink: a removal
    the allowlist asks for is never frozen by a person's statement."""
    owned = case.group.our_statements
    if not policies.sid_taken(case.group.policy, owned):
        return None
    current = [s for s in policies.statements(case.group.policy) if policies.is_ours(s, owned)]
    if current and policies.grants([ours] if ours else []) <= policies.grants(current):
        return None
    return case.changing(Rule.SID_TAKEN, status, case.policy_accounts, reason + "; " + SID_TAKEN_REASON,
                         GroupAction.SID_TAKEN, SID_TAKEN_REASON)


def statement_write(case: Case, status: GroupStatus, reason: str, ours: dict[str, Any] | None) -> GroupDecision | None:
    """The policy holds modelshare's statement exactly as the allowlist wants it, beside everyone
    else's (policy.merge): written, rewritten, or taken out (the policy deleted when nothing
    else is left)."""
    wanted = policies.merge(case.group.policy, ours, case.group.our_statements)
    if policies.same_policy(case.group.policy, wanted):
        return None
    write = Write(WriteKind.DELETE_POLICY) if wanted is None else \
        Write(WriteKind.PUT_POLICY, policy=wanted, digest=policies.statement_digest(ours) if ours else "")
    if ours is None:
        return case.changing(Rule.STATEMENT_REMOVED, status, case.policy_accounts, reason, GroupAction.UNSHARED,
                             case.decision.conflict or NO_RULE_REASON, (write,))
    return case.changing(Rule.STATEMENT_WRITTEN, status, case.policy_accounts, reason, GroupAction.SHARED,
                         ", ".join(case.desired), (write,))


def promotion(case: Case, status: GroupStatus, reason: str, ours: dict[str, Any] | None) -> GroupDecision | None:
    """A shared group whose policy is settled has the share RAM made from it promoted, so its
    consumers can discover it, unless the policy cannot be promoted; a promotable one whose
    share RAM has not made yet (RAM-ASYNC) waits for it (a converged policy, for the sweep)."""
    if not case.desired:
        return None
    problems = promotion_problems(case)
    if not case.view.from_policy:
        return None if problems else case.changing(Rule.AWAITING_SHARE, status, case.policy_accounts, reason,
                                                   GroupAction.CONVERGED, "")
    if problems:
        return case.changing(Rule.NOT_PROMOTABLE, status, case.policy_accounts, reason, GroupAction.NOT_PROMOTABLE,
                             "; ".join(problems))
    return case.changing(Rule.PROMOTE, status, case.policy_accounts, reason, GroupAction.PROMOTED, "",
                         (Write(WriteKind.PROMOTE, shares=tuple(h.share.arn for h in case.view.from_policy)),))
