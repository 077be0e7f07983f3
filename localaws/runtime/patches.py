"""What the local AWS changes in botocore and moto while it runs: their clocks are the simulated
one (botocore's adaptive retry bucket waits on it), identifiers come from the run's seed, moto's
SQS is mended where it differs from SQS, and (speed only) model files and folders are read once
per process, and botocore's handler checks, event aliases and client methods remembered."""

from __future__ import annotations

import random
import uuid
import weakref
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

import botocore.client
import botocore.hooks
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


# Speed only, for the whole process (the files do not change while it runs): each test's
# LocalCloud would otherwise parse the large service models again.
_MODEL_FILES: dict[str, Any] = {}
_SERVICE_LISTINGS: dict[tuple[tuple[str, ...], str], Any] = {}
_EVENT_ALIASES: dict[str, str] = {}
_CLIENT_METHODS: dict[tuple[str, str], dict[str, Any]] = {}
_ACCEPTS_KWARGS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def cached_load_file(load_file: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def cached(loader: Any, file_path: str) -> Any:
        if file_path not in _MODEL_FILES:
            _MODEL_FILES[file_path] = load_file(loader, file_path)
        return _MODEL_FILES[file_path]

    return cached


def cached_listing(list_services: Callable[..., Any]) -> Callable[..., Any]:
    """Speed only, like the model file cache: the service folders do not change during a run."""
    def cached(loader: Any, type_name: str) -> Any:
        key = (tuple(loader.search_paths), type_name)
        if key not in _SERVICE_LISTINGS:
            _SERVICE_LISTINGS[key] = list_services(loader, type_name)
        return list(_SERVICE_LISTINGS[key])

    return cached


def shared_alias_names(init: Callable[..., None]) -> Callable[..., None]:
    """botocore's EventAliaser caches the aliased form of each event name per emitter, and every
    session and client builds emitters afresh (hundreds per test): share one cache among the
    emitters that use botocore's own aliases (the name maps to the same alias in each)."""
    def patched(aliaser: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        init(aliaser, event_emitter, event_aliases)
        if aliaser._event_aliases == botocore.hooks.EVENT_ALIASES:
            aliaser._alias_name_cache = _EVENT_ALIASES

    return patched


def cached_accepts_kwargs(accepts_kwargs: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """botocore checks that each handler it registers takes **kwargs (inspect.getfullargspec, for
    every one of a session's ~100 built-in handlers): remember the answer per function."""
    def cached(func: Any) -> Any:  # the name of the **kwargs parameter, or None
        key = getattr(func, "__func__", func)  # a bound method: its function decides
        try:
            return _ACCEPTS_KWARGS[key]
        except KeyError:
            answer = _ACCEPTS_KWARGS[key] = accepts_kwargs(func)
            return answer
        except TypeError:  # not weakly referable: ask each time
            return accepts_kwargs(func)

    return cached


def shared_client_methods(create_methods: Callable[[Any, Any], dict[str, Any]]) -> Callable[[Any, Any], dict[str, Any]]:
    """botocore makes a method per operation (some 400 for SageMaker) for every client's class;
    they depend only on the service's model. Make them once per service and give each class a
    copy of the set: the class itself is still made per client, with the creating-client-class
    handlers of the client's own session (boto3's add methods to some clients, botocore's none)."""
    def cached(creator: Any, service_model: Any) -> dict[str, Any]:
        key = (service_model.service_name, service_model.api_version)
        if key not in _CLIENT_METHODS:
            _CLIENT_METHODS[key] = create_methods(creator, service_model)
        return dict(_CLIENT_METHODS[key])

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
    patch(mock.patch.object(botocore.hooks.EventAliaser, "__init__", shared_alias_names(botocore.hooks.EventAliaser.__init__)))
    patch(mock.patch.object(botocore.hooks, "accepts_kwargs", cached_accepts_kwargs(botocore.hooks.accepts_kwargs)))
    creator = botocore.client.ClientCreator
    patch(mock.patch.object(creator, "_create_methods",
                            shared_client_methods(creator._create_methods)))  # type: ignore[attr-defined]  # private in the stubs
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
