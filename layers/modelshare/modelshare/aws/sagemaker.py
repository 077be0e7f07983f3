"""SageMaker model package groups and their resource policies (the ModelRegistry port)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import client
from modelshare.ports import GroupNotFound, PolicyConflict

if TYPE_CHECKING:
    from mypy_boto3_sagemaker.type_defs import PaginatorConfigTypeDef

# ListModelPackageGroups' largest page (sagemaker/service-2.json, MaxResults).
_PAGE: PaginatorConfigTypeDef = {"PageSize": 100}


class SageMakerRegistry:
    def __init__(self, session: boto3.session.Session) -> None:
        self._client = client(session, "sagemaker")

    def group_arn(self, group_name: str) -> str | None:
        try:
            return self._client.describe_model_package_group(ModelPackageGroupName=group_name)["ModelPackageGroupArn"]
        except ClientError as error:
            if _is_missing(error):
                return None
            raise

    def created(self, group_name: str) -> datetime | None:
        # CreationTime is required in DescribeModelPackageGroup's answer (sagemaker/service-2.json);
        # a group made again under the same name has a later one (docs/aws-behaviour.md, SM-CREATION-TIME).
        try:
            return self._client.describe_model_package_group(ModelPackageGroupName=group_name)["CreationTime"]
        except ClientError as error:
            if _is_missing(error):
                return None
            raise

    def get_policy(self, group_name: str) -> dict[str, Any] | None:
        try:
            document = self._client.get_model_package_group_policy(ModelPackageGroupName=group_name)["ResourcePolicy"]
        except ClientError as error:
            # SageMaker answers ValidationException both for a missing group and a group without
            # a policy; callers describe the group first, so here it means "no policy".
            if _is_missing(error):
                return None
            raise
        policy: dict[str, Any] = json.loads(document)
        return policy

    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None:
        try:
            self._client.put_model_package_group_policy(
                ModelPackageGroupName=group_name, ResourcePolicy=json.dumps(policy, separators=(",", ":")))
        except ClientError as error:
            if _is_missing(error):
                raise GroupNotFound(group_name) from error
            # Another write of the policy at the same moment; botocore does not retry it
            # (docs/aws-behaviour.md, SM-POLICY-CONFLICT): the caller reads and decides again.
            if error.response.get("Error", {}).get("Code") == "ConflictException":
                raise PolicyConflict(f"{group_name}: {error}") from error
            raise

    def delete_policy(self, group_name: str) -> None:
        try:
            self._client.delete_model_package_group_policy(ModelPackageGroupName=group_name)
        except ClientError as error:
            if not _is_missing(error):  # already gone: the wanted state
                raise

    def cross_account_group_arns(self) -> list[str]:
        paginator = self._client.get_paginator("list_model_package_groups")
        return sorted(
            group["ModelPackageGroupArn"]
            for page in paginator.paginate(CrossAccountFilterOption="CrossAccount")
            for group in page["ModelPackageGroupSummaryList"]
        )

    def groups(self) -> Iterator[tuple[str, str]]:
        paginator = self._client.get_paginator("list_model_package_groups")
        for page in paginator.paginate(PaginationConfig=_PAGE):
            for group in page["ModelPackageGroupSummaryList"]:
                yield group["ModelPackageGroupName"], group["ModelPackageGroupArn"]


def _is_missing(error: ClientError) -> bool:
    info = error.response.get("Error", {})
    message = str(info.get("Message", "")).lower()
    return info.get("Code") in ("ValidationException", "ResourceNotFound") and (
        "does not exist" in message or "not found" in message or "cannot find" in message)
