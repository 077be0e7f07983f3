"""The shares mode converges about as fast as consumers accept (issue 20): a run that leaves
consumers uninvited for want of pending-invitation room asks, once, for another converge a little
later (modelshare.invitation_pace), and stops asking once no consumer waits for room."""

from __future__ import annotations

from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot
from modelshare.invitation_pace import ACCEPT_WAIT_SECONDS, NO_PROGRESS_WAIT_SECONDS, request
from modelshare.outcomes import GroupAction
from modelshare.owner.service import OwnerService
from tests.unit.fakes import FakeQueue, FakeRegistry, FakeShares, group_arn
from tests.unit.test_shares_mode import RULE, churn, document, owner_with

# 45 consumers of one share: three rounds of RAM's 20 pending invitations.
CONSUMERS = [f"{n:012d}" for n in range(500000000001, 500000000046)]


def paced_owner(consumers: list[str] = CONSUMERS, *,
                mode: str = "shares") -> tuple[OwnerService, FakeRegistry, FakeShares, FakeQueue]:
    owner, registry, shares, _ = owner_with(churn(2), document({**RULE, "consumers": consumers}, mode=mode))
    shares.invitations_wait = True  # an invitation stays pending until the consumer accepts it
    queue = FakeQueue()
    owner.work_queue = queue
    return owner, registry, shares, queue


def invited(shares: FakeShares) -> int:
    share_arn, = shares.ledger.made
    return len(shares.principals[share_arn])


def test_a_run_leaving_consumers_uninvited_asks_once_for_a_converge_two_minutes_later() -> None:
    owner, _, shares, queue = paced_owner()
    owner.sweep()
    assert invited(shares) == 20
    assert (queue.items, queue.delays) == ([request()], [ACCEPT_WAIT_SECONDS])
    # Runs before that request is delivered (the next sweep, a group handed to the workers) stop
    # for room too, and ask nothing more: one request waits.
    owner.sweep()
    owner.reconcile_items([work_item(GroupSnapshot("churn-000", group_arn("churn-000")))])
    assert queue.items == [request()]
    assert invited(shares) == 20


def test_the_requested_runs_invite_as_consumers_accept_and_stop_asking_when_none_waits() -> None:
    owner, _, shares, queue = paced_owner()
    owner.sweep()
    for expected in (40, 45):
        shares.accept_all()
        queue.delivered += 1  # the request is delivered: its run reads RAM, nothing of the message
        owner.reconcile_items([request()])
        assert invited(shares) == expected
    assert queue.items == [request(), request()], "asked after the first two rounds, not after the last"
    assert queue.delays == [ACCEPT_WAIT_SECONDS, ACCEPT_WAIT_SECONDS]


def test_a_run_that_finds_no_room_asks_again_only_as_late_as_sqs_delays() -> None:
    owner, _, shares, queue = paced_owner()
    owner.sweep()
    queue.delivered += 1
    owner.reconcile_items([request()])  # no consumer accepted meanwhile: no room, no one invited
    assert invited(shares) == 20
    assert queue.delays == [ACCEPT_WAIT_SECONDS, NO_PROGRESS_WAIT_SECONDS]


def test_consumers_within_the_room_ask_for_nothing() -> None:
    owner, _, shares, queue = paced_owner(CONSUMERS[:20])
    owner.sweep()
    assert invited(shares) == 20
    assert queue.items == []


def test_a_request_converges_every_group_as_the_sweep_does() -> None:
    owner, registry, shares, _ = paced_owner(CONSUMERS[:2])
    owner.sweep()
    registry.names.add("churn-new")  # no item names it: the request's run lists the groups
    share_arn, = shares.ledger.made
    assert group_arn("churn-new") not in shares.resources[share_arn]
    outcomes = {o.group: o.action for o in owner.reconcile_items([{**request(), "groups": ["churn-000"]}])}
    assert group_arn("churn-new") in shares.resources[share_arn]
    assert outcomes["churn-new"] == GroupAction.SHARED and outcomes["churn-000"] == GroupAction.CONVERGED


def test_an_owner_in_the_policy_mode_takes_a_request_for_nothing() -> None:
    owner, registry, shares, queue = paced_owner(mode="policy")
    assert owner.reconcile_items([request()]) == []
    assert (registry.puts, shares.ledger.made, queue.items) == ([], {}, [])
