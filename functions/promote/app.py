"""PutModelPackageGroupPolicy (CloudTrail) and RAM state changes, in batches from an SQS queue ->
promote the shares RAM made from the groups' policies, so consumers can discover the groups,
and invite again consumers whose invitation failed. A burst of events costs one run."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.events import EventBridgeEvent
from modelshare.handler import eventbridge_handler
from modelshare.settings import Settings

# Read at cold start (no AWS call): a missing or invalid setting fails the import, naming it.
settings = Settings.from_environment()
plan = wiring.dry_run_plan(settings)
services = wiring.owner_services(settings, plan, jobs=("promote",))


def _read(event: EventBridgeEvent) -> tuple[str, EventBridgeEvent]:
    if event.source == events.RAM_SOURCE:
        events.require_ram_event(event)
        return "", event
    return events.group_from_cloudtrail(event, "PutModelPackageGroupPolicy"), event


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict[str, Any]:
    accepted = events.each_valid(batch, _read)
    # The group's ARN from the call's response (PutModelPackageGroupPolicy returns it) saves a describe.
    groups = {group: events.group_arn_from_cloudtrail(event, group) for group, event in accepted if group}
    ram = [event for group, event in accepted if not group]
    # The shares RAM's events name (every share when one names none), and those it reports
    # failing to invite a consumer (tried again once consumers' acceptances make room).
    outcomes = services(context).promote_pending_shares(
        groups=groups, share_arns=events.shares_named(ram), failed_share_arns=events.shares_failing_invitations(ram),
        deadline=wiring.remaining_time(context))
    return {"outcomes": [asdict(o) for o in outcomes]}
