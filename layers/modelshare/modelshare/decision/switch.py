"""Switching an owner between the modes (modelshare.owner.mode_switch): for a group holding the
policy mode's access while its owner shares in the shares mode, whether that access is retired
now or narrowed and kept. Pure: no AWS call.

- RETIRE: the allowlist no longer shares the group (nothing to keep), or the group is live in
  its made share and no consumer who had the old access still waits to accept the new;
- NARROW: else: the old access stays, narrowed to the allowlist, until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from modelshare.allowlist import ShareDecision


class SwitchStep(StrEnum):
    RETIRE = "retire"
    NARROW = "narrow"


def waiting_for(consumers: Sequence[str], old: frozenset[str], new: frozenset[str]) -> list[str]:
    """The consumers the old mode's access must wait for: each that the allowlist keeps, that
    has (or is offered) the old access, and that has not accepted the new one."""
    return sorted(c for c in consumers if c in old and c not in new)


def old_access(decision: ShareDecision, offered: frozenset[str], *, statement_unpromoted: bool) -> frozenset[str]:
    """Who has (or is offered) the policy mode's access: its promoted share's principals, and,
    while modelshare's statement is not promoted, every consumer the allowlist names (the
    statement grants them: assumed each has it)."""
    return offered | frozenset(decision.consumers if decision.shared else ()) if statement_unpromoted else offered


def switch_step(decision: ShareDecision, *, live: bool, waiting: Sequence[str]) -> SwitchStep:
    if not decision.shared or (live and not waiting):
        return SwitchStep.RETIRE
    return SwitchStep.NARROW
