"""What every EventBridge-triggered function shares: Powertools context, strict event parsing,
and the rule that an unsupported event is logged, counted and dropped (never retried)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from modelshare import events
from modelshare.events import EventBridgeEvent, UnsupportedEvent
from modelshare.observability import logger, metrics, traced

if TYPE_CHECKING:  # the dry run's module only when it is on (wiring.dry_run_plan)
    from modelshare.dry_run import Plan

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


Work = Callable[[list[EventBridgeEvent], LambdaContext], dict[str, Any]]


def eventbridge_handler(plan: Plan | None) -> Callable[[Work], Handler]:
    """Decorate a function's work, which takes the EventBridge events of the invocation: one
    from a rule, or a batch from an SQS queue a rule feeds (a burst of events costs one run).
    A batch fails or succeeds as a whole: every event is a trigger to converge, so running them
    again is harmless. With a dry-run `plan`, each invocation starts a fresh plan and returns
    the writes it held back."""

    def decorate(work: Work) -> Handler:
        @wraps(work)
        @logger.inject_lambda_context(clear_state=True)
        @metrics.log_metrics(capture_cold_start_metric=True)
        @traced
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            if plan is not None:
                plan.start()
            try:
                batch = events.batch(event)
                logger.append_keys(event_ids=[e.get_id for e in batch],
                                   detail_types=sorted({e.detail_type for e in batch}))
                if not batch:
                    raise UnsupportedEvent("no EventBridge event in the invocation")
                # The EventBridge event's id (a queue batch's first; event_ids has them all).
                logger.set_correlation_id(batch[0].get_id or None)
                result = work(batch, context)
                if plan is None:
                    return result
                from modelshare.dry_run import with_plan

                return with_plan(result, plan)
            except UnsupportedEvent as refusal:
                events.dropped(str(refusal))
                return {"action": "ignored", "reason": str(refusal)}

        return handler

    return decorate
