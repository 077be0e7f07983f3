"""The owner's runs in the shares mode (issue 20): what the allowlist wants of modelshare's own
shares, from the group listing (the sweep) or a few named groups (new groups, work items),
converged by modelshare.shares_mode and reported group by group as the policy mode reports.

An owner in the policy mode whose ledger still records shares it made (it was in the shares
mode) has them narrowed only: nothing is added, a group or consumer the allowlist no longer
gives is taken out, and a group leaves once its promoted share is live for every consumer who
had it (modelshare.owner.mode_switch); a made share emptied is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from modelshare import invitation_pace
from modelshare.allowlist import Allowlist, ShareDecision
from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot, RamIndex
from modelshare.observability import logger
from modelshare.outcomes import GroupAction
from modelshare.owner.outcome import GroupOutcome
from modelshare.owner.reads import read_ledger
from modelshare.owner.run import Owner, Run
from modelshare.ports import LedgerContents

if TYPE_CHECKING:
    # Imported where used: an owner in the policy mode never loads the shares mode
    # (cold start, tests/unit/test_lazy_imports.py).
    from modelshare.shares_mode import SharesMode, SharesModeResult


def in_shares_mode(owner: Owner, allowlist: Allowlist) -> bool:
    return allowlist.mode_for(owner.account, default=owner.sharing_mode) == "shares"


def if_shares_mode(run: Run, allowlist: Allowlist, groups: Mapping[str, str | None] | None = None, *,
                   new_groups: bool = False) -> list[GroupOutcome] | None:
    """The run's outcomes when this owner shares in the shares mode, else None (the policy
    mode goes on): every group (`groups` None: the sweep) or the groups named; `new_groups`:
    ShareOnCreate's, which only adds."""
    if not in_shares_mode(run.owner, allowlist):
        return None
    if new_groups and groups is not None:
        return share_new_groups(run, allowlist, groups)
    return converge_shares(run, allowlist, groups, restrict_only=run.restrict_only)


def converge_shares(run: Run, allowlist: Allowlist, groups: Mapping[str, str | None] | None = None, *,
                    restrict_only: bool = False, leaving: Mapping[str, str] | None = None) -> list[GroupOutcome]:
    """Converge modelshare's shares to the allowlist: every group of the account (`groups`
    None: the sweep), or only these new or named groups (name -> ARN when known). `leaving`
    (an owner back in the policy mode): group ARN -> "" for a group that leaves its made share
    now, else why it stays (modelshare.owner.mode_switch)."""
    from modelshare.share_layout import Bucket

    mode = _shares_mode(run.owner)
    if groups is None:
        listed = list(run.owner.registry.groups())
    else:
        listed = [(name, arn) for name, given in groups.items() if (arn := given or run.owner.registry.group_arn(name))]
    decisions = {arn: allowlist.decide(run.account, name) for name, arn in listed}
    leaving = leaving or {}
    wanted = {arn: Bucket.of(d.consumers, d.actions) for arn, d in decisions.items() if d.shared and leaving.get(arn) != ""}
    result = mode.converge(wanted, restrict_only=restrict_only, partial=groups is not None,
                           made=read_ledger(run).made_shares)
    invited, uninvited = result.invitations  # consumers left for want of room: a run a little later invites them
    invitation_pace.ask_again(run.owner.work_queue, invited=invited, uninvited=uninvited)
    outcomes = [_switched(name, arn, result, leaving) if arn in leaving else _outcome(name, arn, decisions[arn], result)
                for name, arn in listed]
    outcomes += [GroupOutcome(arn, GroupAction.SHARE_DELETED, "modelshare's share left empty") for arn in result.deleted_shares]
    if not restrict_only:
        from modelshare.owner import mode_switch  # only an owner leaving or back in the policy mode

        live = [(name, arn) for name, arn in listed if arn in result.live]
        outcomes += mode_switch.retire_policy_mode(run, allowlist, listed, result.live, result.shares) \
            if live or groups is None else []
    logger.info("Shares mode converged", extra={"groups": len(listed), "added": len(result.added),
                                                 "removed": len(result.removed), "waiting": len(result.waiting)})
    return outcomes


def share_new_groups(run: Run, allowlist: Allowlist, groups: Mapping[str, str | None]) -> list[GroupOutcome]:
    """New groups (ShareOnCreate; name -> ARN when the event said it): each goes into its
    bucket's share when that share is ready for it (SharesMode.place_new). Anything more (a
    share or a permission to make, consumers to invite or take out, the policy mode's access
    to retire) is the sweep's: the group is handed to its workers (the sweep queue), who
    converge it at once; without a queue the next scheduled sweep does."""
    listed = [(name, given or run.owner.registry.group_arn(name)) for name, given in groups.items()]
    decisions = {arn: allowlist.decide(run.account, name) for name, arn in listed if arn}
    from modelshare.share_layout import Bucket

    wanted = {arn: Bucket.of(d.consumers, d.actions) for arn, d in decisions.items() if d.shared}
    from modelshare.shares_mode import SharesModeResult

    result = _shares_mode(run.owner).place_new(wanted) if wanted else SharesModeResult(frozenset(), {}, {}, {})
    handed = [(name, arn) for name, arn in listed if arn in result.waiting]
    if handed and run.owner.work_queue is not None:
        run.owner.work_queue.send([work_item(GroupSnapshot(name, arn)) for name, arn in handed if arn])
        logger.info("New groups handed to the sweep's workers", extra={
            "groups": {name: result.waiting[arn].reason for name, arn in handed if arn}})
    outcomes = []
    for name, arn in listed:
        if arn is None:
            outcomes.append(GroupOutcome(name, GroupAction.GONE))
        elif arn in result.waiting and run.owner.work_queue is not None:
            outcomes.append(GroupOutcome(name, GroupAction.QUEUED, f"{result.waiting[arn].reason}: handed to the sweep"))
        else:
            outcomes.append(_outcome(name, arn, decisions[arn], result))
    return outcomes


def narrow_made_shares(run: Run, allowlist: Allowlist, index: RamIndex,
                       owned: LedgerContents) -> list[GroupOutcome]:
    """An owner in the policy mode: take out of the shares modelshare made (if its ledger
    records any) what the allowlist no longer gives, and each group whose promoted share is live
    for every consumer who has it through a made share (the switch to the policy mode); add
    nothing. `index`, `owned`: what the policy mode's sweep read of RAM and the ledger."""
    made = owned.made_shares
    if not made:
        return []
    from modelshare.owner import mode_switch  # only an owner whose ledger records made shares

    leaving = mode_switch.live_in_policy_mode(run, allowlist, index, owned, made)
    return [o for o in converge_shares(run, allowlist, restrict_only=True, leaving=leaving)
            if o.action in (GroupAction.UNSHARED, GroupAction.SHARE_DELETED, mode_switch.SWITCHED, mode_switch.SWITCHING)]


def _shares_mode(owner: Owner) -> SharesMode:
    """One per execution environment, with the owner's ports (its permission lookups are kept)."""
    from modelshare.shares_mode import SharesMode

    built = owner.shares_mode_job
    if not isinstance(built, SharesMode) or built.shares is not owner.shares or built.ledger is not owner.ledger \
            or built.share_writes is not owner.share_writes:
        built = owner.shares_mode_job = SharesMode(owner.account, owner.shares, owner.ledger, owner.share_writes,
                                                   sleep=owner.sleep)
    return built


def _switched(name: str, arn: str, result: SharesModeResult, leaving: Mapping[str, str]) -> GroupOutcome:
    """A group of an owner back in the policy mode that is (or was) in a made share."""
    from modelshare.owner import mode_switch
    if arn in result.removed:
        return GroupOutcome(name, mode_switch.SWITCHED, f"live in its promoted share: taken out of modelshare's share "
                                                        f"{result.removed[arn]}")
    return GroupOutcome(name, mode_switch.SWITCHING, leaving[arn]) if leaving[arn] else GroupOutcome(name, GroupAction.CONVERGED)


def _outcome(name: str, arn: str, decision: ShareDecision, result: SharesModeResult) -> GroupOutcome:
    if arn in result.gone:
        return GroupOutcome(name, GroupAction.GONE)
    if arn in result.added and arn in result.live:
        return GroupOutcome(name, GroupAction.SHARED, f"in modelshare's share {result.added[arn]}")
    if arn in result.live:
        return GroupOutcome(name, GroupAction.CONVERGED)
    if arn in result.waiting:
        wait = result.waiting[arn]
        return GroupOutcome(name, GroupAction.QUOTA_REACHED if wait.quota else GroupAction.PROMOTION_PENDING, wait.reason)
    if arn in result.removed:
        return GroupOutcome(name, GroupAction.UNSHARED, f"taken out of modelshare's share {result.removed[arn]}")
    if decision.conflict:
        return GroupOutcome(name, GroupAction.CONFLICT, decision.conflict)
    return GroupOutcome(name, GroupAction.NOT_SHARED, "" if decision.shared else "no allowlist rule matches")
