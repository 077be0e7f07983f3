"""CreateModelPackageGroup (CloudTrail), in batches from an SQS queue -> put the policy the
allowlist asks for on each new group (one fresh allowlist read per batch)."""

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
services = wiring.owner_services(settings, plan, jobs=("create",))


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict[str, Any]:
    created = events.each_valid(batch, lambda event: (events.group_from_cloudtrail(event, "CreateModelPackageGroup"),
                                                      event))
    groups = {name: events.group_arn_from_cloudtrail(event, name) for name, event in created}
    return {"outcomes": [asdict(o) for o in services(context).share_groups(groups, deadline=wiring.remaining_time(context))]}
