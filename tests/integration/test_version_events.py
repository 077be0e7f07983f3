"""Approved versions told to exactly the allowlisted consumers, on their own buses, with what
their access lets them see (issue 22 part 2; docs/version-events.md): the handlers deployed from
template.yaml on the local AWS."""

from __future__ import annotations

import json

from tests.integration.conftest import CONSUMER, OWNER, REGION, ROGUE_OWNER, STRANGER

BUS = "modelshare-versions"
INFERENCE = {"Containers": [{"Image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn:7",
                             "ModelDataUrl": "s3://models/churn/7/model.tar.gz"}]}
ALLOWLIST = {"version": 1, "shares": [
    {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER], "access": ["deploy"]},
    {"owner": OWNER, "groups": ["fraud-*"], "consumers": [STRANGER]}]}


def told(world, account):
    return [e for e in world.cloud.event_buses.on(account, BUS) if e["source"] == "modelshare"]


def approve(world, group):
    sagemaker = world.client(OWNER, "sagemaker")
    arn = sagemaker.create_model_package(ModelPackageGroupName=group, InferenceSpecification=INFERENCE)[
        "ModelPackageArn"]
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    world.settle()
    return arn


def shared_world(world):
    world.install(OWNER, CONSUMER, STRANGER, ROGUE_OWNER, allowlist=ALLOWLIST)
    for group in ("churn-xgb", "fraud-detector"):
        world.create_group(OWNER, group)
    world.settle()


def test_an_approval_reaches_exactly_the_allowlisted_consumers_with_the_detail_of_their_access(world):
    shared_world(world)
    churn = approve(world, "churn-xgb")
    fraud = approve(world, "fraud-detector")

    to_consumer, = told(world, CONSUMER)
    assert to_consumer["account"] == OWNER and to_consumer["detail-type"] == "Model Version Approved"
    assert to_consumer["detail"]["modelPackageArn"] == churn
    assert to_consumer["detail"]["inferenceSpecification"] == INFERENCE  # deploy sees where the model is
    to_stranger, = told(world, STRANGER)
    assert to_stranger["detail"]["modelPackageArn"] == fraud
    assert to_stranger["detail"]["access"] == ["discover"]
    assert "inferenceSpecification" not in to_stranger["detail"]  # discover does not
    assert told(world, ROGUE_OWNER) == [] and told(world, OWNER) == []
    assert world.lambdas.failures == []


def test_a_pending_version_is_told_to_nobody_and_a_repeated_approval_keeps_its_id_per_state(world):
    shared_world(world)
    sagemaker = world.client(OWNER, "sagemaker")
    sagemaker.create_model_package(ModelPackageGroupName="churn-xgb", InferenceSpecification=INFERENCE)
    world.settle()
    assert told(world, CONSUMER) == []
    approve(world, "churn-xgb")
    world.run_for(hours=1)  # the repair tells the newest approved version again, with the same id
    ids = [e["detail"]["forwardId"] for e in told(world, CONSUMER)]
    assert len(ids) == 2 and len(set(ids)) == 1


def test_a_removed_consumer_receives_nothing_after_the_edit(world):
    shared_world(world)
    approve(world, "churn-xgb")
    assert len(told(world, CONSUMER)) == 1
    world.edit_allowlist({"version": 1, "shares": [ALLOWLIST["shares"][1]]})
    approve(world, "churn-xgb")
    world.run_for(hours=2)  # repairs too
    assert len(told(world, CONSUMER)) == 1
    # Its own bus no longer admits the owner either.
    policy = world.client(CONSUMER, "events").describe_event_bus(Name=BUS).get("Policy")
    assert OWNER not in (policy or "")


def test_a_forged_event_from_an_owner_the_allowlist_does_not_name_is_refused_by_the_consumer_bus(world):
    shared_world(world)
    forged = world.client(ROGUE_OWNER, "events").put_events(Entries=[{
        "EventBusName": f"arn:aws:events:{REGION}:{CONSUMER}:event-bus/{BUS}", "Source": "modelshare",
        "DetailType": "Model Version Approved", "Detail": json.dumps({"modelPackageArn": "forged"})}])
    assert forged["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert told(world, CONSUMER) == []
    admitted = json.loads(world.client(CONSUMER, "events").describe_event_bus(Name=BUS)["Policy"])
    assert sorted(s["Sid"] for s in admitted["Statement"]) == [f"modelshare-owner-{OWNER}"]


def test_a_lost_forward_is_repaired_by_the_next_schedule(world):
    shared_world(world)
    world.cloud.event_buses.losses.append(lambda delivered: True)  # EventBridge loses everything now
    arn = approve(world, "churn-xgb")
    assert told(world, CONSUMER) == []
    world.cloud.event_buses.losses.clear()
    world.run_for(hours=1)
    assert [e["detail"]["modelPackageArn"] for e in told(world, CONSUMER)] == [arn]


def test_a_rule_that_asks_for_rejected_versions_is_told_of_a_rejection_and_the_others_are_not(world):
    asking = {"version": 1, "shares": [{**ALLOWLIST["shares"][0], "versions": ["Approved", "Rejected"]},
                                       ALLOWLIST["shares"][1]]}
    world.install(OWNER, CONSUMER, STRANGER, allowlist=asking)
    for group in ("churn-xgb", "fraud-detector"):
        world.create_group(OWNER, group)
    world.settle()
    sagemaker = world.client(OWNER, "sagemaker")
    for group in ("churn-xgb", "fraud-detector"):
        arn = sagemaker.create_model_package(ModelPackageGroupName=group, InferenceSpecification=INFERENCE)[
            "ModelPackageArn"]
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    world.settle()

    rejected, = told(world, CONSUMER)  # not the pending state it was created in: the rule asks not
    assert rejected["detail-type"] == "Model Version Rejected"
    assert rejected["detail"]["modelApprovalStatus"] == "Rejected"
    assert told(world, STRANGER) == []  # its rule asks for approved versions only
    assert world.lambdas.failures == []
