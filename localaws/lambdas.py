"""Lambda, as it runs functions invoked asynchronously by EventBridge rules.

- Routing: an event on an account's default bus goes to every function of that account's stack
  with a rule pattern that matches it (moto's real EventBridge pattern matcher).
- Execution environments: each (account, function) gets its own import of the handler module and
  of the packages a Lambda artifact carries (modelshare, Powertools), made on the first
  invocation (a cold start) with the function's environment, so module-level clients, caches,
  loggers and metrics belong to it, as in Lambda. botocore stays shared: the local AWS hooks it.
- Asynchronous invocation: an error is retried MaximumRetryAttempts times (default 2), one
  minute and then two minutes later; then the event goes to the on-failure destination (SQS)
  in Lambda's destination record format.
- Time: inside an invocation `time.sleep` is the simulated clock's sleep, and running longer than
  the function's timeout fails the invocation.
"""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from unittest import mock

from moto.events.models import EventPattern
from moto.sqs.models import sqs_backends

from localaws.cloud import LocalCloud
from localaws.template import FunctionSpec, QueueSource, RenderedStack

# Lambda's documented waits between asynchronous attempts.
RETRY_DELAYS_SECONDS = (60, 120)
# EventBridge typically delivers within a second.
DELIVERY_DELAY_SECONDS = 1.0
# Packages imported afresh in each execution environment (what the layer ships).
ISOLATED_PACKAGES = ("modelshare", "aws_lambda_powertools")
# While an SQS queue holds only messages in flight (invisible), Lambda's pollers look again this
# often (they long-poll continuously; the exact period does not change what is delivered).
QUEUE_REPOLL_SECONDS = 10.0


@dataclass
class Invocation:
    account: str
    function: str
    request_id: str
    attempt: int
    started: str
    event: dict[str, Any]
    ok: bool = False
    result: Any = None
    error: str | None = None
    output: str = ""
    duration_seconds: float = 0.0  # simulated

    @property
    def events(self) -> list[dict[str, Any]]:
        """The EventBridge events the invocation carried: the event, or a queue batch's bodies."""
        if isinstance(self.event.get("Records"), list):
            return [json.loads(record["body"]) for record in self.event["Records"]]
        return [self.event]

    @property
    def log_records(self) -> list[dict[str, Any]]:
        """The structured (JSON) lines the invocation printed: Powertools logs and metrics."""
        records = []
        for line in self.output.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def metrics(self) -> dict[str, float]:
        """Metric name -> value from the invocation's CloudWatch EMF lines."""
        found: dict[str, float] = {}
        for record in self.log_records:
            for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
                for metric in directive.get("Metrics", []):
                    value = record.get(metric["Name"])
                    total = sum(value) if isinstance(value, list) else value
                    found[metric["Name"]] = found.get(metric["Name"], 0) + total
        return found


@dataclass
class DeployedFunction:
    account: str
    region: str
    spec: FunctionSpec
    patterns: list[EventPattern]
    module: ModuleType | None = None
    packages: dict[str, ModuleType] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"modelshare-{self.spec.logical_id}"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"


class _Output(io.TextIOBase):
    """Stands in for sys.stdout while any function runs. Loggers made inside an invocation keep
    a reference to it, so it routes each write to the invocation running now."""

    def __init__(self) -> None:
        self.target: io.StringIO | None = None

    def write(self, text: str) -> int:
        (self.target or sys.__stderr__).write(text)
        return len(text)

    def writable(self) -> bool:
        return True


_OUTPUT = _Output()

# Delivery hook for fault injection: returns how many copies of the event to deliver to the
# function (0 = lost, 2 = duplicated). The default delivers each event once.
DeliveryPolicy = Callable[[DeployedFunction, dict[str, Any]], int]


@dataclass
class QueueMapping:
    """An SQS event source mapping: Lambda's pollers take batches from the queue and invoke the
    function synchronously; a message the function does not finish comes back after the queue's
    visibility timeout, and goes to the dead-letter queue after maxReceiveCount receives."""

    function: DeployedFunction
    source: QueueSource
    poll_pending: bool = False

    @property
    def queue_name(self) -> str:
        return self.source.queue_arn.rsplit(":", 1)[1]


class LambdaService:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.functions: dict[str, list[DeployedFunction]] = {}
        # (account, region) -> [(pattern, queue ARN)]: standalone rules that target queues.
        self.queue_rules: dict[tuple[str, str], list[tuple[EventPattern, str]]] = {}
        self.mappings: dict[str, QueueMapping] = {}  # queue ARN -> its event source mapping
        self.invocations: list[Invocation] = []
        self.failures: list[dict[str, Any]] = []
        self.delivery_policy: DeliveryPolicy = lambda function, event: 1
        self.observers: list[Callable[[Invocation], None]] = []
        cloud.subscribe(self.route)
        cloud.queue_listeners.append(self.wake)

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
        for rule in stack.rules():
            pattern = EventPattern.load(json.dumps(rule.pattern))
            rules.extend((pattern, queue) for queue in rule.queue_arns)
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
            if function.region != region or not any(p.matches_event(event) for p in function.patterns):
                continue
            self._deliver(function, event, delay=DELIVERY_DELAY_SECONDS)
        for pattern, queue_arn in self.queue_rules.get((account, region), []):
            if not pattern.matches_event(event):
                continue
            # The delivery policy (fault injection) sees the function the queue feeds.
            mapping = self.mappings.get(queue_arn)
            for _ in range(self.delivery_policy(mapping.function, event) if mapping is not None else 1):
                self.cloud.clock.call_later(DELIVERY_DELAY_SECONDS, lambda q=queue_arn: self.enqueue(q, event),
                                            f"deliver {event['detail-type']} to {queue_arn}", internal=False)

    # -- SQS event sources --------------------------------------------------------------------
    @staticmethod
    def _queue(queue_arn: str) -> Any:
        _, _, _, region, account, name = queue_arn.split(":", 5)
        return sqs_backends[account][region], name

    def enqueue(self, queue_arn: str, event: dict[str, Any]) -> None:
        """EventBridge delivers the event to its SQS target (the body is the event's JSON)."""
        backend, name = self._queue(queue_arn)
        backend.send_message(name, json.dumps(event, default=str))
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
        messages = backend.receive_message(name, mapping.source.batch_size, 0, int(queue.visibility_timeout))
        if messages:
            self._invoke_batch(mapping, queue, messages)
        if queue._messages:  # moto keeps messages in flight there only
            visible = any(m.visible and not m.delayed for m in queue.messages)
            self._schedule_poll(mapping, 0.0 if visible else QUEUE_REPOLL_SECONDS)

    def _invoke_batch(self, mapping: QueueMapping, queue: Any, messages: list[Any]) -> None:
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
        invocation = self.invoke(function, {"Records": records})
        unfinished = {r["messageId"] for r in records}
        if invocation.ok:
            failures = invocation.result.get("batchItemFailures", []) if isinstance(invocation.result, dict) else []
            unfinished = {str(f.get("itemIdentifier")) for f in failures} if mapping.source.report_failures else set()
        _delete_finished(queue, {m.id for m in messages} - unfinished)
        last = int((queue.redrive_policy or {}).get("maxReceiveCount", 0))
        for message in messages:
            if message.id in unfinished and last and message.approximate_receive_count >= last:
                self.failures.append({"function": function.spec.logical_id, "account": function.account,
                                      "condition": "MaxReceiveCountExceeded", "messageId": message.id,
                                      "requestPayload": json.loads(message.body),
                                      "responsePayload": {"errorType": "BatchItemFailure" if invocation.ok else
                                                          (invocation.error or "").partition(":")[0],
                                                          "errorMessage": invocation.error or "reported as failed"}})

    def _deliver(self, function: DeployedFunction, event: dict[str, Any], delay: float) -> None:
        """An asynchronous invocation per copy the delivery policy lets through."""
        for _ in range(self.delivery_policy(function, event)):
            self._schedule(function, event, str(uuid.uuid4()), attempt=1, delay=delay)

    def _schedule(self, function: DeployedFunction, event: dict[str, Any], request_id: str,
                  attempt: int, delay: float) -> None:
        self.cloud.clock.call_later(
            delay, lambda: self._attempt(function, event, request_id, attempt),
            f"invoke {function.name} in {function.account} (attempt {attempt})", internal=False)

    def _attempt(self, function: DeployedFunction, event: dict[str, Any], request_id: str, attempt: int) -> None:
        invocation = self.invoke(function, event, request_id, attempt)
        if invocation.ok:
            return
        if attempt <= function.spec.max_retry_attempts:
            delay = RETRY_DELAYS_SECONDS[min(attempt - 1, len(RETRY_DELAYS_SECONDS) - 1)]
            self._schedule(function, event, request_id, attempt + 1, delay)
        else:
            self._send_to_destination(function, event, invocation)

    # -- one invocation ---------------------------------------------------------------------
    def invoke(self, function: DeployedFunction, event: dict[str, Any], request_id: str | None = None,
               attempt: int = 1) -> Invocation:
        clock = self.cloud.clock
        started = clock.now()
        invocation = Invocation(function.account, function.spec.logical_id, request_id or str(uuid.uuid4()),
                                attempt, started.isoformat(), event)
        payload = json.loads(json.dumps(event, default=str))  # what Lambda hands over is JSON
        buffer = io.StringIO()
        _capture_stdout_handlers()
        _OUTPUT.target = buffer
        self.cloud.caller = function.spec.logical_id
        try:
            with self._environment(function), mock.patch.object(time, "sleep", clock.sleep), \
                    mock.patch.object(sys, "stdout", _OUTPUT), _own_packages(function), \
                    warnings.catch_warnings():
                # Warnings go to the function's log, as Lambda's runtime sends stderr there.
                warnings.showwarning = lambda message, category, *_: buffer.write(
                    json.dumps({"level": "WARNING", "message": str(message), "category": category.__name__}) + "\n")
                module = function.module or self._cold_start(function)
                handler = getattr(module, function.spec.handler.rpartition(".")[2])
                context = _Context(function, invocation.request_id, started, clock)
                with _simulated_cache_clock(clock):
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
            _OUTPUT.target = None
            self.cloud.caller = None
        invocation.output = buffer.getvalue()
        self.invocations.append(invocation)
        for observer in self.observers:
            observer(invocation)
        return invocation

    def _cold_start(self, function: DeployedFunction) -> ModuleType:
        module_file, _, _ = function.spec.handler.rpartition(".")
        path = function.spec.code_dir / f"{module_file}.py"
        name = f"_localaws_fn_{function.account}_{function.spec.logical_id}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function.module = module
        function.packages = {n: m for n, m in sys.modules.items() if _is_isolated(n)}
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

    def _send_to_destination(self, function: DeployedFunction, event: dict[str, Any], last: Invocation) -> None:
        error_type, _, message = (last.error or "").partition(": ")
        record = {
            "version": "1.0",
            "timestamp": self.cloud.clock.now().isoformat(),
            "requestContext": {"requestId": last.request_id, "functionArn": f"{function.arn}:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": last.attempt},
            "requestPayload": json.loads(json.dumps(event, default=str)),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": error_type, "errorMessage": message},
        }
        self.failures.append({"function": function.spec.logical_id, "account": function.account, **record})
        destination = function.spec.on_failure
        if destination and destination.startswith("arn:aws:sqs:"):
            sqs = self.cloud.session(function.account, function.region).client("sqs")
            url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
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


def _is_isolated(module_name: str) -> bool:
    return module_name.partition(".")[0] in ISOLATED_PACKAGES


@contextmanager
def _own_packages(function: DeployedFunction) -> Iterator[None]:
    """Give the execution environment its own copies of the isolated packages for the duration
    of an invocation (a cold start imports them afresh), then put the host's back."""
    host = {n: m for n, m in sys.modules.items() if _is_isolated(n)}
    for name in host:
        del sys.modules[name]
    sys.modules.update(function.packages)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _is_isolated(n)]:
            del sys.modules[name]
        sys.modules.update(host)


# Modules that read the wall clock to expire caches: within an invocation they read the
# simulated clock instead, so a cache age (POWERTOOLS_PARAMETERS_MAX_AGE) means simulated seconds.
_CACHE_CLOCK_MODULES = ("aws_lambda_powertools.utilities.parameters.base",)


@contextmanager
def _simulated_cache_clock(clock: Any) -> Iterator[None]:
    class SimulatedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            now = clock.now()
            return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

    with ExitStack() as stack:
        for name in _CACHE_CLOCK_MODULES:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "datetime", None) is datetime.datetime:
                stack.enter_context(mock.patch.object(module, "datetime", SimulatedDatetime))
        yield


def _capture_stdout_handlers() -> None:
    """Loggers configured before the first invocation (by an import elsewhere in this process)
    hold the real stdout: point them at the invocation output too."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stdout__, sys.stdout):
                handler.setStream(_OUTPUT)


class _Context:
    """The parts of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function: DeployedFunction, request_id: str, started: Any, clock: Any) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = 256
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{request_id}"
        self._deadline = started.timestamp() + function.spec.timeout_seconds
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now().timestamp()) * 1000))
