"""Model package groups and their policies through real boto3 clients on a LocalCloud."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from localaws.core.errors import AwsError

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"


def code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return info.value.response["Error"]["Code"]


# -- create / describe ---------------------------------------------------------------------

def test_create_then_describe(aws):
    arn = aws.group("churn-model")
    assert arn == f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/churn-model"
    described = aws.sm().describe_model_package_group(ModelPackageGroupName="churn-model")
    assert described["ModelPackageGroupArn"] == arn
    assert described["ModelPackageGroupStatus"] == "Completed"
    assert described["CreationTime"] == aws.clock.now()
    assert described["CreatedBy"]["IamIdentity"]["Arn"].startswith(f"arn:aws:sts::{OWNER}:")
    # Describe by the group's own ARN works too.
    assert aws.sm().describe_model_package_group(ModelPackageGroupName=arn)["ModelPackageGroupName"] == "churn-model"


def test_create_twice_is_a_validation_error(aws):
    arn = aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.group("churn-model")
    assert code(info) == "ValidationException"
    assert "already exists" in info.value.response["Error"]["Message"] and arn in info.value.response["Error"]["Message"]


def test_same_name_in_two_accounts_is_two_groups(aws):
    aws.group("churn-model", OWNER)
    aws.group("churn-model", CONSUMER)
    names = [g["ModelPackageGroupArn"] for g in aws.sm(CONSUMER).list_model_package_groups()["ModelPackageGroupSummaryList"]]
    assert names == [f"arn:aws:sagemaker:eu-west-1:{CONSUMER}:model-package-group/churn-model"]


@pytest.mark.parametrize("name", ["bad_name", "-leading", "trailing-", "a" * 64, "two--ok-but.dot"])
def test_create_rejects_names_outside_the_pattern(aws, name):
    with pytest.raises(ClientError) as info:
        aws.sm().create_model_package_group(ModelPackageGroupName=name)
    assert code(info) == "ValidationException"


def test_create_accepts_the_longest_valid_name(aws):
    assert aws.group("a" + "-b" * 31).endswith("/a" + "-b" * 31)


def test_describe_unknown_group(aws):
    with pytest.raises(ClientError) as info:
        aws.sm().describe_model_package_group(ModelPackageGroupName="nope")
    assert code(info) == "ValidationException"
    assert "does not exist" in info.value.response["Error"]["Message"]


def test_cross_account_describe_needs_a_policy_granting_it(aws):
    arn = aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm(CONSUMER).describe_model_package_group(ModelPackageGroupName=arn)
    assert code(info) == "AccessDeniedException"
    # A policy allowing another action only is not enough.
    aws.put_policy("churn-model", arn, [CONSUMER], actions=["sagemaker:ListModelPackages"])
    with pytest.raises(ClientError) as info:
        aws.sm(CONSUMER).describe_model_package_group(ModelPackageGroupName=arn)
    assert code(info) == "AccessDeniedException"
    # Accessible as soon as the policy is there: no need to wait for RAM or to promote.
    aws.put_policy("churn-model", arn, [f"arn:aws:iam::{CONSUMER}:root"])
    assert aws.sm(CONSUMER).describe_model_package_group(ModelPackageGroupName=arn)["ModelPackageGroupArn"] == arn
    with pytest.raises(ClientError) as info:
        aws.sm(OTHER).describe_model_package_group(ModelPackageGroupName=arn)
    assert code(info) == "AccessDeniedException"


def test_cross_account_describe_of_unknown_group(aws):
    with pytest.raises(ClientError) as info:
        aws.sm(CONSUMER).describe_model_package_group(
            ModelPackageGroupName=f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/nope")
    assert code(info) == "ValidationException"


def test_name_of_another_accounts_group_is_not_found(aws):
    aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm(CONSUMER).describe_model_package_group(ModelPackageGroupName="churn-model")
    assert code(info) == "ValidationException"


# -- list ----------------------------------------------------------------------------------

def test_list_filters_and_sorts(aws):
    for name in ["beta", "alpha", "gamma-model"]:
        aws.group(name)
        aws.clock.sleep(60)
    aws.group("elsewhere", CONSUMER)
    sm = aws.sm()
    default = [g["ModelPackageGroupName"] for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]]
    # botocore documents the defaults: SortBy CreationTime, SortOrder Ascending.
    assert default == ["beta", "alpha", "gamma-model"]
    newest_first = sm.list_model_package_groups(SortOrder="Descending")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in newest_first] == ["gamma-model", "alpha", "beta"]
    by_name = sm.list_model_package_groups(SortBy="Name", SortOrder="Ascending")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in by_name] == ["alpha", "beta", "gamma-model"]
    assert [g["ModelPackageGroupName"] for g in sm.list_model_package_groups(NameContains="mod")[
        "ModelPackageGroupSummaryList"]] == ["gamma-model"]
    start = aws.clock.now() - timedelta(seconds=180)
    window = sm.list_model_package_groups(CreationTimeAfter=start, CreationTimeBefore=start + timedelta(seconds=120))
    assert [g["ModelPackageGroupName"] for g in window["ModelPackageGroupSummaryList"]] == ["alpha"]
    summary = by_name[0]
    assert set(summary) == {"ModelPackageGroupName", "ModelPackageGroupArn", "CreationTime", "ModelPackageGroupStatus"}


def test_list_pages_with_the_paginator(aws):
    names = {f"group-{i:02d}" for i in range(23)}
    for name in names:
        aws.group(name)
    pages = list(aws.sm().get_paginator("list_model_package_groups").paginate(PaginationConfig={"PageSize": 10}))
    assert [len(p["ModelPackageGroupSummaryList"]) for p in pages] == [10, 10, 3]
    assert {g["ModelPackageGroupName"] for p in pages for g in p["ModelPackageGroupSummaryList"]} == names
    # Without MaxResults the default page is smaller than everything, so callers must page.
    assert "NextToken" in aws.sm().list_model_package_groups()


@pytest.mark.parametrize("kwargs", [{"MaxResults": 101}, {"NextToken": "not-a-token"}, {"SortBy": "Size"},
                                    {"CrossAccountFilterOption": "Everyone"}])
def test_list_rejects_bad_parameters(aws, kwargs):
    with pytest.raises(ClientError) as info:
        aws.sm().list_model_package_groups(**kwargs)
    assert code(info) == "ValidationException"


def test_next_token_of_another_account_is_rejected(aws):
    for i in range(12):
        aws.group(f"g{i}")
    token = aws.sm().list_model_package_groups(MaxResults=5)["NextToken"]
    with pytest.raises(ClientError) as info:
        aws.sm(CONSUMER).list_model_package_groups(NextToken=token)
    assert code(info) == "ValidationException"


# -- delete --------------------------------------------------------------------------------

def test_delete_group(aws):
    arn = aws.group("churn-model")
    aws.put_policy("churn-model", arn, [CONSUMER])
    aws.sm().delete_model_package_group(ModelPackageGroupName=arn)
    with pytest.raises(ClientError) as info:
        aws.sm().describe_model_package_group(ModelPackageGroupName="churn-model")
    assert code(info) == "ValidationException"
    # The policy went with it: a group created again under the name has none.
    aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm().get_model_package_group_policy(ModelPackageGroupName="churn-model")
    assert code(info) == "ValidationException"


def test_a_group_made_again_under_its_name_has_the_same_arn_and_a_later_creation_time(aws):
    """What tells two groups of one ARN apart (SM-CREATION-TIME): DescribeModelPackageGroup and
    ListModelPackageGroups give the same CreationTime, to the millisecond modelshare stamps,
    and the registry adapter reads it (None once the group is gone)."""
    from modelshare import incarnation
    from modelshare.aws.sagemaker import SageMakerRegistry

    registry = SageMakerRegistry(aws.cloud.session(OWNER, "eu-west-1"))
    arn = aws.group("churn-model")
    first = registry.created("churn-model")
    listed, = aws.sm().list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert first is not None and listed["CreationTime"] == first
    aws.sm().delete_model_package_group(ModelPackageGroupName="churn-model")
    assert registry.created("churn-model") is None
    aws.clock.sleep(0.001)
    assert aws.group("churn-model") == arn
    again = registry.created("churn-model")
    assert again is not None and again > first
    assert int(incarnation.stamp(again)) > int(incarnation.stamp(first))


def test_delete_unknown_group(aws):
    with pytest.raises(ClientError) as info:
        aws.sm().delete_model_package_group(ModelPackageGroupName="nope")
    assert code(info) == "ValidationException"


def test_delete_another_accounts_group_is_denied(aws):
    arn = aws.group("churn-model")
    aws.put_policy("churn-model", arn, [CONSUMER])  # Describe/List only
    with pytest.raises(ClientError) as info:
        aws.sm(CONSUMER).delete_model_package_group(ModelPackageGroupName=arn)
    assert code(info) == "AccessDeniedException"


# -- policies ------------------------------------------------------------------------------

def test_put_get_delete_policy(aws):
    arn = aws.group("churn-model")
    policy = aws.policy(arn, [CONSUMER])
    out = aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-model", ResourcePolicy=policy)
    assert out["ModelPackageGroupArn"] == arn
    assert aws.sm().get_model_package_group_policy(ModelPackageGroupName="churn-model")["ResourcePolicy"] == policy
    aws.sm().delete_model_package_group_policy(ModelPackageGroupName="churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm().get_model_package_group_policy(ModelPackageGroupName="churn-model")
    assert code(info) == "ValidationException"
    with pytest.raises(ClientError) as info:
        aws.sm().delete_model_package_group_policy(ModelPackageGroupName="churn-model")
    assert code(info) == "ValidationException"


def test_put_policy_replaces_the_whole_policy(aws):
    arn = aws.group("churn-model")
    aws.put_policy("churn-model", arn, [CONSUMER])
    aws.put_policy("churn-model", arn, [OTHER])
    stored = json.loads(aws.sm().get_model_package_group_policy(ModelPackageGroupName="churn-model")["ResourcePolicy"])
    assert stored["Statement"][0]["Principal"] == {"AWS": [OTHER]}


def test_policy_calls_on_unknown_group(aws):
    arn = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/nope"
    for call in (lambda: aws.sm().put_model_package_group_policy(ModelPackageGroupName="nope",
                                                                 ResourcePolicy=aws.policy(arn, [CONSUMER])),
                 lambda: aws.sm().get_model_package_group_policy(ModelPackageGroupName="nope"),
                 lambda: aws.sm().delete_model_package_group_policy(ModelPackageGroupName="nope")):
        with pytest.raises(ClientError) as info:
            call()
        assert code(info) == "ValidationException"


def test_put_policy_takes_the_name_not_the_arn(aws):
    arn = aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm().put_model_package_group_policy(ModelPackageGroupName=arn, ResourcePolicy=aws.policy(arn, [CONSUMER]))
    assert code(info) == "ValidationException"


def _statement(arn, **overrides):
    statement = {"Effect": "Allow", "Principal": {"AWS": [CONSUMER]}, "Action": ["sagemaker:DescribeModelPackageGroup"],
                 "Resource": arn}
    statement.update(overrides)
    return statement


@pytest.mark.parametrize("make_policy,message", [
    (lambda arn: "not json", "JSON"),
    (lambda arn: json.dumps({"Statement": [_statement(arn)]}), "Version"),
    (lambda arn: json.dumps({"Version": "2012-10-17"}), "Statement"),
    (lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
        _statement(arn, Principal={"AWS": [CONSUMER, OTHER, CONSUMER]})]}), "Duplicate principal"),
    (lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
        _statement(arn, Resource=arn.replace("churn-model", "other-model"))]}), "resource"),
    (lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [_statement(arn, Principal="*")]}), "Principal"),
    (lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [_statement(arn, Effect="Maybe")]}), "Effect"),
    (lambda arn: "{" + " " * 20480 + "}", "20480"),
])
def test_put_policy_rejects_bad_policies(aws, make_policy, message):
    arn = aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-model", ResourcePolicy=make_policy(arn))
    assert code(info) == "ValidationException"
    assert message in info.value.response["Error"]["Message"]


# -- the rest of the surface -----------------------------------------------------------------

def test_operations_not_emulated_fail_loudly(aws):
    with pytest.raises(ClientError) as info:
        aws.sm().delete_model_package(ModelPackageName="churn-model/1")
    assert code(info) == "UnknownOperationException"
    assert "not emulated" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        aws.ram().update_resource_share(resourceShareArn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/x", name="y")
    assert code(info) == "UnknownOperationException"


def test_injected_fault_hits_only_its_target(aws):
    def throttle_owner_creates(account, operation):
        if account == OWNER and operation == "CreateModelPackageGroup":
            raise AwsError("ThrottlingException", "Rate exceeded")

    aws.cloud.registry.faults.append(throttle_owner_creates)
    sm = aws.cloud.session(OWNER, "eu-west-1").client("sagemaker", config=__import__("botocore.config").config.Config(
        retries={"max_attempts": 1, "mode": "standard"}))
    with pytest.raises(ClientError) as info:
        sm.create_model_package_group(ModelPackageGroupName="churn-model")
    assert code(info) == "ThrottlingException"
    assert aws.group("churn-model", CONSUMER).endswith("/churn-model")
    aws.cloud.registry.faults.clear()
    assert aws.group("churn-model").endswith("/churn-model")


def test_cloudtrail_events_for_writes(aws):
    arn = aws.group("churn-model")
    aws.sm().describe_model_package_group(ModelPackageGroupName="churn-model")  # reads are not delivered
    with pytest.raises(ClientError):
        aws.group("churn-model")
    aws.put_policy("churn-model", arn, [CONSUMER])
    called = aws.clock.now()

    def trail():
        return [e for a, e in aws.events if a == OWNER and e["source"] == "aws.sagemaker"]

    shortest, longest = aws.cloud.cloudtrail_lag_seconds
    aws.clock.run_until(called + timedelta(seconds=shortest - 1))
    assert trail() == [], "CloudTrail delivers later (EVENT-CLOUDTRAIL-LAG)"
    aws.clock.run_until(called + timedelta(seconds=longest + 1))
    # Each call has its own lag: compare in the order the calls were made.
    ok, failed, put = sorted(trail(), key=lambda e: (e["time"], e["detail"]["eventName"], "errorCode" in e["detail"]))
    assert [e["detail"]["eventName"] for e in (ok, failed, put)] == [
        "CreateModelPackageGroup", "CreateModelPackageGroup", "PutModelPackageGroupPolicy"]
    for event in (ok, failed, put):
        assert event["detail-type"] == "AWS API Call via CloudTrail"
        assert event["detail"]["eventSource"] == "sagemaker.amazonaws.com"
        assert event["detail"]["requestParameters"]["modelPackageGroupName"] == "churn-model"
        assert event["account"] == OWNER and event["region"] == "eu-west-1"
    assert "errorCode" not in ok["detail"] and "errorCode" not in put["detail"]
    assert failed["detail"]["errorCode"] == "ValidationException"
    assert ok["detail"]["responseElements"]["modelPackageGroupArn"] == arn


def test_moto_still_serves_ssm_per_account(aws):
    aws.client("ssm", OWNER).put_parameter(Name="/modelshare/allow", Value="owner-value", Type="String")
    aws.client("ssm", CONSUMER).put_parameter(Name="/modelshare/allow", Value="consumer-value", Type="String")
    assert aws.client("ssm", OWNER).get_parameter(Name="/modelshare/allow")["Parameter"]["Value"] == "owner-value"
    assert aws.client("ssm", CONSUMER).get_parameter(Name="/modelshare/allow")["Parameter"]["Value"] == "consumer-value"
    with pytest.raises(ClientError) as info:
        aws.client("ssm", OTHER).get_parameter(Name="/modelshare/allow")
    assert code(info) == "ParameterNotFound"


def test_unknown_access_key_is_rejected(aws):
    import boto3
    session = boto3.session.Session(aws_access_key_id="AKIAUNKNOWN000000000", aws_secret_access_key="x",
                                    region_name="eu-west-1")
    with pytest.raises(ClientError) as info:
        session.client("sagemaker").list_model_package_groups()
    assert code(info) == "UnrecognizedClientException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as info:
        session.client("ram").get_resource_shares(resourceOwner="SELF")
    assert code(info) == "UnrecognizedClientException"
    with pytest.raises(ClientError) as info:
        session.client("ssm").get_parameter(Name="/x")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
