"""Each owner run scans the ledger once (issue 20): what the shares mode, a switch of modes and the
policy mode's sweep need of it all comes from the run's one paged read (`everything()`, which
tells the made shares too). A scan reads the whole table whatever it filters (DynamoDB applies a
FilterExpression to what it read: docs/aws-behaviour.md, LEDGER-DYNAMODB), so every further scan
costs as much as the first."""

from __future__ import annotations

from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot
from modelshare.outcomes import GroupAction
from modelshare.owner.service import OwnerService
from modelshare.ports import STANDARD, OwnershipLedger
from tests.unit.fakes import CONSUMER, OTHER, FakeQueue, group_arn
from tests.unit.test_mode_switch import (
    DISCOVER,
    PROMOTED,
    document,
    made_share,
    outcome_of,
    owner_with,
    shared_the_policy_way,
)


def counted_scans(ledger: OwnershipLedger) -> list[str]:
    """The ledger's scans from now on (what each was), in order."""
    scans: list[str] = []
    for method in ("everything", "made_shares"):
        real = getattr(ledger, method)
        setattr(ledger, method, lambda _real=real, _method=method: scans.append(_method) or _real())
    return scans


def one_scan_each(owner: OwnerService, scans: list[str], *runs: str) -> None:
    for run in runs:
        scans.clear()
        getattr(owner, run)(*((FakeQueue(),) if run == "plan_sweep" else ()))
        assert len(scans) == 1, f"{run}: {scans}"


def test_a_converged_shares_mode_sweep_scans_the_ledger_once() -> None:
    owner, _, shares, _ = owner_with("shares")
    owner.reconcile()
    shares.accept_all()
    scans = counted_scans(shares.ledger)
    assert {o.action for o in owner.reconcile()} == {GroupAction.CONVERGED}
    assert len(scans) == 1, scans
    one_scan_each(owner, scans, "plan_sweep", "reconcile")


def test_a_shares_mode_sweep_with_a_group_switching_scans_the_ledger_once() -> None:
    owner, registry, shares, source = owner_with("policy")
    shared_the_policy_way(registry, shares)
    source.edit(document("shares"))
    shares.invitations_wait = True
    scans = counted_scans(shares.ledger)
    assert outcome_of(owner.reconcile(), GroupAction.SWITCHING)
    assert len(scans) == 1, scans
    one_scan_each(owner, scans, "reconcile", "plan_sweep")
    shares.accept_all()
    scans.clear()
    assert outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert len(scans) == 1, scans


def test_a_sweep_workers_run_with_a_group_switching_scans_the_ledger_once() -> None:
    owner, registry, shares, source = owner_with("policy")
    shared_the_policy_way(registry, shares)
    source.edit(document("shares"))
    shares.invitations_wait = True
    owner.reconcile()
    scans = counted_scans(shares.ledger)
    item = work_item(GroupSnapshot("churn-a", group_arn("churn-a")))
    assert outcome_of(owner.reconcile_items([item]), GroupAction.SWITCHING)
    assert len(scans) == 1, scans


def test_a_policy_mode_sweep_with_made_shares_scans_the_ledger_once() -> None:
    owner, _, shares, source = owner_with("shares")
    owner.reconcile()
    made = made_share(shares)
    source.edit(document("policy"))
    shares.add_policy_share(group_arn("churn-a"), PROMOTED, feature_set=STANDARD, actions=DISCOVER)
    shares.principals[PROMOTED] = [CONSUMER, OTHER]
    shares.associating |= {(PROMOTED, CONSUMER), (PROMOTED, OTHER)}
    scans = counted_scans(shares.ledger)
    assert outcome_of(owner.reconcile(), GroupAction.SWITCHING)
    assert len(scans) == 1, scans
    one_scan_each(owner, scans, "plan_sweep")
    shares.accept_all()
    scans.clear()
    assert outcome_of(owner.reconcile(), GroupAction.SWITCHED) and made in shares.deleted_shares
    assert len(scans) == 1, scans
