"""CreateModelPackageGroup (CloudTrail) -> put the policy the allowlist asks for."""

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
    group = events.group_from_cloudtrail(event, "CreateModelPackageGroup")
    return asdict(owner.share_group(group))
