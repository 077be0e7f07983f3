"""SageMaker Model Package State Change (the owner's default bus) or a schedule -> tell each
consumer the allowlist grants the version's group now, on the consumer's own event bus, of the
approved version (docs/version-events.md). On the schedule, the newest approved version of every
shared group is told again (same forwardId): a consumer that missed it learns it."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.events import EventBridgeEvent, UnsupportedEvent
from modelshare.handler import eventbridge_handler
from modelshare.settings import Settings
from modelshare.version_events import NotAVersionEvent, version_arn_in
from modelshare.version_forwarding import repair_turn

STATE_CHANGE = "SageMaker Model Package State Change"

# Read at cold start (no AWS call): a missing or invalid setting fails the import, naming it.
settings = Settings.from_environment()
plan = wiring.dry_run_plan(settings)
forwarder = wiring.version_forwarder(settings, plan)


def _read(event: EventBridgeEvent) -> tuple[str, str]:
    """The version an event points to and the status it says ("" for the schedule): only where
    to look."""
    if events.is_schedule(event):
        return "", ""
    if event.source != events.SAGEMAKER_SOURCE or event.detail_type != STATE_CHANGE:
        raise UnsupportedEvent(f"not a version state change: {event.source} / {event.detail_type!r}")
    detail = event.detail if isinstance(event.detail, dict) else {}
    try:
        return version_arn_in(detail, event.account), str(detail.get("ModelApprovalStatus", ""))
    except NotAVersionEvent as refusal:
        raise UnsupportedEvent(str(refusal)) from None


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict[str, Any]:
    changes = events.each_valid(batch, _read)
    service = forwarder(context)
    if ("", "") in changes:
        # Bounded by the invocation's deadline; each hour's run starts further along (its turn,
        # the scheduled event's hour), so every shared group is reached within a bounded number of runs.
        tick = next(e for e in batch if events.is_schedule(e))
        return asdict(service.repair(wiring.remaining_time(context), repair_turn(tick.time)))
    said: dict[str, frozenset[str]] = {}
    for arn, status in changes:
        said[arn] = said.get(arn, frozenset()) | {status}
    return asdict(service.forward(list(said), said))
