"""Only what takes access away: a group's decision under the last valid allowlist, made
restrict-only, for a sweep that found the current allowlist invalid (modelshare.allowlist_loading).

The result is the most restrictive of that version and what is live: consumers are those the
last valid version allows and that have access now, actions the intersection of the two. Kept:
removing consumers, deleting modelshare's statement, narrowing its statement or a promoted
share's actions. Never kept: a promotion, consumers added, a share adopted, a statement or
permission granting any (account, action) it does not grant now. Pure: no AWS call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from modelshare import policy as policies
from modelshare.convergence import GroupDecision, GroupSnapshot, Write
from modelshare.outcomes import GroupAction, WriteKind

_HELD = {WriteKind.PROMOTE: "promotion", WriteKind.ADD_CONSUMERS: "adding"}


def restrict(group: GroupSnapshot, verdict: GroupDecision) -> GroupDecision:
    """`verdict` (what `decide` says under the last valid allowlist) with only the writes that
    take access away, narrowed to what is live. Unchanged when it only took access away; else
    RESTRICTED, naming what was kept and what waits for a valid allowlist."""
    kept: list[Write] = []
    applied: list[str] = []
    held: list[str] = []
    removed: dict[str, set[str]] = {}
    for write in verdict.writes:
        if write.kind == WriteKind.REMOVE_CONSUMERS:
            removed.setdefault(write.share, set()).update(write.accounts)
        elif write.kind == WriteKind.REMOVE_RESOURCES:  # what a person added to modelshare's share
            kept.append(write)
            applied.append(f"took {', '.join(write.accounts)} out of {write.share}")
        elif write.kind in (WriteKind.PUT_POLICY, WriteKind.DELETE_POLICY):
            narrowed, widened = _narrowed_policy(group, write)
            if narrowed is not None:
                kept.append(narrowed)
                applied.append("modelshare's statement removed" if _ours(narrowed.policy, group) == []
                               else "modelshare's statement narrowed")
            if widened:
                held.append(f"sharing with {', '.join(widened)}")
        elif write.kind == WriteKind.SET_ACTIONS:
            holding = next((h for h in group.holdings if h.share.arn == write.share), None)
            if holding is None or holding.actions is None:
                held.append(f"setting the actions of {write.share}")
                continue
            actions = tuple(a for a in write.actions if a.lower() in holding.actions)
            if not actions:  # nothing both grant: no access is the intersection
                removed.setdefault(write.share, set()).update(_accounts(holding.principals))
            elif {a.lower() for a in actions} != holding.actions:
                kept.append(replace(write, actions=actions))
                applied.append(f"actions of {write.share} narrowed to {', '.join(actions)}")
            if {a.lower() for a in write.actions} - holding.actions:
                held.append(f"granting {', '.join(sorted({a.lower() for a in write.actions} - holding.actions))}")
        else:
            what = _HELD.get(write.kind, write.kind)
            target = ", ".join(write.accounts) or write.share or ", ".join(write.shares)
            held.append(f"{what} {target}".strip())
    # Removals first: a narrowing RAM cannot make now ends the group's writes (OwnerService),
    # and must not keep a removal from happening.
    removals = [Write(WriteKind.REMOVE_CONSUMERS, share=share, accounts=tuple(sorted(accounts)))
                for share, accounts in removed.items()]
    applied[:0] = [f"removed {', '.join(w.accounts)}" for w in removals]
    kept = removals + [w for w in kept if not (w.kind == WriteKind.SET_ACTIONS and w.share in removed
                                               and _removes_all(group, w.share, removed[w.share]))]
    if not held and len(kept) == len(verdict.writes) and all(w in verdict.writes for w in kept):
        return verdict  # it only took access away: the same as under a valid allowlist
    detail = "; ".join([*applied, *(["waits for a valid allowlist: " + "; ".join(held)] if held else [])])
    reason = f"{verdict.reason}; the allowlist is invalid: only what its last valid version takes away applies ({detail})"
    return replace(verdict, reason=reason, outcome=GroupAction.RESTRICTED, detail=detail, writes=tuple(kept))


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
    holding = next((h for h in group.holdings if h.share.arn == share), None)
    return holding is not None and set(_accounts(holding.principals)) <= accounts
