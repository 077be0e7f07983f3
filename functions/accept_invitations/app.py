"""A RAM state change -> accept the pending invitations the allowlist allows, and no other."""

from dataclasses import asdict

import boto3
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from modelshare import events, wiring
from modelshare.handler import eventbridge_handler

consumer = wiring.consumer_service(boto3.session.Session())


@eventbridge_handler
def lambda_handler(event: EventBridgeEvent) -> dict:
    events.require_ram_event(event)
    return {"outcomes": [asdict(o) for o in consumer.accept_allowed_invitations()]}
