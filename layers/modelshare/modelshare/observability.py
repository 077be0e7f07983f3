"""Powertools Logger and Metrics, configured from the POWERTOOLS_* environment; the Tracer only
when tracing is on."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider


def _log_line(record: dict[str, Any]) -> str:
    """Powertools' JSON (non-ASCII kept readable), except that a lone surrogate, which a JSON
    "\\udcff" escape in an event decodes to, stays that escape: UTF-8 cannot carry it, and a strict
    stdout would drop the whole line, with the reason an event was refused."""
    line = json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False)
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


class _QuietWhenEmpty(AmazonCloudWatchEMFProvider):
    """Powertools' CloudWatch metrics, without its "No application metrics to publish" warning
    after a run that counted nothing: a quiet run (nothing to change) is not a fault, and the
    warning would fill Lambda's logs with one line per such run."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if self.metric_set or raise_on_empty_metrics:
            super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)


logger = Logger(json_serializer=_log_line)
metrics = Metrics(provider=_QuietWhenEmpty())


def tracing_enabled() -> bool:
    """Powertools' own switch (POWERTOOLS_TRACE_DISABLED), and only inside Lambda."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("true", "1")
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


def traced[F: Callable[..., Any]](handler: F) -> F:
    """The handler under the Powertools Tracer when tracing is on. Otherwise the Tracer is not
    even built: building it imports aws_xray_sdk, about 200 ms of a cold start."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer  # only when tracing is on

    # Powertools types the decorated handler loosely (Callable[..., Any]); it wraps `handler`
    # with functools.wraps, taking and returning what it does.
    return cast("F", Tracer().capture_lambda_handler(handler))


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def gauge(name: str, value: float, unit: MetricUnit, dimensions: dict[str, str]) -> None:
    """One value with dimensions of its own (Powertools' single_metric: written at once), in the
    namespace of the others. The admin CLI replaces this function to keep a terminal clean."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Modelshare"
    with single_metric(name=name, unit=unit, value=value, namespace=namespace, default_dimensions=dimensions):
        pass
