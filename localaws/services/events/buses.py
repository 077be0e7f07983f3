"""EventBridge `PutEvents` as the local AWS serves it: each entry goes to the bus it names (a name
in the caller's account, or any account's bus by ARN), admitted as EventBridge admits it.

A bus in the caller's account takes what the caller's identity policy allows; the identity
policy is judged per entry with its `events:source` and `events:detail-type`, so conditions on
them are evaluated there too (any other EventBridge key is absent: a statement needing it does not
apply, stricter). A bus in another
account takes an entry only when its resource policy allows the sender's account
`events:PutEvents` on it (conditions on `events:source`, `events:detail-type` and
`aws:PrincipalAccount` evaluated; any other condition key is absent, so a statement needing it does
not apply: stricter) and the sender's identity policy allows it too. A refused entry fails alone,
with `AccessDeniedException` (docs/aws-behaviour.md, EVENTS-CROSS-ACCOUNT).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localaws.services.iam.authorizer import evaluate

_BUS_ARN = re.compile(r"arn:aws[a-z-]*:events:([a-z0-9-]+):([0-9]{12}):event-bus/([A-Za-z0-9._/-]{1,256})")
DETAIL_TYPE_MAX = 128


@dataclass(frozen=True)
class Bus:
    account: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:event-bus/{self.name}"


@dataclass(frozen=True)
class Delivered:
    """An event as it arrived on a bus."""

    bus: Bus
    event: dict[str, Any]


class EntryRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


NO_BUS = object()
BusPolicy = Callable[[Bus], "str | object | None"]
"""The bus's resource policy (None: none), or NO_BUS when the bus does not exist."""
IdentityAllows = Callable[[Bus, "dict[str, list[str]]"], bool]
"""Whether the caller's identity policy allows PutEvents on the bus in this request context
(`events:source`, `events:detail-type`: the entry's, as IAM gives them to both policies)."""


def bus_of(name_or_arn: str | None, account: str, region: str) -> Bus:
    match = _BUS_ARN.fullmatch(name_or_arn or "")
    if match is not None:
        return Bus(match.group(2), match.group(1), match.group(3))
    if name_or_arn and name_or_arn.startswith("arn:"):
        raise EntryRefused("InvalidArgument", f"Event bus ARN {name_or_arn} is not valid.")
    return Bus(account, region, name_or_arn or "default")


def put_events(*, account: str, region: str, entries: list[dict[str, Any]], now: str,
               bus_policy: BusPolicy, identity_allows: IdentityAllows,
               deliver: Callable[[Delivered], None]) -> dict[str, Any]:
    """PutEvents' answer; each admitted entry is handed to `deliver` as its event."""
    results: list[dict[str, Any]] = []
    for entry in entries:
        try:
            bus, event = _admit(account, region, entry, now, bus_policy, identity_allows)
        except EntryRefused as refused:
            results.append({"ErrorCode": refused.code, "ErrorMessage": refused.message})
            continue
        deliver(Delivered(bus, event))
        results.append({"EventId": event["id"]})
    return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def _admit(account: str, region: str, entry: dict[str, Any], now: str, bus_policy: BusPolicy,
           identity_allows: IdentityAllows) -> tuple[Bus, dict[str, Any]]:
    source, detail_type, text = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
    if not source or not detail_type or text is None:
        raise EntryRefused("InvalidArgument", "Parameters Source, DetailType and Detail are required.")
    if len(detail_type) > DETAIL_TYPE_MAX:
        raise EntryRefused("InvalidArgument", f"DetailType is longer than {DETAIL_TYPE_MAX} characters.")
    try:
        detail = json.loads(text)
    except ValueError:
        raise EntryRefused("MalformedDetail", "Detail is malformed.") from None
    if not isinstance(detail, dict):
        raise EntryRefused("MalformedDetail", "Detail must be a JSON object.")
    bus = bus_of(entry.get("EventBusName"), account, region)
    if bus.region != region:
        # Stricter reading: cross-Region delivery is a rule's target, not PutEvents' (UNVERIFIED).
        raise EntryRefused("InvalidArgument", f"Event bus {bus.arn} is not in {region}.")
    denied = EntryRefused("AccessDeniedException",
                          f"User: arn:aws:sts::{account}:assumed-role/caller/session is not authorized to perform: "
                          f"events:PutEvents on resource: {bus.arn}")
    if not identity_allows(bus, entry_context(source, detail_type)):
        raise denied
    policy = bus_policy(bus)
    if policy is NO_BUS:
        if bus.account != account:
            raise denied  # another account's bus that does not exist: nothing admits the entry
        raise EntryRefused("ResourceNotFoundException", f"Event bus {bus.name} does not exist.")
    if bus.account != account and not admits(policy if isinstance(policy, str) else None, bus,
                                             account, source, detail_type):
        raise denied
    event = {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source,
        "account": account, "time": entry.get("Time") or now, "region": region,
        "resources": list(entry.get("Resources") or []), "detail": detail,
    }
    return bus, event


def admits(policy: str | None, bus: Bus, sender: str, source: str, detail_type: str) -> bool:
    """Whether the bus's resource policy lets account `sender` put this event on it."""
    if policy is None:
        return False
    statements = [s for s in json.loads(policy).get("Statement", []) if _names(s.get("Principal"), sender)]
    context = {**entry_context(source, detail_type), "aws:principalaccount": [sender]}
    return evaluate(statements, "events:PutEvents", bus.arn, context).allowed


def entry_context(source: str, detail_type: str) -> dict[str, list[str]]:
    """The service keys of one entry's request (Service Authorization Reference, PutEvents)."""
    return {"events:source": [source], "events:detail-type": [detail_type]}


def _names(principal: Any, account: str) -> bool:
    if principal == "*":
        return True
    values = principal.get("AWS") if isinstance(principal, dict) else None
    return any(value in ("*", account, f"arn:aws:iam::{account}:root")
               for value in (values if isinstance(values, list) else [values]))
