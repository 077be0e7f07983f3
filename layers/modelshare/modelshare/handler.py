"""What every EventBridge-triggered function shares: Powertools context, strict event parsing,
and the rule that an unsupported event is logged, counted and dropped (never retried)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare.dry_run import Plan, with_plan
from modelshare.events import EventBridgeEvent, UnsupportedEvent
from modelshare.observability import count, logger, metrics, traced

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


Work = Callable[[EventBridgeEvent, LambdaContext], dict[str, Any]]


def eventbridge_handler(plan: Plan | None) -> Callable[[Work], Handler]:
    """Decorate a function's work. With a dry-run `plan`, each invocation starts a fresh plan
    and returns the writes it held back."""

    def decorate(work: Work) -> Handler:
        @wraps(work)
        @logger.inject_lambda_context(clear_state=True)
        @metrics.log_metrics
        @traced
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            parsed = EventBridgeEvent(event)
            logger.append_keys(event_id=event.get("id"), detail_type=event.get("detail-type"))
            if plan is not None:
                plan.start()
            try:
                return with_plan(work(parsed, context), plan)
            except UnsupportedEvent as refusal:
                logger.warning("Event ignored", extra={"reason": str(refusal)})
                count("EventsIgnored")
                return {"action": "ignored", "reason": str(refusal)}

        return handler

    return decorate
