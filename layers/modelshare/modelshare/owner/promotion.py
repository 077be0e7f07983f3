"""Promoting the shares RAM made from a group's policy (the policy mode), and, once RAM finished
promoting them, taking out any consumer the allowlist stopped allowing meanwhile. Used by the
promotion job (RAM's wake-ups) and by the sweep alike."""

from __future__ import annotations

from collections.abc import Sequence

from modelshare.allowlist import ShareDecision
from modelshare.allowlist_loading import load_allowlist
from modelshare.decision.promotion import PromotionRule, beyond_allowlist, promotion_check
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction
from modelshare.owner.outcome import GroupOutcome, not_promotable
from modelshare.owner.permissions import ensure_permission
from modelshare.owner.quota import not_tried, quota_reached
from modelshare.owner.reads import actions_of
from modelshare.owner.run import Run
from modelshare.ports import (
    ATTACHABLE,
    STANDARD,
    PermissionNotMatched,
    PromotionNotReady,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
)


def promote_shares(run: Run, group_name: str, group_arn: str, shares: Sequence[ResourceShare],
                   decision: ShareDecision) -> GroupOutcome:
    """Promote each created-from-policy share of the group (none left: promoting or promoted
    already, success), when the share names only consumers the decision allows: RAM updates a
    share made from a policy some time after the policy changes (docs/aws-behaviour.md,
    RAM-CFP-LAG), so a share can still name an account, or grant an action, the policy (and the
    allowlist) no longer does (modelshare.decision.promotion; PromotionNotReady: retried once RAM
    caught up). A RAM refusal or quota is an answer; PromotionNotReady propagates."""
    if not shares:
        return GroupOutcome(group_name, GroupAction.ALREADY_PROMOTED)
    if run.quota_stop is not None:
        return not_tried(run, group_name)
    read_cfp_principals(run, [s.arn for s in shares])
    check = promotion_check(group_arn, run.cfp_principals, [s.arn for s in shares], decision,
                            lambda share_arn: _granted_by(run, share_arn))
    if check.rule != PromotionRule.READY:
        raise PromotionNotReady(check.reason)
    try:
        for share in shares:
            _promote(run, group_name, group_arn, share)
    except PromotionRefused as refusal:
        return not_promotable(group_name, f"RAM refused: {refusal}")
    except RamQuotaReached as quota:
        return quota_reached(run, group_name, quota)
    logger.info("Promotion started", extra={"group": group_name, "shares": [s.arn for s in shares]})
    count("SharesPromoted")
    return GroupOutcome(group_name, GroupAction.PROMOTED)


def _promote(run: Run, group_name: str, group_arn: str, share: ResourceShare) -> None:
    """Promote the share first: RAM matches any managed permission with exactly the policy's
    actions, AWS or customer managed. Only when none matches, promote the share's own
    permission, under one name per action set (docs/aws-behaviour.md, RAM-MATCH)."""
    # The proof that this share is modelshare's, in the ledger before anything changes: a run
    # that stops after this line leaves a record of a share that may not be promoted
    # (harmless: the share is still RAM's made from the policy), never the reverse.
    run.owner.ledger.record_share(group_arn, share.arn)
    run.ownership.pop(group_arn, None)
    try:
        run.owner.share_writes.promote_share(share.arn)
    except PermissionNotMatched:
        _promote_with_own_permission(run, share)
    run.promoting[share.arn] = group_name


def read_cfp_principals(run: Run, share_arns: Sequence[str]) -> None:
    """The principals of these shares made from policies, unless this run read them already."""
    missing = [arn for arn in dict.fromkeys(share_arns) if arn not in run.cfp_principals]
    if missing:
        named = run.owner.shares.share_principals(missing)
        run.cfp_principals.update({arn: named.get(arn, ()) for arn in missing})


def _granted_by(run: Run, share_arn: str) -> frozenset[str] | None:
    """What a share's permission grants (lower-cased), or None when RAM shows it none or
    several (so nobody can say what promoting it would grant)."""
    found = run.owner.shares.permissions(share_arn)
    if len(found) != 1:
        return None
    return actions_of(run, found[0].arn)


def _promote_with_own_permission(run: Run, share: ResourceShare) -> None:
    shares = run.owner.shares
    name, resource_type = ensure_permission(run, share)

    def attempt() -> bool | None:
        try:
            run.owner.share_writes.promote_share(share.arn)
        except PermissionNotMatched:
            return None  # the permission's promotion has not finished yet
        return True

    if run.with_backoff(attempt) is None:
        found = next((p for p in shares.customer_managed_permissions(resource_type) if p.name == name), None)
        if found is not None and found.status == ATTACHABLE:
            raise PromotionRefused(f"customer managed permission {name} exists, but RAM does not match it "
                                   "to this share's permission")
        raise PromotionNotReady(f"customer managed permission {name} is not attachable yet; retry later")


def finish_promotions(run: Run) -> None:
    """Once RAM finishes the promotions this run started, take out at once any consumer the
    allowlist stopped allowing meanwhile (read afresh): RAM invites the share's principals as
    it finishes, and a person may accept such an invitation by hand. A share still promoting
    then is checked by RAM's events about it, and by the sweep."""
    owner = run.owner
    remaining = dict(run.promoting)
    groups = dict(remaining)
    run.promoting.clear()
    if not remaining:
        return
    finished: list[ResourceShare] = []

    def attempt() -> bool | None:
        for share in owner.shares.shares_by_arn(list(remaining)):
            if share.feature_set == STANDARD:
                finished.append(share)
                del remaining[share.arn]
        return True if not remaining else None

    run.with_backoff(attempt, owner.promotion_wait, wait_first=True)
    if not finished:
        return
    allowlist = load_allowlist(owner.allowlist_source, fresh=True)
    if allowlist is None:  # nothing to decide on: RAM's events and the sweep check these shares
        return
    principals = owner.shares.share_principals([s.arn for s in finished])
    for share in finished:
        group_name = groups[share.arn]
        extra = beyond_allowlist(principals.get(share.arn, ()), allowlist.decide(owner.account, group_name))
        if extra:
            owner.share_writes.disassociate_principals(share.arn, extra)
            logger.warning("Removed consumers the allowlist stopped allowing while RAM promoted the share",
                           extra={"group": group_name, "share": share.arn, "removed": extra})
            count("ShareConsumersChanged")
