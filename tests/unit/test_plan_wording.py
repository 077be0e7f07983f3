"""What `modelshare plan` and a dry run's log lines say about each write reads as words: a
target named, never an empty one or "None" (issue 21, what a newcomer hit)."""

from __future__ import annotations

from modelshare.dry_run import DryRunLedger, Plan
from tests.unit.fakes import FakeLedger


def test_forgetting_the_full_region_quota_names_the_quota_it_forgets() -> None:
    plan = Plan()
    ledger = DryRunLedger(FakeLedger(quota="resource shares per Region"), plan)
    ledger.forget_full_quota()
    assert [str(w) for w in plan.writes] == ["forget-full-quota resource shares per Region"]


def test_forgetting_a_full_quota_none_was_recorded_for_still_says_what_it_forgets() -> None:
    plan = Plan()
    DryRunLedger(FakeLedger(), plan).forget_full_quota()
    [write] = plan.writes
    assert write.target.strip() and "None" not in str(write)
    assert str(write) == "forget-full-quota the Region quota recorded as full"
