"""The shares mode says a full RAM Region quota once while it stays full, across execution
environments, as the policy mode does (test_region_quota_report.py): the run RAM refuses says so
and records it in the ownership ledger; later runs that RAM refuses again say nothing more; a run
whose additions RAM takes (room came) forgets the record, so a quota full again is said again.
Each OwnerService here is a new execution environment (a cold start) over the same RAM and ledger.
Other quotas (a share's own limits, pending invitations) are said by each run that meets them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from modelshare import shares_mode as shares_mode_module
from modelshare import shares_writes as shares_writes_module
from modelshare.outcomes import GroupAction
from modelshare.owner import quota as owner_quota
from modelshare.owner.service import OwnerService
from modelshare.ports import RamQuotaReached
from modelshare.wiring import owner_from
from tests.unit.fakes import FakeRegistry, FakeShares
from tests.unit.test_shares_mode import churn, owner_with

REGION_FULL = RamQuotaReached("resource or principal associations per Region", "limit reached", account_wide=True,
                              region=True)


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The RamQuotaReached metrics either side emits."""
    counted: list[str] = []

    def counting(name: str, value: int = 1) -> None:
        if name == "RamQuotaReached":
            counted.append(name)

    monkeypatch.setattr(owner_quota, "count", counting)
    monkeypatch.setattr(shares_mode_module, "count", counting)
    monkeypatch.setattr(shares_writes_module, "count", counting)  # a wait for invitation room
    return counted


def region_full_while(shares: FakeShares, full: list[bool], quota: RamQuotaReached = REGION_FULL) -> None:
    """RAM refuses every new resource association while `full[0]`."""
    real = shares.associate_resources

    def associate(share_arn: str, resource_arns: list[str]) -> None:
        if full[0]:
            raise quota
        real(share_arn, resource_arns)

    shares.associate_resources = associate  # type: ignore[method-assign]


def cold_start(registry: FakeRegistry, shares: FakeShares, names: Sequence[str]) -> OwnerService:
    owner, _, _, _ = owner_with(list(names))
    return owner_from(owner.account, registry, shares, owner.allowlist_source, shares.ledger, sleep=lambda s: None)


def test_a_full_region_quota_is_said_once_over_cold_starts_and_again_after_room_came(said: list[str]) -> None:
    names = churn(3)
    registry, shares = FakeRegistry(names={names[0]}), FakeShares()
    cold_start(registry, shares, names).reconcile()  # one group in its share
    full = [True]
    region_full_while(shares, full)
    registry.names.add(names[1])
    outcomes = cold_start(registry, shares, names).reconcile()
    assert {o.group: o.action for o in outcomes}[names[1]] == GroupAction.QUOTA_REACHED
    assert said == ["RamQuotaReached"] and shares.ledger.full_quota() is not None, "said, and recorded"
    cold_start(registry, shares, names).reconcile()
    cold_start(registry, shares, names).reconcile()
    assert said == ["RamQuotaReached"], "not again after a cold start while it stays full"
    full[0] = False  # room comes
    cold_start(registry, shares, names).reconcile()
    assert shares.ledger.full_quota() is None, "the record goes once RAM takes an addition"
    full[0] = True
    registry.names.add(names[2])
    cold_start(registry, shares, names).reconcile()
    assert said == ["RamQuotaReached", "RamQuotaReached"], "full again: said again, once"


def test_a_quota_that_is_not_the_regions_is_said_by_each_run(said: list[str]) -> None:
    names = churn(2)
    registry, shares = FakeRegistry(names=set(names)), FakeShares()
    region_full_while(shares, [True], RamQuotaReached("resources per share", "limit reached", account_wide=False))
    cold_start(registry, shares, names).reconcile()
    cold_start(registry, shares, names).reconcile()
    assert said == ["RamQuotaReached", "RamQuotaReached"] and shares.ledger.full_quota() is None


def test_a_group_stopped_by_a_quota_is_told_so_whatever_ram_s_words(said: list[str]) -> None:
    """The outcome is told from what stopped the group (a typed wait), not from words in RAM's
    message: a refusal naming neither "quota" nor "limit" is still the quota it is."""
    names = churn(2)
    registry, shares = FakeRegistry(names=set(names)), FakeShares()
    region_full_while(shares, [True], RamQuotaReached("resources per share", "too many resources", account_wide=False))
    outcomes = cold_start(registry, shares, names).reconcile()
    assert {o.group: o.action for o in outcomes if o.group in names} == dict.fromkeys(names, GroupAction.QUOTA_REACHED)
