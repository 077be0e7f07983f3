"""What the local AWS changes in botocore and moto while it runs: their clocks are the simulated
one (botocore's adaptive retry bucket waits on it), identifiers come from the run's seed, moto's
SQS is mended where it differs from SQS, and (speed only) model files and folders are read once."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

import botocore.loaders
import botocore.retries.bucket
from moto.sqs import models as moto_sqs

from localaws.core.clock import SimClock
from localaws.services.sqs.moto_fixes import keeping_policy, within_retention


def acquire_on_clock(bucket: Any, amount: float, block: bool) -> bool:
    """botocore's TokenBucket._acquire, sleeping through its clock (the simulated one inside an
    invocation) instead of waiting on a condition variable in real time."""
    bucket._refill()
    if amount <= bucket._current_capacity:
        bucket._current_capacity -= amount
        return True
    if not block:
        raise botocore.retries.bucket.CapacityNotAvailableError()
    sleep_amount = bucket._sleep_amount(amount)
    while sleep_amount > 0:
        bucket._clock.sleep(sleep_amount)
        bucket._refill()
        sleep_amount = bucket._sleep_amount(amount)
    bucket._current_capacity -= amount
    return True


def cached_load_file(load_file: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    cache: dict[str, Any] = {}

    def cached(loader: Any, file_path: str) -> Any:
        if file_path not in cache:
            cache[file_path] = load_file(loader, file_path)
        return cache[file_path]

    return cached


def cached_listing(list_services: Callable[..., Any]) -> Callable[..., Any]:
    """Speed only, like the model file cache: the service folders do not change during a run."""
    cache: dict[tuple[tuple[str, ...], str], Any] = {}

    def cached(loader: Any, type_name: str) -> Any:
        key = (tuple(loader.search_paths), type_name)
        if key not in cache:
            cache[key] = list_services(loader, type_name)
        return list(cache[key])

    return cached


def patch_botocore_and_moto(stack: ExitStack, clock: SimClock, uuids: random.Random) -> None:
    """Put botocore and moto on the simulated clock (and the seeded identifiers) until `stack` closes."""
    # Patched by name (mock.patch.object): these replace methods and module functions of
    # botocore and moto, which their types rightly do not allow.
    patch = stack.enter_context
    # Speed only: every execution environment builds its own boto3 session, as in Lambda, and
    # botocore would re-read the (large) service model files for each. Read each file once.
    loader = botocore.loaders.JSONFileLoader
    patch(mock.patch.object(loader, "load_file", cached_load_file(loader.load_file)))
    patch(mock.patch.object(botocore.loaders.Loader, "list_available_services",
                            cached_listing(botocore.loaders.Loader.list_available_services)))
    # moto's SQS reads the time for delays, visibility timeouts and retention: make it the
    # simulated clock's, so a message in flight comes back when simulated time says so.
    patch(mock.patch.object(moto_sqs, "unix_time", lambda *_: clock.now().timestamp()))
    patch(mock.patch.object(moto_sqs, "unix_time_millis", lambda *_: clock.now().timestamp() * 1000))
    # SetQueueAttributes changes the attributes it is given; moto also clears a queue's
    # policy when the call names none: keep it.
    patch(mock.patch.object(moto_sqs.Queue, "_set_attributes", keeping_policy(moto_sqs.Queue._set_attributes)))
    # Speed only: moto checks a message's retention by computing every attribute of its queue
    # (counting all messages) for each message it receives, quadratic for a big batch.
    patch(mock.patch.object(moto_sqs.SQSBackend, "is_message_valid_based_on_retention_period",
                            within_retention(lambda: clock.now().timestamp())))
    # botocore's adaptive retry mode paces a client by the time it reads here: the simulated
    # clock's (its sleeps are time.sleep, the simulated clock's inside an invocation).
    patch(mock.patch.object(botocore.retries.bucket.Clock, "current_time", lambda _clock: clock.now().timestamp()))
    # ... and waits on a condition variable, in real time: wait on the simulated clock instead.
    patch(mock.patch.object(botocore.retries.bucket.TokenBucket, "_acquire", acquire_on_clock))
    patch(mock.patch.object(uuid, "uuid4", lambda: uuid.UUID(int=uuids.getrandbits(128), version=4)))
