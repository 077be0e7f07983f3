"""The sweep's work queue in SQS (the WorkQueue port)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3

from modelshare.aws import client
from modelshare.convergence import SWEEP_PACKAGE

if TYPE_CHECKING:
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
