"""RAM state changes (in batches from an SQS queue), a schedule or an allowlist change -> accept
the pending invitations the allowlist allows, and no other. This is the consumer side's
reconcile."""

from dataclasses import asdict

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events, wiring
from modelshare.aws import allowlist_location
from modelshare.events import EventBridgeEvent
from modelshare.handler import eventbridge_handler

plan = wiring.dry_run_plan()
services = wiring.PerEnvironment(
    lambda account: wiring.consumer_service(boto3.session.Session(), plan, account=account))


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict:
    location = allowlist_location()
    triggers = events.each_valid(batch, lambda event: (
        events.require_sweep_trigger(event, location.parameter, allowlist_path=location.path), event))
    ram = [event for trigger, event in triggers if trigger == "ram"]
    if len(ram) == len(triggers):
        # RAM wake-ups: the invitations they name (every one when one names none).
        outcomes = services(context).accept_allowed_invitations(about=events.invitations_named(ram))
    else:  # a schedule or an allowlist change: every invitation
        outcomes = services(context).accept_allowed_invitations()
    return {"outcomes": [asdict(o) for o in outcomes]}
