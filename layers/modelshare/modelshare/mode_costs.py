"""What each sharing mode costs against RAM's quotas (modelshare.quota_budget), for the groups an
owner shares, each with its consumers and access (pure: no AWS call). The CLI's planning
(`modelshare quotas`) and the bench use it; no function does.

- policy mode, one share per group (RAM makes it from the group's policy): shares = groups,
  resource associations = groups, principal associations = invitations = the sum of consumers,
  customer managed permissions = distinct action sets (stricter: none taken for AWS managed).
- shares mode, one share per (consumer set, access) bucket holding at most `groups_per_share`
  groups: shares = the sum of ceil(groups / cap), resource associations = groups, principal
  associations = invitations = the sum of shares x consumers, customer managed permissions <=
  access levels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from modelshare.org_principals import account_consumers
from modelshare.quota_budget import (
    CUSTOMER_MANAGED_PERMISSIONS,
    PRINCIPAL_ASSOCIATIONS,
    RESOURCE_ASSOCIATIONS,
    SHARES,
    QuotaLimits,
    QuotaUse,
)


@dataclass(frozen=True)
class SharedGroup:
    """A group an owner shares: its consumers and the actions they get."""

    consumers: frozenset[str]
    actions: frozenset[str]


@dataclass(frozen=True)
class Cost:
    """What a mode holds in RAM once every group is shared."""

    shares: int
    resource_associations: int
    principal_associations: int
    invitations: int
    customer_managed_permissions: int

    def against(self, limits: QuotaLimits, now: Mapping[str, int] | None = None) -> list[QuotaUse]:
        """This cost (plus `now`: what AWS already holds that the cost does not replace) against
        each quota it touches. Invitations are one each, 20 waiting at a time: not a total."""
        base = now or {}
        counts = {SHARES: self.shares, RESOURCE_ASSOCIATIONS: self.resource_associations,
                  PRINCIPAL_ASSOCIATIONS: self.principal_associations,
                  CUSTOMER_MANAGED_PERMISSIONS: self.customer_managed_permissions}
        return [QuotaUse(q, counts[q] + base.get(q, 0), limits[q]) for q in counts]


def policy_mode_cost(groups: Iterable[SharedGroup]) -> Cost:
    listed = list(groups)
    consumers = sum(len(g.consumers) for g in listed)
    return Cost(shares=len(listed), resource_associations=len(listed), principal_associations=consumers,
                invitations=sum(len(account_consumers(g.consumers)) for g in listed),
                customer_managed_permissions=len({g.actions for g in listed}))


def shares_mode_cost(groups: Iterable[SharedGroup], groups_per_share: int | None = None) -> Cost:
    """`groups_per_share`: the shares mode's cap (share_layout.GROUPS_PER_SHARE unless given; that
    module is imported here, not at every owner function's cold start)."""
    if groups_per_share is None:
        from modelshare.share_layout import GROUPS_PER_SHARE

        groups_per_share = GROUPS_PER_SHARE
    if groups_per_share < 1:
        raise ValueError("groups_per_share must be positive")
    buckets: dict[tuple[frozenset[str], frozenset[str]], int] = {}
    listed = list(groups)
    for group in listed:
        key = (group.consumers, group.actions)
        buckets[key] = buckets.get(key, 0) + 1
    shares = {key: math.ceil(count / groups_per_share) for key, count in buckets.items()}
    # An organization or OU is one principal association per share and no invitation
    # (docs/aws-behaviour.md, ORG-QUOTA); an account is one of each (outside the organization).
    principals = sum(count * len(key[0]) for key, count in shares.items())
    invitations = sum(count * len(account_consumers(key[0])) for key, count in shares.items())
    return Cost(shares=sum(shares.values()), resource_associations=len(listed), principal_associations=principals,
                invitations=invitations, customer_managed_permissions=len({key[1] for key in buckets}))
