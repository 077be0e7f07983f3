"""Behaviour the issue 21 refactor (modelshare.decision, shares_writes) changed by mistake, found
by running the code before it (2c37104) and after it side by side on the same worlds."""

from __future__ import annotations

from typing import Any

import pytest

from modelshare import observability
from tests.unit.test_shares_mode import RULE, churn, document, owner_with

# More consumers than RAM's pending-invitation room (PENDING_INVITATIONS_PER_ACCOUNT, 20).
CONSUMERS = [f"{n:012d}" for n in range(500000000001, 500000000024)]


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every metric and warning, in order, whichever module says it."""
    events: list[tuple[str, Any]] = []
    add_metric = observability.metrics.add_metric
    warning = observability.logger.warning

    def metric(*args: Any, **kwargs: Any) -> None:
        events.append(("metric", kwargs["name"]))
        add_metric(*args, **kwargs)

    def warn(message: str, *args: Any, **kwargs: Any) -> None:
        events.append(("warning", message))
        warning(message, *args, **kwargs)

    monkeypatch.setattr(observability.metrics, "add_metric", metric)
    monkeypatch.setattr(observability.logger, "warning", warn)
    return events


def test_consumers_left_for_want_of_invitation_room_are_said_even_when_ram_refuses_the_invitations(
        said: list[tuple[str, Any]]) -> None:
    """Three consumers wait for room, and RAM's quota then refuses the twenty the run could
    invite. Before the refactor the run said first that three wait (a warning and a
    RamQuotaReached metric), then that RAM's quota refused; after it, the first went unsaid: the
    warning was made only once the invitations had gone in."""
    owner, _, shares, _ = owner_with(churn(1), document({**RULE, "consumers": CONSUMERS}))
    shares.share_quota_left = 1  # RAM makes the share, then refuses the next call: the invitations
    owner.reconcile()
    share_arn, = shares.ledger.made
    assert shares.principals.get(share_arn, []) == [], "RAM refused the invitations"
    waiting = ("warning", "Pending invitation quota: consumers wait for a later run")
    assert waiting in said, "the consumers left for want of room are said"
    assert said.count(("metric", "RamQuotaReached")) == 2, "one for the room, one for RAM's refusal"


def test_the_wait_for_invitation_room_is_said_before_the_invitations_are_made(said: list[tuple[str, Any]]) -> None:
    """As before the refactor: the run says who waits for room, then invites the others."""
    owner, _, shares, _ = owner_with(churn(1), document({**RULE, "consumers": CONSUMERS}))
    order: list[tuple[str, Any]] = said
    associate = shares.associate_principals

    def associating(share_arn: str, principals: list[str]) -> None:
        order.append(("associate_principals", len(principals)))
        associate(share_arn, principals)

    shares.associate_principals = associating  # type: ignore[method-assign]
    owner.reconcile()
    waiting = ("warning", "Pending invitation quota: consumers wait for a later run")
    assert order.index(waiting) < order.index(("associate_principals", 20))
