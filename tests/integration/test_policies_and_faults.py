"""Policies people write, AWS refusals, and the ways events arrive: late, twice, or never."""

import json
from datetime import timedelta

import pytest

from localaws.core.errors import AwsError
from modelshare.policy import MODELSHARE_SID
from tests.integration.conftest import CONSUMER, OWNER, group_arn

DISCOVER = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]


def statement(principal, action=DISCOVER, sid="PersonWroteThis", group="churn-xgb"):
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": principal}, "Action": action,
            "Resource": [group_arn(group), f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/{group}/*"]}


@pytest.mark.parametrize(
    ("principal", "action", "reason"),
    [
        (f"arn:aws:iam::{CONSUMER}:role/ml-reader", DISCOVER, "is not an account"),
        (CONSUMER, "*", "wildcard action"),
    ],
    ids=["role-principal", "action-star"],
)
def test_unpromotable_manual_policy_stays_accessible_not_discoverable(world, principal, action, reason):
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "forecast")
    world.settle()
    world.put_policy(OWNER, "forecast", {"Version": "2012-10-17",
                                         "Statement": [statement(principal, action, group="forecast")]})
    world.settle()

    assert world.discoverable(CONSUMER) == []
    state = world.state(OWNER, "forecast")
    assert state.status == "accessible-not-discoverable" and reason in state.reason
    assert world.calls("PromotePermissionCreatedFromPolicy", OWNER, ok=None) == []
    assert world.metric_total("NotPromotable", OWNER) >= 1
    assert any(reason in r.get("reason", "") for r in world.logs(OWNER, "WARNING"))


def test_ram_refusal_is_logged_and_counted(world):
    world.install(OWNER, CONSUMER)
    world.inject_error("PromoteResourceShareCreatedFromPolicy", "OperationNotPermittedException",
                       "This resource share cannot be promoted.")
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    assert world.discoverable(CONSUMER) == []
    refusals = [r for r in world.logs(OWNER, "WARNING") if "RAM refused" in r.get("reason", "")]
    assert refusals and "cannot be promoted" in refusals[0]["reason"]
    assert world.lambdas.failures == [], "a refusal is an answer, not an error to retry"


def test_foreign_statements_are_kept(world):
    world.install(OWNER, CONSUMER)
    foreign = statement("777788889999", ["sagemaker:DescribeModelPackageGroup"], sid="AuditorRead")
    world.create_group(OWNER, "churn-xgb")
    world.put_policy(OWNER, "churn-xgb", {"Version": "2012-10-17", "Statement": [foreign]})
    world.settle()

    statements = world.policy(OWNER, "churn-xgb")["Statement"]
    assert [s["Sid"] for s in statements] == ["AuditorRead", MODELSHARE_SID]
    assert statements[0] == foreign
    state = world.state(OWNER, "churn-xgb")
    assert state.status == "accessible-not-discoverable"
    assert "2 statements" in state.reason


def test_ram_slower_than_one_invocation_wait_is_finished_by_lambda_retry(world_with_ram_delay):
    world = world_with_ram_delay(40)
    world.install(OWNER, CONSUMER)
    world.lambdas.delivery_policy = lambda function, event: 0 if event["source"] == "aws.ram" and event["account"] == OWNER else 1
    world.create_group(OWNER, "churn-xgb")
    world.settle()

    attempts = world.invocations_of("PromoteFunction", OWNER)
    assert [a.ok for a in attempts] == [False, True]
    assert "PromotionNotReady" in attempts[0].error
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.lambdas.failures == []


def test_ram_slower_than_one_run_is_waited_for_by_the_queue(world_with_ram_delay):
    world = world_with_ram_delay(200)
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    runs = [i for i in world.invocations_of("PromoteFunction", OWNER)
            if any(e["source"] == "aws.sagemaker" for e in i.events)]
    assert [r.ok for r in runs] == [False, True], "the batch came back after the visibility timeout"
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.lambdas.failures == []


def test_ram_slower_than_every_retry_goes_to_the_failure_queue_and_the_sweep_repairs(world_with_ram_delay):
    world = world_with_ram_delay(3600)
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "churn-xgb")
    world.settle()

    put_event_attempts = [i for i in world.invocations_of("PromoteFunction", OWNER)
                          if any(e["source"] == "aws.sagemaker" for e in i.events)]
    assert [a.ok for a in put_event_attempts] == [False] * 5, "five receives (the queue's maxReceiveCount)"
    failure, = world.lambdas.failures
    assert failure["condition"] == "MaxReceiveCountExceeded" and failure["function"] == "PromoteFunction"
    sqs = world.client(OWNER, "sqs")
    url = sqs.get_queue_url(QueueName="modelshare-FailedInvocationsQueue")["QueueUrl"]
    message, = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["detail"]["eventName"] == "PutModelPackageGroupPolicy"
    # RAM sends no event about the share it made (EVENT-RAM-CFP): the scheduled sweep finds it.
    assert world.discoverable(CONSUMER) == []
    world.run_for(hours=2)
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")], "the sweep finished the job"
    assert any(i.ok for i in world.invocations_of("OwnerReconcileFunction", OWNER))


def test_duplicate_events_change_nothing(world):
    world.install(OWNER, CONSUMER)
    world.lambdas.delivery_policy = lambda function, event: 2
    world.create_group(OWNER, "churn-xgb")
    world.settle()

    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert len(world.calls("PutModelPackageGroupPolicy", OWNER)) == 1
    assert len(world.calls("PromoteResourceShareCreatedFromPolicy", OWNER)) == 1
    assert len(world.calls("AcceptResourceShareInvitation", CONSUMER)) == 1
    assert world.lambdas.failures == []


def test_expired_invitation_is_not_accepted(world):
    world.install(OWNER, CONSUMER)
    world.lambdas.delivery_policy = lambda function, event: 0 if function.account == CONSUMER else 1
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    assert [i.status for i in world.invitations(CONSUMER)] == ["PENDING"]

    world.cloud.clock.run_until(world.cloud.clock.now() + timedelta(hours=12, seconds=1))
    assert [i.status for i in world.invitations(CONSUMER)] == ["EXPIRED"]
    world.lambdas.delivery_policy = lambda function, event: 1
    world.cloud.emit(CONSUMER, "eu-west-1", "aws.ram", "Resource Sharing State Change",
                     {"event": "Resource Share Invitation", "status": "expired"})
    world.settle()

    assert world.invocations_of("AcceptInvitationsFunction", CONSUMER)
    assert world.calls("AcceptResourceShareInvitation", CONSUMER, ok=None) == []
    assert world.discoverable(CONSUMER) == []


@pytest.mark.parametrize("code, message", [
    ("ResourceShareInvitationExpiredException", "The invitation has expired."),
    # The owner withdrew the share or this account while the invitation was pending (found by a
    # long-profile world, seed 148626: every hourly run failed on it, for good).
    ("OperationNotPermittedException", "The share is no longer shared with this account."),
])
def test_invitation_closing_between_listing_and_accepting_is_not_an_error(world, code, message):
    world.install(OWNER, CONSUMER)
    world.inject_error("AcceptResourceShareInvitation", code, message)
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    accepts = world.invocations_of("AcceptInvitationsFunction", CONSUMER)
    assert accepts and all(i.ok for i in accepts)
    assert any(o["action"] == "closed" for i in accepts for o in i.result["outcomes"])
    assert world.discoverable(CONSUMER) == []


def test_failed_calls_trigger_nothing(world):
    world.install(OWNER, CONSUMER)
    sagemaker = world.client(OWNER, "sagemaker")
    with pytest.raises(sagemaker.exceptions.ClientError):
        sagemaker.create_model_package_group(ModelPackageGroupName="churn_bad_name")
    with pytest.raises(sagemaker.exceptions.ClientError):
        sagemaker.put_model_package_group_policy(ModelPackageGroupName="churn-missing", ResourcePolicy="{}")
    seen = []
    world.cloud.subscribe(lambda account, region, event: seen.append(event))
    world.settle()
    world.create_group(OWNER, "churn-ok")
    with pytest.raises(sagemaker.exceptions.ClientError):
        sagemaker.create_model_package_group(ModelPackageGroupName="churn-ok")
    world.settle()

    failed = [e for e in seen if "errorCode" in e["detail"]]
    assert failed, "the failed call was recorded by CloudTrail"
    triggered = [i for i in world.lambdas.invocations if any("errorCode" in e.get("detail", {}) for e in i.events)]
    assert triggered == []
    assert len(world.invocations_of("ShareOnCreateFunction", OWNER)) == 1


def test_a_sweep_that_keeps_failing_is_retried_twice_then_sent_to_the_failure_queue(world):
    """Schedules and allowlist changes invoke asynchronously (docs/aws-behaviour.md, LAMBDA-ASYNC)."""
    world.install(OWNER, CONSUMER)
    world.settle()
    before = len(world.invocations_of("OwnerReconcileFunction", OWNER))
    world.inject_error("ListModelPackageGroups", "ServiceUnavailableException", "try later")
    world.edit_allowlist({"version": 1, "shares": []})
    attempts = [i for i in world.invocations_of("OwnerReconcileFunction", OWNER)[before:]
                if i.events[0].get("source") == "aws.ssm"]
    assert [(a.attempt, a.ok) for a in attempts] == [(1, False), (2, False), (3, False)]
    failure, = [f for f in world.lambdas.failures if (f["function"], f["account"]) == ("OwnerReconcileFunction", OWNER)]
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestPayload"]["source"] == "aws.ssm"


def test_a_share_ram_has_not_updated_since_an_account_left_the_policy_is_not_promoted(world_with_ram_delay):
    """RAM updates a share made from a policy some time after the policy changes
    (docs/aws-behaviour.md, RAM-CFP-LAG): a share that still names an account the allowlist (and
    the policy) no longer does must wait, or promoting it would invite that account."""
    from tests.integration.conftest import STRANGER

    world = world_with_ram_delay(600)
    both = {"version": 1, "shares": [
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, STRANGER], "access": ["discover"]}]}
    world.install(OWNER, CONSUMER, STRANGER, allowlist=both)
    world.create_group(OWNER, "churn-xgb")
    ram = world.cloud.registry.state
    clock = world.cloud.clock
    while not any(s.from_policy_of == group_arn("churn-xgb") for s in ram.shares.values()):
        clock.run_until(clock.now() + timedelta(seconds=5))
    # RAM just made the share from the policy naming both; the admin removes the stranger now,
    # modelshare rewrites the policy at once, and RAM takes another 10 minutes to follow.
    for account in (OWNER, CONSUMER, STRANGER):
        world.set_allowlist(account, {"version": 1, "shares": [{**both["shares"][0], "consumers": [CONSUMER]}]})
    world.run_for(hours=2)

    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.invitations(STRANGER) == [], "the stranger was never invited"
    assert any("has not caught up with the policy" in (i.error or "") for i in world.invocations_of("PromoteFunction"))


def test_a_person_s_policy_write_beside_modelshare_s_survives_the_conflict_and_the_group_is_shared(world):
    """SM-POLICY-CONFLICT end to end: as a function writes the new group's policy, a person
    writes theirs and SageMaker refuses modelshare's put (ConflictException). modelshare reads
    the policy again and keeps the person's statement beside its own (two statements: accessible,
    not promotable, as any group a person wrote a statement on)."""
    world.install(OWNER, CONSUMER)
    foreign = statement("777788889999", ["sagemaker:DescribeModelPackageGroup"], sid="AuditorRead")
    conflicts = []

    def a_person_writes_first(account: str, operation: str) -> None:
        if operation == "PutModelPackageGroupPolicy" and world.cloud.caller is not None and not conflicts:
            conflicts.append(world.cloud.caller)
            world.cloud.registry.sagemaker.PutModelPackageGroupPolicy(account, "eu-west-1", {
                "ModelPackageGroupName": "churn-xgb",
                "ResourcePolicy": json.dumps({"Version": "2012-10-17", "Statement": [foreign]})})
            raise AwsError("ConflictException", "Another write of the resource policy is in progress.")

    world.cloud.registry.faults.append(a_person_writes_first)
    world.create_group(OWNER, "churn-xgb")
    world.settle()

    assert len(conflicts) == 1
    statements = world.policy(OWNER, "churn-xgb")["Statement"]
    assert [s["Sid"] for s in statements] == ["AuditorRead", MODELSHARE_SID] and statements[0] == foreign
    puts = world.calls("PutModelPackageGroupPolicy", OWNER, ok=None)
    assert [c.error_code for c in puts[:2]] == ["ConflictException", None], "read again, then written once"
    assert world.lambdas.failures == [] and all(i.ok for i in world.lambdas.invocations), \
        "the run that met the conflict finished it: no invocation failed"
    assert world.metric_total("PolicyWriteConflicts", OWNER) == 0
    assert world.state(OWNER, "churn-xgb").consumers == (CONSUMER, "777788889999")
