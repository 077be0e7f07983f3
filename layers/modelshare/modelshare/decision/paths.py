"""The one decision as each path asks for it: the creation event (ShareOnCreate), RAM's wake-up
(PromoteFunction's event path) and the sweep all take `decide`'s answer for the same facts, and
differ only in which of its writes they make; what a path does not make is left to the sweep.
Pure: no AWS call.

- creation: modelshare's statement on a group the allowlist shares, nothing else (it reads
  nothing of a group the allowlist does not share, and no share when the group has no policy;
  a removal is the sweep's, a promotion the wake-up's: the statement it finds as the allowlist
  wants is converged);
- wake-up: the promotion of the share RAM made from the policy, when `decide` says to promote
  (AWAITING_SHARE: it waits for RAM to make that share, then asks again); a settled policy
  that cannot be promoted is told so (not promotable), whoever wrote it;
- sweep: every write.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from modelshare import policy as policies
from modelshare.allowlist import ShareDecision
from modelshare.decision.facts import GroupDecision, GroupSnapshot, Rule
from modelshare.decision.rules import Case, decide, promotion_problems
from modelshare.outcomes import GroupAction
from modelshare.ports import Ownership

ALREADY_PROMOTED_REASON = "RAM holds its consumers; reconcile keeps them in step"
LEFT_TO_SWEEP_REASON = "left to the sweep: "


class Path(StrEnum):
    CREATION = "creation"
    WAKE_UP = "wake-up"
    SWEEP = "sweep"


# The rules whose writes each path makes.
_MAKES: dict[Path, frozenset[Rule]] = {
    Path.CREATION: frozenset({Rule.STATEMENT_WRITTEN}),
    Path.WAKE_UP: frozenset({Rule.PROMOTE, Rule.NOT_PROMOTABLE, Rule.AWAITING_SHARE}),
    Path.SWEEP: frozenset(Rule),
}


# The rules whose writes another event path makes: the path's own part is done.
_OTHER_PATHS: dict[Path, frozenset[Rule]] = {Path.CREATION: frozenset({Rule.PROMOTE})}


def decide_unread(path: Path, group_name: str, decision: ShareDecision) -> GroupDecision | None:
    """The answer a path gives without reading the group (None: it must read it): on creation,
    a group the allowlist does not share, as a group with nothing would be answered (whatever
    it holds, creation makes no write of it: taking a statement away is the sweep's)."""
    if path != Path.CREATION or decision.shared:
        return None
    return decide(GroupSnapshot(group_name, "", ownership=Ownership(), policy_read=True), decision)


def decide_on(path: Path, group: GroupSnapshot, decision: ShareDecision) -> GroupDecision:
    """`decide`'s answer for the group, with the writes `path` makes (none: what the sweep
    makes is named in the detail)."""
    verdict = decide(group, decision)
    if path == Path.WAKE_UP and verdict.rule == Rule.POLICY_SETTLED and policies.statements(group.policy) \
            and (problems := promotion_problems(Case(group, decision))):
        # Woken by a policy nothing is to change in and that cannot be promoted (a person's, on
        # a group the allowlist does not share, or beside modelshare's): told as not promotable.
        return replace(verdict, outcome=GroupAction.NOT_PROMOTABLE, detail="; ".join(problems))
    if verdict.rule in _MAKES[path]:
        return verdict
    if verdict.rule in _OTHER_PATHS.get(path, frozenset()):
        return replace(verdict, outcome=GroupAction.CONVERGED, detail="", writes=())
    if verdict.rule in (Rule.PROMOTING, Rule.PROMOTED_SETTLED, Rule.PROMOTED_ACCESS, Rule.PROMOTED_CONSUMERS):
        return replace(verdict, outcome=GroupAction.ALREADY_PROMOTED, detail=ALREADY_PROMOTED_REASON, writes=())
    if not verdict.writes:
        return verdict
    return replace(verdict, outcome=GroupAction.DEFERRED, writes=(),
                   detail=LEFT_TO_SWEEP_REASON + (verdict.detail or verdict.outcome))
