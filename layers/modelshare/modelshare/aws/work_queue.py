"""The sweep's work queue in SQS (the WorkQueue port)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3

from modelshare.aws import CLIENT_CONFIG

# SendMessageBatch takes 10 messages of up to 256 KiB in all (sqs/service-2.json).
_BATCH = 10


class SqsWorkQueue:
    def __init__(self, session: boto3.session.Session, queue_url: str) -> None:
        self._client = session.client("sqs", config=CLIENT_CONFIG)
        self.queue_url = queue_url

    def send(self, items: Sequence[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        for start in range(0, len(items), _BATCH):
            entries = [{"Id": str(n), "MessageBody": json.dumps(item, separators=(",", ":")),
                        "DelaySeconds": delay_seconds} for n, item in enumerate(items[start:start + _BATCH])]
            failed = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed", [])
            if failed:  # the sweep fails and runs again: no item is lost
                raise RuntimeError(f"SQS refused {len(failed)} work item(s): {failed[0].get('Message', '')}")
