"""PutModelPackageGroupPolicy (CloudTrail) or a RAM state change -> promote the share RAM made
from the policy, so consumers can discover the group."""

from dataclasses import asdict

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.events import EventBridgeEvent
from modelshare.handler import eventbridge_handler

plan = wiring.dry_run_plan()
services = wiring.PerEnvironment(
    lambda account: wiring.owner_service(boto3.session.Session(), plan, account=account))


@eventbridge_handler(plan)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    owner = services(context)
    if event.source == events.RAM_SOURCE:
        events.require_ram_event(event)
        outcomes = owner.promote_pending_shares(invite_again=not events.is_ram_failure(event))
        return {"outcomes": [asdict(o) for o in outcomes]}
    group = events.group_from_cloudtrail(event, "PutModelPackageGroupPolicy")
    return asdict(owner.promote_group(group))
