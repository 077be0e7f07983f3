"""The status job: where one group stands and why, as `decide` sees it (reads only; `modelshare
status`, simulate's report)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelshare import region_room
from modelshare.allowlist import Allowlist
from modelshare.convergence import decide
from modelshare.outcomes import GroupStatus
from modelshare.owner.apply import waits_for_quota
from modelshare.owner.reads import group_snapshot, with_permissions, with_policy
from modelshare.owner.run import Run
from modelshare.quota_budget import QuotaUse
from modelshare.restriction import restrict


@dataclass(frozen=True)
class GroupState:
    """Where one group stands, for reports and `modelshare status`."""

    arn: str
    status: GroupStatus
    consumers: tuple[str, ...]
    reason: str
    # Shares holding the group that modelshare does not manage (made or changed by people).
    other_shares: tuple[str, ...] = ()


def group_state(run: Run, group_name: str, group_arn: str, allowlist: Allowlist, *, restrict_only: bool = False,
                region_use: Sequence[QuotaUse] | None = None) -> GroupState:
    """Where the group stands and why, as `decide` sees it (`restrict_only`: as a sweep deciding
    with the last valid version of an invalid allowlist sees it), and, for a group that needs
    room, a full Region quota the sweep waits on (`region_use`: what the account holds, read
    here when not given)."""
    group = with_permissions(run, with_policy(run, group_snapshot(run, group_name, group_arn, principals=True, pending=True)))
    verdict = decide(group, allowlist.decide(run.account, group_name))
    verdict = restrict(group, verdict) if restrict_only else verdict
    reason = verdict.reason
    if verdict.writes and not restrict_only and waits_for_quota(run, group, allowlist):
        uses = list(region_use) if region_use is not None else \
            region_room.read_region_use(run.owner.shares, run.owner.quota_limits)
        if (full := region_room.full(uses)) is not None:
            reason += region_room.waiting_for_room(full)
    return GroupState(group_arn, verdict.status, verdict.consumers, reason, verdict.other_shares)
