"""What every owner job works with: the owner's ports and settings (`Owner`, kept for the
execution environment), and one invocation's state (`Run`: its deadline, what it read and
counted). A job is a function of a Run; nothing read in one invocation is kept for the next,
except what `Owner` says it keeps (the cost of a pass over RAM, the shares mode's job)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from modelshare.deadline import Deadline, no_deadline
from modelshare.ports import (
    AllowlistSource,
    LedgerContents,
    Ownership,
    OwnershipLedger,
    RamQuotaReached,
    RegistryReads,
    RegistryWrites,
    WorkQueue,
)
from modelshare.quota_budget import QuotaLimits
from modelshare.ram_ports import OwnerShareReads, OwnerShareWrites

# Backoff while RAM works (creating the share from a new policy, finishing a promotion): 15 s in
# all, well inside one invocation. RAM can be slower (UNVERIFIED how long: docs/aws-behaviour.md,
# RAM-ASYNC); then the invocation asks for a retry, and a RAM event or the next sweep finishes.
SHARE_WAIT_SECONDS: Sequence[float] = (1, 2, 4, 8)
# Waits before checking which shares finished promoting (to take out at once any consumer the
# allowlist stopped allowing meanwhile): a promotion takes RAM seconds (UNVERIFIED how many:
# RAM-ASYNC); a share still promoting then is checked by RAM's events about it and the sweep.
PROMOTION_WAIT_SECONDS: Sequence[float] = (6, 6)
# What an invocation keeps for its remaining work and for reporting, rather than wait for RAM.
TIME_RESERVE_SECONDS = 20.0


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(eq=False, repr=False)
class Owner:
    """The owner side of one account: its ports and settings, and what an execution
    environment keeps across invocations (never what one invocation read: that is the Run's)."""

    account: str
    registry: RegistryReads
    shares: OwnerShareReads
    allowlist_source: AllowlistSource
    # What modelshare made (the proof of ownership): only its own roles can write it.
    ledger: OwnershipLedger
    # The writes to the group's policy and to RAM (a dry run records them instead, while the
    # reads above still read AWS: modelshare.dry_run).
    registry_writes: RegistryWrites
    share_writes: OwnerShareWrites
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))  # looked up per call
    share_wait: Sequence[float] = field(default=SHARE_WAIT_SECONDS)
    promotion_wait: Sequence[float] = field(default=PROMOTION_WAIT_SECONDS)
    # Where the sweep hands out its work (the function's SweepQueue); None: sweep in one run.
    work_queue: WorkQueue | None = None
    # RAM's quotas as the account has them (settings.RAM_QUOTAS_ENV).
    quota_limits: QuotaLimits = field(default_factory=QuotaLimits)
    # How this owner shares when the allowlist's `modes` does not say (the stack's SharingMode),
    # and the shares mode's job, built at its first run (modelshare.owner.shares_sweep).
    sharing_mode: str = "policy"
    shares_mode_job: object = field(default=None, repr=False)
    # Calls the last pass over every share took (kept per execution environment): a batch
    # naming more shares than that reads them all in one pass instead of one by one.
    pass_calls: int = field(default=2, init=False, repr=False)
    # The same for the sweep's workers, whose pass reads principals and permissions too: a batch
    # whose groups would cost at least that, read group by group, is read in one pass instead.
    worker_pass_calls: int = field(default=4, init=False, repr=False)


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(eq=False, repr=False)
class Run:
    """One invocation of an owner job: begun afresh by every entry point (the environment is
    reused: nothing an earlier invocation read holds), handed to every function of the job."""

    owner: Owner
    # Seconds the invocation has left (the handler gives each invocation its own): no wait for
    # RAM may run into Lambda's timeout.
    deadline: Deadline
    # The allowlist is invalid and a sweep decides with its last valid version, applying only
    # what takes access away (modelshare.restriction).
    restrict_only: bool = False
    # An account-wide RAM quota hit (no further promotion or invitation is tried).
    quota_stop: RamQuotaReached | None = None
    # The Region quota this run knows was reported full (the ledger keeps it across runs).
    full_reported: str | None = None
    # Shares whose promotion this run started (share ARN -> group name).
    promoting: dict[str, str] = field(default_factory=dict)
    # What the ledger says of each group read so far, and the permissions it made.
    ownership: dict[str, Ownership] = field(default_factory=dict)
    permission_names: frozenset[str] | None = None
    # The whole ledger, scanned once (`reads.read_ledger`).
    ledger_read: LedgerContents | None = None
    # The principals of shares made from policies, read in one batched call for every share the
    # run is about to promote (RAM-CFP-LAG), not one call per group.
    cfp_principals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What each permission read so far grants.
    permission_actions: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def begin(cls, owner: Owner, deadline: Deadline = no_deadline) -> Run:
        return cls(owner, deadline=deadline)

    @property
    def account(self) -> str:
        return self.owner.account

    def time_left(self) -> float:
        return self.deadline()

    def with_backoff[T](self, attempt: Callable[[], T | None], waits: Sequence[float] | None = None, *,
                        wait_first: bool = False) -> T | None:
        """`attempt()` until it returns something, sleeping `waits` (the owner's `share_wait` by
        default) between tries and, with `wait_first`, before the first one too (what RAM
        started a moment ago is not done yet); never into the run's reserve of time."""
        delays = iter(self.owner.share_wait if waits is None else waits)
        if wait_first and (first := next(delays, None)) is not None \
                and self.time_left() >= first + TIME_RESERVE_SECONDS:
            self.owner.sleep(first)
        for delay in (*delays, None):
            result = attempt()
            if result is not None or delay is None or self.time_left() < delay + TIME_RESERVE_SECONDS:
                return result
            self.owner.sleep(delay)
        return None
