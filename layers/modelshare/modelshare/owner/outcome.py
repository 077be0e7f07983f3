"""What an owner job reports of each group, and how a group's failure is told."""

from __future__ import annotations

from dataclasses import dataclass

from modelshare.allowlist import ShareDecision
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction

# Reconcile outcomes that changed nothing and need no telling (not-shared and conflict changed
# nothing either, but say why a group is not shared).
QUIET_ACTIONS = frozenset({GroupAction.CONVERGED, GroupAction.GONE, GroupAction.PROMOTING, GroupAction.QUEUED,
                           GroupAction.DEFERRED})


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class GroupOutcome:
    """What a run did with one group (the handlers return these)."""

    group: str
    action: GroupAction
    reason: str = ""


class ReconcileIncomplete(Exception):
    """Some groups could not be handled (each is logged with its error); the others were. The
    invocation fails so that Lambda retries it and the failure is seen."""


def failed(group_name: str, error: Exception) -> str:
    logger.exception("Group could not be handled; the others were", extra={"group": group_name})
    return f"{group_name}: {type(error).__name__}: {error}"


def tell_conflict(group_name: str, decision: ShareDecision) -> None:
    """A group the allowlist does not share because its rules conflict: logged and counted."""
    if decision.conflict:
        logger.warning("Group not shared: allowlist conflict", extra={"group": group_name, "reason": decision.conflict})
        count("AllowlistConflicts")


def not_promotable(group_name: str, reason: str) -> GroupOutcome:
    logger.warning("Group stays accessible but not discoverable",
                   extra={"group": group_name, "reason": reason})
    count("NotPromotable")
    return GroupOutcome(group_name, GroupAction.NOT_PROMOTABLE, reason)
