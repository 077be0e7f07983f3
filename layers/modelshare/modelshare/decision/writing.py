"""What the owner's writes of a group's decision must judge as they go (modelshare.owner.apply):
whether a group needs room under RAM's invitation quota, whether a promoted share whose actions
could not be narrowed must lose its consumers meanwhile, and how a policy write SageMaker refused
for a conflicting write is tried again. Pure: no AWS call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from modelshare.allowlist import ShareDecision
from modelshare.decision.facts import GroupDecision, GroupSnapshot, Holding, policy_matters
from modelshare.decision.rules import decide
from modelshare.outcomes import GroupAction, WriteKind
from modelshare.ports import CREATED_FROM_POLICY


def needs_invitation_room(group: GroupSnapshot, decision: ShareDecision, *, restrict_only: bool) -> bool:
    """Whether, as far as its snapshot tells, the group needs room under RAM's invitation quota:
    a share of it to promote, or consumers to add to modelshare's promoted share. Restricting
    adds no one."""
    if not decision.shared or restrict_only:
        return False
    if any(h.share.feature_set == CREATED_FROM_POLICY for h in group.holdings):
        return True
    return not policy_matters(group) and any(w.kind == WriteKind.ADD_CONSUMERS for w in decide(group, decision).writes)


def unsafe_until_narrowed(holding: Holding, actions: Sequence[str]) -> bool:
    """Whether a promoted share whose actions cannot be set now must lose its consumers until
    they can (fail closed): it grants beyond `actions`, or what it grants was not read, or its
    permission is a person's (which could grant more at any moment: as unsafe as one that does
    now). A share with no principal has no one to remove."""
    wanted = frozenset(a.lower() for a in actions)
    beyond = holding.actions is None or not holding.actions <= wanted or holding.permission_trusted is False
    return beyond and bool(holding.principals)


def conflict_wait(conflicts: int, waits: Sequence[float], time_left: float, reserve: float) -> float | None:
    """How long to wait before deciding again after SageMaker refused the `conflicts`+1-th
    policy write of a group in this run (SM-POLICY-CONFLICT); None: no more tries (all `waits`
    used, or the wait would run into the invocation's `reserve`): the next run."""
    wait = waits[conflicts] if conflicts < len(waits) else None
    if wait is None or time_left < wait + reserve:
        return None
    return wait


def policy_writes_only(verdict: GroupDecision) -> GroupDecision:
    """The decision made again after a policy write conflict, with its policy writes alone: a
    policy write is the only write of a group not promoted, and a promotion the fresh policy
    asks for is the promotion path's (its put's event, the sweep): then the group is told
    converged as far as this write goes."""
    writes = tuple(w for w in verdict.writes if w.kind in (WriteKind.PUT_POLICY, WriteKind.DELETE_POLICY))
    if len(writes) < len(verdict.writes):
        verdict = replace(verdict, outcome=GroupAction.CONVERGED, detail="")
    return replace(verdict, writes=writes)
