"""The cleanup job: modelshare's promoted shares whose group was deleted are deleted too (a
DeleteModelPackageGroup event, and every sweep)."""

from __future__ import annotations

from modelshare.convergence import RamIndex
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction
from modelshare.owner.outcome import GroupOutcome
from modelshare.owner.reads import ram_index, read_ledger
from modelshare.owner.run import Run
from modelshare.ports import Ownership


def delete_orphaned_shares(run: Run) -> list[GroupOutcome]:
    """Delete modelshare's promoted shares that no longer hold the group they were made for
    (the group was deleted)."""
    owned = read_ledger(run)
    return delete_orphaned(run, ram_index(run, principals=False), owned)


def delete_orphaned(run: Run, index: RamIndex, owned: dict[str, Ownership]) -> list[GroupOutcome]:
    outcomes = []
    for arn, group_arn in index.orphaned(owned):
        run.owner.share_writes.delete_share(arn)
        run.owner.ledger.forget_share(group_arn, arn)
        name = group_arn.rpartition("/")[2]
        logger.info("Deleted share of deleted group", extra={"share": arn, "group": name})
        count("SharesDeleted")
        outcomes.append(GroupOutcome(name, GroupAction.SHARE_DELETED, arn))
    return outcomes
