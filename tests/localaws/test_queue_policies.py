"""The local SQS evaluates a queue's policy for the calls that send to it, as SQS does
(docs/aws-behaviour.md, SQS-QUEUE-POLICY): an explicit Deny refuses anyone; a caller of the
queue's account needs an Allow in its identity policy or in the queue policy, another account's
caller both, an AWS service the queue policy's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localaws.runtime.cloud import LocalCloud

OWNER, OTHER, REGION = "111122223333", "777788889999", "eu-west-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{OWNER}:work"
RULE_ARN = f"arn:aws:events:{REGION}:{OWNER}:rule/feeds-work"
FUNCTION_ROLE = f"arn:aws:iam::{OWNER}:role/worker-role"


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        cloud.add_account(OTHER)
        yield cloud


def sqs(cloud: LocalCloud, account: str = OWNER) -> Any:
    return cloud.session(account, REGION).client("sqs")


def queue(cloud: LocalCloud, *statements: dict[str, Any]) -> str:
    url: str = sqs(cloud).create_queue(QueueName="work")["QueueUrl"]
    if statements:
        sqs(cloud).set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)})})
    return url


def refused(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value


ONLY_THE_WORKER = {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN,
                   "Condition": {"ArnNotEquals": {"aws:PrincipalArn": FUNCTION_ROLE}}}


def test_an_explicit_deny_in_the_queue_policy_refuses_a_person_as_sqs_words_it(cloud):
    url = queue(cloud, ONLY_THE_WORKER)
    error = refused(sqs(cloud).send_message, QueueUrl=url, MessageBody="{}")
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Message"] == f"Access to the resource https://sqs.{REGION}.amazonaws.com/ is denied."
    batch = refused(sqs(cloud).send_message_batch, QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "{}"}])
    assert batch.response["Error"]["Code"] == "AccessDenied", "SendMessageBatch is authorized as SendMessage"
    assert sqs(cloud).get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert [(c.operation, c.error_code) for c in cloud.calls if c.operation.startswith("SendMessage")] == [
        ("SendMessage", "AccessDenied"), ("SendMessageBatch", "AccessDenied")]


def test_the_queue_account_s_caller_needs_an_allow_in_one_policy_another_account_s_in_both(cloud):
    url = queue(cloud)
    sqs(cloud).send_message(QueueUrl=url, MessageBody="{}")  # a person of the account: its own rights (not modelled)
    assert refused(sqs(cloud, OTHER).send_message, QueueUrl=url, MessageBody="{}").response["Error"]["Code"] == \
        "AccessDenied", "another account, and no queue policy names it"
    queue(cloud, {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sqs:SendMessage", "Resource": QUEUE_ARN})
    sqs(cloud, OTHER).send_message(QueueUrl=url, MessageBody="{}")


def test_a_function_role_is_let_in_by_its_own_policy_or_the_queue_s_and_refused_by_a_deny_in_either(cloud):
    url = queue(cloud, ONLY_THE_WORKER)
    cloud.iam.attach(OWNER, "Worker", "worker-role", "worker", [])  # no identity Allow
    cloud.iam.attach(OWNER, "Stranger", "stranger-role", "stranger",
                     [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}])
    client = sqs(cloud)

    def as_function(function: str | None) -> None:
        cloud.caller = function

    try:
        as_function("Worker")
        # Nothing allows it and the queue denies it nothing: refused as IAM words it.
        assert refused(client.send_message, QueueUrl=url, MessageBody="{}").response["Error"]["Code"] == \
            "AccessDeniedException"
        as_function(None)
        queue(cloud, {"Effect": "Allow", "Principal": {"AWS": FUNCTION_ROLE}, "Action": "sqs:SendMessage",
                      "Resource": QUEUE_ARN}, ONLY_THE_WORKER)
        as_function("Worker")
        client.send_message(QueueUrl=url, MessageBody="{}")  # the queue policy's Allow is enough in its account
        as_function("Stranger")
        assert refused(client.send_message, QueueUrl=url, MessageBody="{}").response["Error"]["Code"] == \
            "AccessDenied", "its own Allow on '*' does not beat the queue's Deny"
    finally:
        cloud.caller = None


def test_an_aws_service_needs_the_queue_policy_s_allow_for_its_source(cloud):
    queue(cloud)
    assert not cloud.queue_admits_service(QUEUE_ARN, "events.amazonaws.com", RULE_ARN), "no policy: a service is refused"
    url = queue(cloud, {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
                        "Resource": QUEUE_ARN, "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARN}}},
                {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN,
                 "Condition": {"ArnNotEquals": {"aws:SourceArn": RULE_ARN}}})
    assert cloud.queue_admits_service(QUEUE_ARN, "events.amazonaws.com", RULE_ARN)
    assert not cloud.queue_admits_service(QUEUE_ARN, "events.amazonaws.com", RULE_ARN + "-another")
    assert refused(sqs(cloud).send_message, QueueUrl=url, MessageBody="{}").response["Error"]["Code"] == \
        "AccessDenied", "a person has no aws:SourceArn: ArnNotEquals holds"


def test_setting_other_attributes_keeps_the_queue_policy(cloud):
    url = queue(cloud, ONLY_THE_WORKER)
    sqs(cloud).set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60"})
    policy = sqs(cloud).get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(policy)["Statement"] == [ONLY_THE_WORKER]
    assert refused(sqs(cloud).send_message, QueueUrl=url, MessageBody="{}").response["Error"]["Code"] == "AccessDenied"
