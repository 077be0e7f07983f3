"""The consumer's run keeps to its Lambda timeout: once too little time is left it reads and
accepts no further invitation, nor starts the re-check; it says so (log, metric), and the next
run (the schedule's, or RAM's next event) takes the rest. Each run reads an invitation's
resources once."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pytest

from modelshare import consumer as consumer_module
from modelshare.consumer import TIME_RESERVE_SECONDS, ConsumerService
from modelshare.deadline import Deadline
from modelshare.outcomes import InvitationAction
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE
from modelshare.wiring import PerEnvironment, consumer_from, remaining_time
from tests.unit.fakes import CONSUMER, OWNER, FakeShares, FixedAllowlist, allowlist_doc, group_arn

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}
TIMEOUT = 60.0
# What one accepted invitation costs, in the tests' time: the second finds too little left.
PER_ACCEPT = TIMEOUT - TIME_RESERVE_SECONDS + 1


@dataclass
class CountingShares(FakeShares):
    resource_reads: list[str] = field(default_factory=list)

    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        self.resource_reads.append(invitation_arn)
        return super().pending_invitation_resources(invitation_arn)


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    said: list[tuple[str, int]] = []
    monkeypatch.setattr(consumer_module, "count", lambda name, value=1: said.append((name, value)))
    return said


def consumer_with(names: list[str]) -> tuple[ConsumerService, CountingShares, Deadline]:
    shares = CountingShares(
        pending=[Invitation(name, f"share-{name}", "LinkedResourceShare", OWNER, "PENDING", None) for name in names],
        invitation_resources={name: [SharedResource(group_arn(f"churn-{name}-{n}"), MODEL_PACKAGE_GROUP_TYPE)
                                     for n in range(3)] for name in names})
    service = consumer_from(CONSUMER, shares, FixedAllowlist(allowlist_doc(RULE)))
    return service, shares, lambda: TIMEOUT - PER_ACCEPT * len(shares.accepted)


def test_a_run_short_of_time_leaves_the_other_invitations_unread_to_the_next_run(metrics, caplog) -> None:
    service, shares, deadline = consumer_with(["a", "b", "c"])
    outcomes = service.accept_allowed_invitations(deadline=deadline)
    assert [(o.invitation_arn, o.action) for o in outcomes] == [
        ("a", InvitationAction.ACCEPTED), ("b", InvitationAction.DEFERRED), ("c", InvitationAction.DEFERRED)]
    assert shares.accepted == ["a"] and shares.resource_reads == ["a"], "no read of what is left"
    assert ("InvitationsDeferred", 2) in metrics
    [said] = [r for r in caplog.records if "left to the next run" in r.getMessage()]
    assert said.invitations == ["b", "c"]  # type: ignore[attr-defined]
    shares.pending = [i for i in shares.pending if i.arn not in shares.accepted]
    assert [o.action for o in service.accept_allowed_invitations(deadline=lambda: TIMEOUT)] == [InvitationAction.ACCEPTED] * 2
    assert shares.accepted == ["a", "b", "c"] and shares.resource_reads == ["a", "b", "c"], "each read once"


def test_a_sweep_short_of_time_leaves_the_recheck_to_the_next_run(metrics, caplog) -> None:
    service, shares, deadline = consumer_with(["a"])
    outcomes, findings = service.sweep(deadline=deadline)
    assert [o.action for o in outcomes] == [InvitationAction.ACCEPTED]
    assert findings == [] and "ListResources" not in shares.received_reads, "the re-check is not started"
    assert ("AcceptedSharesNotRechecked", 1) in metrics
    assert any("re-check of the accepted shares is left to the next run" in r.getMessage() for r in caplog.records)


def test_a_run_with_time_does_everything_and_says_nothing_of_time(metrics, caplog) -> None:
    service, shares, _ = consumer_with(["a", "b"])
    outcomes, _ = service.sweep(deadline=lambda: TIMEOUT)
    assert [o.action for o in outcomes] == [InvitationAction.ACCEPTED] * 2
    assert "ListResources" in shares.received_reads, "the re-check ran"
    assert not [name for name, _ in metrics if name in ("InvitationsDeferred", "AcceptedSharesNotRechecked")]


class Context:
    invoked_function_arn = f"arn:aws:lambda:eu-west-1:{CONSUMER}:function:accept"

    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_each_invocation_gives_the_consumer_its_remaining_time() -> None:
    assert remaining_time(Context(42_000))() == 42.0
    assert remaining_time(Context(7_500))() == 7.5, "the next invocation's, in the same environment"


def test_an_environment_keeps_no_invocation_s_deadline() -> None:
    """The service is kept for the execution environment; an invocation's remaining time is
    handed to its run, never left in the service for whoever uses it next."""
    shares = FakeShares(pending=[Invitation("a", "share-a", "LinkedResourceShare", OWNER, "PENDING", None)],
                        invitation_resources={"a": [SharedResource(group_arn("churn-a"), MODEL_PACKAGE_GROUP_TYPE)]})
    services = PerEnvironment(lambda account: consumer_from(account, shares, FixedAllowlist(allowlist_doc(RULE))))
    service = services(Context(0))  # an invocation out of time
    assert [o.action for o in service.accept_allowed_invitations(deadline=remaining_time(Context(0)))] == \
        [InvitationAction.DEFERRED]
    assert [o.action for o in services(Context(0)).accept_allowed_invitations()] == [InvitationAction.ACCEPTED], \
        "no deadline given: none kept from an earlier invocation"
    assert "time_left" not in {f.name for f in fields(ConsumerService)}


def test_what_one_run_left_goes_first_in_the_next_so_no_invitation_waits_for_ever() -> None:
    """Invitations left pending (refused) are judged again every run: a run with time for one
    invitation only would otherwise judge the same first one each time and never reach the rest."""
    service, shares, _ = consumer_with(["refused", "b", "c"])
    shares.invitation_resources["refused"] = [SharedResource(group_arn("fraud"), MODEL_PACKAGE_GROUP_TYPE)]
    per_read = TIMEOUT - TIME_RESERVE_SECONDS + 1  # time for one invitation a run
    for run, expected in enumerate((["refused"], ["b"], ["c"]), start=1):
        reads_before = len(shares.resource_reads)
        service.accept_allowed_invitations(
            deadline=lambda before=reads_before: TIMEOUT - per_read * (len(shares.resource_reads) - before))
        assert shares.resource_reads[reads_before:] == expected, f"run {run}"
        shares.pending = [i for i in shares.pending if i.arn not in shares.accepted]
    assert shares.accepted == ["b", "c"]


def test_an_event_s_run_keeps_the_place_of_the_invitations_it_did_not_see() -> None:
    service, shares, _ = consumer_with(["refused", "b", "c"])
    shares.invitation_resources["refused"] = [SharedResource(group_arn("fraud"), MODEL_PACKAGE_GROUP_TYPE)]
    per_read = TIMEOUT - TIME_RESERVE_SECONDS + 1
    # reads "refused"; b and c left
    service.accept_allowed_invitations(deadline=lambda: TIMEOUT - per_read * len(shares.resource_reads))
    shares.pending.append(Invitation("d", "share-d", "LinkedResourceShare", OWNER, "PENDING", None))
    shares.invitation_resources["d"] = [SharedResource(group_arn("churn-d"), MODEL_PACKAGE_GROUP_TYPE)]
    service.accept_allowed_invitations(about=["d"], deadline=lambda: TIMEOUT)  # RAM's event about d alone
    reads_before = len(shares.resource_reads)
    service.accept_allowed_invitations(deadline=lambda: TIMEOUT - per_read * (len(shares.resource_reads) - reads_before))
    assert shares.resource_reads[reads_before:] == ["b"], "b and c still go first"
