"""A RAM state change, a schedule or an allowlist change -> accept the pending invitations the
allowlist allows, and no other. This is the consumer side's reconcile."""

from dataclasses import asdict

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.aws import allowlist_parameter_name
from modelshare.events import EventBridgeEvent
from modelshare.handler import eventbridge_handler

plan = wiring.dry_run_plan()
services = wiring.PerEnvironment(
    lambda account: wiring.consumer_service(boto3.session.Session(), plan, account=account))


@eventbridge_handler(plan)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    consumer = services(context)
    trigger = events.require_sweep_trigger(event, allowlist_parameter_name())
    # A RAM wake-up may use the cached allowlist; a schedule or an allowlist change reads it afresh.
    outcomes = consumer.accept_allowed_invitations(fresh_allowlist=trigger != "ram")
    return {"outcomes": [asdict(o) for o in outcomes]}
