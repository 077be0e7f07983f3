"""Schedule, allowlist change or a deleted group -> bring every group of the account to what the
allowlist says (add and remove consumers, unshare, promote, delete shares of deleted groups).
The sweep hands each group that needs more than the bulk reads to SweepQueue, and this function
converges them from there in batches."""

from dataclasses import asdict
from enum import Enum, auto
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.aws.work_queue import SWEEP_PACKAGE
from modelshare.events import EventBridgeEvent
from modelshare.handler import eventbridge_handler
from modelshare.settings import Settings

# Read at cold start (no AWS call): a missing or invalid setting fails the import, naming it.
settings = Settings.from_environment()
plan = wiring.dry_run_plan(settings)
services = wiring.owner_services(settings, plan, jobs=("sweep", "sweep_work", "cleanup"))


class Job(Enum):
    """What an event asks of the owner: the sweep's work items, the cleanup, or a sweep."""

    WORK_ITEMS = auto()
    CLEANUP = auto()
    SWEEP = auto()


def _read(event: EventBridgeEvent) -> tuple[Job, Any]:
    if event.raw.get("kind") == SWEEP_PACKAGE:  # groups the sweep handed out (SweepQueue)
        items = event.raw.get("items")
        if not isinstance(items, list):
            raise events.UnsupportedEvent("a sweep package without its items")
        return Job.WORK_ITEMS, items
    if event.source == events.SAGEMAKER_SOURCE:
        events.group_from_cloudtrail(event, "DeleteModelPackageGroup")
        return Job.CLEANUP, None
    location = settings.allowlist
    events.require_sweep_trigger(event, location.parameter, allowlist_path=location.path)
    return Job.SWEEP, None


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict[str, Any]:
    owner, deadline = services(context), wiring.remaining_time(context)
    triggers = events.each_valid(batch, _read)
    kinds = {kind for kind, _ in triggers}
    if Job.WORK_ITEMS in kinds:
        outcomes = owner.reconcile_items([item for kind, items in triggers if kind == Job.WORK_ITEMS for item in items],
                                         deadline=deadline)
    elif kinds == {Job.CLEANUP}:
        outcomes = owner.delete_orphaned_shares(deadline=deadline)
    else:
        outcomes = owner.sweep(deadline=deadline)
    return {"outcomes": [asdict(o) for o in outcomes]}
