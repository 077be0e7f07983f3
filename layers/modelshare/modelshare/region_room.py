"""Room under RAM's Region quotas (shares, resource and principal associations), as the sweep's
one pass over RAM shows it (docs/aws-behaviour.md, RAM-QUOTA-REGION).

Room under these comes only as use falls (groups or consumers leave), never by itself as it does
for pending invitations: a group that needs room while one is full waits for a sweep that finds
room, instead of being tried (and refused) again a minute later.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from modelshare import observability
from modelshare.convergence import RamIndex
from modelshare.quota_budget import (
    PRINCIPAL_ASSOCIATIONS,
    REGION_QUOTAS,
    RESOURCE_ASSOCIATIONS,
    SHARES,
    WORDS,
    QuotaLimits,
    QuotaUse,
)
from modelshare.ram_ports import OwnerShareReads

QUOTA_USE_METRIC = "RamQuotaUse"
# What the ledger records (OwnershipLedger.record_full_quota) once RAM refused a call over a Region
# quota (which one, its message tells only as a hint): said, so no run says it again while it
# stays full; a sweep that counts the quota full then names it without saying it again.
REFUSED = "refused by RAM"


def region_use(index: RamIndex, limits: QuotaLimits) -> list[QuotaUse]:
    """What the account holds of each Region quota: its active shares (made from policies
    included) and their live associations."""
    counts = {SHARES: len(index.shares),
              RESOURCE_ASSOCIATIONS: sum(len(v) for v in index.live_resources.values()),
              PRINCIPAL_ASSOCIATIONS: sum(len(v) for v in index.live_principals.values())}
    return [QuotaUse(quota, used, limits[quota]) for quota, used in counts.items()]


def read_region_use(shares: OwnerShareReads, limits: QuotaLimits) -> list[QuotaUse]:
    """region_use, from a paged pass over the account's shares and their associations (for
    reports: the sweep counts from the pass it makes anyway)."""
    index = RamIndex.build(shares.owned_shares(), shares.associations("RESOURCE"), shares.associations("PRINCIPAL"))
    return region_use(index, limits)


def waiting_for_room(use: QuotaUse) -> str:
    """What a group's status adds while it waits for room under a full Region quota."""
    return f"; waits for room: RAM's quota of {describe(use)} is full, room comes only as groups or consumers leave"


def full(uses: list[QuotaUse]) -> QuotaUse | None:
    """The first Region quota with no room left (other quotas in `uses` are not looked at)."""
    return next((u for u in uses if u.full and u.quota in REGION_QUOTAS), None)


def describe(use: QuotaUse) -> str:
    return f"{WORDS[use.quota]} ({use.used:,} of {use.limit:,})"


def emit_use(uses: list[QuotaUse]) -> None:
    """One `RamQuotaUse` metric (percent) per quota, dimension `quota`: the alarm fires at 80 %."""
    for use in uses:
        observability.gauge(QUOTA_USE_METRIC, round(use.percent, 2), MetricUnit.Percent, {"quota": use.quota})

