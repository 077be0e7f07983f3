"""The local AWS's Parameter Store sharing through RAM (SSM-SHARED) and SNS topics (SNS-TOPIC-POLICY,
SNS-SQS-DELIVERY), as a central allowlist uses them (docs/central-allowlist.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import CONSUMER, OTHER, OWNER, REGION

from localaws.services.organizations.api import OrganizationModel

ORG = "o-exampleorg1"
NAME = "/modelshare/allowlist"
ARN = f"arn:aws:ssm:{REGION}:{OWNER}:parameter{NAME}"


def organization(aws: Any) -> OrganizationModel:
    model = OrganizationModel(ORG, OWNER, ram_sharing_enabled=True)
    model.move_account(CONSUMER)  # OTHER stays outside
    aws.cloud.registry.state.organization = model
    return model


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def shared_parameter(aws: Any, tier: str = "Advanced") -> str:
    aws.client("ssm").put_parameter(Name=NAME, Value='{"version": 1, "shares": []}', Type="String", Tier=tier)
    share = aws.ram().create_resource_share(name="allowlist", resourceArns=[ARN], principals=[organization(aws).arn],
                                            allowExternalPrincipals=False)
    return str(share["resourceShare"]["resourceShareArn"])


def test_a_member_reads_a_shared_parameter_by_its_arn_and_history_and_no_one_else_does(aws):
    shared_parameter(aws)
    aws.client("ssm").put_parameter(Name=NAME, Value='{"version": 1, "shares": [ ]}', Type="String", Overwrite=True)
    parameter = aws.client("ssm", CONSUMER).get_parameter(Name=ARN)["Parameter"]
    assert (parameter["Value"], parameter["Version"]) == ('{"version": 1, "shares": [ ]}', 2)
    history = aws.client("ssm", CONSUMER).get_parameter_history(Name=ARN)["Parameters"]
    assert [v["Version"] for v in history] == [1, 2]
    for account in (OTHER,):  # outside the organization the share names
        with pytest.raises(ClientError) as refused:
            aws.client("ssm", account).get_parameter(Name=ARN)
        assert code(refused) == "AccessDeniedException"
    with pytest.raises(ClientError) as by_name:  # a name is always this account's own parameter
        aws.client("ssm", CONSUMER).get_parameter(Name=NAME)
    assert code(by_name) == "ParameterNotFound"


def test_only_an_advanced_tier_parameter_can_be_shared(aws):
    with pytest.raises(ClientError) as refused:
        shared_parameter(aws, tier="Standard")
    assert code(refused) == "InvalidParameterException"


def test_an_unshared_parameter_is_unreadable_and_its_change_events_stay_with_its_owner(aws):
    share = shared_parameter(aws)
    aws.ram().delete_resource_share(resourceShareArn=share)
    with pytest.raises(ClientError) as refused:
        aws.client("ssm", CONSUMER).get_parameter(Name=ARN)
    assert code(refused) == "AccessDeniedException"
    aws.client("ssm").put_parameter(Name=NAME, Value="{}", Type="String", Overwrite=True)
    changes = [(account, e["detail"]["name"]) for account, e in aws.events if e["source"] == "aws.ssm"]
    assert changes and {account for account, _ in changes} == {OWNER}


def topic_with_policy(aws: Any) -> str:
    organization(aws)
    sns = aws.client("sns")
    topic = str(sns.create_topic(Name="changes")["TopicArn"])
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
         "Resource": topic, "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:events:{REGION}:{OWNER}:rule/r"}}},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe", "Resource": topic,
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG, "sns:Protocol": "sqs"}}}]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return topic


def queue(aws: Any, account: str, topic: str) -> str:
    sqs = aws.client("sqs", account)
    url = sqs.create_queue(QueueName="changes")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{account}:changes"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
         "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    return arn


def test_an_organization_account_subscribes_its_queue_and_an_outsider_is_refused(aws):
    topic = topic_with_policy(aws)
    aws.client("sns", CONSUMER).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue(aws, CONSUMER, topic),
                                          Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as refused:
        aws.client("sns", OTHER).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue(aws, OTHER, topic))
    assert code(refused) == "AuthorizationError"


def test_a_rule_publishes_only_when_the_topic_admits_it_and_delivery_is_asynchronous(aws):
    topic = topic_with_policy(aws)
    aws.client("sns", CONSUMER).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue(aws, CONSUMER, topic),
                                          Attributes={"RawMessageDelivery": "true"})
    event = {"source": "aws.ssm", "detail-type": "Parameter Store Change", "detail": {"name": NAME}}
    topics = aws.cloud.topics
    topics.publish_from_rule(topic, f"arn:aws:events:{REGION}:{OWNER}:rule/other", event)
    assert topics.undelivered and topics.undelivered[0][1].endswith("rule/other")
    topics.publish_from_rule(topic, f"arn:aws:events:{REGION}:{OWNER}:rule/r", event)
    assert topics.delivered == 0, "not delivered at once"
    aws.clock.run_until(aws.clock.now() + timedelta(seconds=topics.delivery_delay_seconds))
    sqs = aws.client("sqs", CONSUMER)
    messages = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="changes")["QueueUrl"])["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [event], "raw delivery: the event itself"
