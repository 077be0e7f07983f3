"""The sweep job (ReconcileOwnerFunction on a schedule or an allowlist change): bring every
group of the account to what the allowlist says, in one run (`reconcile`) or, with a work
queue, fanned out to the sweep's workers (`plan_sweep`; modelshare.owner.sweep_work)."""

from __future__ import annotations

from modelshare.allowlist import Allowlist
from modelshare.allowlist_loading import load_allowlist_in_force
from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot, policy_matters
from modelshare.observability import logger
from modelshare.outcomes import GroupAction
from modelshare.owner import shares_sweep
from modelshare.owner.apply import decide_for, reconcile_group, restricted, waits_for_quota
from modelshare.owner.cleanup import delete_orphaned
from modelshare.owner.outcome import QUIET_ACTIONS, GroupOutcome, ReconcileIncomplete, failed
from modelshare.owner.promotion import finish_promotions
from modelshare.owner.quota import check_region_room, not_tried
from modelshare.owner.reads import ram_index, read_ledger
from modelshare.owner.run import Run
from modelshare.ports import Ownership, WorkQueue


def sweep(run: Run) -> list[GroupOutcome]:
    """The scheduled (or allowlist-triggered) sweep: fanned out through the work queue when
    there is one, else all groups in this run (`reconcile`)."""
    queue = run.owner.work_queue
    return reconcile(run) if queue is None else plan_sweep(run, queue)


def allowlist_in_force(run: Run) -> Allowlist | None:
    """The allowlist a sweep decides with: the current one, or when it is invalid its last
    valid version (the run then restricts only); None when there is none (nothing is changed)."""
    in_force = load_allowlist_in_force(run.owner.allowlist_source)
    run.restrict_only = in_force is not None and in_force.restrict_only
    return None if in_force is None else in_force.allowlist


def reconcile(run: Run) -> list[GroupOutcome]:
    """Bring every group of the account to what the allowlist says, and clean up shares of
    deleted groups. Reads in bulk: the group listing, one paged pass over RAM, and a group's
    policy only where it matters; a converged account costs no write. Reads the allowlist
    afresh: a reconcile runs because it changed, or to repair what a cached value missed. A
    group that fails does not stop the others; the run then fails with all of them named."""
    allowlist = allowlist_in_force(run)
    if allowlist is None:
        return []
    if (by_shares := shares_sweep.if_shares_mode(run, allowlist)) is not None:
        return by_shares
    owned = read_ledger(run)
    index = ram_index(run, permissions=True)
    check_region_room(run, index, owned.full_quota)
    outcomes: list[GroupOutcome] = shares_sweep.narrow_made_shares(run, allowlist, index, owned)
    failures: list[str] = []
    for name, arn in run.owner.registry.groups():
        try:
            group = GroupSnapshot(name, arn, index.holdings(arn), ownership=owned.get(arn, Ownership()))
            outcomes.append(reconcile_group(run, group, allowlist))
        except Exception as error:
            failures.append(failed(name, error))
            outcomes.append(GroupOutcome(name, GroupAction.FAILED, str(error)))
    outcomes.extend(delete_orphaned(run, index, owned))
    finish_promotions(run)
    notable = [f"{o.group}: {o.action}" for o in outcomes if o.action not in QUIET_ACTIONS]
    logger.info("Reconciled", extra={"groups": len(outcomes), "notable": notable})
    if failures:
        raise ReconcileIncomplete("; ".join(failures))
    return outcomes


def plan_sweep(run: Run, queue: WorkQueue) -> list[GroupOutcome]:
    """The sweep of a big account, in a few calls: list the groups and read RAM in one paged
    pass, settle every group that needs nothing more here, and hand each other one (its
    policy to read, or writes to make) to the work queue, by name: the workers
    (`sweep_work.reconcile_items`) read what RAM holds of it again and converge it, at the pace
    the queue's batches and the API rates allow, whatever the number of groups. Shares of
    deleted groups are deleted here."""
    allowlist = allowlist_in_force(run)
    if allowlist is None:
        return []
    if (by_shares := shares_sweep.if_shares_mode(run, allowlist)) is not None:
        return by_shares  # its reads and writes are batched: no fan-out needed
    owned = read_ledger(run)
    index = ram_index(run, permissions=True)
    check_region_room(run, index, owned.full_quota)
    narrowed = shares_sweep.narrow_made_shares(run, allowlist, index, owned)
    # Work still queued (groups waiting for RAM's invitation quota, which can take hours):
    # the groups that need that quota are not handed out again, or each sweep would add a
    # copy of every one of them. The next sweep after the queue drains finds any left.
    busy = queue.waiting() > 0
    outcomes: list[GroupOutcome] = []
    items = []
    for name, arn in run.owner.registry.groups():
        group = GroupSnapshot(name, arn, index.holdings(arn), ownership=owned.get(arn, Ownership()))
        verdict = None if policy_matters(group) else decide_for(run, group, allowlist.decide(run.account, name))
        if verdict is None or verdict.writes:
            if busy and waits_for_quota(run, group, allowlist):
                outcomes.append(GroupOutcome(name, GroupAction.DEFERRED, "the sweep's earlier work is still queued"))
                continue
            if run.quota_stop is not None and verdict is not None and not restricted(group, verdict).writes \
                    and waits_for_quota(run, group, allowlist):
                outcomes.append(not_tried(run, name))  # a Region quota is full; nothing to take away
                continue
            items.append(work_item(group))
            outcomes.append(GroupOutcome(name, GroupAction.QUEUED))
        else:
            outcomes.append(GroupOutcome(name, verdict.outcome, verdict.detail))
    outcomes.extend(delete_orphaned(run, index, owned))
    outcomes.extend(narrowed)
    queue.send(items)
    logger.info("Sweep planned", extra={"groups": len(outcomes), "handed_out": len(items),
                                        "deferred": sum(1 for o in outcomes if o.action == GroupAction.DEFERRED)})
    return outcomes
