"""The sweep's workers (ReconcileOwnerFunction on SweepQueue's batches): converge the groups the
sweep handed out. A work item only names a group: every fact a worker acts on is read here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from modelshare import invitation_pace
from modelshare import policy as policies
from modelshare.aws.work_queue import group_of_item, work_item
from modelshare.convergence import GroupSnapshot, Holding, RamIndex, view_of
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction
from modelshare.owner import shares_sweep
from modelshare.owner.apply import reconcile_group, waits_for_quota
from modelshare.owner.outcome import GroupOutcome, ReconcileIncomplete, failed
from modelshare.owner.promotion import finish_promotions
from modelshare.owner.quota import QUOTA_RETRY_ATTEMPTS, not_tried, send_waiting
from modelshare.owner.reads import judged, owned, permissions_of, ram_index
from modelshare.owner.run import TIME_RESERVE_SECONDS, Run
from modelshare.owner.sweep import allowlist_in_force
from modelshare.ports import CREATED_FROM_POLICY, RAM_PAGE_SIZE, ApiThrottled

# Sweep work that AWS throttled past botocore's retries comes back this much later.
THROTTLED_RETRY_DELAY_SECONDS = 30


def reconcile_items(run: Run, items: Sequence[Any]) -> list[GroupOutcome]:
    """A batch of the sweep's work items: converge each group on a fresh allowlist read
    (once for the batch). An item names a group, nothing more: what RAM holds of it (its
    shares, what they hold, their principals and permissions) is read here, for the whole
    batch at once (`_current_shares`), never taken from a message. A group waiting for RAM's
    invitation quota goes back on the queue a minute later (room comes as consumers
    accept). An item asking for a shares-mode converge (modelshare.invitation_pace) converges
    every group, as the sweep. One group's failure does not stop the others; the batch then
    fails and comes back."""
    queue = run.owner.work_queue
    allowlist = allowlist_in_force(run)
    if allowlist is None:
        return []
    asked = [item for item in items if invitation_pace.is_request(item)]
    work = _valid_items(run, [item for item in items if not invitation_pace.is_request(item)])
    named = None if asked else {g.name: g.arn for g, _ in work}
    if (by_shares := shares_sweep.if_shares_mode(run, allowlist, named)) is not None:
        return by_shares  # work handed out before the owner switched to the shares mode
    outcomes: list[GroupOutcome] = []
    failures: list[str] = []
    waiting: list[dict[str, Any]] = []
    # What the ledger says of the batch's groups, in one read, before anything else is read:
    # which shares are modelshare's decides what is read of them.
    ledger_says = owned(run, [group.arn for group, _ in work])
    work = _current_shares(run, [(replace(group, ownership=ledger_says[group.arn]), attempt) for group, attempt in work])
    for position, (group, attempt) in enumerate(work):
        if queue is not None and run.time_left() < TIME_RESERVE_SECONDS:
            # Lambda's timeout is near: the rest goes back on the queue for the next run.
            _hand_back(run, [work_item(g, a) for g, a in work[position:]], "Lambda's timeout is near")
            break
        if run.quota_stop is not None and waits_for_quota(run, group, allowlist):
            # RAM's account-wide quota stopped this run: reading the group would not help
            # (and it was not tried: its count of refusals stays).
            outcomes.append(not_tried(run, group.name))
            waiting.append(work_item(group, attempt))
            continue
        try:
            outcome = reconcile_group(run, group, allowlist)
        except ApiThrottled as throttled:
            if queue is None:
                raise
            # AWS still throttles after botocore's retries: pressing on would only fail group
            # after group. This group and the rest come back later, at a pace AWS can take.
            _hand_back(run, [work_item(g, a) for g, a in work[position:]], str(throttled),
                       delay_seconds=THROTTLED_RETRY_DELAY_SECONDS)
            count("Throttled")
            break
        except Exception as error:
            failures.append(failed(group.name, error))
            continue
        outcomes.append(outcome)
        if outcome.action == GroupAction.QUOTA_REACHED and attempt < QUOTA_RETRY_ATTEMPTS:
            waiting.append(work_item(group, attempt + 1))
    finish_promotions(run)
    if waiting and run.quota_stop is not None and run.quota_stop.region:
        # Not the invitation quota (room comes as consumers accept) but one whose room comes
        # only as use falls: trying again a minute later cannot help; a sweep that finds room does.
        logger.info("Groups wait for room under a RAM quota that frees only as use falls: left to the sweep",
                    extra={"groups": [i["group"] for i in waiting], "quota": run.quota_stop.quota})
        waiting = []
    if waiting and queue is not None:
        send_waiting(run, waiting)
    if failures:
        raise ReconcileIncomplete("; ".join(failures))
    return outcomes


def _valid_items(run: Run, items: Sequence[Any]) -> list[tuple[GroupSnapshot, int]]:
    """The groups of this account (and attempt numbers) the work items name, each once; a
    malformed item, or one naming another account's group, can never become valid: dropped
    and counted, not retried. The attempt number is taken as written: it only bounds how
    often a group RAM's quota holds up goes back on the queue, never what is decided (facts
    and the allowlist decide), so a forged one at worst leaves a group to the next sweep."""
    valid: dict[str, tuple[GroupSnapshot, int]] = {}
    for item in items:
        try:
            named = group_of_item(item)
            if policies.group_name_of(named.arn, run.account) != named.name:
                raise ValueError(f"malformed sweep work item: {named.arn[:300]} is not a group of this account")
        except ValueError as refusal:
            logger.warning("Work item ignored", extra={"reason": str(refusal)})
            count("EventsIgnored")
            continue
        # Named twice (a retry beside a sweep's copy): converged once, the higher attempt kept.
        if named.name not in valid or valid[named.name][1] < named.attempt:
            valid[named.name] = (GroupSnapshot(named.name, named.arn), named.attempt)
    return list(valid.values())


def _current_shares(run: Run, work: list[tuple[GroupSnapshot, int]]) -> list[tuple[GroupSnapshot, int]]:
    """The work with every fact the worker acts on, read now: the shares holding each group,
    what they hold, their principals and the permissions of modelshare's promoted ones. A
    work item is only where to look (anyone who may send to the queue could have written
    it), and the queue may have held it for minutes. Read in batched calls for the batch's
    groups, or in one paged pass over the account's shares when that costs no more (the
    calls the last such pass took, kept per execution environment)."""
    if not work:
        return work
    groups = [group for group, _ in work]
    if run.owner.worker_pass_calls <= _named_group_read_calls(len(groups)):
        index = ram_index(run, permissions=True)
        run.owner.worker_pass_calls = _pass_cost(index)
        read = [replace(g, holdings=index.holdings(g.arn)) for g in groups]
    else:
        read = _read_named_groups(run, groups)
    return [(group, attempt) for group, (_, attempt) in zip(read, work, strict=True)]


def _named_group_read_calls(groups: int) -> int:
    """What reading a batch's groups one by one costs at least: each group's shares (a
    listing, then the shares), and the batched reads of what they hold, of their principals
    and of the promoted shares' permissions."""
    return 2 * groups + 3


def _pass_cost(index: RamIndex) -> int:
    """The calls a pass like this one takes: the shares and their resources, their
    principals, and (when read) the permission associations."""
    def calls(count: int) -> int:
        return max(1, -(-count // RAM_PAGE_SIZE))

    principals = calls(sum(len(v) for v in index.live_principals.values()))
    return index.pages(RAM_PAGE_SIZE) + principals + (calls(len(index.permissions)) if index.permissions else 0)


def _read_named_groups(run: Run, groups: Sequence[GroupSnapshot]) -> list[GroupSnapshot]:
    """The groups with their shares read for each (one listing each), what those hold and
    their principals (batched for them all), and the permission of modelshare's promoted
    ones: one read per share, or the account's listing when there are more shares than its
    pages are likely to be."""
    shares = run.owner.shares
    found = {g.arn: shares.shares_holding(g.arn) for g in groups}
    arns = sorted({s.arn for held in found.values() for s in held})
    resources = shares.share_resources(arns) if arns else {}
    # Principals of the shares not made from a policy (those of a share to promote are read
    # when it is promoted, RAM-CFP-LAG).
    offered = sorted({s.arn for held in found.values() for s in held if s.feature_set != CREATED_FROM_POLICY})
    principals = shares.share_principals(offered) if offered else {}
    read = [replace(g, holdings=tuple(Holding(s, resources.get(s.arn, ()), principals.get(s.arn, ()))
                                      for s in found[g.arn] if g.arn in resources.get(s.arn, ())))
            for g in groups]
    promoted = sorted({h.share.arn for g in read for h in view_of(g).promoted})
    if not promoted:
        return read
    held = permissions_of(run, promoted, listing=len(promoted) > max(1, run.owner.worker_pass_calls // 4))
    return [replace(g, holdings=tuple(judged(run, h, held[h.share.arn]) if h.share.arn in held else h
                                      for h in g.holdings)) for g in read]


def _hand_back(run: Run, items: Sequence[Any], why: str, *, delay_seconds: int = 0) -> None:
    assert run.owner.work_queue is not None
    run.owner.work_queue.send(list(items), delay_seconds=delay_seconds)
    logger.info("Sweep work handed back", extra={"items": len(items), "reason": why, "delay_seconds": delay_seconds})
