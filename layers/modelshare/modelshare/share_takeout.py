"""What leaves one of modelshare's made shares, and when (issue 20, the shares mode). Split out
of modelshare.shares_mode.

What no bucket wants goes first. When a share's permission changes in a run (it may widen, and
it is granted on all the share holds), every group leaving it goes before, but one the hand-over
keeps (share_handover.held_back, which keeps one only while the share, once converged, grants no
more than the allowlist gives it); else a group leaves once it is in its new share (`empty_out`).
Consumers join after every take-out. A partial run (a few named groups: a worker's item) cannot
judge the other groups a share holds (a person may have put one in): it takes out only what is no
model package group of the account, and invites no consumer to a share holding anything it cannot
judge (the sweep does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from modelshare.decision.shares import outside
from modelshare.observability import count, logger
from modelshare.policy import group_name_of
from modelshare.ports import OwnershipLedger, ResourceShare
from modelshare.ram_ports import OwnerShareWrites
from modelshare.share_layout import Bucket


class HeldShare(Protocol):
    """A made share as read this run (shares_writes.HeldShare); what it holds is kept up to date."""

    @property
    def share(self) -> ResourceShare: ...
    resources: tuple[str, ...]


def not_groups(held: HeldShare, account: str) -> list[str]:
    """What the share holds that is no model package group of the account (a subnet a person
    associated): no bucket ever wants it, whatever the allowlist says."""
    return sorted(r for r in held.resources if group_name_of(r, account) is None)


def unjudged(held: HeldShare, wanted: Mapping[str, Bucket], digest: str) -> bool:
    """Whether the share holds a resource a partial run cannot say its bucket wants there."""
    return any(r not in wanted or wanted[r].digest != digest for r in held.resources)


def take_out(share_writes: OwnerShareWrites, held: HeldShare, resources: Iterable[str]) -> dict[str, str]:
    """Take the resources out of the share: resource -> the share's ARN."""
    gone = sorted(set(resources))
    if not gone:
        return {}
    share_writes.disassociate_resources(held.share.arn, gone)
    held.resources = tuple(r for r in held.resources if r not in gone)
    logger.warning("Took out of modelshare's share what the allowlist does not put there",
                   extra={"share": held.share.arn, "resources": gone})
    count("ShareResourcesRemoved")
    return dict.fromkeys(gone, held.share.arn)


def empty_out(share_writes: OwnerShareWrites, ledger: OwnershipLedger, by_name: Mapping[str, HeldShare],
              layout: Mapping[str, tuple[str, ...]], holding: Mapping[str, frozenset[str]]
              ) -> tuple[dict[str, str], tuple[str, ...]]:
    """After the run's put-ins: take out of each share what still leaves it and the hand-over
    does not keep, and delete a share left with nothing to keep.
    What was taken out (resource -> share ARN) and the shares deleted."""
    removed: dict[str, str] = {}
    deleted: list[str] = []
    for name, held in sorted(by_name.items()):
        keep = set(layout.get(name, ())) | holding.get(name, frozenset())
        if keep:
            removed.update(take_out(share_writes, held, outside(held.resources, keep)))
            continue
        share_writes.delete_share(held.share.arn)
        ledger.forget_made_share(held.share.arn)  # after: a crash between leaves a record of nothing
        removed.update(dict.fromkeys(held.resources, held.share.arn))
        deleted.append(held.share.arn)
        logger.info("Deleted modelshare's share left empty", extra={"share": held.share.arn, "share_name": name})
        count("SharesDeleted")
    return removed, tuple(deleted)
