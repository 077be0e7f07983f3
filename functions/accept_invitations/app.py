"""RAM state changes (in batches from an SQS queue), a schedule or an allowlist change -> accept
the pending invitations the allowlist allows, and no other; on a schedule or an allowlist change,
also re-check the shares accepted from allowlisted owners and report those holding or granting
more than the allowlist gives. This is the consumer side's reconcile."""

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
services = wiring.consumer_services(settings, plan)

# The consumer's version event bus, its policy kept to the owners the allowlist names on every
# sweep (docs/version-events.md); nothing in a dry run.
keep_version_bus = wiring.version_bus_keeper(settings, plan)


@eventbridge_handler(plan)
def lambda_handler(batch: list[EventBridgeEvent], context: LambdaContext) -> dict[str, Any]:
    location = settings.allowlist
    triggers = events.each_valid(batch, lambda event: (
        events.require_sweep_trigger(event, location.parameter, allowlist_path=location.path), event))
    ram = [event for trigger, event in triggers if trigger == events.SweepTrigger.RAM]
    if len(ram) == len(triggers):
        # RAM wake-ups: the invitations they name (every one when one names none).
        outcomes = services(context).accept_allowed_invitations(about=events.invitations_named(ram),
                                                                deadline=wiring.remaining_time(context))
    else:  # a schedule or an allowlist change: every invitation, and the shares accepted
        outcomes, findings = services(context).sweep(deadline=wiring.remaining_time(context))
        bus = keep_version_bus(context)
        return {"outcomes": [asdict(o) for o in outcomes], "shared_beyond_allowlist": [asdict(f) for f in findings],
                "version_event_bus": bus}
    return {"outcomes": [asdict(o) for o in outcomes]}
