"""EventBridge PutEvents across accounts on a LocalCloud: the receiving bus's policy decides,
entry by entry (docs/aws-behaviour.md, EVENTS-CROSS-ACCOUNT)."""

from __future__ import annotations

import json

from conftest import CONSUMER, OTHER, OWNER, REGION

BUS = "modelshare-versions"
BUS_ARN = f"arn:aws:events:{REGION}:{CONSUMER}:event-bus/{BUS}"


def entry(bus: str = BUS_ARN, source: str = "modelshare", detail: object = None) -> dict[str, str]:
    return {"EventBusName": bus, "Source": source, "DetailType": "Model Version Approved",
            "Detail": json.dumps(detail if detail is not None else {"group": "churn-model"})}


def consumer_bus(aws) -> None:
    aws.client("events", CONSUMER).create_event_bus(Name=BUS)


def test_an_admitted_owner_reaches_the_consumer_bus(aws):
    consumer_bus(aws)
    aws.client("events", CONSUMER).put_permission(EventBusName=BUS, Action="events:PutEvents", Principal=OWNER,
                                                  StatementId="modelshare-owner-" + OWNER)
    answer = aws.client("events", OWNER).put_events(Entries=[entry()])
    assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]
    arrived = aws.cloud.event_buses.on(CONSUMER, BUS)
    assert [e["account"] for e in arrived] == [OWNER]
    assert arrived[0]["detail"] == {"group": "churn-model"} and arrived[0]["source"] == "modelshare"
    assert arrived[0]["id"] == answer["Entries"][0]["EventId"]


def test_an_account_the_policy_does_not_name_is_refused_entry_by_entry(aws):
    consumer_bus(aws)
    aws.client("events", CONSUMER).put_permission(EventBusName=BUS, Action="events:PutEvents", Principal=OWNER,
                                                  StatementId="modelshare-owner-" + OWNER)
    forged = aws.client("events", OTHER).put_events(Entries=[entry()])
    assert forged["FailedEntryCount"] == 1
    assert forged["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    mixed = aws.client("events", OWNER).put_events(Entries=[
        entry(), entry(bus=f"arn:aws:events:{REGION}:{OTHER}:event-bus/{BUS}")])
    assert mixed["FailedEntryCount"] == 1
    assert "EventId" in mixed["Entries"][0] and mixed["Entries"][1]["ErrorCode"] == "AccessDeniedException"
    assert [e["account"] for e in aws.cloud.event_buses.on(CONSUMER, BUS)] == [OWNER]


def test_a_bus_without_a_policy_takes_nothing_from_other_accounts_and_removal_ends_it(aws):
    consumer_bus(aws)
    assert aws.client("events", OWNER).put_events(Entries=[entry()])["FailedEntryCount"] == 1
    events = aws.client("events", CONSUMER)
    events.put_permission(EventBusName=BUS, Action="events:PutEvents", Principal=OWNER, StatementId="owner")
    assert aws.client("events", OWNER).put_events(Entries=[entry()])["FailedEntryCount"] == 0
    events.remove_permission(EventBusName=BUS, StatementId="owner")
    assert aws.client("events", OWNER).put_events(Entries=[entry()])["Entries"][0]["ErrorCode"] == \
        "AccessDeniedException"
    assert len(aws.cloud.event_buses.on(CONSUMER, BUS)) == 1


def test_a_policy_condition_on_the_source_is_evaluated(aws):
    consumer_bus(aws)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "OwnerModelshareOnly", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
        "Action": "events:PutEvents", "Resource": BUS_ARN,
        "Condition": {"StringEquals": {"events:source": "modelshare"}}}]}
    aws.client("events", CONSUMER).put_permission(EventBusName=BUS, Policy=json.dumps(policy))
    assert aws.client("events", OWNER).put_events(Entries=[entry()])["FailedEntryCount"] == 0
    refused = aws.client("events", OWNER).put_events(Entries=[entry(source="aws.sagemaker.fake")])
    assert refused["Entries"][0]["ErrorCode"] == "AccessDeniedException"


def test_own_bus_by_name_needs_no_policy_and_a_missing_one_is_not_found(aws):
    consumer_bus(aws)
    assert aws.client("events", CONSUMER).put_events(Entries=[entry(bus=BUS)])["FailedEntryCount"] == 0
    missing = aws.client("events", CONSUMER).put_events(Entries=[entry(bus="nope")])
    assert missing["Entries"][0]["ErrorCode"] == "ResourceNotFoundException"
    malformed = aws.client("events", CONSUMER).put_events(Entries=[{**entry(bus=BUS), "Detail": "[1]"}])
    assert malformed["Entries"][0]["ErrorCode"] == "MalformedDetail"


def test_put_to_the_default_bus_reaches_the_account_s_rules(aws):
    aws.client("events", OWNER).put_events(Entries=[entry(bus="default")])
    assert [e["source"] for a, e in aws.events if a == OWNER] == ["modelshare"]


def test_the_sender_s_identity_policy_conditions_on_source_and_detail_type_are_evaluated_per_entry():
    from localaws.services.events import buses
    from localaws.services.iam.authorizer import evaluate

    identity = [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS_ARN, "Condition": {
        "StringEquals": {"events:source": "modelshare", "events:detail-type": ["Model Version Approved"]}}}]
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": OWNER}, "Action": "events:PutEvents",
                                        "Resource": BUS_ARN}]})
    other_type = {**entry(), "DetailType": "Model Version Rejected"}
    answer = buses.put_events(
        account=OWNER, region=REGION, entries=[entry(), entry(source="pipelines"), other_type],
        now="2026-12-06T00:00:00Z", bus_policy=lambda bus: policy,
        identity_allows=lambda bus, context: evaluate(identity, "events:PutEvents", bus.arn, context).allowed,
        deliver=lambda delivered: None)
    assert [r.get("ErrorCode") for r in answer["Entries"]] == [None, "AccessDeniedException", "AccessDeniedException"]
