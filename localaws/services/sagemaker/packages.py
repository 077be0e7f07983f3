"""Emulated SageMaker model package versions (json protocol): registered into a group (by its
owner, or by another account through the group's policy), described, listed and approved.

Every change of a version's approval status raises "SageMaker Model Package State Change" on the
default bus of the account that owns the group, as SageMaker does (docs/aws-behaviour.md,
EVENT-SM-PACKAGE-STATE): the registry is the owner's, whoever registered the version.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.services.registry_state import GROUP_ARN, Group, RegistryState, page

STATE_CHANGE = "SageMaker Model Package State Change"
_PACKAGE_ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):([0-9]{12}):model-package/([a-zA-Z0-9-]{1,63})/([0-9]{1,9})")


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


@dataclass
class Version:
    group: Group
    number: int
    arn: str
    creation_time: datetime
    approval: str
    inference: dict[str, Any] | None
    description: str | None
    last_modified: datetime
    metadata: dict[str, Any] = field(default_factory=dict)


class SageMakerPackages:
    OPERATIONS = frozenset({"CreateModelPackage", "DescribeModelPackage", "ListModelPackages", "UpdateModelPackage"})
    # UNVERIFIED: AWS's default page size; a small one makes callers page.
    DEFAULT_MAX_RESULTS = 10

    def __init__(self, state: RegistryState, clock: SimClock, emit: Any) -> None:
        self.state = state
        self.clock = clock
        self.emit = emit
        # Versions per group ARN and the group's CreationTime: a group deleted and made again
        # starts from version 1 (stricter reading, UNVERIFIED).
        self._versions: dict[tuple[str, datetime], list[Version]] = {}

    def _group(self, account: str, region: str, name_or_arn: str, action: str) -> Group:
        match = GROUP_ARN.fullmatch(name_or_arn)
        if match is None:
            group = self.state.groups_in(account, region).get(name_or_arn)
        else:
            group_region, group_account, name = match.groups()
            group = self.state.groups_in(group_account, group_region).get(name) if group_region == region else None
        if group is None:
            raise _validation(f"ModelPackageGroup {name_or_arn} does not exist.")
        if not self.state.can_access(group, account, action):
            raise _denied(account, action, group.arn)
        return group

    def _versions_of(self, group: Group) -> list[Version]:
        return self._versions.setdefault((group.arn, group.creation_time), [])

    def _version(self, account: str, region: str, arn: str, action: str) -> Version:
        match = _PACKAGE_ARN.fullmatch(arn)
        if match is None:
            # Stricter reading: only a version's ARN names it (unversioned packages are not emulated).
            raise _validation(f"Model package {arn} does not exist.")
        package_region, package_account, name, number = match.groups()
        group = self.state.groups_in(package_account, package_region).get(name) if package_region == region else None
        found = None if group is None else next((v for v in self._versions_of(group) if v.number == int(number)), None)
        if group is None or found is None:
            raise _validation(f"Model package {arn} does not exist.")
        if not self.state.can_access(group, account, action):
            raise _denied(account, action, arn)
        return found

    def _describe(self, version: Version) -> dict[str, Any]:
        described: dict[str, Any] = {
            "ModelPackageName": version.group.name,
            "ModelPackageGroupName": version.group.name,
            "ModelPackageVersion": version.number,
            "ModelPackageArn": version.arn,
            "CreationTime": version.creation_time,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "CertifyForMarketplace": False,
            "ModelApprovalStatus": version.approval,
            "LastModifiedTime": version.last_modified,
            **version.metadata,
        }
        if version.inference is not None:
            described["InferenceSpecification"] = copy.deepcopy(version.inference)
        if version.description is not None:
            described["ModelPackageDescription"] = version.description
        return described

    def _raise_state_change(self, version: Version) -> None:
        detail = self._describe(version)
        detail = {k: (v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else v) for k, v in detail.items()}
        self.emit(version.group.account, version.group.region, "aws.sagemaker", STATE_CHANGE, detail, [version.arn])

    # -- operations --------------------------------------------------------------------------
    def CreateModelPackage(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if "ModelPackageGroupName" not in params:
            raise _validation("Only versioned model packages (ModelPackageGroupName) are emulated by localaws")
        group = self._group(account, region, params["ModelPackageGroupName"], "sagemaker:CreateModelPackage")
        versions = self._versions_of(group)
        number = len(versions) + 1
        now = self.clock.now()
        version = Version(
            group=group, number=number,
            arn=f"arn:aws:sagemaker:{group.region}:{group.account}:model-package/{group.name}/{number}",
            creation_time=now, approval=params.get("ModelApprovalStatus", "PendingManualApproval"),
            inference=copy.deepcopy(params.get("InferenceSpecification")),
            description=params.get("ModelPackageDescription"), last_modified=now,
            metadata={k: copy.deepcopy(params[k]) for k in ("MetadataProperties", "ModelMetrics") if k in params})
        versions.append(version)
        self._raise_state_change(version)
        return {"ModelPackageArn": version.arn}

    def DescribeModelPackage(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._describe(self._version(account, region, params["ModelPackageName"], "sagemaker:DescribeModelPackage"))

    def UpdateModelPackage(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        version = self._version(account, region, params["ModelPackageArn"], "sagemaker:UpdateModelPackage")
        if "ModelApprovalStatus" in params:
            version.approval = params["ModelApprovalStatus"]
        if "InferenceSpecification" in params:
            version.inference = copy.deepcopy(params["InferenceSpecification"])
        version.last_modified = self.clock.now()
        # Raised for every update, a repeated status too: SageMaker may send several events for
        # one change (stricter reading; EVENT-SM-PACKAGE-STATE).
        self._raise_state_change(version)
        return {"ModelPackageArn": version.arn}

    def ListModelPackages(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if "ModelPackageGroupName" not in params:
            raise _validation("Only a group's versions (ModelPackageGroupName) are listed by localaws")
        group = self._group(account, region, params["ModelPackageGroupName"], "sagemaker:ListModelPackages")
        versions = list(self._versions_of(group))
        if "ModelApprovalStatus" in params:
            versions = [v for v in versions if v.approval == params["ModelApprovalStatus"]]
        descending = params.get("SortOrder", "Ascending") == "Descending"
        versions.sort(key=lambda v: (v.creation_time, v.number), reverse=descending)
        chunk, token = page(
            versions, scope=f"ListModelPackages|{account}|{group.arn}|{params.get('ModelApprovalStatus')}",
            token=params.get("NextToken"), max_results=params.get("MaxResults"),
            default_max=self.DEFAULT_MAX_RESULTS, invalid_token=lambda: _validation("Invalid pagination token"))
        return {"ModelPackageSummaryList": [
            {"ModelPackageGroupName": v.group.name, "ModelPackageVersion": v.number, "ModelPackageArn": v.arn,
             "CreationTime": v.creation_time, "ModelPackageStatus": "Completed", "ModelApprovalStatus": v.approval}
            for v in chunk], "NextToken": token}


def _denied(account: str, action: str, arn: str) -> AwsError:
    return AwsError(
        "AccessDeniedException",
        f"User: arn:aws:sts::{account}:assumed-role/caller/session is not authorized to perform: "
        f"{action} on resource: {arn} because no resource-based policy allows the {action} action", 400)
