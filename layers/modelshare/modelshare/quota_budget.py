"""RAM's quotas in one place, and what is used of each (pure: no AWS call).

The limits are RAM's documented defaults (RAM user guide, "Service quotas"; docs/aws-behaviour.md,
RAM-QUOTAS and RAM-QUOTA-REGION); an account may have had some raised, and the stack's
`RamQuotas` parameter says so (settings.MODELSHARE_RAM_QUOTAS: `name=value,...`). What each
sharing mode would cost against them (the CLI's planning): modelshare.mode_costs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
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


def over(uses: Iterable[QuotaUse]) -> list[QuotaUse]:
    return [u for u in uses if u.used > u.limit]
