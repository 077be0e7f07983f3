"""RAM's quotas in the admin commands: what the account holds now (`status`), what it will hold
once the allowlist is shared in the mode in use (`plan`), and plan's refusal of an allowlist whose
policy-mode cost passes a quota (docs/aws-behaviour.md, RAM-QUOTAS and RAM-QUOTA-REGION).

The limits are RAM's defaults, or the account's raised ones as the stack's `RamQuotas` parameter
names them (--ram-quotas, else $MODELSHARE_RAM_QUOTAS). The arithmetic is mode_costs's.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelshare import region_room
from modelshare.allowlist import Allowlist
from modelshare.convergence import RamIndex
from modelshare.mode_costs import Cost, SharedGroup, policy_mode_cost, shares_mode_cost
from modelshare.owner.service import OwnerService
from modelshare.ports import CREATED_FROM_POLICY
from modelshare.quota_budget import (
    CUSTOMER_MANAGED_PERMISSIONS,
    CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE,
    PENDING_INVITATIONS,
    PRINCIPAL_ASSOCIATIONS,
    RESOURCE_ASSOCIATIONS,
    SHARES,
    QuotaLimits,
    QuotaLimitsError,
    QuotaUse,
    over,
)
from modelshare.settings import RAM_QUOTAS_ENV
from modelshare_cli.common import USAGE, CliError

POLICY_MODE = "policy"
SHARES_MODE = "shares"

def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ram-quotas", metavar="NAME=N,...",
                        help="this account's RAM quotas where raised above RAM's defaults, as the stack's RamQuotas "
                             f"parameter names them (default: ${RAM_QUOTAS_ENV}, else RAM's defaults)")


def limits(args: argparse.Namespace) -> QuotaLimits:
    text = getattr(args, "ram_quotas", None)
    given = text if text is not None else os.environ.get(RAM_QUOTAS_ENV, "")
    try:
        return QuotaLimits.parse(given)
    except QuotaLimitsError as error:
        raise CliError(f"--ram-quotas: {error} (name=value,... such as principal_associations=50000)", USAGE) from None


def held_now(owner: OwnerService, usage: Mapping[str, Any], quota_limits: QuotaLimits) -> list[QuotaUse]:
    """What the account holds now of each quota: its shares and their live associations (shares
    made from policies included), invitations it sent still pending, and its customer managed
    permissions (`usage`: RamOwnerShares.usage())."""
    per_type: Mapping[str, int] = usage["customer_managed_permissions"]
    return [*region_room.read_region_use(owner.shares, quota_limits),
            QuotaUse(PENDING_INVITATIONS, int(usage["pending_invitations_sent"]), quota_limits[PENDING_INVITATIONS]),
            QuotaUse(CUSTOMER_MANAGED_PERMISSIONS, sum(per_type.values()), quota_limits[CUSTOMER_MANAGED_PERMISSIONS]),
            QuotaUse(CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE, max(per_type.values(), default=0),
                     quota_limits[CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE])]


@dataclass(frozen=True)
class Projection:
    """What the account will hold once the allowlist's groups are shared: in the mode in use
    (`uses`), and what each mode's sharing costs on its own."""

    mode: str
    groups: int
    uses: list[QuotaUse]
    costs: Mapping[str, Cost]
    kept: Mapping[str, int]  # what stays besides modelshare's sharing (people's shares...)
    quota_limits: QuotaLimits

    def uses_in(self, mode: str) -> list[QuotaUse]:
        return self.costs[mode].against(self.quota_limits, self.kept)


def mode_in_use(allowlist: Allowlist, owner: str, default: str) -> str:
    """How `owner` shares: the allowlist's `modes`, else the stack's SharingMode (`default`)."""
    return allowlist.mode_for(owner, default=default)


def project(owner: OwnerService, allowlist: Allowlist, usage: Mapping[str, Any], quota_limits: QuotaLimits,
            mode: str) -> Projection:
    """The allowlist's cost for the owner's groups, plus what stays of what RAM holds now: every
    share but modelshare's (the ledger's) and those RAM made from the policies of the groups the
    projection shares (the policy mode's own); the customer managed permissions modelshare did
    not make (`usage`: RamOwnerShares.usage())."""
    shared: list[SharedGroup] = []
    arns: set[str] = set()
    for name, arn in owner.registry.groups():
        decision = allowlist.decide(owner.account, name)
        if decision.shared:
            shared.append(SharedGroup(frozenset(decision.consumers), frozenset(a.lower() for a in decision.actions)))
            arns.add(arn)
    index = RamIndex.build(owner.shares.owned_shares(), owner.shares.associations("RESOURCE"),
                           owner.shares.associations("PRINCIPAL"))
    modelshares = {share for ownership in owner.ledger.everything().values() for share in ownership.shares}
    kept = [arn for arn, share in index.shares.items() if arn not in modelshares
            and not (share.feature_set == CREATED_FROM_POLICY and set(index.resources_ever.get(arn, ())) & arns)]
    permissions = sum(usage["customer_managed_permissions"].values())
    held = {SHARES: len(kept),
            RESOURCE_ASSOCIATIONS: sum(len(index.live_resources.get(arn, ())) for arn in kept),
            PRINCIPAL_ASSOCIATIONS: sum(len(index.live_principals.get(arn, ())) for arn in kept),
            # modelshare's are those its ledger names (recorded before made: a record whose permission
            # was never made hides one of people's; a handful at most, one per access-level set).
            CUSTOMER_MANAGED_PERMISSIONS: max(0, permissions - len(owner.ledger.permissions()))}
    costs = {POLICY_MODE: policy_mode_cost(shared), SHARES_MODE: shares_mode_cost(shared)}
    return Projection(mode, len(shared), costs[mode].against(quota_limits, held), costs, held, quota_limits)


def print_uses(heading: str, uses: Iterable[QuotaUse]) -> None:
    print(heading)
    for use in uses:
        print(f"  {use.line()}")


def as_json(uses: Iterable[QuotaUse]) -> list[dict[str, Any]]:
    return [{"quota": u.quota, "used": u.used, "limit": u.limit, "headroom": u.headroom,
             "percent": round(u.percent, 2)} for u in uses]


def refusal(projection: Projection) -> str | None:
    """Why `plan` refuses the allowlist: the cost of the mode in use passes a quota (for the
    policy mode, also whether the shares mode would fit); None when it fits."""
    passed = over(projection.uses_in(projection.mode))
    if not passed:
        return None
    what = _listed(passed)
    if projection.mode == SHARES_MODE:
        verdict = "no mode fits: share fewer groups or consumers per bucket, or raise the quota"
    elif shares := over(projection.uses_in(SHARES_MODE)):
        verdict = f"the shares mode would not fit either ({_listed(shares)})"
    else:
        cost = projection.costs[SHARES_MODE]
        verdict = f"the shares mode would fit ({cost.shares:,} shares, {cost.principal_associations:,} principal associations)"
    return (f"sharing this allowlist's {projection.groups:,} groups in the {projection.mode} mode passes RAM's quotas "
            f"({what}): RAM would refuse or fail what does not fit; {verdict}")


def _listed(uses: Iterable[QuotaUse]) -> str:
    return "; ".join(f"{u.quota.replace('_', ' ')} {u.used:,} of {u.limit:,}" for u in uses)
