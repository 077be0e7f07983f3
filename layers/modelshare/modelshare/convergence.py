"""What one group needs, decided from what was read about it: pure functions, no AWS call.

The sweep (`OwnerService.reconcile`), `group_state` (`modelshare status`, simulate's report) and
`modelshare plan` all decide through `decide`, so what they say can never disagree.

Which shares modelshare changes: only those it promoted itself, tagged `modelshare:managed`,
that hold nothing but the one group decided about. A promoted share that could not be tagged
(the run ended first) is recognised by the share ARN recorded on the group before promoting it.
Anything else is reported and left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from modelshare import policy as policies
from modelshare.allowlist import ShareDecision
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    STANDARD,
    Association,
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


@dataclass(frozen=True)
class GroupSnapshot:
    name: str
    arn: str
    holdings: tuple[Holding, ...] = ()
    # The share ARN recorded on the group (tag modelshare:promoted-share); read only when
    # `needs_recorded_share` says it matters.
    recorded_share: str | None = None
    # The group's resource policy; read only when `policy_matters` says so (else `policy_read` is False).
    policy: dict[str, Any] | None = None
    policy_read: bool = False


@dataclass(frozen=True)
class ShareView:
    """The live shares holding one group, as modelshare sees them."""

    from_policy: tuple[Holding, ...]  # CREATED_FROM_POLICY: RAM made them from the group's policy
    managed: tuple[Holding, ...]  # modelshare's, holding nothing but this group
    unmanaged: tuple[Holding, ...]  # anything else: never changed, only reported
    adopted: tuple[str, ...] = ()  # managed shares recognised by the recorded ARN, not yet tagged

    @property
    def promoting(self) -> bool:
        return any(h.share.feature_set == PROMOTING_TO_STANDARD for h in self.managed)

    @property
    def promoted(self) -> tuple[Holding, ...]:
        return tuple(h for h in self.managed if h.share.feature_set == STANDARD)


@dataclass(frozen=True)
class Write:
    """One change the group needs: put-policy (policy) | delete-policy | promote (shares) |
    remove-consumers / add-consumers (share, accounts) | tag-share (share) | set-actions (share,
    actions, resource_type)."""

    kind: WriteKind
    share: str = ""
    accounts: tuple[str, ...] = ()
    policy: dict[str, Any] | None = None
    shares: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    resource_type: str = ""


@dataclass(frozen=True)
class GroupDecision:
    status: GroupStatus  # now
    consumers: tuple[str, ...]  # now: RAM's principals once promoted, else the policy's accounts
    reason: str
    outcome: GroupAction  # what a reconcile reports once `writes` are made
    detail: str
    writes: tuple[Write, ...]
    other_shares: tuple[str, ...]  # shares holding the group that modelshare leaves alone


def _candidate(holding: Holding, group_arn: str) -> bool:
    return holding.share.feature_set != CREATED_FROM_POLICY and holding.resources == (group_arn,)


def needs_recorded_share(group: GroupSnapshot) -> bool:
    """Whether the recorded share ARN must be read: an untagged single-group share exists and no
    tagged one does."""
    candidates = [h for h in group.holdings if _candidate(h, group.arn)]
    return any(not h.share.tagged_by_modelshare for h in candidates) and not any(
        h.share.tagged_by_modelshare for h in candidates)


def view_of(group: GroupSnapshot) -> ShareView:
    from_policy: list[Holding] = []
    managed: list[Holding] = []
    unmanaged: list[Holding] = []
    adopted: list[str] = []
    tagged_exists = any(_candidate(h, group.arn) and h.share.tagged_by_modelshare for h in group.holdings)
    for holding in group.holdings:
        if holding.share.feature_set == CREATED_FROM_POLICY:
            # RAM makes a share from a group's policy holding that group alone; promoting one
            # that holds anything else would make that discoverable too: it is left alone.
            (from_policy if holding.resources == (group.arn,) else unmanaged).append(holding)
        elif not _candidate(holding, group.arn):
            unmanaged.append(holding)
        elif holding.share.tagged_by_modelshare:
            managed.append(holding)
        elif not tagged_exists and group.recorded_share is not None and holding.share.arn == group.recorded_share:
            managed.append(holding)
            if holding.share.feature_set == STANDARD:
                adopted.append(holding.share.arn)
        else:
            unmanaged.append(holding)
    return ShareView(tuple(from_policy), tuple(managed), tuple(unmanaged), tuple(adopted))


def policy_matters(group: GroupSnapshot) -> bool:
    """Whether the group's policy must be read to decide: not once modelshare's share is
    promoted or promoting (RAM then holds the consumers, and the policy is left alone). Every
    other group is read, shared or not: a statement of modelshare's the allowlist no longer
    wants must go even when RAM has made no share of it."""
    view = view_of(group)
    return not (view.promoting or view.promoted)


def _accounts(principals: Any) -> tuple[str, ...]:
    return tuple(sorted({a for p in principals if (a := policies.account_of(p))}))


def decide(group: GroupSnapshot, decision: ShareDecision) -> GroupDecision:
    """The group's status now, the writes that bring it to what the allowlist decides, and the
    outcome a reconcile reports once they are made. A "promote" write stands for the promotion
    procedure (OwnerService), which may still find RAM not ready or refusing."""
    view = view_of(group)
    desired = decision.consumers if decision.shared else ()
    why_not = decision.conflict or ("" if decision.consumers else "no allowlist rule matches")
    others = tuple(h.share.arn for h in view.unmanaged)
    note = f"; also in {len(others)} share(s) modelshare leaves alone" if others else ""
    adopt = tuple(Write(WriteKind.TAG_SHARE, share=arn) for arn in view.adopted)
    policy_accounts = _accounts(p for s in policies.statements(group.policy) for p in policies.principals_of(s))

    def settled(status: GroupStatus, consumers: tuple[str, ...], reason: str, writes: tuple[Write, ...] = ()) -> GroupDecision:
        if decision.shared:
            outcome, detail = GroupAction.CONVERGED, ""
        else:
            outcome, detail = (GroupAction.CONFLICT if decision.conflict else GroupAction.NOT_SHARED), why_not
        return GroupDecision(status, consumers, reason + note, outcome, detail, adopt + writes, others)

    def changing(status: GroupStatus, consumers: tuple[str, ...], reason: str, outcome: GroupAction, detail: str,
                 writes: tuple[Write, ...]) -> GroupDecision:
        return GroupDecision(status, consumers, reason + note, outcome, detail, adopt + writes, others)

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
        wanted_actions = frozenset(a.lower() for a in decision.actions)
        for holding in view.promoted:
            # The allowlist's access decides the share's actions too: an edit that narrows it
            # takes effect on a promoted share (first, before any consumer is added).
            if desired and holding.actions is not None and holding.permission is not None \
                    and holding.actions != wanted_actions:
                writes.append(Write(WriteKind.SET_ACTIONS, share=holding.share.arn, actions=decision.actions,
                                    resource_type=holding.permission.resource_type))
                beyond = sorted(holding.actions - wanted_actions)
                changes.append("access set to the allowlist's" + (f" (no more {', '.join(beyond)})" if beyond else ""))
                reason += "; grants " + (f"{', '.join(beyond)} beyond the allowlist" if beyond
                                         else "fewer actions than the allowlist")
            current = set(_accounts(holding.principals))
            removed = tuple(sorted(current - set(desired)))
            added = tuple(sorted(set(desired) - current))
            if removed:
                writes.append(Write(WriteKind.REMOVE_CONSUMERS, share=holding.share.arn, accounts=removed))
                changes.append(f"removed {', '.join(removed)}")
            if added:
                writes.append(Write(WriteKind.ADD_CONSUMERS, share=holding.share.arn, accounts=added))
                changes.append(f"added {', '.join(added)}")
        if not writes:
            return settled(status, consumers, reason)
        only_access = all(w.kind == WriteKind.SET_ACTIONS for w in writes)
        return changing(status, consumers, reason, GroupAction.ACCESS_CHANGED if only_access else GroupAction.CONSUMERS_CHANGED,
                        "; ".join(changes), tuple(writes))

    # Not promoted: the resource policy says who has access.
    if decision.conflict:
        status, reason = GroupStatus.CONFLICT, decision.conflict
    elif not policies.statements(group.policy):
        status, reason = GroupStatus.NOT_SHARED, ("no resource policy yet" if desired else "no allowlist rule matches")
    else:
        assessment = policies.assess(group.policy, desired)
        if not assessment.promotable:
            reason = "; ".join(assessment.problems)
        elif not view.from_policy:
            reason = "RAM has not created the share yet"
        else:
            reason = "share is CREATED_FROM_POLICY: promotion pending"
        status = GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE
    if not group.policy_read:
        raise ValueError(f"deciding about {group.name} needs its policy (policy_matters)")
    ours = policies.modelshare_statement(group.arn, desired, decision.actions) if desired else None
    wanted = policies.merge(group.policy, ours)
    if not policies.same_policy(group.policy, wanted):
        write = Write(WriteKind.DELETE_POLICY) if wanted is None else Write(WriteKind.PUT_POLICY, policy=wanted)
        if ours is None:
            return changing(status, policy_accounts, reason, GroupAction.UNSHARED,
                            decision.conflict or "no allowlist rule matches", (write,))
        return changing(status, policy_accounts, reason, GroupAction.SHARED, ", ".join(desired), (write,))
    if desired and view.from_policy:
        assessment = policies.assess(group.policy, desired)
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
            return Holding(self.shares[arn], self.live_resources.get(arn, ()), self.live_principals.get(arn, ()),
                           permission, self.actions.get(permission.arn) if permission is not None else None)

        return tuple(holding(arn) for arn in sorted(set(self.by_resource.get(resource_arn, ()))))

    def orphaned(self, account: str) -> list[tuple[str, list[str]]]:
        """modelshare's promoted shares that held model package groups of `account` and hold
        nothing now (the groups were deleted): (share ARN, group names)."""
        found = []
        for arn, share in self.shares.items():
            if share.feature_set != STANDARD or not share.tagged_by_modelshare or self.live_resources.get(arn):
                continue
            groups = [name for resource in self.resources_ever.get(arn, ())
                      if (name := policies.group_name_of(resource, account))]
            if groups:
                found.append((arn, groups))
        return found


# A sweep work item: one group to converge (where to look, never what RAM holds); a queue
# message carries several in a package.
SWEEP_ITEM = "modelshare.sweep-group"
SWEEP_PACKAGE = "modelshare.sweep-groups"


def work_item(group: GroupSnapshot, attempt: int = 1) -> dict[str, Any]:
    """What the sweep hands a worker about a group: where to look (its name and ARN) and how
    many times RAM's quota refused it. Nothing RAM said: anyone who may send to the queue could
    write an item, so the worker reads every fact it acts on."""
    return {"kind": SWEEP_ITEM, "attempt": attempt, "group": group.name, "arn": group.arn}


def group_of_item(item: Any) -> tuple[GroupSnapshot, int]:
    """The group a work item names (a snapshot holding nothing: nothing is read yet) and its
    attempt number; ValueError when the item is not one the sweep wrote: each field of the type
    `work_item` writes (nothing converted, so a null or a number never stands for a name), the
    ARN that of the group named. Any other field (the shares an older version wrote) is never
    read: a message only points."""
    try:
        if item["kind"] != SWEEP_ITEM:
            raise ValueError(f"not a sweep work item: {item['kind']!r}")
        attempt = item["attempt"]
        if type(attempt) is not int:
            raise ValueError(f"the attempt is a {type(attempt).__name__}, not a whole number")
        group = GroupSnapshot(_text(item["group"]), _text(item["arn"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"malformed sweep work item: {error!r}") from None
    if policies.group_name_of(group.arn, group.arn.split(":")[4] if group.arn.count(":") >= 5 else "") != group.name:
        raise ValueError(f"malformed sweep work item: {group.arn[:300]} is not group {group.name[:100]}")
    return group, attempt


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a string expected, not {type(value).__name__}")
    return value

