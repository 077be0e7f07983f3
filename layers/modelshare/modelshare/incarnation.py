"""Which incarnation of a model package group a ledger record of a statement is about.

A group deleted and made again under the same name has the same ARN (the ledger's key) but is
another group: what modelshare wrote into the old one's policy says nothing of the new one's, and
a person may put back a saved policy holding modelshare's old statement word for word. So the
ledger records each statement's digest with the group's CreationTime (`<digest>@<ms>`, the
milliseconds since the epoch), read from SageMaker after the policy it judges, and a statement is
modelshare's only in the group created then (docs/security.md, "Ownership: the ledger";
docs/aws-behaviour.md, SM-CREATION-TIME). A digest without a stamp was recorded before stamps
(an upgrade): no run takes it for modelshare's before it is adopted for the group there, at the
group's first judgment or by a sweep, whichever comes first (`adopt_for`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from modelshare import policy as policies
from modelshare.observability import logger
from modelshare.ports import LedgerContents, OwnershipLedger, RegistryReads

_SEPARATOR = "@"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stamp(created: datetime) -> str:
    """A group's CreationTime as the ledger stamps it: whole milliseconds since the epoch, exact
    (no float), whatever time zone the SDK hands the time in."""
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return str((created - _EPOCH) // timedelta(milliseconds=1))


def stamped(digest: str, created: str) -> str:
    """What the ledger records of a statement modelshare writes into the group created `created`."""
    return f"{digest}{_SEPARATOR}{created}"


_ASCII_DIGITS = frozenset("0123456789")


def _split(recorded: str) -> tuple[str, str | None]:
    digest, separator, created = recorded.partition(_SEPARATOR)
    return (digest, created) if separator and created and set(created) <= _ASCII_DIGITS else (recorded, None)


def of_incarnation(recorded: Iterable[str], created: str | None) -> frozenset[str]:
    """The digests of the statements modelshare wrote into the group created `created`; none
    when that is unknown (fail closed: the policy's statements are then a person's)."""
    if created is None:
        return frozenset()
    return frozenset(digest for digest, at in map(_split, recorded) if at == created)


def unstamped(recorded: Iterable[str]) -> list[str]:
    """The records written before stamps (an upgrade): no run takes them for modelshare's."""
    return sorted(r for r in recorded if _split(r)[1] is None)


def earlier(recorded: Iterable[str], created: str) -> list[str]:
    """The records of groups created before the one created `created` (under the same ARN): they
    can never be modelshare's again. A later stamp is kept: a run beside this one may have seen
    the group made again after this run read it."""
    return sorted(r for r in recorded if (at := _split(r)[1]) is not None and int(at) < int(created))


def adopt(recorded: Iterable[str], created: str) -> list[str]:
    """The unstamped records, stamped for the group created `created` (an upgrade's sweep)."""
    return [stamped(r, created) for r in unstamped(recorded)]


def adopt_for(ledger: OwnershipLedger, arn: str, recorded: frozenset[str], created: str | None) -> frozenset[str]:
    """Adopt the group's unstamped records for the group created `created` (forget them when it
    is gone: None), in the ledger; returns its records as they are then. Run at the group's first
    judgment or by a sweep (`adopt_unstamped`), whichever comes first."""
    old = unstamped(recorded)
    if not old:
        return recorded
    new = adopt(old, created) if created is not None else []
    for record in new:  # recorded before the old ones are forgotten: never a moment without
        ledger.record_statement(arn, record)
    ledger.forget_statements(arn, old)
    logger.info("Statements recorded before stamps adopted" if new else "Statements of a deleted group forgotten",
                extra={"group": arn, "statements": len(old)})
    return (recorded - set(old)) | set(new)


# Groups whose unstamped records one sweep adopts (a DescribeModelPackageGroup each); the rest
# wait for the next sweep, and meanwhile are nobody's statement of modelshare's (fail closed).
ADOPTED_PER_RUN = 100


def adopt_unstamped(contents: LedgerContents, registry: RegistryReads, ledger: OwnershipLedger,
                    account: str) -> LedgerContents:
    """The ledger as a sweep read it, with the statements recorded before stamps (an upgrade)
    adopted: stamped with the CreationTime of the group that has the ARN now, or forgotten when
    there is none (a group made later under the ARN is another). Such a record cannot say which
    group it was written for; the group there at the first sweep after the upgrade is taken
    (docs/security.md says what that leaves open). Changes `contents` to match, and returns it."""
    waiting = [(arn, ownership) for arn, ownership in sorted(contents.items()) if unstamped(ownership.statements)]
    for arn, ownership in waiting[:ADOPTED_PER_RUN]:
        name = policies.group_name_of(arn, account)
        if name is None:
            continue  # not a group of this account's: never judged here
        created = registry.created(name)
        statements = adopt_for(ledger, arn, ownership.statements, None if created is None else stamp(created))
        contents[arn] = replace(ownership, statements=statements)
    if len(waiting) > ADOPTED_PER_RUN:
        logger.info("More groups' unstamped statements wait for the next sweep", extra={"groups": len(waiting) - ADOPTED_PER_RUN})
    return contents
