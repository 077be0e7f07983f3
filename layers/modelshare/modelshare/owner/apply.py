"""The policy mode's writes: a group's decision (`convergence.decide`) made true, one write at a
time, each kind by its own writer, then the outcome told. Shared by every owner job that
converges a group (the sweep and its workers, the promotion job, a switch of modes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from modelshare import incarnation
from modelshare import policy as policies
from modelshare.allowlist import Allowlist, ShareDecision
from modelshare.convergence import GroupDecision, GroupSnapshot, Write, decide, policy_matters
from modelshare.decision.writing import conflict_wait, needs_invitation_room, policy_writes_only, unsafe_until_narrowed
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction, WriteKind
from modelshare.owner.outcome import GroupOutcome, not_promotable, tell_conflict
from modelshare.owner.reads import stamp_of, with_ownership, with_policy
from modelshare.owner.run import TIME_RESERVE_SECONDS, Run
from modelshare.ports import (
    GroupNotFound,
    PermissionNameTaken,
    PolicyConflict,
    PromotionNotReady,
    RamQuotaReached,
    ResourceTypeUnknown,
)

# Waits before reading a group's policy again after SageMaker refused a write of it for a
# conflicting write at the same moment (SM-POLICY-CONFLICT; botocore does not retry it); after
# the last, the group waits for the next run.
POLICY_CONFLICT_WAITS: tuple[float, ...] = (0.5, 1, 2)

# A writer makes one write of a group's decision; an outcome it returns ends the group's writes.
type Writer = Callable[[Run, GroupSnapshot, ShareDecision, Write], GroupOutcome | None]


def decide_for(run: Run, group: GroupSnapshot, decision: ShareDecision) -> GroupDecision:
    """The decision for the group, restricted to what takes access away when the run decides
    with the last valid version of an invalid allowlist."""
    verdict = decide(group, decision)
    return restricted(group, verdict) if run.restrict_only else verdict


def reconcile_group(run: Run, group: GroupSnapshot, allowlist: Allowlist) -> GroupOutcome:
    decision = allowlist.decide(run.account, group.name)
    group = with_ownership(run, group)
    if policy_matters(group):
        group = with_policy(run, group)
    return apply(run, group, decision, decide_for(run, group, decision))


def apply_decision(run: Run, group: GroupSnapshot, decision: ShareDecision, *, narrowing: bool = False) -> GroupOutcome:
    """Converge one group's policy and promoted shares to `decision` (the shares mode
    removing the policy mode's statement of a group live in its share); `narrowing`: only
    what takes access away (a group switching modes: modelshare.owner.mode_switch)."""
    verdict = decide_for(run, group, decision)
    return apply(run, group, decision, restricted(group, verdict) if narrowing else verdict)


def restricted(group: GroupSnapshot, verdict: GroupDecision) -> GroupDecision:
    """modelshare.restriction, imported only by a run that needs it (an invalid allowlist, a
    group switching modes): not at every owner function's cold start."""
    from modelshare.restriction import restrict

    return restrict(group, verdict)


def waits_for_quota(run: Run, group: GroupSnapshot, allowlist: Allowlist) -> bool:
    """Whether the group needs room under RAM's invitation quota (decision.writing)."""
    return needs_invitation_room(group, allowlist.decide(run.account, group.name), restrict_only=run.restrict_only)


def apply(run: Run, group: GroupSnapshot, decision: ShareDecision, verdict: GroupDecision, *,
          conflicts: int = 0) -> GroupOutcome:
    """Make the writes `decide` asked for, then report its outcome (`conflicts`: policy
    writes SageMaker refused so far for this group in this run)."""
    name = group.name
    tell_conflict(name, decision)
    if verdict.other_shares:
        logger.info("Group is also in shares modelshare leaves alone",
                    extra={"group": name, "shares": list(verdict.other_shares)})
    try:
        for write in verdict.writes:
            if (ended := _WRITERS[write.kind](run, group, decision, write)) is not None:
                return ended
    except GroupNotFound:
        return GroupOutcome(name, GroupAction.GONE)
    except PolicyConflict as conflict:
        return _after_policy_conflict(run, group, decision, conflict, conflicts)
    return _told(GroupOutcome(name, verdict.outcome, verdict.detail), decision)


def _put_policy(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    if write.policy is None:
        return None
    record = incarnation.stamped(write.digest, stamp_of(run, group)) if write.digest else ""
    if record:  # the proof that the statement is modelshare's (in this group), before it exists
        run.owner.ledger.record_statement(group.arn, record)
        run.ownership.pop(group.arn, None)
    run.owner.registry_writes.put_policy(group.name, write.policy)
    _forget_replaced(run, group, record)
    return None


def _delete_policy(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    run.owner.registry_writes.delete_policy(group.name)
    _forget_replaced(run, group, "")
    return None


def _remove_resources(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    run.owner.share_writes.disassociate_resources(write.share, list(write.accounts))
    logger.warning("Took out of modelshare's share what the allowlist does not put there",
                   extra={"group": group.name, "share": write.share, "resources": list(write.accounts)})
    count("ShareResourcesRemoved")
    return None


def _remove_consumers(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    run.owner.share_writes.disassociate_principals(write.share, list(write.accounts))
    return None


# The writes below are never the creation path's (ShareOnCreate writes a statement only:
# decision.paths), so their modules load where first made, not at ShareOnCreate's cold start;
# the promotion and the sweep import them with their own jobs.
def _add_consumers(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    from modelshare.owner.quota import not_tried, quota_reached

    if run.quota_stop is not None:
        return not_tried(run, group.name)
    try:
        run.owner.share_writes.associate_principals(write.share, list(write.accounts))
    except RamQuotaReached as quota:
        return quota_reached(run, group.name, quota)
    return None


def _promote(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    from modelshare.owner.promotion import promote_shares

    shares = [h.share for h in group.holdings if h.share.arn in write.shares]
    try:
        return promote_shares(run, group.name, group.arn, shares, decision)
    except PromotionNotReady as error:
        return GroupOutcome(group.name, GroupAction.PROMOTION_PENDING, str(error))


def _set_actions(run: Run, group: GroupSnapshot, decision: ShareDecision, write: Write) -> GroupOutcome | None:
    """Give modelshare's promoted share the managed permission with exactly the allowlist's
    actions: one RAM already has (AWS or customer managed, matched by its actions, never by
    name), else a customer managed one modelshare creates under one name per action set.
    When that cannot be done now and the share grants more than the allowlist allows, its
    consumers are removed (fail closed): the next run sets the actions and invites them
    again. None when done."""
    from modelshare.owner.permissions import permission_granting
    from modelshare.permission_names import group_type

    holding = next(h for h in group.holdings if h.share.arn == write.share)
    shares = run.owner.shares
    try:
        permission = permission_granting(run, write.actions, group_type(shares))
        if permission is not None:
            run.owner.share_writes.replace_permission(write.share, permission)
            count("ShareActionsChanged")
            return None
        why = "the customer managed permission for these actions is not attachable yet"
    except RamQuotaReached as quota:
        why = str(quota)
    except (PermissionNameTaken, ResourceTypeUnknown) as refused:
        why = str(refused)
    if unsafe_until_narrowed(holding, write.actions):
        run.owner.share_writes.disassociate_principals(write.share, list(holding.principals))
        logger.warning("Removed the consumers of a promoted share whose actions could not be narrowed",
                       extra={"group": group.name, "share": write.share, "reason": why})
        count("ShareConsumersChanged")
        return GroupOutcome(group.name, GroupAction.CONSUMERS_CHANGED,
                            f"consumers removed until the share's actions can be narrowed: {why}")
    return GroupOutcome(group.name, GroupAction.PROMOTION_PENDING, f"share's actions not set yet: {why}")


_WRITERS: dict[WriteKind, Writer] = {
    WriteKind.PUT_POLICY: _put_policy,
    WriteKind.DELETE_POLICY: _delete_policy,
    WriteKind.SET_ACTIONS: _set_actions,
    WriteKind.REMOVE_RESOURCES: _remove_resources,
    WriteKind.REMOVE_CONSUMERS: _remove_consumers,
    WriteKind.ADD_CONSUMERS: _add_consumers,
    WriteKind.PROMOTE: _promote,
}


def _told(outcome: GroupOutcome, decision: ShareDecision) -> GroupOutcome:
    """The outcome of a group's writes, logged and counted as its action asks."""
    name, action = outcome.group, outcome.action
    if action == GroupAction.SHARED:
        logger.info("Shared group", extra={"group": name, "consumers": list(decision.consumers)})
        count("GroupsShared")
    elif action == GroupAction.UNSHARED:
        logger.info("Removed modelshare's statement", extra={"group": name, "reason": outcome.reason})
        count("GroupsUnshared")
    elif action == GroupAction.CONSUMERS_CHANGED:
        logger.info("Changed consumers of promoted share", extra={"group": name, "changes": outcome.reason})
        count("ShareConsumersChanged")
    elif action == GroupAction.ACCESS_CHANGED:
        logger.info("Set the actions of promoted share", extra={"group": name, "changes": outcome.reason})
    elif action == GroupAction.RESTRICTED:
        logger.info("Applied the last valid allowlist's removals only", extra={"group": name, "changes": outcome.reason})
    elif action == GroupAction.NOT_PROMOTABLE:
        return not_promotable(name, outcome.reason)
    elif action == GroupAction.SID_TAKEN:
        logger.warning("Group's policy left alone: someone else wrote a statement under modelshare's Sid",
                       extra={"group": name, "reason": outcome.reason})
        count("PolicySidTaken")
    return outcome


def _after_policy_conflict(run: Run, group: GroupSnapshot, decision: ShareDecision, conflict: PolicyConflict,
                           conflicts: int) -> GroupOutcome:
    """Another write of the group's policy ran as modelshare's (SM-POLICY-CONFLICT), perhaps a
    person's: wait, read the policy and the ledger again and decide again (never write the
    old decision blindly), a few times; then leave the group to the next run. Only the policy
    write is made again: a policy write is the only write of a group not promoted, and a
    promotion the fresh policy asks for is the promotion path's (its put's event, the sweep)."""
    name = group.name
    wait = conflict_wait(conflicts, POLICY_CONFLICT_WAITS, run.time_left(), TIME_RESERVE_SECONDS)
    if wait is None:
        logger.warning("Group's policy kept changing while modelshare wrote it: left to the next run",
                       extra={"group": name, "tries": conflicts + 1, "error": str(conflict)})
        count("PolicyWriteConflicts")
        return GroupOutcome(name, GroupAction.POLICY_CONFLICT, f"{name}: another write of its policy ran at once")
    run.owner.sleep(wait)
    run.ownership.pop(group.arn, None)
    fresh = with_policy(run, with_ownership(run, replace(group, ownership=None, created=None)))
    return apply(run, fresh, decision, policy_writes_only(decide_for(run, fresh, decision)), conflicts=conflicts + 1)


def _forget_replaced(run: Run, group: GroupSnapshot, kept: str) -> None:
    """Once modelshare's statements that were in the policy are gone from it, the ledger forgets
    them: the same words written later by a person are theirs. Only those read in the policy
    are forgotten, never what a run beside this one recorded meanwhile."""
    if group.ownership is None or group.created is None:
        return  # no statement of the policy was judged modelshare's
    owned, created = group.our_statements, group.created
    gone = sorted({incarnation.stamped(policies.statement_digest(s), created) for s in policies.statements(group.policy)
                   if policies.is_ours(s, owned)} - {kept})
    if gone:
        run.owner.ledger.forget_statements(group.arn, gone)
        run.ownership.pop(group.arn, None)
