"""What one group needs, decided from what was read about it: pure functions, no AWS call.

The sweep (`modelshare.owner.sweep`), `group_state` (`modelshare status`, simulate's report) and
`modelshare plan` all decide through `decide` (modelshare.decision.rules, re-exported here), so
what they say can never disagree. This module holds what a sweep reads RAM into (`RamIndex`).

Which shares and statements modelshare changes: only those the ownership ledger says it made
(ports.OwnershipLedger), a fact only its own roles can write. A tag, a Sid or a message proves
nothing. A share of modelshare's holds only what the allowlist says: a resource or principal a
person added to it is taken out, a wider permission narrowed. Anything else is reported and left
alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# The decision's facts and `decide`, re-exported for the callers that name them here.
from modelshare.decision.facts import GroupDecision as GroupDecision
from modelshare.decision.facts import GroupSnapshot as GroupSnapshot
from modelshare.decision.facts import Holding as Holding
from modelshare.decision.facts import Rule as Rule
from modelshare.decision.facts import ShareView as ShareView
from modelshare.decision.facts import Write as Write
from modelshare.decision.facts import policy_matters as policy_matters
from modelshare.decision.facts import view_of as view_of
from modelshare.decision.rules import decide as decide
from modelshare.ports import (
    STANDARD,
    Association,
    Ownership,
    ResourceShare,
    SharePermission,
)


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
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
    # share ARN -> its principals whose invitation is pending (ASSOCIATING), from the same read.
    pending_principals: dict[str, frozenset[str]] = field(default_factory=dict)
    # share ARN -> its resources RAM is still associating (RAM-ASYNC), from the same read.
    pending_resources: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, shares: Iterable[ResourceShare], resources: Iterable[Association],
              principals: Iterable[Association]) -> RamIndex:
        owned = {s.arn: s for s in shares}
        live: dict[str, list[str]] = {}
        ever: dict[str, list[str]] = {}
        by_resource: dict[str, list[str]] = {}
        associating: dict[str, set[str]] = {}
        for association in resources:
            if association.share_arn not in owned:
                continue
            ever.setdefault(association.share_arn, []).append(association.entity)
            if association.live:
                live.setdefault(association.share_arn, []).append(association.entity)
                by_resource.setdefault(association.entity, []).append(association.share_arn)
                if association.status == "ASSOCIATING":
                    associating.setdefault(association.share_arn, set()).add(association.entity)
        people: dict[str, list[str]] = {}
        pending: dict[str, set[str]] = {}
        for association in principals:
            if association.share_arn in owned and association.live:
                people.setdefault(association.share_arn, []).append(association.entity)
                if association.status == "ASSOCIATING":  # invited, not accepted yet (RAM-ACCEPTED)
                    pending.setdefault(association.share_arn, set()).add(association.entity)
        return cls(owned, {k: tuple(v) for k, v in live.items()}, {k: tuple(v) for k, v in ever.items()},
                   {k: tuple(v) for k, v in people.items()}, {k: tuple(v) for k, v in by_resource.items()},
                   pending_principals={k: frozenset(v) for k, v in pending.items()},
                   pending_resources={k: frozenset(v) for k, v in associating.items()})

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
                           permission, self.actions.get(permission.arn) if permission is not None else None, trusted,
                           # principals read with it: which are pending is known too (else None)
                           self.pending_principals.get(arn, frozenset()) if arn in self.live_principals else None)

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

