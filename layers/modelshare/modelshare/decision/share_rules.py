"""What one of modelshare's promoted shares needs to hold exactly what the allowlist says: three
rules, each with the writes it asks for, what they change and why. Narrowing first (its actions,
then the resources and principals a person added or the allowlist no longer gives), adding last.
Pure: no AWS call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from modelshare import policy as policies
from modelshare.allowlist import ShareDecision
from modelshare.decision.facts import GroupSnapshot, Holding, Write
from modelshare.outcomes import WriteKind


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class ShareChange:
    """What one rule asks of one share: its writes, what they change (for the outcome's detail)
    and why (appended to the group's reason)."""

    writes: tuple[Write, ...] = ()
    changes: tuple[str, ...] = ()
    reason: str = ""

    def __add__(self, other: ShareChange) -> ShareChange:
        return ShareChange(self.writes + other.writes, self.changes + other.changes, self.reason + other.reason)


def accounts(principals: Iterable[str]) -> tuple[str, ...]:
    """The whole accounts among `principals` (a role, an organization or an OU is none), sorted."""
    return tuple(sorted({a for p in principals if (a := policies.account_of(p))}))


def share_changes(group: GroupSnapshot, holding: Holding, desired: tuple[str, ...],
                  decision: ShareDecision) -> ShareChange:
    """Every rule for the share, in the order its writes are made."""
    return permission_rule(holding, desired, decision) + resources_rule(group, holding) \
        + principals_rule(holding, desired)


def permission_rule(holding: Holding, desired: tuple[str, ...], decision: ShareDecision) -> ShareChange:
    """A shared group's promoted share grants exactly the allowlist's actions, through a
    permission AWS manages or the ledger says modelshare made (on its default version); a
    permission not read is not judged here."""
    wanted = frozenset(a.lower() for a in decision.actions)
    foreign = holding.permission_trusted is False
    if not desired or holding.actions is None or holding.permission is None \
            or (holding.actions == wanted and not foreign):
        return ShareChange()
    beyond = sorted(holding.actions - wanted)
    change = "access set to the allowlist's" + (f" (no more {', '.join(beyond)})" if beyond else "") \
        + (" with a permission of modelshare's or AWS's" if foreign else "")
    reason = ""
    if holding.actions != wanted:
        reason += "; grants " + (f"{', '.join(beyond)} beyond the allowlist" if beyond else "fewer actions than the allowlist")
    if foreign:
        reason += f"; its permission {holding.permission.arn} is neither AWS managed nor modelshare's"
    return ShareChange((Write(WriteKind.SET_ACTIONS, share=holding.share.arn, actions=decision.actions),), (change,), reason)


def resources_rule(group: GroupSnapshot, holding: Holding) -> ShareChange:
    """modelshare's promoted share holds its group alone: what a person added is taken out."""
    foreign = tuple(sorted(set(holding.resources) - {group.arn}))
    if not foreign:
        return ShareChange()
    return ShareChange((Write(WriteKind.REMOVE_RESOURCES, share=holding.share.arn, accounts=foreign),),
                       (f"took out {', '.join(foreign)}, which only {group.name} may be in",),
                       f"; also holds {', '.join(foreign)}")


def principals_rule(holding: Holding, desired: tuple[str, ...]) -> ShareChange:
    """The share is offered to exactly the allowlist's accounts: any other principal (an account
    it no longer names, or what a person added: a role, an organization, an OU) goes, a missing
    account is added. A share whose grant cannot be judged (a person gave it a second
    permission) is offered to nobody until it can (fail closed)."""
    allowed = () if holding.unjudged else desired
    removed = tuple(sorted(p for p in set(holding.principals) if policies.account_of(p) not in allowed))
    added = tuple(sorted(set(allowed) - set(accounts(holding.principals))))
    reason = "; it has several permissions (a person added one): what it grants cannot be judged, so no consumer" \
        if holding.unjudged and (removed or desired) else ""
    change = ShareChange(reason=reason)
    if removed:
        change += ShareChange((Write(WriteKind.REMOVE_CONSUMERS, share=holding.share.arn, accounts=removed),),
                              (f"removed {', '.join(removed)}",))
    if added:
        change += ShareChange((Write(WriteKind.ADD_CONSUMERS, share=holding.share.arn, accounts=added),),
                              (f"added {', '.join(added)}",))
    return change
