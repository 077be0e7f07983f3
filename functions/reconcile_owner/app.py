"""Schedule, allowlist change or a deleted group -> bring every group of the account to what the
allowlist says (add and remove consumers, unshare, promote, delete shares of deleted groups)."""

from dataclasses import asdict

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.aws import allowlist_parameter_name
from modelshare.events import EventBridgeEvent
from modelshare.handler import eventbridge_handler

plan = wiring.dry_run_plan()
services = wiring.PerEnvironment(
    lambda account: wiring.owner_service(boto3.session.Session(), plan, account=account))


def _read(event: EventBridgeEvent) -> str:
    if event.source == events.SAGEMAKER_SOURCE:
        events.group_from_cloudtrail(event, "DeleteModelPackageGroup")
        return "deleted"
    return events.require_sweep_trigger(event, allowlist_parameter_name())


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict:
    owner = services(context)
    triggers = events.each_valid(batch, _read)
    outcomes = owner.delete_orphaned_shares() if set(triggers) == {"deleted"} else owner.reconcile()
    return {"outcomes": [asdict(o) for o in outcomes]}
