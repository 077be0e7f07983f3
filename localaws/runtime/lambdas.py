"""Lambda, as it runs functions invoked asynchronously by EventBridge rules.

- Routing: an event on an account's default bus goes to every function of that account's stack
  with a rule pattern that matches it (moto's real EventBridge pattern matcher).
- Execution environments: an environment has its own import of the handler module and of the
  packages a Lambda artifact carries (modelshare, Powertools), made by its first invocation (a
  cold start) with the function's environment, so module-level clients, caches, loggers and
  metrics belong to it, as in Lambda. It serves one invocation at a time: an invocation that
  overlaps another of the same function gets another environment (another cold start); idle ones
  are reused. botocore stays shared: the local AWS hooks it.
- Concurrency: each invocation runs in a strand of the simulated clock (localaws/core/clock.py), so
  invocations overlap in simulated time and their AWS calls interleave in time order, as they
  compete for rate limits and race each other's writes on AWS. An SQS mapping runs at most its
  `MaximumConcurrency` batches at once, a function at most its `ReservedConcurrentExecutions`,
  an account at most `account_concurrency` (docs/aws-behaviour.md, LAMBDA-CONCURRENCY).
- Asynchronous invocation: an error is retried MaximumRetryAttempts times (default 2), one
  minute and then two minutes later; then the event goes to the on-failure destination (SQS)
  in Lambda's destination record format. A throttled event waits and is tried again.
- Time: inside an invocation `time.sleep` is the simulated clock's sleep, and running longer than
  the function's timeout fails the invocation.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import os
import re
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO, cast
from unittest import mock

from moto.events.models import EventPattern
from moto.moto_api._internal import mock_random as moto_random
from moto.sqs import models as moto_sqs
from moto.sqs.models import sqs_backends

from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import (
    AsyncEvent,
    DeliveryPolicy,
    DeployedFunction,
    ExecutionEnvironment,
    Invocation,
    QueueMapping,
)
from localaws.runtime.lambda_process import (
    OUTPUT,
    InvocationProcessState,
    LambdaContext,
    capture_stdout_handlers,
    isolated_modules,
    own_packages,
    simulated_cache_clock,
)
from localaws.runtime.template import RenderedStack

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

# Lambda's documented waits between asynchronous attempts.
RETRY_DELAYS_SECONDS = (60, 120)
# EventBridge typically delivers within a second.
DELIVERY_DELAY_SECONDS = 1.0
# While an SQS queue holds only messages in flight (invisible), Lambda's pollers look again this
# often (they long-poll continuously; the exact period does not change what is delivered).
QUEUE_REPOLL_SECONDS = 10.0
# Lambda's default concurrency quota, per account and Region (docs/aws-behaviour.md, LAMBDA-CONCURRENCY).
DEFAULT_ACCOUNT_CONCURRENCY = 1000
# A throttled asynchronous event is tried again 1 second later, the wait doubling up to 5 minutes,
# until it is older than the maximum event age (6 hours by default); it then goes to the on-failure
# destination. Throttles do not use up the function's retry attempts.
THROTTLED_RETRY_FIRST_SECONDS = 1.0
THROTTLED_RETRY_LONGEST_SECONDS = 300.0
MAXIMUM_EVENT_AGE_SECONDS = 6 * 3600.0


def _matches(pattern: EventPattern, event: dict[str, Any]) -> bool:
    # moto types the event it matches as its own TypedDict of an EventBridge event: this one.
    return pattern.matches_event(cast("EventMessageType", event))


class LambdaService:
    def __init__(self, cloud: LocalCloud, account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY) -> None:
        self.cloud = cloud
        self.account_concurrency = account_concurrency
        self.functions: dict[str, list[DeployedFunction]] = {}
        # (account, region) -> [(pattern, queue ARN, rule ARN)]: standalone rules that target queues.
        self.queue_rules: dict[tuple[str, str], list[tuple[EventPattern, str, str]]] = {}
        self.mappings: dict[str, QueueMapping] = {}  # queue ARN -> its event source mapping
        # (account, region) -> [(pattern, topic ARN, rule ARN)]: standalone rules that target SNS topics.
        self.topic_rules: dict[tuple[str, str], list[tuple[EventPattern, str, str]]] = {}
        self.invocations: list[Invocation] = []
        self.failures: list[dict[str, Any]] = []
        self.delivery_policy: DeliveryPolicy = lambda function, event: 1
        self.observers: list[Callable[[Invocation], None]] = []
        # Events a rule could not deliver to its queue, refused by the queue's policy:
        # (rule ARN, queue ARN, event).
        self.refused_deliveries: list[tuple[str, str, dict[str, Any]]] = []
        # Invocations refused for want of concurrency: (time, account, function logical ID).
        self.throttles: list[tuple[str, str, str]] = []
        cloud.subscribe(self.route)
        cloud.queue_listeners.append(self.wake)
        if not any(isinstance(state, InvocationProcessState) for state in cloud.clock.process_state):
            cloud.clock.process_state.append(InvocationProcessState())

    def deploy(self, stack: RenderedStack) -> list[DeployedFunction]:
        deployed = [
            DeployedFunction(stack.account, stack.region, spec,
                             [EventPattern.load(json.dumps(p)) for p in spec.patterns])
            for spec in stack.functions()
        ]
        self.functions.setdefault(stack.account, []).extend(deployed)
        for function in deployed:
            for rule, expression in function.spec.schedules:
                self._start_schedule(function, rule, rate_seconds(expression))
            for source in function.spec.queue_sources:
                self.mappings[source.queue_arn] = QueueMapping(function, source)
        rules = self.queue_rules.setdefault((stack.account, stack.region), [])
        for queue_rule in stack.rules():
            pattern = EventPattern.load(json.dumps(queue_rule.pattern))
            rule_arn = f"arn:aws:events:{stack.region}:{stack.account}:rule/{stack.physical_name(queue_rule.logical_id)}"
            rules.extend((pattern, queue, rule_arn) for queue in queue_rule.queue_arns)
            self.topic_rules.setdefault((stack.account, stack.region), []).extend(
                (pattern, topic, rule_arn) for topic in queue_rule.topic_arns)
        return deployed

    def _start_schedule(self, function: DeployedFunction, rule: str, period: float) -> None:
        """A scheduled rule sends its target an "aws.events" Scheduled Event every period. The
        timer does not keep the system busy: quiescence does not wait for the next tick."""

        def tick() -> None:
            event = {
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                "source": "aws.events", "account": function.account,
                "time": self.cloud.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "region": function.region,
                "resources": [f"arn:aws:events:{function.region}:{function.account}:rule/modelshare-{function.spec.logical_id}{rule}"],
                "detail": {},
            }
            self._deliver(function, event, delay=0)
            self.cloud.clock.call_later(period, tick, f"schedule {rule} of {function.name}", internal=False, timer=True)

        self.cloud.clock.call_later(period, tick, f"schedule {rule} of {function.name}", internal=False, timer=True)

    # -- routing ----------------------------------------------------------------------------
    def route(self, account: str, region: str, event: dict[str, Any]) -> None:
        for function in self.functions.get(account, []):
            if function.region != region or not any(_matches(p, event) for p in function.patterns):
                continue
            self._deliver(function, event, delay=DELIVERY_DELAY_SECONDS)
        for pattern, topic_arn, rule_arn in self.topic_rules.get((account, region), []):
            if _matches(pattern, event):  # SNS delivers to its subscribers (localaws/services/sns/topics.py)
                self.cloud.topics.publish_from_rule(topic_arn, rule_arn, event)
        for pattern, queue_arn, rule_arn in self.queue_rules.get((account, region), []):
            if not _matches(pattern, event):
                continue
            if not self.cloud.queue_admits_service(queue_arn, "events.amazonaws.com", rule_arn):
                # EventBridge sends as its service principal for the rule: the queue's policy must
                # allow it (docs/aws-behaviour.md, SQS-QUEUE-POLICY). Refused, the event is not
                # delivered (EventBridge does not retry a permission error); recorded for tests.
                self.refused_deliveries.append((rule_arn, queue_arn, event))
                continue
            # The delivery policy (fault injection) sees the function the queue feeds.
            mapping = self.mappings.get(queue_arn)
            for _ in range(self.delivery_policy(mapping.function, event) if mapping is not None else 1):
                self.cloud.clock.call_later(DELIVERY_DELAY_SECONDS, functools.partial(self.enqueue, queue_arn, event),
                                            f"deliver {event['detail-type']} to {queue_arn}", internal=False)

    # -- SQS event sources --------------------------------------------------------------------
    @staticmethod
    def _queue(queue_arn: str) -> Any:
        _, _, _, region, account, name = queue_arn.split(":", 5)
        return sqs_backends[account][region], name

    def enqueue(self, queue_arn: str, event: dict[str, Any]) -> None:
        """EventBridge delivers the event to its SQS target (the body is the event's JSON)."""
        backend, name = self._queue(queue_arn)
        queue = backend.get_queue(name)
        body = json.dumps(event, default=str)
        if queue.fifo_queue or len(body) > int(queue.maximum_message_size):
            backend.send_message(name, body)  # moto's own checks and deduplication (or its error)
        else:
            # Speed only: moto's send_message computes every attribute of the queue (counting all
            # its messages) to read one that only FIFO queues have, quadratic for a burst of
            # thousands of events. The same steps for a standard queue, without that.
            message = moto_sqs.Message(str(moto_random.uuid4()), body)
            message.mark_sent(delay_seconds=int(queue.delay_seconds))
            queue.add_message(message)
        self.wake(queue_arn)

    def wake(self, queue_arn: str) -> None:
        """A message arrived: the poller collects a batch for up to the batching window, or at
        once when a full batch is waiting."""
        mapping = self.mappings.get(queue_arn)
        if mapping is None or mapping.poll_pending:
            return
        backend, name = self._queue(queue_arn)
        visible = sum(1 for m in backend.get_queue(name).messages if m.visible and not m.delayed)
        delay = 0.0 if visible >= mapping.source.batch_size else mapping.source.window_seconds
        self._schedule_poll(mapping, delay)

    def _schedule_poll(self, mapping: QueueMapping, delay: float) -> None:
        mapping.poll_pending = True
        self.cloud.clock.call_later(delay, lambda: self._poll(mapping),
                                    f"poll {mapping.queue_name} for {mapping.function.name}", internal=False)

    def _poll(self, mapping: QueueMapping) -> None:
        mapping.poll_pending = False
        backend, name = self._queue(mapping.source.queue_arn)
        queue = backend.get_queue(name)
        if mapping.batches_in_flight < mapping.concurrency:
            messages = backend.receive_message(name, mapping.source.batch_size, 0, int(queue.visibility_timeout))
            if messages:
                self._invoke_batch(mapping, queue, messages)
        self._poll_again(mapping)

    def _poll_again(self, mapping: QueueMapping) -> None:
        """While the queue holds messages and the mapping may run another batch: at once for
        visible messages, a little later for messages in flight. A mapping running all the
        batches it may polls again when one ends."""
        if mapping.poll_pending or mapping.batches_in_flight >= mapping.concurrency:
            return
        backend, name = self._queue(mapping.source.queue_arn)
        queue = backend.get_queue(name)
        if queue._messages:  # moto keeps messages in flight there only
            visible = any(m.visible and not m.delayed for m in queue.messages)
            self._schedule_poll(mapping, 0.0 if visible else QUEUE_REPOLL_SECONDS)

    def _invoke_batch(self, mapping: QueueMapping, queue: Any, messages: list[Any]) -> None:
        """Run the function on the batch in a strand of its own, or refuse it for want of
        concurrency: the mapping's pollers do not account for the function's reserved concurrency
        (docs/aws-behaviour.md, LAMBDA-CONCURRENCY), so a throttled batch stays in flight and comes
        back after the visibility timeout, its receive count used up (the stricter reading)."""
        function = mapping.function
        now_ms = str(int(self.cloud.clock.now().timestamp() * 1000))
        records = [{
            "messageId": m.id, "receiptHandle": m.receipt_handle, "body": m.body,
            "attributes": {"ApproximateReceiveCount": str(m.approximate_receive_count),
                           "SentTimestamp": str(m.sent_timestamp), "SenderId": "AIDAEVENTBRIDGE",
                           "ApproximateFirstReceiveTimestamp": now_ms},
            "messageAttributes": {}, "md5OfBody": m.body_md5, "eventSource": "aws:sqs",
            "eventSourceARN": mapping.source.queue_arn, "awsRegion": function.region,
        } for m in messages]
        if not self._has_room(function):
            self._throttle(function)
            self._end_batch(mapping, queue, messages, None)
            return
        mapping.batches_in_flight += 1

        def run() -> None:
            invocation = self.invoke(function, {"Records": records})
            mapping.batches_in_flight -= 1
            self._end_batch(mapping, queue, messages, invocation)
            self._poll_again(mapping)

        self.cloud.clock.spawn(run, f"{function.name} in {function.account} on {len(messages)} messages")

    def _end_batch(self, mapping: QueueMapping, queue: Any, messages: list[Any], invocation: Invocation | None) -> None:
        """Delete what the invocation finished (None: it was throttled); record the messages that
        used up their receives (they go to the dead-letter queue)."""
        unfinished = {m.id for m in messages}
        if invocation is not None and invocation.ok:
            failures = invocation.result.get("batchItemFailures", []) if isinstance(invocation.result, dict) else []
            unfinished = {str(f.get("itemIdentifier")) for f in failures} if mapping.source.report_failures else set()
        _delete_finished(queue, {m.id for m in messages} - unfinished)
        error = _THROTTLED if invocation is None else invocation.error
        last = int((queue.redrive_policy or {}).get("maxReceiveCount", 0))
        for message in messages:
            if message.id in unfinished and last and message.approximate_receive_count >= last:
                self.failures.append({"function": mapping.function.spec.logical_id, "account": mapping.function.account,
                                      "timestamp": self.cloud.clock.now().isoformat(),
                                      "condition": "MaxReceiveCountExceeded", "messageId": message.id,
                                      "requestPayload": json.loads(message.body),
                                      "responsePayload": {"errorType": (error or "BatchItemFailure").partition(":")[0],
                                                          "errorMessage": error or "reported as failed"}})

    # -- concurrency ------------------------------------------------------------------------
    def _has_room(self, function: DeployedFunction) -> bool:
        """Whether the function may start another invocation: below its reserved concurrency, or,
        without one, below what the account's concurrency leaves after the reservations."""
        if function.spec.reserved_concurrency is not None:
            return function.running < function.spec.reserved_concurrency
        neighbours = [f for f in self.functions.get(function.account, []) if f.region == function.region]
        reserved = sum(f.spec.reserved_concurrency or 0 for f in neighbours)
        unreserved_running = sum(f.running for f in neighbours if f.spec.reserved_concurrency is None)
        return unreserved_running < self.account_concurrency - reserved

    def _throttle(self, function: DeployedFunction) -> None:
        self.throttles.append((self.cloud.clock.now().isoformat(), function.account, function.spec.logical_id))

    def _deliver(self, function: DeployedFunction, event: dict[str, Any], delay: float) -> None:
        """An asynchronous invocation per copy the delivery policy lets through."""
        for _ in range(self.delivery_policy(function, event)):
            queued = AsyncEvent(function, event, str(uuid.uuid4()), self.cloud.clock.now())
            self._schedule(queued, attempt=1, delay=delay)

    def _schedule(self, queued: AsyncEvent, attempt: int, delay: float) -> None:
        function = queued.function
        self.cloud.clock.call_later(
            delay, lambda: self._attempt(queued, attempt),
            f"invoke {function.name} in {function.account} (attempt {attempt})", internal=False)

    def _attempt(self, queued: AsyncEvent, attempt: int) -> None:
        function = queued.function
        if not self._has_room(function):
            # Throttled: Lambda puts the event back and tries again on its own schedule, not as soon
            # as a slot frees, and drops it when it is too old: the stricter of the readings of
            # docs/aws-behaviour.md, LAMBDA-CONCURRENCY.
            self._throttle(function)
            wait = min(THROTTLED_RETRY_FIRST_SECONDS * 2 ** queued.throttles, THROTTLED_RETRY_LONGEST_SECONDS)
            queued.throttles += 1
            age = (self.cloud.clock.now() - queued.queued).total_seconds()
            if age + wait > MAXIMUM_EVENT_AGE_SECONDS:
                self._send_to_destination(queued, attempt - 1, "EventAgeExceeded", _THROTTLED)
            else:
                self._schedule(queued, attempt, wait)
            return

        def run() -> None:
            invocation = self.invoke(function, queued.event, queued.request_id, attempt)
            if invocation.ok:
                return
            if attempt <= function.spec.max_retry_attempts:
                delay = RETRY_DELAYS_SECONDS[min(attempt - 1, len(RETRY_DELAYS_SECONDS) - 1)]
                self._schedule(queued, attempt + 1, delay)
            else:
                self._send_to_destination(queued, attempt, "RetriesExhausted", invocation.error or "")

        self.cloud.clock.spawn(run, f"{function.name} in {function.account} ({queued.request_id}, attempt {attempt})")

    # -- one invocation ---------------------------------------------------------------------
    def invoke(self, function: DeployedFunction, event: dict[str, Any], request_id: str | None = None,
               attempt: int = 1) -> Invocation:
        clock = self.cloud.clock
        started = clock.now()
        environment = function.take_environment()
        invocation = Invocation(function.account, function.spec.logical_id, request_id or str(uuid.uuid4()),
                                attempt, started.isoformat(), event, environment=environment.number,
                                cold_start=environment.module is None)
        payload = json.loads(json.dumps(event, default=str))  # what Lambda hands over is JSON
        buffer = io.StringIO()
        capture_stdout_handlers(function.spec.environment.get("POWERTOOLS_SERVICE_NAME"))
        OUTPUT.target = buffer
        self.cloud.caller = function.spec.logical_id
        self.cloud.invocation = f"{invocation.request_id}#{attempt}"
        try:
            with self._environment(function), mock.patch.object(time, "sleep", clock.sleep), \
                    mock.patch.object(sys, "stdout", OUTPUT), own_packages(environment), \
                    warnings.catch_warnings():
                # Warnings go to the function's log, as Lambda's runtime sends stderr there.
                def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                                 file: TextIO | None = None, line: str | None = None) -> None:
                    buffer.write(json.dumps({"level": "WARNING", "message": str(message),
                                             "category": category.__name__}) + "\n")

                warnings.showwarning = show_warning
                module = environment.module or self._cold_start(function, environment)
                handler = getattr(module, function.spec.handler.rpartition(".")[2])
                context = LambdaContext(function, invocation.request_id, started, clock)
                with simulated_cache_clock(clock):
                    invocation.result = handler(payload, context)
            elapsed = invocation.duration_seconds = (clock.now() - started).total_seconds()
            if elapsed > function.spec.timeout_seconds:
                raise TimeoutError(f"Task timed out after {function.spec.timeout_seconds:.2f} seconds")
            invocation.ok = True
        except Exception as error:
            invocation.error = f"{type(error).__name__}: {error}"
            buffer.write(json.dumps({"level": "ERROR", "message": "Invocation failed",
                                     "errorType": type(error).__name__, "errorMessage": str(error),
                                     "stackTrace": traceback.format_exception(error)[-3:]}) + "\n")
        finally:
            invocation.duration_seconds = (clock.now() - started).total_seconds()
            OUTPUT.target = None
            self.cloud.caller = self.cloud.invocation = None
            environment.busy = False
        invocation.output = buffer.getvalue()
        self.invocations.append(invocation)
        for observer in self.observers:
            observer(invocation)
        return invocation

    def _cold_start(self, function: DeployedFunction, environment: ExecutionEnvironment) -> ModuleType:
        module_file, _, _ = function.spec.handler.rpartition(".")
        path = function.spec.code_dir / f"{module_file}.py"
        name = f"_localaws_fn_{function.account}_{function.spec.logical_id}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        environment.module = module
        environment.packages = isolated_modules()
        return module

    @contextmanager
    def _environment(self, function: DeployedFunction) -> Iterator[None]:
        """The variables Lambda sets, the template's, and the account's credentials; nothing from
        the host's AWS configuration leaks in."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MODELSHARE_"))}
        env.update(function.spec.environment)
        env.update(self.cloud.credentials(function.account))
        env.update({
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            # No X-Ray daemon runs locally; the template's Tracing setting is not emulated.
            "POWERTOOLS_TRACE_DISABLED": "true",
        })
        with mock.patch.dict(os.environ, env, clear=True):
            yield

    def _send_to_destination(self, queued: AsyncEvent, attempts: int, condition: str, error: str) -> None:
        function = queued.function
        error_type, _, message = error.partition(": ")
        record = {
            "version": "1.0",
            "timestamp": self.cloud.clock.now().isoformat(),
            "requestContext": {"requestId": queued.request_id, "functionArn": f"{function.arn}:$LATEST",
                               "condition": condition, "approximateInvokeCount": attempts},
            "requestPayload": json.loads(json.dumps(queued.event, default=str)),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": error_type, "errorMessage": message},
        }
        self.failures.append({"function": function.spec.logical_id, "account": function.account, **record})
        destination = function.spec.on_failure
        if destination and destination.startswith("arn:aws:sqs:"):
            sqs = self.cloud.harness_session(function.account, function.region).client("sqs")
            url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))


# How a throttled invocation fails (Lambda's 429).
_THROTTLED = "TooManyRequestsException: Rate Exceeded."

_RATE = re.compile(r"rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _delete_finished(queue: Any, message_ids: set[str]) -> None:
    """What the poller does with a batch's finished messages: deletes them, in one pass over the
    queue (moto's DeleteMessage scans the queue for each message: quadratic for big batches)."""
    kept = []
    for message in queue._messages:
        if message.id in message_ids:
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
        else:
            kept.append(message)
    queue._messages = kept


def rate_seconds(expression: str) -> float:
    """Seconds between runs of an EventBridge `rate(...)` expression (cron is not emulated)."""
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise ValueError(f"unsupported schedule expression {expression!r}: use rate(N minute(s)|hour(s)|day(s))")
    value, unit = int(match.group(1)), match.group(2).rstrip("s")
    if value < 1:
        raise ValueError(f"invalid rate expression {expression!r}: the value must be positive")
    if (value == 1) != (not match.group(2).endswith("s")):
        raise ValueError(f"invalid rate expression {expression!r}: 1 takes a singular unit, more a plural one")
    return float(value * _UNIT_SECONDS[unit])


