"""The shares mode converges about as fast as consumers accept (issue 20; docs/sharing-modes.md).

RAM lets 20 invitations of a sharing account wait at a time (RAM-QUOTAS), so a run of the shares
mode invites at most that many consumers and leaves the rest uninvited. Consumers accept within a
minute or so (their AcceptInvitationsFunction runs on RAM's invitation event), which frees the
room, but nothing in the owner account says so: AWS documents no event to the owner when a
principal association becomes ASSOCIATED (EVENT-RAM: only `detail.event` and `detail.status` are
documented). So a run that left consumers uninvited for want of room asks for another shares-mode
converge a little later: one request on the sweep's queue (SweepQueue), delayed (DelaySeconds),
and it stops asking once no consumer waits for room.

A request is only a trigger: it names nothing, and the run it starts reads everything from RAM
and the ledger, as the scheduled sweep does (docs/security.md, "Queues: who may send"). At most one is asked for
at a time: a run asks only while the queue holds no delayed message (SQS's
ApproximateNumberOfMessagesDelayed, SQS-DELAYED-COUNT), so many stopped runs do not multiply
requests; two that race past an approximate count make two chains, and the first run of either
that finds the other's request waiting ends its own. A delayed message of another kind (a batch
handed back a little later) starts a shares-mode run too, which asks again if it must.
"""

from __future__ import annotations

from typing import Any

from modelshare.observability import logger
from modelshare.ports import WorkQueue
from modelshare.quota_budget import DEFAULT_LIMITS, PENDING_INVITATIONS

# RAM's pending invitations per sharing account (docs/aws-behaviour.md, RAM-QUOTAS; its number
# kept with RAM's other limits in quota_budget): consumers beyond the room left are offered the
# share by a later run, as earlier ones accept.
PENDING_INVITATIONS_PER_ACCOUNT = DEFAULT_LIMITS[PENDING_INVITATIONS]
REQUEST_KIND = "shares-converge"
# Consumers accept within about a minute of an invitation (RAM's event, AcceptQueue's batching
# window, the accept): the next round of invitations two minutes after this one finds their room.
ACCEPT_WAIT_SECONDS = 120
# A run that invited no one (every pending invitation still waits: consumers slow or absent) asks
# again later, as late as SQS delays a message (15 minutes), not every two minutes for hours.
NO_PROGRESS_WAIT_SECONDS = 900


def request() -> dict[str, Any]:
    """The work item asking for a shares-mode converge of the whole account: nothing else."""
    return {"kind": REQUEST_KIND}


def is_request(item: Any) -> bool:
    return isinstance(item, dict) and item.get("kind") == REQUEST_KIND


def ask_again(queue: WorkQueue | None, *, invited: int, uninvited: int) -> bool:
    """After a shares-mode run that invited `invited` consumers and left `uninvited` for want of
    room: ask for another converge, once (see above). True when asked."""
    if queue is None or uninvited <= 0:
        return False
    if queue.delayed() > 0:
        logger.info("Consumers wait for invitation room: a later run is already due", extra={"uninvited": uninvited})
        return False
    delay = ACCEPT_WAIT_SECONDS if invited > 0 else NO_PROGRESS_WAIT_SECONDS
    queue.send([request()], delay_seconds=delay)
    logger.info("Consumers wait for invitation room: another converge asked for",
                extra={"uninvited": uninvited, "delay_seconds": delay})
    return True
