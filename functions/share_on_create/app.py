"""CreateModelPackageGroup (CloudTrail) -> put the policy the allowlist asks for."""

from dataclasses import asdict

import boto3
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from modelshare import events, wiring
from modelshare.handler import eventbridge_handler

plan = wiring.dry_run_plan()
owner = wiring.owner_service(boto3.session.Session(), plan)


@eventbridge_handler(plan)
def lambda_handler(event: EventBridgeEvent) -> dict:
    group = events.group_from_cloudtrail(event, "CreateModelPackageGroup")
    return asdict(owner.share_group(group))
