"""What the functions accept from EventBridge, checked strictly: anything else is refused.

An event of an unknown shape must not lead to sharing or accepting anything (fail closed); the
handler logs why and returns without retrying, since the same event can never become valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from modelshare.account_ids import ACCOUNT_ID, is_account_id
from modelshare.observability import count, logger
from modelshare.policy import account_of

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
SAGEMAKER_SOURCE = "aws.sagemaker"
SAGEMAKER_EVENT_SOURCE = "sagemaker.amazonaws.com"
RAM_SOURCE = "aws.ram"
RAM_DETAIL_TYPE = "Resource Sharing State Change"
SSM_SOURCE = "aws.ssm"
SSM_DETAIL_TYPE = "Parameter Store Change"
SCHEDULE_SOURCE = "aws.events"
SCHEDULE_DETAIL_TYPE = "Scheduled Event"

_GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_GROUP_ARN = re.compile(rf"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:{ACCOUNT_ID}:model-package-group/(.+)")


class UnsupportedEvent(ValueError):
    """The event is not one this function handles; nothing is done."""


class EventBridgeEvent:
    """An EventBridge event, read through the envelope's documented fields. Not Powertools'
    event data class: importing it imports every event source's class, about 150 ms of each
    cold start (`make bench` measures it)."""

    def __init__(self, data: object) -> None:
        if not isinstance(data, Mapping):
            raise UnsupportedEvent(f"an event must be a JSON object, not {type(data).__name__}")
        self.raw: Mapping[str, Any] = data

    def _text(self, key: str) -> str:
        value = self.raw.get(key)
        return value if isinstance(value, str) else ""

    @property
    def get_id(self) -> str:
        return self._text("id")

    @property
    def source(self) -> str:
        return self._text("source")

    @property
    def detail_type(self) -> str:
        return self._text("detail-type")

    @property
    def account(self) -> str:
        return self._text("account")

    @property
    def region(self) -> str:
        return self._text("region")

    @property
    def resources(self) -> list[str]:
        value = self.raw.get("resources")
        return [r for r in value if isinstance(r, str)] if isinstance(value, list) else []

    @property
    def time(self) -> str:
        return self._text("time")

    @property
    def detail(self) -> Any:
        return self.raw.get("detail")


def is_schedule(event: EventBridgeEvent) -> bool:
    """An EventBridge schedule's tick."""
    return event.source == SCHEDULE_SOURCE and event.detail_type == SCHEDULE_DETAIL_TYPE


def batch(event: Any) -> list[EventBridgeEvent]:
    """The EventBridge events an invocation carries: one (a rule invoking the function), or a
    batch an SQS event source collected (each record's body is an event a rule sent to the
    queue). A record whose body is not an event object is dropped (it can never become one)."""
    if isinstance(event, Mapping) and isinstance(event.get("Records"), list):
        found = []
        for record in event["Records"]:
            body = record.get("body") if isinstance(record, Mapping) else None
            try:
                found.append(EventBridgeEvent(json.loads(body) if isinstance(body, str) else body))
            except (ValueError, RecursionError, UnsupportedEvent) as error:  # RecursionError: nested deeper than json decodes
                dropped(f"SQS record is not an EventBridge event: {error}")
        return found
    return [EventBridgeEvent(event)]


def dropped(reason: str) -> None:
    """An event refused (fail closed): logged with the reason and counted, never retried."""
    logger.warning("Event ignored", extra={"reason": reason})
    count("EventsIgnored")


def each_valid[T](events: Sequence[EventBridgeEvent], read: Callable[[EventBridgeEvent], T]) -> list[T]:
    """`read` of every event it accepts; the others are dropped, each with its reason. Raises
    UnsupportedEvent (the first reason) when it accepts none."""
    found: list[T] = []
    reasons: list[str] = []
    for event in events:
        try:
            found.append(read(event))
        except UnsupportedEvent as refusal:
            reasons.append(str(refusal))
    if not found:
        raise UnsupportedEvent(reasons[0] if reasons else "no event")
    for reason in reasons:
        dropped(reason)
    return found


def group_from_cloudtrail(event: EventBridgeEvent, event_name: str) -> str:
    """The model package group named by a successful CloudTrail `event_name` call."""
    if event.source != SAGEMAKER_SOURCE or event.detail_type != CLOUDTRAIL_DETAIL_TYPE:
        raise UnsupportedEvent(f"expected {SAGEMAKER_SOURCE} / {CLOUDTRAIL_DETAIL_TYPE!r}, got "
                               f"{event.source} / {event.detail_type!r}")
    detail = event.detail
    if not isinstance(detail, dict):
        raise UnsupportedEvent("event detail is not an object")
    if detail.get("eventSource") != SAGEMAKER_EVENT_SOURCE or detail.get("eventName") != event_name:
        raise UnsupportedEvent(f"expected {event_name} from {SAGEMAKER_EVENT_SOURCE}, got "
                               f"{detail.get('eventName')} from {detail.get('eventSource')}")
    if "errorCode" in detail:
        raise UnsupportedEvent(f"the {event_name} call failed ({detail['errorCode']}); nothing to do")
    if not is_account_id(event.account):
        raise UnsupportedEvent(f"the event's account {event.account!r} is not an account ID")
    if detail.get("recipientAccountId", event.account) != event.account:
        raise UnsupportedEvent("the call was recorded for another account")
    # CloudTrail's lowerCamelCase keys are UNVERIFIED (docs/aws-behaviour.md, EVENT-CLOUDTRAIL): accept
    # either spelling, and the ARN from the response, but only a well-formed group name comes out.
    request, response = _object(detail.get("requestParameters")), _object(detail.get("responseElements"))
    candidates = [
        request.get("modelPackageGroupName"), request.get("ModelPackageGroupName"),
        response.get("modelPackageGroupArn"), response.get("ModelPackageGroupArn"),
    ]
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        arn = _GROUP_ARN.fullmatch(candidate)
        if arn and candidate.split(":")[3:5] != [event.region, event.account]:
            raise UnsupportedEvent(f"group {candidate} belongs to another account or region")
        name = arn.group(1) if arn else candidate
        if _GROUP_NAME.fullmatch(name):
            return name
        raise UnsupportedEvent(f"not a model package group name: {candidate!r}")
    raise UnsupportedEvent("the event names no model package group")


def group_arn_from_cloudtrail(event: EventBridgeEvent, group_name: str) -> str | None:
    """The ARN of `group_name` (the name `group_from_cloudtrail` read from the same event) from
    the call's response, when the event carries it for this account, region and partition
    (responseElements' spelling is UNVERIFIED: docs/aws-behaviour.md, EVENT-CLOUDTRAIL); else None
    and the group is described."""
    response = _object(_object(event.detail).get("responseElements"))
    here = [_partition_of(event.region), "sagemaker", event.region, event.account]
    for candidate in (response.get("modelPackageGroupArn"), response.get("ModelPackageGroupArn")):
        # Only the ARN of the group the request named (SageMaker may write names in lower case).
        if isinstance(candidate, str) and (match := _GROUP_ARN.fullmatch(candidate)) \
                and candidate.split(":")[1:5] == here and match.group(1).lower() == group_name.lower():
            return candidate
    return None


def _partition_of(region: str) -> str:
    """The partition of `region`, for the partitions modelshare knows; for any other the ARN of the
    event is not trusted, and the group is described instead (one call, never a wrong ARN)."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def require_ram_event(event: EventBridgeEvent) -> None:
    """A RAM state change is only a wake-up call: its contents are not trusted (docs/aws-behaviour.md, EVENT-RAM)."""
    if event.source != RAM_SOURCE or event.detail_type != RAM_DETAIL_TYPE:
        raise UnsupportedEvent(f"expected {RAM_SOURCE} / {RAM_DETAIL_TYPE!r}, got "
                               f"{event.source} / {event.detail_type!r}")


def allowlist_change_names(parameter: str) -> tuple[str | None, frozenset[str]]:
    """(owning account, or None for this one; the names its change events may carry) of the
    allowlist parameter, given by name or by ARN. Change events name the parameter, never its
    ARN; whether with its leading '/' is UNVERIFIED, so both spellings are taken
    (docs/aws-behaviour.md, EVENT-SSM)."""
    owner = None
    path = parameter
    if parameter.startswith("arn:"):
        parts = parameter.split(":", 5)
        owner = parts[4] if len(parts) == 6 else None
        path = parts[5].removeprefix("parameter") if len(parts) == 6 else parameter
    return owner, frozenset({path, path.lstrip("/"), "/" + path.lstrip("/")})


_SHARE_ARN = re.compile(rf"arn:aws[a-z-]*:ram:[a-z0-9-]+:({ACCOUNT_ID}):resource-share/[A-Za-z0-9-]+")
_INVITATION_ARN = re.compile(rf"arn:aws[a-z-]*:ram:[a-z0-9-]+:{ACCOUNT_ID}:resource-share-invitation/[A-Za-z0-9-]+")


def shares_named(events: Sequence[EventBridgeEvent]) -> list[str] | None:
    """The ARNs of this account's shares RAM's events name (owner side), leaving out events
    about a principal or an invitation (RAM invites only to promoted shares: nothing there to
    promote); None when an event names none, so the caller looks at every share."""
    found: list[str] = []
    for event in events:
        if _principal_association(event) or _about_invitation(event):
            continue
        named = [a for a in _arns(event) if (m := _SHARE_ARN.fullmatch(a)) and m.group(1) == event.account]
        if not named:
            return None
        found.extend(n for n in named if n not in found)
    return found


def invitations_named(events: Sequence[EventBridgeEvent]) -> list[str] | None:
    """What RAM's events name for the consumer side: the invitation, else a share of another
    account (its invitations are looked up); events about this account's own shares name
    nothing to accept. None when an event names neither, so the caller looks at every
    invitation."""
    found: list[str] = []
    for event in events:
        if _answered_invitation(event):  # nothing left to accept there
            continue
        arns = _arns(event)
        invitations = [a for a in arns if _INVITATION_ARN.fullmatch(a)]
        shares = [a for a in arns if _SHARE_ARN.fullmatch(a)]
        foreign = [a for a in shares if a.split(":")[4] != event.account]
        if not invitations and not shares:
            return None
        found.extend(n for n in (invitations or foreign) if n not in found)
    return found


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: a field of another type names nothing."""
    return value if isinstance(value, dict) else {}


def _arns(event: EventBridgeEvent) -> list[str]:
    """ARNs in `detail` or `resources`. Which fields RAM fills is UNVERIFIED
    (docs/aws-behaviour.md, EVENT-RAM): an ARN only says where to look, it decides nothing."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    candidates = [detail.get("resourceShareInvitationArn"), detail.get("resourceShareArn"), *event.resources]
    return [c for c in candidates if isinstance(c, str)]


def _answered_invitation(event: EventBridgeEvent) -> bool:
    detail = event.detail if isinstance(event.detail, dict) else {}
    return isinstance(detail.get("resourceShareInvitationArn"), str) and \
        str(detail.get("status", "")).upper() in ("ACCEPTED", "REJECTED", "EXPIRED")


def _about_invitation(event: EventBridgeEvent) -> bool:
    detail = event.detail if isinstance(event.detail, dict) else {}
    return isinstance(detail.get("resourceShareInvitationArn"), str)


def _principal_association(event: EventBridgeEvent) -> bool:
    """An event about an account principal, named by its ID or (as a share RAM made from a
    policy names it, the policy's form) by its `arn:aws:iam::<id>:root` ARN."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    entity = detail.get("associatedEntity")
    return isinstance(entity, str) and account_of(entity) is not None


def shares_failing_invitations(events: Sequence[EventBridgeEvent]) -> list[str]:
    """The ARNs of this account's shares whose principal association RAM's events report failed
    (RAM's pending-invitation quota, docs/aws-behaviour.md, RAM-QUOTA-INVITATIONS): their groups
    are tried again a minute later. Field names UNVERIFIED (docs/aws-behaviour.md, EVENT-RAM): an
    event without them names none, and the sweep invites again instead."""
    found: list[str] = []
    for event in events:
        if _principal_association(event) and is_ram_failure(event):
            found.extend(a for a in _arns(event) if (m := _SHARE_ARN.fullmatch(a)) and m.group(1) == event.account
                         and a not in found)
    return found


def is_ram_failure(event: EventBridgeEvent) -> bool:
    """Whether a RAM state change reports a failure (`detail.status`, one of the two documented
    fields; lower case in AWS's example pattern, compared case-insensitively)."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    return str(detail.get("status", "")).lower() == "failed"


class SweepTrigger(StrEnum):
    """What started a reconcile (either side's)."""

    SCHEDULE = "schedule"
    RAM = "ram"
    ALLOWLIST_CHANGE = "allowlist-change"


def require_sweep_trigger(event: EventBridgeEvent, allowlist_parameter: str, *,
                          allowlist_path: str = "") -> SweepTrigger:
    """A reconcile runs on a schedule, on a change of the allowlist (that parameter only, or in
    path mode a part directly under `allowlist_path`), or as a wake-up from RAM; returns which one."""
    if is_schedule(event):
        return SweepTrigger.SCHEDULE
    if event.source == RAM_SOURCE and event.detail_type == RAM_DETAIL_TYPE:
        return SweepTrigger.RAM
    if event.source == SSM_SOURCE and event.detail_type == SSM_DETAIL_TYPE:
        detail = event.detail if isinstance(event.detail, dict) else {}
        name = detail.get("name")
        if allowlist_path:
            if not is_directly_under(name, allowlist_path):
                raise UnsupportedEvent(f"parameter {name!r} is not directly under the allowlist path ({allowlist_path})")
            return SweepTrigger.ALLOWLIST_CHANGE
        owner, names = allowlist_change_names(allowlist_parameter)
        if not isinstance(name, str) or name not in names or (owner is not None and event.account != owner):
            raise UnsupportedEvent(f"parameter {name!r} of account {event.account} is not the "
                                   f"allowlist ({allowlist_parameter})")
        return SweepTrigger.ALLOWLIST_CHANGE
    raise UnsupportedEvent(f"not a reconcile trigger: {event.source} / {event.detail_type!r}")


def is_directly_under(name: Any, path: str) -> bool:
    """Whether a change event's parameter name (with or without its leading '/':
    docs/aws-behaviour.md, EVENT-SSM) is a parameter directly under `path`, where the parts are."""
    if not isinstance(name, str):
        return False
    below = ("/" + name.lstrip("/")).removeprefix("/" + path.strip("/") + "/")
    return below != "/" + name.lstrip("/") and bool(below) and "/" not in below
