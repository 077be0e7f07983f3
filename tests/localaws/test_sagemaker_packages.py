"""Model package versions through real boto3 clients on a LocalCloud: registration, approval,
and the "SageMaker Model Package State Change" events SageMaker raises in the owner account."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from conftest import CONSUMER, DISCOVER, OTHER, OWNER

INFERENCE = {"Containers": [{"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1",
                             "ModelDataUrl": "s3://models/churn/1/model.tar.gz"}]}


def state_changes(aws, account):
    return [e for a, e in aws.events if a == account and e["detail-type"] == "SageMaker Model Package State Change"]


def test_a_version_is_numbered_in_its_group_and_pending_by_default(aws):
    aws.group("churn-model")
    first = aws.sm().create_model_package(ModelPackageGroupName="churn-model", InferenceSpecification=INFERENCE)
    second = aws.sm().create_model_package(ModelPackageGroupName="churn-model", InferenceSpecification=INFERENCE)
    assert first["ModelPackageArn"] == f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/churn-model/1"
    assert second["ModelPackageArn"].endswith("/churn-model/2")
    described = aws.sm().describe_model_package(ModelPackageName=first["ModelPackageArn"])
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["ModelPackageVersion"] == 1
    assert described["InferenceSpecification"]["Containers"][0]["Image"].endswith("churn:1")


def test_approval_raises_the_state_change_event_in_the_owner_account_only(aws):
    aws.group("churn-model")
    arn = aws.sm().create_model_package(ModelPackageGroupName="churn-model", InferenceSpecification=INFERENCE)[
        "ModelPackageArn"]
    aws.sm().update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    events = state_changes(aws, OWNER)
    assert [e["detail"]["ModelApprovalStatus"] for e in events] == ["PendingManualApproval", "Approved"]
    approved = events[-1]
    assert approved["source"] == "aws.sagemaker" and approved["resources"] == [arn]
    assert approved["detail"]["ModelPackageGroupName"] == "churn-model"
    assert approved["detail"]["ModelPackageVersion"] == 1
    assert approved["detail"]["ModelPackageArn"] == arn
    assert approved["detail"]["InferenceSpecification"] == INFERENCE
    assert state_changes(aws, CONSUMER) == []


def test_list_filters_by_approval_and_sorts_newest_first(aws):
    aws.group("churn-model")
    arns = [aws.sm().create_model_package(ModelPackageGroupName="churn-model")["ModelPackageArn"] for _ in range(3)]
    aws.sm().update_model_package(ModelPackageArn=arns[0], ModelApprovalStatus="Approved")
    aws.sm().update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved")
    listed = aws.sm().list_model_packages(ModelPackageGroupName="churn-model", ModelApprovalStatus="Approved",
                                          SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
    assert [s["ModelPackageArn"] for s in listed["ModelPackageSummaryList"]] == [arns[1]]


def test_another_account_reads_versions_only_as_the_group_policy_allows(aws):
    aws.shared_group("churn-model", [CONSUMER], actions=DISCOVER)
    version = aws.sm().create_model_package(ModelPackageGroupName="churn-model")["ModelPackageArn"]
    assert aws.sm(CONSUMER).describe_model_package(ModelPackageName=version)["ModelPackageArn"] == version
    with pytest.raises(ClientError) as info:
        aws.sm(OTHER).describe_model_package(ModelPackageName=version)
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as info:  # discover does not let it approve
        aws.sm(CONSUMER).update_model_package(ModelPackageArn=version, ModelApprovalStatus="Approved")
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    assert [e["detail"]["ModelApprovalStatus"] for e in state_changes(aws, OWNER)] == ["PendingManualApproval"]


def test_unknown_version(aws):
    aws.group("churn-model")
    with pytest.raises(ClientError) as info:
        aws.sm().describe_model_package(
            ModelPackageName=f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/churn-model/7")
    assert info.value.response["Error"]["Code"] == "ValidationException"
