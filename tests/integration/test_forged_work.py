"""Forged work (issue 19, item 6): the SweepQueue's policy refuses anyone but the stack's own
functions, and a forged item that gets through anyway changes nothing the facts do not call for.
On the local AWS, with template.yaml's queue policies installed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from modelshare.aws.work_queue import SWEEP_ITEM, SWEEP_PACKAGE
from tests.integration.conftest import CONSUMER, OWNER, REGION, STRANGER, group_arn

# churn-* for CONSUMER, fraud-* for STRANGER: neither may see the other's groups.
ALLOWLIST = {"version": 1, "shares": [
    {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER], "access": ["discover"]},
    {"owner": OWNER, "groups": ["fraud-*"], "consumers": [STRANGER], "access": ["discover"]}]}


def queue_url(name: str, account: str = OWNER) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{account}/modelshare-{name}"


def shared(world: Any) -> tuple[str, str]:
    """churn-xgb and fraud-gbm, each promoted and accepted by its consumer: their shares."""
    world.install(OWNER, CONSUMER, STRANGER, allowlist=ALLOWLIST)
    world.create_group(OWNER, "churn-xgb")
    world.create_group(OWNER, "fraud-gbm")
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.discoverable(STRANGER) == [group_arn("fraud-gbm")]
    ram = world.shares(OWNER)
    churn, = (s.arn for s in ram.shares_holding(group_arn("churn-xgb")))
    fraud, = (s.arn for s in ram.shares_holding(group_arn("fraud-gbm")))
    return churn, fraud


def forged_package(fraud_share: str) -> str:
    """fraud-gbm's share, said to hold churn-xgb and to offer it to STRANGER: believed, a worker
    would remove STRANGER from fraud-gbm and invite CONSUMER to it."""
    item = {"kind": SWEEP_ITEM, "attempt": 1, "group": "churn-xgb", "arn": group_arn("churn-xgb"),
            "holdings": [{"share": [fraud_share, "LinkedResourceShare", "STANDARD", "ACTIVE",
                                    [["modelshare:managed", "true"]]],
                          "resources": [group_arn("churn-xgb")], "principals": [STRANGER]}]}
    return json.dumps({"kind": SWEEP_PACKAGE, "items": [item]})


@pytest.mark.parametrize("queue", ["SweepQueue", "PromoteQueue", "PolicyPutQueue", "ShareQueue"])
def test_a_person_s_message_to_a_queue_a_function_reads_is_refused(world, queue):
    _, fraud = shared(world)
    for account in (OWNER, STRANGER):  # a person of the account, and one of another account
        sqs = world.client(account, "sqs")
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=queue_url(queue), MessageBody=forged_package(fraud))
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        with pytest.raises(ClientError) as refused:
            sqs.send_message_batch(QueueUrl=queue_url(queue), Entries=[{"Id": "1", "MessageBody": forged_package(fraud)}])
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    before = len(world.lambdas.invocations)
    world.settle()
    assert len(world.lambdas.invocations) == before, "nothing reached a function"


def test_a_forged_item_a_function_role_sends_changes_nothing_the_facts_do_not_call_for(world):
    churn, fraud = shared(world)
    writes = len(world.writes())
    world.cloud.caller = "PromoteFunction"  # a role the queue lets send: say, misused
    try:
        world.cloud.session(OWNER, REGION).client("sqs").send_message(
            QueueUrl=queue_url("SweepQueue"), MessageBody=forged_package(fraud))
    finally:
        world.cloud.caller = None
    world.settle()
    assert world.invocations_of("OwnerReconcileFunction", OWNER), "the worker ran on the forged item"
    assert world.writes()[writes:] == [], "no consumer removed, no account invited"
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.discoverable(STRANGER) == [group_arn("fraud-gbm")]
    assert world.shares(OWNER).share_principals([churn, fraud]) == {churn: (CONSUMER,), fraud: (STRANGER,)}
    assert world.lambdas.failures == [] and world.lambdas.refused_deliveries == []


def test_the_stack_s_own_senders_get_through(world):
    shared(world)
    # The rules delivered (the groups were shared through ShareQueue, PromoteQueue, AcceptQueue).
    assert world.lambdas.refused_deliveries == []
    # The sweep the edit starts hands churn-xgb to its workers through SweepQueue.
    world.edit_allowlist({"version": 1, "shares": [
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, STRANGER], "access": ["discover"]},
        {"owner": OWNER, "groups": ["fraud-*"], "consumers": [STRANGER], "access": ["discover"]}]})
    sent = [c for c in world.calls("SendMessageBatch", OWNER, ok=None) if c.caller == "OwnerReconcileFunction"]
    assert sent and all(c.error_code is None for c in sent)
    assert world.discoverable(STRANGER) == [group_arn("churn-xgb"), group_arn("fraud-gbm")]
