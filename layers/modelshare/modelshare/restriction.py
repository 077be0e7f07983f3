"""Only what takes access away: a group's decision under the last valid allowlist, made
restrict-only, for a sweep that found the current allowlist invalid (modelshare.allowlist_loading).

The result is the most restrictive of that version and what is live: consumers are those the
last valid version allows and that have access now, actions the intersection of the two. Kept:
removing consumers, deleting modelshare's statement, narrowing its statement or a promoted
share's actions. Never kept: a promotion, consumers added, a share adopted, a statement or
permission granting any (account, action) it does not grant now. Pure: no AWS call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from modelshare import policy as policies
from modelshare.decision.facts import GroupDecision, GroupSnapshot, Holding, Rule, Write
from modelshare.outcomes import GroupAction, WriteKind

_HELD = {WriteKind.PROMOTE: "promotion", WriteKind.ADD_CONSUMERS: "adding"}


@dataclass
class _Restricting:
    """What the rules keep of a verdict's writes, and say, as they go through them."""

    group: GroupSnapshot
    kept: list[Write] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # what is kept, in words
    held: list[str] = field(default_factory=list)  # what waits for a valid allowlist, in words
    removed: dict[str, set[str]] = field(default_factory=dict)  # share -> principals to take out

    def remove(self, share: str, principals: Iterable[str]) -> None:
        self.removed.setdefault(share, set()).update(principals)


def restrict(group: GroupSnapshot, verdict: GroupDecision) -> GroupDecision:
    """`verdict` (what `decide` says under the last valid allowlist) with only the writes that
    take access away, narrowed to what is live. Unchanged when it only took access away; else
    RESTRICTED, naming what was kept and what waits for a valid allowlist."""
    state = _Restricting(group)
    for write in verdict.writes:
        _RULES.get(write.kind, hold_grant)(state, write)
    kept = _removals_first(state)
    if not state.held and len(kept) == len(verdict.writes) and all(w in verdict.writes for w in kept):
        return verdict  # it only took access away: the same as under a valid allowlist
    held = ["waits for a valid allowlist: " + "; ".join(state.held)] if state.held else []
    detail = "; ".join([*state.applied, *held])
    reason = f"{verdict.reason}; the allowlist is invalid: only what its last valid version takes away applies ({detail})"
    return replace(verdict, reason=reason, outcome=GroupAction.RESTRICTED, detail=detail, writes=tuple(kept),
                   rule=Rule.RESTRICTED)


def keep_removal(state: _Restricting, write: Write) -> None:
    """Consumers taken out: kept (gathered per share, made first)."""
    state.remove(write.share, write.accounts)


def keep_resource_removal(state: _Restricting, write: Write) -> None:
    """What a person added to modelshare's share taken out: kept."""
    state.kept.append(write)
    state.applied.append(f"took {', '.join(write.accounts)} out of {write.share}")


def narrow_statement(state: _Restricting, write: Write) -> None:
    """modelshare's statement: kept granting what it grants now and the last valid version
    allows (removed when that is nothing); any account the version would add waits."""
    narrowed, widened = _narrowed_policy(state.group, write)
    if narrowed is not None:
        state.kept.append(narrowed)
        state.applied.append("modelshare's statement removed" if _ours(narrowed.policy, state.group) == []
                             else "modelshare's statement narrowed")
    if widened:
        state.held.append(f"sharing with {', '.join(widened)}")


def narrow_actions(state: _Restricting, write: Write) -> None:
    """A promoted share's permission: set to the actions both it and the last valid version
    grant (its consumers taken out when none); any action the version would add waits."""
    holding = _holding(state.group, write.share)
    if holding is None or holding.actions is None:
        state.held.append(f"setting the actions of {write.share}")
        return
    actions = tuple(a for a in write.actions if a.lower() in holding.actions)
    if not actions:  # nothing both grant: no access is the intersection
        state.remove(write.share, _accounts(holding.principals))
    elif {a.lower() for a in actions} != holding.actions:
        state.kept.append(replace(write, actions=actions))
        state.applied.append(f"actions of {write.share} narrowed to {', '.join(actions)}")
    if beyond := sorted({a.lower() for a in write.actions} - holding.actions):
        state.held.append(f"granting {', '.join(beyond)}")


def hold_grant(state: _Restricting, write: Write) -> None:
    """Anything that grants (a promotion, consumers added): waits for a valid allowlist."""
    what = _HELD.get(write.kind, write.kind)
    target = ", ".join(write.accounts) or write.share or ", ".join(write.shares)
    state.held.append(f"{what} {target}".strip())


_RULES: dict[WriteKind, Callable[[_Restricting, Write], None]] = {
    WriteKind.REMOVE_CONSUMERS: keep_removal,
    WriteKind.REMOVE_RESOURCES: keep_resource_removal,
    WriteKind.PUT_POLICY: narrow_statement,
    WriteKind.DELETE_POLICY: narrow_statement,
    WriteKind.SET_ACTIONS: narrow_actions,
}


def _removals_first(state: _Restricting) -> list[Write]:
    """The kept writes, removals first: a narrowing RAM cannot make now ends the group's writes
    (the owner's apply), and must not keep a removal from happening. A share whose consumers
    all go needs its actions set no more."""
    removals = [Write(WriteKind.REMOVE_CONSUMERS, share=share, accounts=tuple(sorted(accounts)))
                for share, accounts in state.removed.items()]
    state.applied[:0] = [f"removed {', '.join(w.accounts)}" for w in removals]
    return removals + [w for w in state.kept if not (w.kind == WriteKind.SET_ACTIONS and w.share in state.removed
                                                     and _removes_all(state.group, w.share, state.removed[w.share]))]


def _holding(group: GroupSnapshot, share: str) -> Holding | None:
    return next((h for h in group.holdings if h.share.arn == share), None)


def _narrowed_policy(group: GroupSnapshot, write: Write) -> tuple[Write | None, list[str]]:
    """The write that leaves modelshare's statement granting what it grants now and the last
    valid version allows (None: nothing to change), and the accounts the version would add."""
    now = _ours(group.policy, group)
    wanted = _ours(write.policy, group)
    now_accounts, wanted_accounts = set(policies.statement_accounts(now)), set(policies.statement_accounts(wanted))
    now_actions = {a.lower() for a in policies.statement_actions(now)}
    accounts = sorted(now_accounts & wanted_accounts)
    actions = sorted({a for a in policies.statement_actions(wanted) if a.lower() in now_actions})
    widened = sorted(wanted_accounts - now_accounts)
    if not now:
        return None, widened  # modelshare grants nothing here: nothing to take away
    ours = policies.modelshare_statement(group.arn, accounts, actions) if accounts and actions else None
    narrowed = policies.merge(group.policy, ours, group.our_statements)
    if policies.same_policy(group.policy, narrowed) or not policies.grants([ours] if ours else []) <= policies.grants(now):
        return None, widened  # the guard never lets a statement grant more than it does now
    if narrowed is None:
        return Write(WriteKind.DELETE_POLICY), widened
    return Write(WriteKind.PUT_POLICY, policy=narrowed, digest=policies.statement_digest(ours) if ours else ""), widened


def _ours(policy: dict[str, Any] | None, group: GroupSnapshot) -> list[dict[str, Any]]:
    """modelshare's statements in `policy`: those not among the ones `merge` keeps of the group's
    policy now (everyone else's), so modelshare's statement is recognised exactly as merge
    recognises it (by the ledger)."""
    others = {policies.canonical(s) for s in policies.statements(policies.merge(group.policy, None, group.our_statements))}
    return [s for s in policies.statements(policy) if policies.canonical(s) not in others]


def _accounts(principals: Iterable[str]) -> list[str]:
    return sorted({a for p in principals if (a := policies.account_of(p))})


def _removes_all(group: GroupSnapshot, share: str, accounts: set[str]) -> bool:
    holding = _holding(group, share)
    return holding is not None and set(_accounts(holding.principals)) <= accounts
