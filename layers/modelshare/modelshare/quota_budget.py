"""RAM's quotas in one place, and what each sharing mode costs against them (pure: no AWS call).

The limits are RAM's documented defaults (RAM user guide, "Service quotas"; docs/aws-behaviour.md,
RAM-QUOTAS and RAM-QUOTA-REGION); an account may have had some raised, and the stack's
`RamQuotas` parameter says so (settings.MODELSHARE_RAM_QUOTAS: `name=value,...`).

What a mode costs, for the groups an owner shares (each with its consumers and access):
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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modelshare.org_principals import account_consumers

SHARES = "shares"
RESOURCE_ASSOCIATIONS = "resource_associations"
PRINCIPAL_ASSOCIATIONS = "principal_associations"
PENDING_INVITATIONS = "pending_invitations"
CUSTOMER_MANAGED_PERMISSIONS = "customer_managed_permissions"
CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE = "customer_managed_permissions_per_type"

# RAM's documented defaults, per account and Region (pending invitations: per sharing account).
DEFAULT_LIMITS: Mapping[str, int] = {
    SHARES: 25_000,
    RESOURCE_ASSOCIATIONS: 25_000,
    PRINCIPAL_ASSOCIATIONS: 25_000,
    PENDING_INVITATIONS: 20,
    CUSTOMER_MANAGED_PERMISSIONS: 1_500,
    CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE: 10,
}
# The quotas whose room comes only as use falls (groups or consumers leave), never by itself.
REGION_QUOTAS = (SHARES, RESOURCE_ASSOCIATIONS, PRINCIPAL_ASSOCIATIONS)
WORDS = {SHARES: "resource shares per Region", RESOURCE_ASSOCIATIONS: "resource associations per Region",
         PRINCIPAL_ASSOCIATIONS: "principal associations per Region",
         PENDING_INVITATIONS: "pending invitations per sharing account",
         CUSTOMER_MANAGED_PERMISSIONS: "customer managed permissions per Region",
         CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE: "customer managed permissions per resource type"}
_NUMBER = re.compile(r"[0-9]{1,9}")
# The alarm's threshold, and what `plan` and `status` flag.
ALARM_PERCENT = 80


class QuotaLimitsError(ValueError):
    """The RamQuotas setting is malformed; the message says how."""


@dataclass(frozen=True)
class QuotaLimits:
    """The limits modelshare plans against: RAM's defaults, with the account's raised ones."""

    values: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))

    @classmethod
    def parse(cls, text: str) -> QuotaLimits:
        """`name=value,...` (names of DEFAULT_LIMITS, positive integers); empty: the defaults."""
        values = dict(DEFAULT_LIMITS)
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            name, _, number = item.partition("=")
            name = name.strip()
            if name not in DEFAULT_LIMITS:
                raise QuotaLimitsError(f"unknown quota {name!r}: the quotas are {', '.join(sorted(DEFAULT_LIMITS))}")
            if _NUMBER.fullmatch(number.strip()) is None or int(number) < 1:
                raise QuotaLimitsError(f"{name}={number.strip()!r}: a quota is a positive integer")
            values[name] = int(number)
        return cls(values)

    def __getitem__(self, quota: str) -> int:
        return self.values[quota]


@dataclass(frozen=True)
class QuotaUse:
    """One quota: what is used (now, or as planned) and its limit."""

    quota: str
    used: int
    limit: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit

    @property
    def headroom(self) -> int:
        return self.limit - self.used

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    def line(self) -> str:
        flag = " OVER" if self.used > self.limit else " FULL" if self.full else \
            " (alarm)" if self.percent >= ALARM_PERCENT else ""
        return (f"{WORDS[self.quota]}: {self.used:,} of {self.limit:,} ({self.percent:.0f} %), "
                f"headroom {self.headroom:,}{flag}")


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


def over(uses: Iterable[QuotaUse]) -> list[QuotaUse]:
    return [u for u in uses if u.used > u.limit]
