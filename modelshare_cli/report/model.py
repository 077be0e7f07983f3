"""The report's facts and its one judgment: each grant (a policy statement or a RAM share giving
an account actions on a model package group) against what the allowlist gives that account."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from modelshare.allowlist import Allowlist, access_levels_for

MODELSHARE = "modelshare"
PERSON = "person"
# Acceptance of a grant by its consumer (RAM's principal association status, from the owner).
ACCEPTED = "accepted"
PENDING = "invitation pending"
NO_ACCEPTANCE = "not needed"  # a policy statement: in force without an answer


@dataclass(frozen=True)
class Grant:
    """What one source grants one consumer on one group, as read in the owner account."""

    owner: str
    group: str
    group_arn: str
    consumer: str  # an account ID, an organization or OU ARN, or "*"
    via: str  # "policy" or "share"
    source: str  # the statement's Sid, or the share's ARN
    actions: tuple[str, ...]  # lower-cased; empty when they could not be read
    accepted: str
    made_by: str  # MODELSHARE (the ledger says so) or PERSON
    actions_read: bool = True


@dataclass(frozen=True)
class Judged:
    grant: Grant
    access: str  # the access levels the actions make ("discover+deploy"), or "custom"
    allowlist_access: str | None  # what the allowlist gives this consumer, None: nothing
    finding: str | None  # why the grant is beyond the allowlist, None when it is within

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self.grant), "actions": list(self.grant.actions), "access": self.access,
                "allowlist_access": self.allowlist_access, "matches_allowlist": self.finding is None,
                "finding": self.finding}


@dataclass
class AccountRead:
    """What the report read of one account: its grants, or the error that stopped it."""

    account: str
    grants: list[Grant] = field(default_factory=list)
    groups: int = 0
    allowlist: Allowlist | None = None
    allowlist_problem: str | None = None
    error: str | None = None
    calls: int = 0


def access_of(actions: Iterable[str]) -> str:
    levels = access_levels_for(actions)
    return "+".join(levels) if levels else "custom"


def judge(grant: Grant, allowlist: Allowlist | None, allowlist_problem: str | None = None) -> Judged:
    """Whether the grant is within what the allowlist gives its consumer: a finding otherwise.
    No valid allowlist gives nothing, so every grant is then one (fail closed)."""
    access = access_of(grant.actions) if grant.actions_read else "unread"
    if allowlist is None:
        return Judged(grant, access, None, f"no valid allowlist in {grant.owner}: {allowlist_problem or 'unread'}")
    decision = allowlist.decide(grant.owner, grant.group)
    allowed = access_of(decision.actions) if decision.shared and grant.consumer in decision.consumers else None
    if decision.conflict is not None:
        return Judged(grant, access, None, f"the allowlist shares this group with nobody: {decision.conflict}")
    if allowed is None:
        return Judged(grant, access, None, f"the allowlist does not name {grant.consumer} for this group")
    if not grant.actions_read:
        return Judged(grant, access, allowed, "what the grant allows could not be read")
    beyond = sorted(set(grant.actions) - {a.lower() for a in decision.actions})
    if beyond:
        return Judged(grant, access, allowed, f"grants {', '.join(beyond)} beyond the allowlist's {allowed}")
    return Judged(grant, access, allowed, None)


@dataclass
class Report:
    """The organization's picture: every grant judged, and the accounts that could not be read."""

    accounts: list[AccountRead]
    grants: list[Judged]

    @classmethod
    def of(cls, reads: list[AccountRead]) -> Report:
        judged = [judge(grant, read.allowlist, read.allowlist_problem) for read in reads for grant in read.grants]
        judged.sort(key=lambda j: (j.grant.owner, j.grant.group, j.grant.consumer, j.grant.via, j.grant.source))
        return cls(sorted(reads, key=lambda r: r.account), judged)

    @property
    def findings(self) -> list[Judged]:
        return [j for j in self.grants if j.finding is not None]

    def as_json(self) -> dict[str, Any]:
        return {
            "accounts": [{"account": r.account, "groups": r.groups, "grants": len(r.grants), "error": r.error,
                          "allowlist_problem": r.allowlist_problem} for r in self.accounts],
            "grants": [j.as_json() for j in self.grants],
            "findings": len(self.findings),
        }
