"""What one group needs, decided from what was read about it: pure functions, no AWS call.

The sweep (`OwnerService.reconcile`), `group_state` (`modelshare status`, simulate's report) and
`modelshare plan` all decide through `decide`, so what they say can never disagree.

Which shares and statements modelshare changes: only those the ownership ledger says it made
(ports.OwnershipLedger), a fact only its own roles can write. A tag, a Sid or a message proves
nothing. A share of modelshare's holds only what the allowlist says: a resource or principal a
person added to it is taken out, a wider permission narrowed. Anything else is reported and left
alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from modelshare import incarnation
from modelshare import policy as policies
from modelshare.allowlist import ShareDecision
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    STANDARD,
    Association,
    Ownership,
    ResourceShare,
    SharePermission,
)


@dataclass(frozen=True)
class Holding:
    """A live share holding the group, with what it holds and whom it offers it to."""

    share: ResourceShare
    resources: tuple[str, ...]  # live resource associations
    principals: tuple[str, ...]  # principals with access or an invitation (ASSOCIATED, ASSOCIATING)
    # The share's permission and the actions it grants (lower-cased): read for modelshare's
    # promoted shares where it matters (the sweep, a status), else None: not known.
    permission: SharePermission | None = None
    actions: frozenset[str] | None = None
    # Whether that permission is one modelshare gives a share: AWS managed, or one the ledger
    # says modelshare made, on its default version (False: a person's, which its owner could
    # widen at any time, or one whose grant cannot be read). False with no permission: the share
    # has several permissions (or none), so what it grants cannot be judged.
    permission_trusted: bool | None = None

    @property
    def unjudged(self) -> bool:
        """Read, and what the share grants cannot be judged: nobody may be offered it."""
        return self.permission_trusted is False and self.permission is None


@dataclass(frozen=True)
class GroupSnapshot:
    name: str
    arn: str
    holdings: tuple[Holding, ...] = ()
    # What the ledger says modelshare made for the group; None: not read (deciding needs it).
    ownership: Ownership | None = None
    # The group's resource policy; read only when `policy_matters` says so (else `policy_read` is False).
    policy: dict[str, Any] | None = None
    policy_read: bool = False
    # The group's CreationTime as the ledger stamps it (modelshare.incarnation), read after its
    # policy; None: not read, and then no statement of the policy is modelshare's (fail closed).
    created: str | None = None

    @property
    def owned(self) -> Ownership:
        if self.ownership is None:
            raise ValueError(f"deciding about {self.name} needs what the ledger says modelshare made for it")
        return self.ownership

    @property
    def our_statements(self) -> frozenset[str]:
        """The digests of the statements modelshare wrote into this group (not into another
        group made before it under the same name)."""
        return incarnation.of_incarnation(self.owned.statements, self.created)


@dataclass(frozen=True)
class ShareView:
    """The live shares holding one group, as modelshare sees them."""

    from_policy: tuple[Holding, ...]  # CREATED_FROM_POLICY, holding this group alone: RAM made them from its policy
    managed: tuple[Holding, ...]  # modelshare's (the ledger says so), past CREATED_FROM_POLICY
    unmanaged: tuple[Holding, ...]  # anything else: never changed, only reported

    @property
    def promoting(self) -> bool:
        return any(h.share.feature_set == PROMOTING_TO_STANDARD for h in self.managed)

    @property
    def promoted(self) -> tuple[Holding, ...]:
        return tuple(h for h in self.managed if h.share.feature_set == STANDARD)


@dataclass(frozen=True)
class Write:
    """One change the group needs: put-policy (policy, digest: recorded in the ledger first) |
    delete-policy | promote (shares) | remove-consumers / add-consumers (share, accounts: any
    principal to remove) | remove-resources (share, accounts: the resources) | set-actions (share,
    actions)."""

    kind: WriteKind
    share: str = ""
    accounts: tuple[str, ...] = ()
    policy: dict[str, Any] | None = None
    shares: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    digest: str = ""


@dataclass(frozen=True)
class GroupDecision:
    status: GroupStatus  # now
    consumers: tuple[str, ...]  # now: RAM's principals once promoted, else the policy's accounts
    reason: str
    outcome: GroupAction  # what a reconcile reports once `writes` are made
    detail: str
    writes: tuple[Write, ...]
    other_shares: tuple[str, ...]  # shares holding the group that modelshare leaves alone


def view_of(group: GroupSnapshot) -> ShareView:
    from_policy: list[Holding] = []
    managed: list[Holding] = []
    unmanaged: list[Holding] = []
    owned = group.owned.shares
    for holding in group.holdings:
        if holding.share.feature_set == CREATED_FROM_POLICY:
            # RAM makes a share from a group's policy holding that group alone; promoting one
            # that holds anything else would make that discoverable too: it is left alone.
            (from_policy if holding.resources == (group.arn,) else unmanaged).append(holding)
        elif holding.share.arn in owned:
            managed.append(holding)
        else:
            unmanaged.append(holding)
    return ShareView(tuple(from_policy), tuple(managed), tuple(unmanaged))


def policy_matters(group: GroupSnapshot) -> bool:
    """Whether the group's policy must be read to decide: not once modelshare's share is
    promoted or promoting (RAM then holds the consumers, and the policy is left alone). Every
    other group is read, shared or not: a statement of modelshare's the allowlist no longer
    wants must go even when RAM has made no share of it."""
    view = view_of(group)
    return not (view.promoting or view.promoted)


def _accounts(principals: Any) -> tuple[str, ...]:
    return tuple(sorted({a for p in principals if (a := policies.account_of(p))}))


def _promoted_writes(group: GroupSnapshot, holding: Holding, desired: tuple[str, ...],
                     decision: ShareDecision) -> tuple[list[Write], list[str], str]:
    """What one of modelshare's promoted shares needs to hold exactly what the allowlist says:
    narrowing first (its actions, then resources and principals a person added or the allowlist
    no longer gives), adding last."""
    writes: list[Write] = []
    changes: list[str] = []
    reason = ""
    wanted_actions = frozenset(a.lower() for a in decision.actions)
    foreign_permission = holding.permission_trusted is False
    if desired and holding.actions is not None and holding.permission is not None \
            and (holding.actions != wanted_actions or foreign_permission):
        writes.append(Write(WriteKind.SET_ACTIONS, share=holding.share.arn, actions=decision.actions))
        beyond = sorted(holding.actions - wanted_actions)
        changes.append("access set to the allowlist's" + (f" (no more {', '.join(beyond)})" if beyond else "")
                       + (" with a permission of modelshare's or AWS's" if foreign_permission else ""))
        if holding.actions != wanted_actions:
            reason += "; grants " + (f"{', '.join(beyond)} beyond the allowlist" if beyond else "fewer actions than the allowlist")
        if foreign_permission:
            reason += f"; its permission {holding.permission.arn} is neither AWS managed nor modelshare's"
    foreign = tuple(sorted(set(holding.resources) - {group.arn}))
    if foreign:
        writes.append(Write(WriteKind.REMOVE_RESOURCES, share=holding.share.arn, accounts=foreign))
        changes.append(f"took out {', '.join(foreign)}, which only {group.name} may be in")
        reason += f"; also holds {', '.join(foreign)}"
    # Any principal the allowlist does not give: an account it no longer names, or what a person
    # added (a role, an organization, an organizational unit). A share whose grant cannot be judged
    # (a person gave it a second permission) is offered to nobody until it can (fail closed).
    allowed = () if holding.unjudged else desired
    removed = tuple(sorted(p for p in set(holding.principals) if policies.account_of(p) not in allowed))
    current = set(_accounts(holding.principals))
    added = tuple(sorted(set(allowed) - current))
    if holding.unjudged and (removed or desired):
        reason += "; it has several permissions (a person added one): what it grants cannot be judged, so no consumer"
    if removed:
        writes.append(Write(WriteKind.REMOVE_CONSUMERS, share=holding.share.arn, accounts=removed))
        changes.append(f"removed {', '.join(removed)}")
    if added:
        writes.append(Write(WriteKind.ADD_CONSUMERS, share=holding.share.arn, accounts=added))
        changes.append(f"added {', '.join(added)}")
    return writes, changes, reason


def decide(group: GroupSnapshot, decision: ShareDecision) -> GroupDecision:
    """The group's status now, the writes that bring it to what the allowlist decides, and the
    outcome a reconcile reports once they are made. A "promote" write stands for the promotion
    procedure (OwnerService), which may still find RAM not ready or refusing."""
    view = view_of(group)
    desired = decision.consumers if decision.shared else ()
    why_not = decision.conflict or ("" if decision.consumers else "no allowlist rule matches")
    others = tuple(h.share.arn for h in view.unmanaged)
    note = f"; also in {len(others)} share(s) modelshare leaves alone" if others else ""
    policy_accounts = _accounts(p for s in policies.statements(group.policy) for p in policies.principals_of(s))

    def settled(status: GroupStatus, consumers: tuple[str, ...], reason: str) -> GroupDecision:
        if decision.shared:
            outcome, detail = GroupAction.CONVERGED, ""
        else:
            outcome, detail = (GroupAction.CONFLICT if decision.conflict else GroupAction.NOT_SHARED), why_not
        return GroupDecision(status, consumers, reason + note, outcome, detail, (), others)

    def changing(status: GroupStatus, consumers: tuple[str, ...], reason: str, outcome: GroupAction, detail: str,
                 writes: tuple[Write, ...]) -> GroupDecision:
        return GroupDecision(status, consumers, reason + note, outcome, detail, writes, others)

    if view.promoting:
        return changing(GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, policy_accounts, "RAM is promoting the share",
                        GroupAction.PROMOTING,
                        "RAM is promoting the share; the next run continues", ())
    if view.promoted:
        # After promotion RAM owns the principals: change them there, and leave the resource
        # policy alone (what a later put does to a promoted share is UNVERIFIED:
        # docs/aws-behaviour.md, RAM-PUT-AFTER-PROMOTE).
        consumers = _accounts(p for h in view.promoted for p in h.principals)
        missing = sorted(set(desired) - set(consumers))
        pending = f"; not yet invited: {', '.join(missing)}" if missing else ""
        if decision.conflict:
            status, reason = GroupStatus.CONFLICT, decision.conflict
        elif consumers:
            status, reason = GroupStatus.DISCOVERABLE, "promoted RAM share" + pending
        else:
            status, reason = GroupStatus.NOT_SHARED, "promoted share has no consumers" + pending
        writes: list[Write] = []
        changes: list[str] = []
        for holding in view.promoted:
            share_writes, share_changes, share_reason = _promoted_writes(group, holding, desired, decision)
            writes += share_writes
            changes += share_changes
            reason += share_reason
        if not writes:
            return settled(status, consumers, reason)
        only_access = all(w.kind == WriteKind.SET_ACTIONS for w in writes)
        return changing(status, consumers, reason, GroupAction.ACCESS_CHANGED if only_access else GroupAction.CONSUMERS_CHANGED,
                        "; ".join(changes), tuple(writes))

    # Not promoted: the resource policy says who has access.
    if not group.policy_read:
        raise ValueError(f"deciding about {group.name} needs its policy (policy_matters)")
    owned = group.our_statements
    if decision.conflict:
        status, reason = GroupStatus.CONFLICT, decision.conflict
    elif not policies.statements(group.policy):
        status, reason = GroupStatus.NOT_SHARED, ("no resource policy yet" if desired else "no allowlist rule matches")
    else:
        assessment = policies.assess(group.policy, desired, decision.actions)
        if not assessment.promotable:
            reason = "; ".join(assessment.problems)
        elif not view.from_policy:
            reason = "RAM has not created the share yet"
        else:
            reason = "share is CREATED_FROM_POLICY: promotion pending"
        status = GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE
    ours = policies.modelshare_statement(group.arn, desired, decision.actions) if desired else None
    wanted = policies.merge(group.policy, ours, owned)
    if policies.sid_taken(group.policy, owned):
        # Someone else wrote a statement under modelshare's Sid: it is theirs, and modelshare adds
        # nothing beside it. What modelshare's own statement grants may still only shrink: a
        # removal the allowlist asks for is never frozen by a person's statement.
        current = [s for s in policies.statements(group.policy) if policies.is_ours(s, owned)]
        if not current or not policies.grants([ours] if ours else []) <= policies.grants(current):
            why = (f"a statement with modelshare's Sid {policies.MODELSHARE_SID} that modelshare did not write is in "
                   "the policy: modelshare adds nothing to the policy")
            return changing(status, policy_accounts, reason + "; " + why, GroupAction.SID_TAKEN, why, ())
    if not policies.same_policy(group.policy, wanted):
        write = Write(WriteKind.DELETE_POLICY) if wanted is None else \
            Write(WriteKind.PUT_POLICY, policy=wanted, digest=policies.statement_digest(ours) if ours else "")
        if ours is None:
            return changing(status, policy_accounts, reason, GroupAction.UNSHARED,
                            decision.conflict or "no allowlist rule matches", (write,))
        return changing(status, policy_accounts, reason, GroupAction.SHARED, ", ".join(desired), (write,))
    if desired and view.from_policy:
        assessment = policies.assess(group.policy, desired, decision.actions)
        if not assessment.promotable:
            return changing(status, policy_accounts, reason, GroupAction.NOT_PROMOTABLE, "; ".join(assessment.problems), ())
        return changing(status, policy_accounts, reason, GroupAction.PROMOTED, "",
                        (Write(WriteKind.PROMOTE, shares=tuple(h.share.arn for h in view.from_policy)),))
    return settled(status, policy_accounts, reason)


@dataclass(frozen=True)
class RamIndex:
    """What the account shares through RAM, from one paged pass over its shares and their
    resource and principal associations."""

    shares: dict[str, ResourceShare]
    live_resources: dict[str, tuple[str, ...]]
    resources_ever: dict[str, tuple[str, ...]]  # any status: shows what a now empty share held
    live_principals: dict[str, tuple[str, ...]]
    by_resource: dict[str, tuple[str, ...]]  # resource ARN -> live shares holding it
    # Read only where a sweep needs them: share ARN -> its one permission, and what it grants.
    permissions: dict[str, SharePermission] = field(default_factory=dict)
    actions: dict[str, frozenset[str]] = field(default_factory=dict)  # permission ARN -> actions
    trusted: frozenset[str] = frozenset()  # the permission ARNs modelshare gives shares (Holding.permission_trusted)
    unjudged: frozenset[str] = frozenset()  # modelshare's shares read with several permissions, or none

    @classmethod
    def build(cls, shares: Iterable[ResourceShare], resources: Iterable[Association],
              principals: Iterable[Association]) -> RamIndex:
        owned = {s.arn: s for s in shares}
        live: dict[str, list[str]] = {}
        ever: dict[str, list[str]] = {}
        by_resource: dict[str, list[str]] = {}
        for association in resources:
            if association.share_arn not in owned:
                continue
            ever.setdefault(association.share_arn, []).append(association.entity)
            if association.live:
                live.setdefault(association.share_arn, []).append(association.entity)
                by_resource.setdefault(association.entity, []).append(association.share_arn)
        people: dict[str, list[str]] = {}
        for association in principals:
            if association.share_arn in owned and association.live:
                people.setdefault(association.share_arn, []).append(association.entity)
        return cls(owned, {k: tuple(v) for k, v in live.items()}, {k: tuple(v) for k, v in ever.items()},
                   {k: tuple(v) for k, v in people.items()}, {k: tuple(v) for k, v in by_resource.items()})

    def pages(self, page_size: int) -> int:
        """How many listing calls this index took at least (shares, then their resources)."""
        def calls(count: int) -> int:
            return max(1, -(-count // page_size))
        return calls(len(self.shares)) + calls(sum(len(v) for v in self.resources_ever.values()))

    def holdings(self, resource_arn: str) -> tuple[Holding, ...]:
        def holding(arn: str) -> Holding:
            permission = self.permissions.get(arn)
            trusted = (False if arn in self.unjudged else None) if permission is None \
                else permission.arn in self.trusted and permission.default_version
            return Holding(self.shares[arn], self.live_resources.get(arn, ()), self.live_principals.get(arn, ()),
                           permission, self.actions.get(permission.arn) if permission is not None else None, trusted)

        return tuple(holding(arn) for arn in sorted(set(self.by_resource.get(resource_arn, ()))))

    def orphaned(self, owned: dict[str, Ownership]) -> list[tuple[str, str]]:
        """modelshare's promoted shares (the ledger's) that no longer hold the group they were
        made for (it was deleted, or taken out): (share ARN, group ARN). Whatever else such a
        share holds, a person put there."""
        found = []
        for group_arn, ownership in owned.items():
            for arn in sorted(ownership.shares):
                share = self.shares.get(arn)
                if share is not None and share.feature_set == STANDARD and group_arn not in self.live_resources.get(arn, ()):
                    found.append((arn, group_arn))
        return found

