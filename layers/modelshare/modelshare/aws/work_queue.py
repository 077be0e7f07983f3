"""The sweep's work queue in SQS (the WorkQueue port), and its wire format: what a work item
says (`work_item`) and how a worker reads one (`group_of_item`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelshare import policy as policies
from modelshare.aws import client

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

# SendMessageBatch takes 10 messages of up to 256 KiB in all (sqs/service-2.json). Items go
# several to a message (SWEEP_PACKAGE), up to about 10 KB (some 25 groups) each: fewer calls,
# and SQS bills per 64 KB chunk anyway.
_BATCH = 10
# SQS delays a message by at most 15 minutes (DelaySeconds, sqs/service-2.json).
LONGEST_DELAY_SECONDS = 900
_DELAYED: QueueAttributeNameType = "ApproximateNumberOfMessagesDelayed"
_WAITING: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", _DELAYED)
_PACKAGE_BYTES = 10_000
# A sweep work item: one group to converge (where to look, never what RAM holds); a queue
# message carries several in a package.
SWEEP_ITEM = "modelshare.sweep-group"
SWEEP_PACKAGE = "modelshare.sweep-groups"


class NamedGroup(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...


@dataclass(frozen=True)
class WorkItem:
    """What a work item names: a group (its name and ARN), and how many times RAM's quota
    refused it. Nothing is known of it yet: the worker reads every fact it acts on."""

    name: str
    arn: str
    attempt: int = 1


def work_item(group: NamedGroup, attempt: int = 1) -> dict[str, Any]:
    """What the sweep hands a worker about a group: where to look (its name and ARN) and how
    many times RAM's quota refused it. Nothing RAM said: anyone who may send to the queue could
    write an item, so the worker reads every fact it acts on."""
    return {"kind": SWEEP_ITEM, "attempt": attempt, "group": group.name, "arn": group.arn}


def group_of_item(item: Any) -> WorkItem:
    """The group a work item names and its attempt number; ValueError when the item is not one
    the sweep wrote: each field of the type `work_item` writes (nothing converted, so a null or
    a number never stands for a name), the ARN that of the group named. Any other field (the
    shares an older version wrote) is never read: a message only points."""
    try:
        if item["kind"] != SWEEP_ITEM:
            raise ValueError(f"not a sweep work item: {item['kind']!r}")
        attempt = item["attempt"]
        if type(attempt) is not int:
            raise ValueError(f"the attempt is a {type(attempt).__name__}, not a whole number")
        found = WorkItem(_text(item["group"]), _text(item["arn"]), attempt)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"malformed sweep work item: {error!r}") from None
    if policies.group_name_of(found.arn, found.arn.split(":")[4] if found.arn.count(":") >= 5 else "") != found.name:
        raise ValueError(f"malformed sweep work item: {found.arn[:300]} is not group {found.name[:100]}")
    return found


class SqsWorkQueue:
    def __init__(self, session: boto3.session.Session, queue_url: str) -> None:
        self._session = session
        self.queue_url = queue_url

    @functools.cached_property
    def _client(self) -> SQSClient:
        """Made on first use: most runs hand nothing to the queue, and a client is milliseconds
        of a cold start."""
        return client(self._session, "sqs")

    def send(self, items: Sequence[dict[str, Any]], *, delay_seconds: int = 0, pace_seconds: int = 0) -> None:
        bodies = _packages(items)
        for start in range(0, len(bodies), _BATCH):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(n), "MessageBody": body,
                 "DelaySeconds": min(LONGEST_DELAY_SECONDS, delay_seconds + (start + n) * pace_seconds)}
                for n, body in enumerate(bodies[start:start + _BATCH])]
            failed = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed", [])
            if failed:  # the sweep fails and runs again: no item is lost
                raise RuntimeError(f"SQS refused {len(failed)} work message(s): {failed[0].get('Message', '')}")

    def waiting(self) -> int:
        return self._count(_WAITING)

    def delayed(self) -> int:
        return self._count((_DELAYED,))

    def _count(self, names: tuple[QueueAttributeNameType, ...]) -> int:
        # SQS's approximate counts (eventually consistent, within about a minute: SQS-DELAYED-COUNT).
        attributes = self._client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=list(names))
        counts = attributes.get("Attributes", {})
        return sum(int(counts.get(name, 0)) for name in names)


def _packages(items: Sequence[dict[str, Any]]) -> list[str]:
    bodies: list[str] = []
    package: list[str] = []
    size = 0
    for item in items:
        text = json.dumps(item, separators=(",", ":"))
        if package and size + len(text) > _PACKAGE_BYTES:
            bodies.append(_package(package))
            package, size = [], 0
        package.append(text)
        size += len(text) + 1
    if package:
        bodies.append(_package(package))
    return bodies


def _package(items: list[str]) -> str:
    return f'{{"kind":"{SWEEP_PACKAGE}","items":[{",".join(items)}]}}'


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a string expected, not {type(value).__name__}")
    return value
