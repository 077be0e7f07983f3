"""A full RAM Region quota is said once (a log line, RamQuotaReached) while it stays full, across
execution environments: the run that says so records it in the ownership ledger, which the next
sweep reads in its one scan, and the record goes once a sweep finds room. Each OwnerService here
is a new execution environment (a cold start) over the same RAM and ledger."""

from __future__ import annotations

from typing import Any

import pytest

from modelshare.owner import quota as owner_quota
from modelshare.owner.run import Run
from modelshare.owner.service import OwnerService
from modelshare.ports import RamQuotaReached
from modelshare.quota_budget import QuotaLimits
from modelshare.wiring import owner_from
from tests.unit.fakes import CONSUMER, OWNER, FakeRegistry, FakeShares, FixedAllowlist, allowlist_doc
from tests.unit.test_reconcile import RULE, promoted

# One principal association is the whole quota: the promoted share's one consumer fills it.
FULL = QuotaLimits.parse("principal_associations=1")


def cold_start(registry: FakeRegistry, shares: FakeShares) -> OwnerService:
    return owner_from(OWNER, registry, shares, FixedAllowlist(allowlist_doc(RULE)), shares.ledger,
                      sleep=lambda s: None, quota_limits=FULL)


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The RamQuotaReached metrics the owner side emits."""
    counted: list[str] = []
    monkeypatch.setattr(owner_quota, "count", lambda name, value=1: counted.append(name) if name == "RamQuotaReached" else None)
    return counted


def test_a_full_region_quota_is_said_once_over_cold_starts_and_again_after_room_came(said: list[str]) -> None:
    registry, shares = FakeRegistry(names={"churn-xgb"}), FakeShares()
    share = promoted(shares)
    cold_start(registry, shares).reconcile()
    assert said == ["RamQuotaReached"], "said by the sweep that finds it full"
    cold_start(registry, shares).reconcile()
    cold_start(registry, shares).sweep()
    assert said == ["RamQuotaReached"], "not again after a cold start while it stays full"
    shares.principals[share] = []  # room comes (the consumer left)
    cold_start(registry, shares).reconcile()
    assert shares.ledger.full_quota() is None, "the record goes once a sweep finds room"
    shares.principals[share] = [CONSUMER]
    cold_start(registry, shares).reconcile()
    assert said == ["RamQuotaReached", "RamQuotaReached"], "full again: said again, once"


def test_a_refusal_said_by_a_worker_is_not_said_again_by_a_sweep_in_another_environment(said: list[str]) -> None:
    """RAM refused a call over a Region quota in one environment (a worker), which said so; the
    sweep that then counts the quota full, in another, records it without saying it again."""
    registry, shares = FakeRegistry(names={"churn-xgb"}), FakeShares()
    worker = cold_start(registry, shares)
    owner_quota.quota_reached(Run.begin(worker), "churn-new", RamQuotaReached("principal associations per Region", "limit",
                                                                          account_wide=True, region=True))
    assert said == ["RamQuotaReached"]
    promoted(shares)
    cold_start(registry, shares).reconcile()
    assert said == ["RamQuotaReached"]
    assert shares.ledger.full_quota() not in (None, owner_quota.REFUSED), "the sweep names the quota"


def test_the_record_is_read_in_the_sweep_s_one_ledger_scan(said: list[str]) -> None:
    registry, shares = FakeRegistry(names={"churn-xgb"}), FakeShares()
    promoted(shares)
    cold_start(registry, shares).reconcile()
    reads: list[Any] = []
    shares.ledger.full_quota = lambda: reads.append("full_quota")  # type: ignore[method-assign]
    cold_start(registry, shares).reconcile()
    assert reads == [], "no read of its own: everything() tells it"
    assert said == ["RamQuotaReached"]
