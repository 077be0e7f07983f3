"""Invocations overlap in simulated time as on AWS, within the template's concurrency settings
(docs/aws-behaviour.md, LAMBDA-CONCURRENCY): an SQS mapping's MaximumConcurrency, a function's
ReservedConcurrentExecutions, the account's concurrency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from localaws.harness.deployment import Deployment
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import Invocation

ACCOUNT, REGION = "111122223333", "eu-west-1"
FUNCTION_CODE = Path(__file__).parent / "concurrent_function"
READ_WORK = {"Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}]}
# Each invocation runs a little over 30 simulated seconds (three reads ten seconds apart).
TEMPLATE = f"""
Parameters:
  Role:
    Type: String
    Default: both
Resources:
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 300
  QueueWorker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {FUNCTION_CODE}
      Handler: app.handler
      Timeout: 60
      Policies: [{json.dumps(READ_WORK)}]
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 1
            ScalingConfig:
              MaximumConcurrency: 2
  SerialWorker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {FUNCTION_CODE}
      Handler: app.handler
      Timeout: 60
      ReservedConcurrentExecutions: 1
      Policies: [{json.dumps(READ_WORK)}]
      Events:
        Work:
          Type: EventBridgeRule
          Properties:
            Pattern: {{"source": ["test.work"]}}
"""


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    with LocalCloud() as cloud:
        deployed = Deployment(cloud, REGION, template)
        deployed.install(ACCOUNT)
        yield deployed


def send_work(deployment: Deployment, *names: str) -> None:
    ssm, sqs = deployment.client(ACCOUNT, "ssm"), deployment.client(ACCOUNT, "sqs")
    url = sqs.get_queue_url(QueueName="modelshare-WorkQueue")["QueueUrl"]
    for name in names:
        ssm.put_parameter(Name=f"/work/{name}", Value=name, Type="String")
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"name": name}))


def emit_work(deployment: Deployment, *names: str) -> None:
    for name in names:
        deployment.client(ACCOUNT, "ssm").put_parameter(Name=f"/work/{name}", Value=name, Type="String")
        deployment.cloud.emit(ACCOUNT, REGION, "test.work", "Work", {"name": name})


def runs_of(deployment: Deployment, function: str) -> list[Invocation]:
    return sorted((i for i in deployment.lambdas.invocations if i.function == function), key=lambda i: i.started)


def span(invocation: Invocation) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(invocation.started)
    return start, start + timedelta(seconds=invocation.duration_seconds)


def work_reads(deployment: Deployment) -> list[tuple[str, str]]:
    """(time, work item) of each parameter read the functions made, in the order they were made."""
    return [(c.time, str(c.params["Name"]).removeprefix("/work/")) for c in deployment.cloud.calls
            if c.caller is not None and c.operation == "GetParameter"]


def test_a_mapping_runs_up_to_its_maximum_concurrency_batches_at_once_and_the_next_waits(deployment):
    send_work(deployment, "a", "b", "c")
    deployment.settle()

    first, second, third = runs_of(deployment, "QueueWorker")
    assert all(run.ok for run in (first, second, third))
    assert span(second)[0] < span(first)[1] and span(first)[0] < span(second)[1], "the first two overlap"
    assert span(third)[0] >= min(span(first)[1], span(second)[1]), "the third waits for a free slot"
    for run in (first, second, third):
        assert run.result["remaining_ms"] == pytest.approx(60_000 - run.duration_seconds * 1000, abs=1)


def test_overlapping_invocations_get_their_own_environments_and_an_idle_one_is_reused(deployment):
    send_work(deployment, "a", "b", "c")
    deployment.settle()

    first, second, third = runs_of(deployment, "QueueWorker")
    assert (first.environment, first.cold_start, first.result["run"]) == (1, True, 1)
    assert (second.environment, second.cold_start, second.result["run"]) == (2, True, 1)
    assert third.environment in (1, 2) and not third.cold_start
    assert third.result["run"] == 2, "the reused environment kept its module state"


def test_reserved_concurrency_of_one_runs_invocations_one_after_another(deployment):
    emit_work(deployment, "a", "b", "c")
    deployment.settle()

    runs = runs_of(deployment, "SerialWorker")
    assert len(runs) == 3 and all(run.ok for run in runs)
    for earlier, later in pairwise(runs):
        assert span(later)[0] >= span(earlier)[1]
    assert len(deployment.lambdas.throttles) >= 2, "the events over the reservation were throttled first"
    assert {run.environment for run in runs} == {1}
    assert deployment.lambdas.failures == []


def test_an_event_throttled_for_six_hours_goes_to_the_on_failure_destination_untried(deployment):
    serial = next(f for f in deployment.lambdas.functions[ACCOUNT] if f.spec.logical_id == "SerialWorker")
    serial.spec = replace(serial.spec, reserved_concurrency=0)  # the function is switched off
    start = deployment.cloud.clock.now()
    emit_work(deployment, "a")
    deployment.settle()

    assert runs_of(deployment, "SerialWorker") == []
    failure, = deployment.lambdas.failures
    assert failure["requestContext"]["condition"] == "EventAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert failure["responsePayload"]["errorType"] == "TooManyRequestsException"
    waited = deployment.cloud.clock.now() - start
    assert timedelta(hours=5, minutes=55) <= waited <= timedelta(hours=6)


def test_a_batch_over_the_account_concurrency_comes_back_after_the_visibility_timeout(deployment):
    deployment.lambdas.account_concurrency = 2  # SerialWorker reserves one of them
    send_work(deployment, "a", "b")
    deployment.settle()

    first, second = runs_of(deployment, "QueueWorker")
    assert span(second)[0] - span(first)[0] >= timedelta(seconds=300), "throttled, then visible again"
    assert [function for _, _, function in deployment.lambdas.throttles] == ["QueueWorker"]


def test_calls_of_overlapping_invocations_interleave_in_time_order(deployment):
    send_work(deployment, "a", "b")
    deployment.settle()

    reads = work_reads(deployment)
    assert [item for _, item in reads] == ["a", "b"] * 3
    assert [when for when, _ in reads] == sorted(when for when, _ in reads)


def test_the_same_scenario_makes_the_same_calls_at_the_same_times(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    sequences = []
    for _ in range(2):
        with LocalCloud() as cloud:
            deployment = Deployment(cloud, REGION, template)
            deployment.install(ACCOUNT)
            send_work(deployment, "a", "b", "c")
            emit_work(deployment, "d", "e")
            deployment.settle()
            sequences.append([(c.time, c.caller, c.operation, c.params.get("Name")) for c in cloud.calls])
    assert len(sequences[0]) > 20
    assert sequences[0] == sequences[1]


def test_a_mapping_allowed_fewer_than_two_batches_at_once_is_refused(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.replace("MaximumConcurrency: 2", "MaximumConcurrency: 1"))
    with LocalCloud() as cloud, pytest.raises(ValueError, match="MaximumConcurrency must be 2 to 1,000"):
        Deployment(cloud, REGION, template).install(ACCOUNT)
