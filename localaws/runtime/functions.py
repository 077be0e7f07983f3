"""What Lambda holds of each deployed function: its execution environments, its SQS event source
mappings, the events waiting in its asynchronous queue, and the record of each invocation."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from moto.events.models import EventPattern

from localaws.runtime.template import FunctionSpec, QueueSource

# An SQS mapping without ScalingConfig processes up to 1,000 batches at once. Lambda starts at
# five and adds up to 300 a minute; that ramp is not emulated: more overlap is the stricter reading.
DEFAULT_QUEUE_CONCURRENCY = 1000


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
    environment: int = 0  # which execution environment of the function ran it, numbered from 1
    cold_start: bool = False

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
                    value = record.get(metric["Name"], 0)
                    total: float = sum(value) if isinstance(value, list) else value
                    found[metric["Name"]] = found.get(metric["Name"], 0) + total
        return found


@dataclass
class ExecutionEnvironment:
    """Its own import of the handler and of the isolated packages, made by its cold start."""

    number: int
    module: ModuleType | None = None
    packages: dict[str, ModuleType] = field(default_factory=dict)
    # botocore's session initializers as this environment's imports left them (Powertools
    # registers one when imported): None until its cold start.
    botocore_initializers: list[Callable[..., None]] | None = None
    busy: bool = False


@dataclass
class DeployedFunction:
    account: str
    region: str
    spec: FunctionSpec
    patterns: list[EventPattern]
    environments: list[ExecutionEnvironment] = field(default_factory=list)

    @property
    def running(self) -> int:
        """Invocations in flight: each holds an environment."""
        return sum(1 for environment in self.environments if environment.busy)

    def take_environment(self) -> ExecutionEnvironment:
        """An idle environment (the longest-lived first), or a new one, which will cold start."""
        environment = next((e for e in self.environments if not e.busy), None)
        if environment is None:
            environment = ExecutionEnvironment(len(self.environments) + 1)
            self.environments.append(environment)
        environment.busy = True
        return environment

    @property
    def name(self) -> str:
        return f"modelshare-{self.spec.logical_id}"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"


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
    batches_in_flight: int = 0

    @property
    def queue_name(self) -> str:
        return self.source.queue_arn.rsplit(":", 1)[1]

    @property
    def concurrency(self) -> int:
        return self.source.maximum_concurrency or DEFAULT_QUEUE_CONCURRENCY


@dataclass
class AsyncEvent:
    """An event in Lambda's asynchronous queue for one function."""

    function: DeployedFunction
    event: dict[str, Any]
    request_id: str
    queued: datetime.datetime
    throttles: int = 0
