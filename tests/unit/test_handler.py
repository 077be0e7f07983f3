"""What every function's handler does around its work: Powertools' correlation id from the
EventBridge event, the cold-start metric, and unsupported events dropped, logged and counted."""

from __future__ import annotations

import io
import json

import pytest

from modelshare import handler as handlers
from modelshare.events import UnsupportedEvent

EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Scheduled Event",
         "source": "aws.events", "account": "111122223333", "time": "2026-01-05T09:00:00Z",
         "region": "eu-west-1", "resources": [], "detail": {}}


class Context:
    function_name = "modelshare-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111122223333:function:modelshare-test"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/modelshare-test"
    log_stream_name = "local"


def records(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def namespace(monkeypatch):
    # As the template's Globals set them (POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME).
    monkeypatch.setattr(handlers.metrics.provider, "namespace", "modelshare")
    monkeypatch.setattr(handlers.metrics.provider, "service", "modelshare")
    monkeypatch.setattr("aws_lambda_powertools.metrics.provider.cold_start.is_cold_start", True)


def test_logs_carry_the_event_id_as_correlation_id_and_the_first_run_counts_a_cold_start(capsys, namespace):
    seen: list[str | None] = []

    def work(batch, context):
        seen.append(handlers.logger.get_correlation_id())
        return {"events": len(batch)}

    handle = handlers.eventbridge_handler(None)(work)
    assert handle(EVENT, Context()) == {"events": 1}
    metrics = records(capsys.readouterr().out)
    assert [r["function_name"] for r in metrics if "ColdStart" in r] == ["modelshare-test"]
    batch = {"Records": [{"body": json.dumps({**EVENT, "id": "second"})}, {"body": json.dumps(EVENT)}]}
    assert handle(batch, Context()) == {"events": 2}
    assert seen == [EVENT["id"], "second"], "the event's id; a queue batch's first"
    assert not any("ColdStart" in r for r in records(capsys.readouterr().out)), "only the first run is cold"


def test_an_unsupported_event_is_dropped_logged_and_counted(capsys, namespace):
    def work(batch, context):
        raise UnsupportedEvent("not for this function")

    result = handlers.eventbridge_handler(None)(work)(EVENT, Context())
    assert result == {"action": "ignored", "reason": "not for this function"}
    assert [r["EventsIgnored"] for r in records(capsys.readouterr().out) if "EventsIgnored" in r] == [[1.0]]


def test_an_sqs_body_nested_deeper_than_json_decodes_is_dropped_logged_and_counted(capsys, namespace):
    """Regression (issue 9 fuzzing): json's RecursionError on such a body escaped the handler (an
    invocation failure, retried to the failure queue) instead of the record being dropped."""
    handle = handlers.eventbridge_handler(None)(lambda batch, context: {"events": len(batch)})
    batch = {"Records": [{"body": "[" * 100_000}, {"body": json.dumps(EVENT)}]}
    assert handle(batch, Context()) == {"events": 1}
    assert [r["EventsIgnored"] for r in records(capsys.readouterr().out) if "EventsIgnored" in r] == [[1.0]]


def test_an_event_with_a_lone_surrogate_is_still_logged(capsys, namespace):
    """Regression (issue 9 fuzzing): a JSON "\\udcff" escape in an event decodes to a lone
    surrogate, which UTF-8 cannot carry: on a strict stdout, as a pipe's is, every log line naming
    the event (its id, the reason it was refused) was lost. It is written as the escape instead."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    previous = handlers.logger.registered_handler.setStream(stream)
    try:
        def work(batch, context):
            raise UnsupportedEvent(f"not for this function: {batch[0].source}")

        handlers.eventbridge_handler(None)(work)({**EVENT, "id": "id-\udcff", "source": "aws.\udcff"}, Context())
    finally:
        handlers.logger.registered_handler.setStream(previous)
    logged = [json.loads(line) for line in stream.buffer.getvalue().decode("utf-8").splitlines()]
    ignored = [r for r in logged if r["message"] == "Event ignored"]
    assert [(r["reason"], r["event_ids"]) for r in ignored] == [("not for this function: aws.\udcff", ["id-\udcff"])]


def test_a_run_that_counts_nothing_publishes_and_warns_nothing(capsys, namespace, recwarn):
    """Powertools warns "No application metrics to publish" after every run that added none: in
    Lambda's logs and in these tests, for runs where nothing is wrong (a quiet sweep)."""
    handle = handlers.eventbridge_handler(None)(lambda batch, context: {"events": len(batch)})
    assert handle(EVENT, Context()) == {"events": 1}
    handle(EVENT, Context())
    assert [str(w.message) for w in recwarn] == []
    assert [r for r in records(capsys.readouterr().out) if "_aws" in r and "ColdStart" not in r] == []


def test_a_run_that_counts_publishes_its_metrics(capsys, namespace, recwarn):
    def work(batch, context):
        handlers.metrics.add_metric(name="GroupsShared", unit="Count", value=2)
        return {}

    handlers.eventbridge_handler(None)(work)(EVENT, Context())
    published = [r for r in records(capsys.readouterr().out) if "GroupsShared" in r]
    assert [r["GroupsShared"] for r in published] == [[2.0]]
    assert [str(w.message) for w in recwarn] == []
