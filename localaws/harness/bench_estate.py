"""`make bench`'s "estate": many groups x several consumers against RAM's Region quotas.

An owner whose allowlist shares every group with every consumer. By default 200 and 1,000 groups
x 15 consumers with RAM's Region quotas (shares, resource and principal associations) divided by
50 and 10, in proportion to RAM's real ones at 10,000 groups (2,000 groups, quotas / 5, took
more than 9 minutes of CPU here, beyond what `make bench` may add); `--large` runs the real
numbers, 10,000 groups x 30 consumers under RAM's defaults. The groups that fit are seeded as modelshare leaves them
shared (localaws/harness/seed.py); the rest are new, and the hourly sweep (two periods) meets the quota
with them. Printed per run: what the account holds of each quota at the end, what the allowlist
costs in each sharing mode (modelshare/quota_budget.py), the invitations sent, the calls, and the
consumers' runs (calls per run, the longest, timeouts).

The sharing mode is a parameter (`--estate-mode`): in the policy mode the groups that fit are
seeded shared and the sweep meets the quota with the rest; in the shares mode every group starts
unshared and the sweep shares them all through modelshare's own shares, sweeping until every
consumer holds every group (at most MAX_SHARES_PERIODS periods): RAM lets 20 invitations of a
sharing account wait at a time, so 30 consumers of 3 shares (90 invitations) need the periods
their acceptances take, and the output says how many it took.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from localaws.harness.bench import OWNER, REGION, Result, _Bench, _names, _scheduled, _tasks_for
from localaws.harness.seed import seed_groups, seed_shared_groups
from localaws.services.ram import quotas as ram_quotas
from localaws.services.registry_state import RamQuotas, RegistryState
from modelshare.allowlist import actions_for
from modelshare.invitation_pace import PENDING_INVITATIONS_PER_ACCOUNT
from modelshare.mode_costs import SharedGroup, policy_mode_cost, shares_mode_cost
from modelshare.quota_budget import (
    DEFAULT_LIMITS,
    PRINCIPAL_ASSOCIATIONS,
    REGION_QUOTAS,
    RESOURCE_ASSOCIATIONS,
    SHARES,
    WORDS,
    QuotaLimits,
    QuotaUse,
)

# RAM's Region quotas at 10,000 groups; smaller estates divide them in proportion.
FULL_SIZE = 10_000
CONSUMERS = 15
LARGE_CONSUMERS = 30
# Granting calls: what the sweep must not repeat while a quota is full.
_GRANTING = ("PutModelPackageGroupPolicy", "AssociateResourceShare", "PromoteResourceShareCreatedFromPolicy",
             "CreateResourceShare")
# Hourly sweeps: the policy mode's two (the second must not try again what the first could not);
# the shares mode's until every consumer holds every group, at most this many.
MAX_SHARES_PERIODS = 6
CONSUMER_FUNCTION = "AcceptInvitationsFunction"


def consumers_of(count: int) -> tuple[str, ...]:
    return tuple(f"{300_000_000_000 + n:012d}" for n in range(count))


def estate(groups: int, *, consumers: int | None = None, mode: str = "policy") -> Result:
    """The estate of `groups` (quotas divided by FULL_SIZE / groups) in sharing `mode`."""
    if mode not in _SETUPS:
        raise ValueError(f"sharing mode {mode!r}: the estate runs {sorted(_SETUPS)}")
    consumers = consumers or (LARGE_CONSUMERS if groups >= FULL_SIZE else CONSUMERS)
    divisor = max(1, FULL_SIZE // groups)
    defaults = RamQuotas()
    quotas = RamQuotas(resource_shares_per_region=defaults.resource_shares_per_region // divisor,
                       resource_associations_per_region=defaults.resource_associations_per_region // divisor,
                       principal_associations_per_region=defaults.principal_associations_per_region // divisor)
    accounts = consumers_of(consumers)
    document = json.dumps({"version": 1, "modes": {OWNER: mode},
                           "shares": [{"owner": OWNER, "groups": ["shared-*"], "consumers": list(accounts)}]})
    limits = f"shares={quotas.resource_shares_per_region},resource_associations={quotas.resource_associations_per_region}," \
             f"principal_associations={quotas.principal_associations_per_region}"
    with _Bench(f"estate-{mode}", groups, groups, quotas, accounts=(OWNER, *accounts), allowlist=document,
                parameters={OWNER: {"Role": "owner", "RamQuotas": limits},
                            **{account: {"Role": "consumer"} for account in accounts}}) as bench:
        _SETUPS[mode](bench, groups, accounts)
        state = bench.cloud.registry.state
        periods = _sweep_periods(bench, groups, accounts, 2 if mode == "policy" else MAX_SHARES_PERIODS)
        consumer_runs = _consumer_runs(bench)
        result = bench.measure()
        held = ram_quotas.quota_use(state, OWNER, REGION, bench.cloud.registry.ram.usage(OWNER, REGION))
        budget = _budget(groups, accounts, quotas, held)
        result.notes.extend([f"{consumers} consumers, Region quotas / {divisor}; granting calls in the sweep "
                             f"periods: {', '.join(str(p.granting) for p in periods)}",
                             f"invitations sent (any status): {periods[-1].invited:,}; by the end of each period: "
                             f"{', '.join(f'{p.invited:,}' for p in periods)}",
                             _convergence(periods, consumers), consumer_runs, *budget])
        result.budget = {"held": ram_quotas.as_report(held), "quota_limits": limits, "consumers": consumers}
        return result


@dataclass(frozen=True)
class _Period:
    granting: int  # granting calls the bench's sweep made, and what it set off
    invited: int  # invitations sent by the end of the period
    sweeps: int  # the owner's sweeps so far: the bench's, and the stack's own hourly one
    holding: int  # consumers holding every group at its end
    settled: float  # simulated minutes from the period's sweep to the end of the work it set off


def _sweep_periods(bench: _Bench, groups: int, accounts: tuple[str, ...], most: int) -> list[_Period]:
    """Hourly periods, each started by a sweep: at least two (the second must not try again what
    the first could not), then until every consumer holds every group, at most `most`."""
    state = bench.cloud.registry.state
    periods: list[_Period] = []
    while len(periods) < most and (len(periods) < 2 or periods[-1].holding < len(accounts)):
        mark, start = len(bench.cloud.calls), bench.cloud.clock.now()
        bench.deployment.lambdas.invoke(bench.function(OWNER, "OwnerReconcileFunction"), _scheduled())
        bench.deployment.settle(_tasks_for(groups))
        settled = (bench.cloud.clock.now() - start).total_seconds() / 60
        granting = sum(1 for c in bench.cloud.calls[mark:] if c.operation in _GRANTING and c.caller is not None)
        bench.cloud.clock.run_until(bench.cloud.clock.now() + timedelta(hours=1))
        sweeps = sum(1 for i in bench.deployment.lambdas.invocations[bench.invocations_mark:]
                     if i.function == "OwnerReconcileFunction" and i.event.get("detail-type") == "Scheduled Event")
        periods.append(_Period(granting, sum(1 for i in state.invitations.values() if i.sender == OWNER), sweeps,
                               _holding_every_group(state, accounts), settled))
    return periods


def _convergence(periods: list[_Period], consumers: int) -> str:
    """When every consumer held every group, in periods and sweeps; RAM lets only so many
    invitations of the owner wait at a time, so the invitations it takes need that many sweeps."""
    done = next((n for n, p in enumerate(periods, start=1) if p.holding == consumers), None)
    holding = periods[-1].holding
    if done is None:
        return f"consumers holding every group: {holding} of {consumers}, not after {len(periods)} sweep periods"
    invited = periods[done - 1].invited
    return (f"consumers holding every group: {holding} of {consumers}, after {done} sweep period(s), by which "
            f"{periods[done - 1].sweeps} sweeps had run (the bench's and the stack's own hourly ones); {invited:,} "
            f"invitations, {PENDING_INVITATIONS_PER_ACCOUNT} waiting at a time, take at least "
            f"{max(1, -(-invited // PENDING_INVITATIONS_PER_ACCOUNT))} rounds of acceptances; the work of the "
            f"last period settled {periods[done - 1].settled:.0f} simulated minutes after its sweep, "
            f"so all converged in about {(done - 1) * 60 + periods[done - 1].settled:.0f} minutes")


def _holding_every_group(state: RegistryState, accounts: tuple[str, ...]) -> int:
    """The consumers that reach every group of the owner through a share they accepted."""
    groups = {g.arn for g in state.groups_in(OWNER, REGION).values()}
    shares = [s for s in state.shares.values() if s.account == OWNER and s.region == REGION and s.status == "ACTIVE"]
    return sum(1 for account in accounts
               if groups <= {arn for s in shares if state.principal_status(s, account) == "ASSOCIATED"
                             for arn, a in s.resources.items() if a.status == "ASSOCIATED"})


def _consumer_runs(bench: _Bench) -> str:
    """The consumers' runs (AcceptInvitationsFunction): how many, their calls, the longest, and
    the failed ones (timeouts apart)."""
    runs = [i for i in bench.deployment.lambdas.invocations[bench.invocations_mark:] if i.function == CONSUMER_FUNCTION]
    calls = Counter(c.invocation for c in bench.cloud.calls[bench.mark:] if c.caller == CONSUMER_FUNCTION)
    per_run = [calls[f"{i.request_id}#{i.attempt}"] for i in runs] or [0]
    timeouts = sum(1 for i in runs if i.error and i.error.startswith("TimeoutError"))
    failed = sum(1 for i in runs if not i.ok)
    longest = max((i.duration_seconds for i in runs), default=0.0)
    return (f"consumer runs: {len(runs)}, {failed} failed ({timeouts} timed out); calls per run: mean "
            f"{sum(per_run) / len(per_run):.1f}, most {max(per_run)}; longest run {longest:.1f} s")


def _seed_policy_mode(bench: _Bench, groups: int, accounts: tuple[str, ...]) -> None:
    """As far as the policy mode fits: those groups shared (one share each); the rest new."""
    quotas = bench.cloud.registry.state.quotas
    fits = min(groups, quotas.resource_shares_per_region, quotas.resource_associations_per_region,
               quotas.principal_associations_per_region // len(accounts))
    names = _names("shared", groups)
    seed_shared_groups(bench.cloud, OWNER, accounts, REGION, names[:fits],
                       bench.deployment.ledger_table(OWNER))
    seed_groups(bench.cloud, OWNER, REGION, names[fits:])


def _seed_shares_mode(bench: _Bench, groups: int, accounts: tuple[str, ...]) -> None:
    """Every group new: the sweep puts them all into modelshare's shares."""
    del accounts
    seed_groups(bench.cloud, OWNER, REGION, _names("shared", groups))


_SETUPS: dict[str, Callable[[_Bench, int, tuple[str, ...]], None]] = {"policy": _seed_policy_mode,
                                                                        "shares": _seed_shares_mode}


def _budget(groups: int, accounts: tuple[str, ...], quotas: RamQuotas, held: list[QuotaUse]) -> list[str]:
    """Per Region quota: what the account holds at the end, and what sharing every group costs in
    each mode (the shares mode's arithmetic: quota_budget)."""
    limits = QuotaLimits({**DEFAULT_LIMITS, SHARES: quotas.resource_shares_per_region,
                          RESOURCE_ASSOCIATIONS: quotas.resource_associations_per_region,
                          PRINCIPAL_ASSOCIATIONS: quotas.principal_associations_per_region})
    shared = [SharedGroup(frozenset(accounts), frozenset(a.lower() for a in actions_for(["discover"])))] * groups
    needs: dict[str, dict[str, Any]] = {
        mode: {u.quota: u for u in cost.against(limits)}
        for mode, cost in (("policy", policy_mode_cost(shared)), ("shares", shares_mode_cost(shared)))}
    lines = []
    for use in held:
        if use.quota not in REGION_QUOTAS:
            lines.append(f"{WORDS[use.quota]}: holds {use.used:,} of {use.limit:,}")
            continue
        policy, shares = needs["policy"][use.quota], needs["shares"][use.quota]
        lines.append(f"{WORDS[use.quota]}: holds {use.used:,} of {use.limit:,} ({use.percent:.0f} %); every group "
                     f"shared needs {policy.used:,} in the policy mode ({policy.percent:.0f} %), "
                     f"{shares.used:,} in the shares mode ({shares.percent:.0f} %)")
    return lines
