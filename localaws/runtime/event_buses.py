"""The cloud's side of EventBridge `PutEvents`: whose identity policy and which bus policy judge
each entry, and where an admitted event goes (localaws/services/events/buses.py decides;
docs/aws-behaviour.md, EVENTS-CROSS-ACCOUNT)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moto.events import models as moto_events

from localaws.core import wire
from localaws.core.errors import AwsError
from localaws.services.events import buses

if TYPE_CHECKING:
    from localaws.runtime.cloud import LocalCloud


class LocalEventBuses:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        # Every event delivered to a custom bus, and who is told of each.
        self.delivered: list[buses.Delivered] = []
        self.listeners: list[Callable[[buses.Delivered], None]] = []
        # EventBridge delivers at least once, best effort: an event a loss names is admitted
        # (the sender sees success) and never arrives. Tests and chaos add losses.
        self.losses: list[Callable[[buses.Delivered], bool]] = []

    def on(self, account: str, bus_name: str) -> list[dict[str, Any]]:
        """The events that arrived on `account`'s bus `bus_name`, in order."""
        return [d.event for d in self.delivered if d.bus.account == account and d.bus.name == bus_name]

    def put_events(self, model: Any, account: str, region: str, params: dict[str, Any],
                   identity: str | None) -> tuple[int, dict[str, str], bytes]:
        cloud = self.cloud

        def identity_allows(bus: buses.Bus, entry: dict[str, list[str]]) -> bool:
            if not cloud.iam.governs(account, identity):
                return True
            try:
                cloud.iam.authorize_resource(account=account, region=region, caller=identity or "",
                                             action="events:PutEvents", resource=bus.arn, context=entry)
            except AwsError:
                return False
            return True

        output = buses.put_events(account=account, region=region, entries=list(params.get("Entries", [])),
                                  now=cloud.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), bus_policy=self._policy,
                                  identity_allows=identity_allows, deliver=self._deliver)
        cloud._record(account, region, "events", "PutEvents", params, None, output)
        return wire.encode_response(model.operation_model("PutEvents"), output)

    def _policy(self, bus: buses.Bus) -> str | object | None:
        if bus.account not in self.cloud.accounts:
            return buses.NO_BUS
        found = moto_events.events_backends[bus.account][bus.region].event_buses.get(bus.name)
        return buses.NO_BUS if found is None else found.policy

    def _deliver(self, delivered: buses.Delivered) -> None:
        if any(lost(delivered) for lost in self.losses):
            return
        if delivered.bus.name == "default":
            self.cloud._publish(delivered.bus.account, delivered.bus.region, delivered.event)
            return
        self.delivered.append(delivered)
        for listener in self.listeners:
            listener(delivered)
