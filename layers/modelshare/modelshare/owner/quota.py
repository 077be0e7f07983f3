"""RAM's quotas as an owner run meets them: an account-wide quota stops what needs room for the
rest of the run, and a full Region quota is said once while it stays full (the ledger keeps
that it was said, across execution environments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelshare import region_room
from modelshare.convergence import RamIndex
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction
from modelshare.owner.outcome import GroupOutcome
from modelshare.owner.run import Run
from modelshare.ports import RamQuotaReached

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

# What `Run.full_reported` and the ledger hold once RAM refused a call over a Region quota (which
# one, its message tells only as a hint): the sweep's count then names it without saying it again.
REFUSED = region_room.REFUSED
# Groups waiting for RAM's invitation quota go (back) on the sweep's queue a minute later, one
# message of a few dozen groups a minute after another (the quota lets some 20 through as
# consumers accept, about a minute apart), so a backlog of thousands is tried at the pace room
# comes, not all at once. A group RAM refused this many times waits for the next sweep.
QUOTA_RETRY_DELAY_SECONDS = 60
QUOTA_RETRY_PACE_SECONDS = 60
QUOTA_RETRY_ATTEMPTS = 60


def quota_reached(run: Run, group_name: str, quota: RamQuotaReached) -> GroupOutcome:
    ledger = run.owner.ledger
    if quota.account_wide:
        run.quota_stop = quota
    if quota.region and (run.full_reported is not None or ledger.full_quota() is not None):
        # A Region quota a run reported already (here, or in any execution environment: the ledger).
        run.full_reported = run.full_reported or REFUSED
        logger.info("RAM quota still reached: the group waits for a sweep that finds room",
                    extra={"group": group_name, "quota": quota.quota})
    else:
        if quota.region:
            run.full_reported = REFUSED
            ledger.record_full_quota(REFUSED)  # said: no run says it again while it stays full
        logger.warning("RAM quota reached: the group waits for a later run (the sweep's workers, a minute later)",
                       extra={"group": group_name, "quota": quota.quota, "reason": str(quota)})
        count("RamQuotaReached")
    return GroupOutcome(group_name, GroupAction.QUOTA_REACHED, str(quota))


def not_tried(run: Run, group_name: str) -> GroupOutcome:
    """An account-wide quota stopped this run earlier: the group waits, unlogged (the quota
    was logged and counted once)."""
    return GroupOutcome(group_name, GroupAction.QUOTA_REACHED, f"not tried in this run: {run.quota_stop}")


def check_region_room(run: Run, index: RamIndex, reported: str | None) -> None:
    """Report each Region quota's use (metric RamQuotaUse); when one is full, nothing that needs
    room is tried this run. Said once (log line, RamQuotaReached) while it stays full, in
    whichever execution environment: `reported` is the ledger's record of what a run said
    (read in the sweep's one scan), written when it is said and forgotten once there is room;
    RamQuotaUse says it every sweep."""
    ledger = run.owner.ledger
    uses = region_room.region_use(index, run.owner.quota_limits)
    region_room.emit_use(uses)
    full = region_room.full(uses)
    if full is None:
        run.full_reported = None
        if reported is not None:
            ledger.forget_full_quota()
        return
    run.quota_stop = RamQuotaReached(region_room.describe(full), "no room until use falls", account_wide=True,
                                     region=True)
    # RAM's refusal of a call said so already (REFUSED), or a run said this very quota.
    if reported not in (REFUSED, full.quota):
        logger.warning("RAM quota reached: groups that need room wait for a sweep that finds some",
                       extra={"quota": region_room.describe(full)})
        count("RamQuotaReached")
    run.full_reported = full.quota
    if reported != full.quota:
        ledger.record_full_quota(full.quota)


def send_waiting(run: Run, items: Sequence[dict[str, Any]]) -> None:
    """Work items of groups waiting for room under RAM's pending-invitation quota: back on the
    sweep's queue a minute later, paced (see QUOTA_RETRY_DELAY_SECONDS)."""
    assert run.owner.work_queue is not None
    run.owner.work_queue.send(items, delay_seconds=QUOTA_RETRY_DELAY_SECONDS, pace_seconds=QUOTA_RETRY_PACE_SECONDS)
