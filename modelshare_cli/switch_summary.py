"""`modelshare plan`'s lines about a switch of sharing modes (modelshare.owner.mode_switch): which groups
lose the old mode's access in this run, and which wait, for whom. Kept apart from the quota and
per-group lines other parts add to `plan` and `status`."""

from __future__ import annotations

from collections.abc import Sequence

from modelshare.outcomes import GroupAction
from modelshare.owner.outcome import GroupOutcome


def switch_lines(outcomes: Sequence[GroupOutcome]) -> list[str]:
    """Nothing when no group is switching modes."""
    switched = sorted({o.group for o in outcomes if o.action == GroupAction.SWITCHED})
    waiting = {o.group: o.reason for o in outcomes if o.action == GroupAction.SWITCHING and o.group not in switched}
    if not switched and not waiting:
        return []
    lines = ["Mode switch (the old mode's access goes only once the new one is accepted by every consumer who had it):"]
    if switched:
        lines.append(f"  now: the old mode's access goes for {len(switched)} group(s): {', '.join(switched)}")
    for group, reason in sorted(waiting.items()):
        lines.append(f"  waits: {group}: {reason}")
    return lines
