"""Where moto's SQS differs from SQS, mended while the local AWS runs (runtime/cloud.py patches
them in): SetQueueAttributes keeps a queue's policy, and the retention check reads one attribute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def keeping_policy(set_attributes: Callable[..., None]) -> Callable[..., None]:
    def keeping(queue: Any, attributes: dict[str, Any], now: Any = None) -> None:
        policy = getattr(queue, "policy", None)
        set_attributes(queue, attributes, *(() if now is None else (now,)))
        if "Policy" not in attributes:
            queue.policy = policy

    return keeping


def within_retention(now: Callable[[], float]) -> Callable[[Any, str, Any], bool]:
    """moto's retention check, reading the one attribute it needs (the same answer), at `now`."""

    def within(backend: Any, queue_name: str, message: Any) -> bool:
        retention = int(getattr(backend.get_queue(queue_name), "message_retention_period", 345600))
        return bool(retention + message.sent_timestamp / 1000 > now())

    return within
