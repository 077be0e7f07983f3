"""The owner's runs in the shares mode (issue 20): what the allowlist wants of modelshare's own
shares, from the group listing (the sweep) or a few named groups (new groups, work items),
converged by modelshare.shares_mode and reported group by group as the policy mode reports.

An owner in the policy mode whose ledger still records shares it made (it was in the shares
mode) has them narrowed only: nothing is added, a group or consumer the allowlist no longer
gives is taken out (moving its groups to the policy mode without a moment of lost access is the
mode switch's, to come).
"""

from __future__ import annotations

from collections.abc import Mapping

from modelshare.allowlist import Allowlist, ShareDecision
from modelshare.convergence import GroupSnapshot
from modelshare.observability import logger
from modelshare.outcomes import GroupAction
from modelshare.owner import GroupOutcome, OwnerService
from modelshare.ports import Ownership
from modelshare.share_layout import Bucket
from modelshare.shares_mode import SharesMode, SharesModeResult


def in_shares_mode(owner: OwnerService, allowlist: Allowlist) -> bool:
    return allowlist.mode_for(owner.account, default=owner.sharing_mode) == "shares"


def converge_shares(owner: OwnerService, allowlist: Allowlist, groups: Mapping[str, str | None] | None = None, *,
                    restrict_only: bool = False) -> list[GroupOutcome]:
    """Converge modelshare's shares to the allowlist: every group of the account (`groups`
    None: the sweep), or only these new or named groups (name -> ARN when known)."""
    mode = _shares_mode(owner)
    if groups is None:
        listed = list(owner.registry.groups())
    else:
        listed = [(name, arn) for name, given in groups.items() if (arn := given or owner.registry.group_arn(name))]
    decisions = {arn: allowlist.decide(owner.account, name) for name, arn in listed}
    wanted = {arn: Bucket.of(d.consumers, d.actions) for arn, d in decisions.items() if d.shared}
    result = mode.converge(wanted, restrict_only=restrict_only, partial=groups is not None)
    outcomes = [_outcome(name, arn, decisions[arn], result) for name, arn in listed]
    outcomes += [GroupOutcome(arn, GroupAction.SHARE_DELETED, "modelshare's share left empty") for arn in result.deleted_shares]
    if not restrict_only:
        _remove_old_statements(owner, [(name, arn) for name, arn in listed if arn in result.live], whole=groups is None)
    logger.info("Shares mode converged", extra={"groups": len(listed), "added": len(result.added),
                                                 "removed": len(result.removed), "waiting": len(result.waiting)})
    return outcomes


def narrow_made_shares(owner: OwnerService, allowlist: Allowlist) -> list[GroupOutcome]:
    """An owner in the policy mode: take out of the shares modelshare made (if its ledger
    records any) what the allowlist no longer gives; add nothing."""
    if not owner.ledger.made_shares():
        return []
    return [o for o in converge_shares(owner, allowlist, restrict_only=True)
            if o.action in (GroupAction.UNSHARED, GroupAction.SHARE_DELETED)]


def _shares_mode(owner: OwnerService) -> SharesMode:
    """One per execution environment, with the owner's ports (its permission lookups are kept)."""
    built = owner.shares_mode_job
    if not isinstance(built, SharesMode) or built.shares is not owner.shares or built.ledger is not owner.ledger:
        built = owner.shares_mode_job = SharesMode(owner.account, owner.shares, owner.ledger, sleep=owner.sleep)
    return built


def _outcome(name: str, arn: str, decision: ShareDecision, result: SharesModeResult) -> GroupOutcome:
    if arn in result.added and arn in result.live:
        return GroupOutcome(name, GroupAction.SHARED, f"in modelshare's share {result.added[arn]}")
    if arn in result.live:
        return GroupOutcome(name, GroupAction.CONVERGED)
    if arn in result.waiting:
        why = result.waiting[arn]
        return GroupOutcome(name, GroupAction.QUOTA_REACHED if "quota" in why.lower() or "limit" in why.lower()
                            else GroupAction.PROMOTION_PENDING, why)
    if arn in result.removed:
        return GroupOutcome(name, GroupAction.UNSHARED, f"taken out of modelshare's share {result.removed[arn]}")
    if decision.conflict:
        return GroupOutcome(name, GroupAction.CONFLICT, decision.conflict)
    return GroupOutcome(name, GroupAction.NOT_SHARED, "" if decision.shared else "no allowlist rule matches")


def _remove_old_statements(owner: OwnerService, live: list[tuple[str, str]], *, whole: bool) -> None:
    """A group live in its share needs no statement of modelshare's in its policy (the policy
    mode's): it is removed now, and only now, so that no consumer is ever without access. Only
    groups whose ledger records a statement are read."""
    if not live:
        return
    # The sweep reads the whole ledger in one paged scan; a few named groups, by key.
    owned = owner.ledger.everything() if whole else owner.ledger.of_groups([arn for _, arn in live])
    for name, arn in live:
        ownership = owned.get(arn, Ownership())
        if not ownership.statements:
            continue
        group = owner.registry.get_policy(name)
        snapshot = GroupSnapshot(name, arn, ownership=ownership, policy=group, policy_read=True)
        not_shared = ShareDecision(owner.account, name, (), (), ())
        owner.apply_decision(snapshot, not_shared)
