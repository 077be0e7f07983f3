"""Emulated SageMaker model package groups and their resource policies (json protocol).

The model's own constraints (name pattern, lengths, enums, MaxResults range) are checked by
`ModelRegistryEmulator._validate` before these run; what is here is the rest of the server side.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.services.registry_state import (
    GROUP_ARN,
    IAM_PRINCIPAL,
    Group,
    RegistryState,
    as_list,
    page,
    statement_principals,
)

if TYPE_CHECKING:
    from localaws.services.ram.api import Ram


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


class SageMakerGroups:
    OPERATIONS = frozenset({
        "CreateModelPackageGroup", "DescribeModelPackageGroup", "ListModelPackageGroups",
        "DeleteModelPackageGroup", "PutModelPackageGroupPolicy", "GetModelPackageGroupPolicy",
        "DeleteModelPackageGroupPolicy", "AddTags", "ListTags", "DeleteTags",
    })
    MAX_TAGS = 50
    # UNVERIFIED: AWS's default page size; a small one makes callers page.
    DEFAULT_MAX_RESULTS = 10

    def __init__(self, state: RegistryState, clock: SimClock, ram: Ram, *, ram_share_delay_seconds: float) -> None:
        self.state = state
        self.clock = clock
        self.ram = ram
        self.ram_share_delay_seconds = ram_share_delay_seconds

    # -- helpers -----------------------------------------------------------------------------
    def _own_group(self, account: str, region: str, name: str) -> Group:
        group = self.state.groups_in(account, region).get(name)
        if group is None:
            raise _validation(f"ModelPackageGroup {name} does not exist.")
        return group

    def _resolve(self, account: str, region: str, name_or_arn: str, action: str) -> Group:
        """A group by name (caller's account) or by ARN (any account, if its policy allows)."""
        match = GROUP_ARN.fullmatch(name_or_arn)
        if match is None:
            return self._own_group(account, region, name_or_arn)
        group_region, group_account, name = match.groups()
        group = self.state.groups_in(group_account, group_region).get(name) if group_region == region else None
        if group is None:
            raise _validation(f"ModelPackageGroup {name} does not exist.")
        if not self.state.can_access(group, account, action):
            raise AwsError(
                "AccessDeniedException",
                f"User: arn:aws:sts::{account}:assumed-role/caller/session is not authorized to perform: "
                f"{action} on resource: {group.arn} because no resource-based policy allows the "
                f"{action} action", 400)
        return group

    @staticmethod
    def _summary(group: Group) -> dict[str, Any]:
        return {
            "ModelPackageGroupName": group.name,
            "ModelPackageGroupArn": group.arn,
            "ModelPackageGroupDescription": group.description,
            "CreationTime": group.creation_time,
            "ModelPackageGroupStatus": "Completed",
        }

    def _schedule_share_sync(self, group: Group) -> None:
        self.clock.call_later(self.ram_share_delay_seconds, lambda: self.ram.sync_share_from_policy(group),
                              f"ram: sync share from policy of {group.arn}", internal=True)

    # -- operations --------------------------------------------------------------------------
    def CreateModelPackageGroup(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ModelPackageGroupName"]
        groups = self.state.groups_in(account, region)
        arn = f"arn:aws:sagemaker:{region}:{account}:model-package-group/{name}"
        if name in groups:
            raise _validation(f"Model Package Group already exists: {arn}")
        groups[name] = Group(
            account=account, region=region, name=name, arn=arn,
            description=params.get("ModelPackageGroupDescription"),
            creation_time=self.clock.now(),
            created_by={"IamIdentity": {"Arn": f"arn:aws:sts::{account}:assumed-role/caller/session",
                                        "PrincipalId": f"AROALOCAL{account}:session"}},
        )
        return {"ModelPackageGroupArn": arn}

    def DescribeModelPackageGroup(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._resolve(account, region, params["ModelPackageGroupName"], "sagemaker:DescribeModelPackageGroup")
        return {**self._summary(group), "CreatedBy": group.created_by}

    def ListModelPackageGroups(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        option = params.get("CrossAccountFilterOption", "SameAccount")
        if option == "SameAccount":
            groups = list(self.state.groups_in(account, region).values())
        else:
            # Only groups of other accounts in an ACTIVE STANDARD share whose invitation the caller
            # accepted: CREATED_FROM_POLICY shares make a group accessible, not discoverable.
            groups = []
            for share in self.state.shares.values():
                if (share.region != region or share.account == account or share.status != "ACTIVE"
                        or share.feature_set != "STANDARD" or self.state.principal_status(share, account) != "ASSOCIATED"):
                    continue
                for arn, association in share.resources.items():
                    group = self.state.group_by_arn(arn)
                    if association.status == "ASSOCIATED" and group is not None and group not in groups:
                        groups.append(group)
        # Stricter reading: NameContains is case-sensitive (UNVERIFIED).
        if "NameContains" in params:
            groups = [g for g in groups if params["NameContains"] in g.name]
        if "CreationTimeAfter" in params:
            groups = [g for g in groups if g.creation_time > params["CreationTimeAfter"]]
        if "CreationTimeBefore" in params:
            groups = [g for g in groups if g.creation_time < params["CreationTimeBefore"]]
        # Defaults as botocore documents them: CreationTime, Ascending (docs/aws-behaviour.md, SM-LIST-SORT).
        descending = params.get("SortOrder", "Ascending") == "Descending"
        if params.get("SortBy", "CreationTime") == "Name":
            groups.sort(key=lambda g: (g.name, g.arn), reverse=descending)
        else:
            groups.sort(key=lambda g: (g.creation_time, g.name, g.arn), reverse=descending)
        chunk, token = page(
            groups, scope=f"ListModelPackageGroups|{account}|{region}|{option}", token=params.get("NextToken"),
            max_results=params.get("MaxResults"), default_max=self.DEFAULT_MAX_RESULTS,
            invalid_token=lambda: _validation("Invalid pagination token"))
        return {"ModelPackageGroupSummaryList": [self._summary(g) for g in chunk], "NextToken": token}

    def DeleteModelPackageGroup(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._resolve(account, region, params["ModelPackageGroupName"], "sagemaker:DeleteModelPackageGroup")
        del self.state.groups_in(group.account, group.region)[group.name]
        group.policy = None
        self.ram.on_group_deleted(group)
        return {}

    def PutModelPackageGroupPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._own_group(account, region, params["ModelPackageGroupName"])
        _check_policy(params["ResourcePolicy"], group)
        group.policy = params["ResourcePolicy"]
        self._schedule_share_sync(group)
        return {"ModelPackageGroupArn": group.arn}

    def GetModelPackageGroupPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._own_group(account, region, params["ModelPackageGroupName"])
        if group.policy is None:
            raise _validation(f"Cannot find resource policy for ModelPackageGroup {group.name}")
        return {"ResourcePolicy": group.policy}

    def DeleteModelPackageGroupPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._own_group(account, region, params["ModelPackageGroupName"])
        # Stricter reading: deleting a policy that does not exist is an error (UNVERIFIED).
        if group.policy is None:
            raise _validation(f"Cannot find resource policy for ModelPackageGroup {group.name}")
        group.policy = None
        self._schedule_share_sync(group)
        return {}


    # -- tags (of model package groups: the only SageMaker resource emulated) -------------------
    def _tagged_group(self, account: str, region: str, arn: str) -> Group:
        match = GROUP_ARN.fullmatch(arn)
        group = self.state.group_by_arn(arn) if match is not None else None
        if group is None or group.account != account or group.region != region:
            # Stricter reading (UNVERIFIED wording): another account's or an unknown resource.
            raise AwsError("ResourceNotFound", f"Resource {arn} does not exist.", 400)
        return group

    def AddTags(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._tagged_group(account, region, params["ResourceArn"])
        tags = {t["Key"]: t.get("Value", "") for t in params["Tags"]}
        if any(key.lower().startswith("aws:") for key in tags):
            raise _validation("Tag keys starting with 'aws:' are reserved for AWS use")
        if len({**group.tags, **tags}) > self.MAX_TAGS:
            raise _validation(f"A resource can have at most {self.MAX_TAGS} tags")
        group.tags.update(tags)
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def ListTags(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._tagged_group(account, region, params["ResourceArn"])
        tags = [{"Key": k, "Value": v} for k, v in sorted(group.tags.items())]
        chunk, token = page(tags, scope=f"ListTags|{account}|{group.arn}", token=params.get("NextToken"),
                            max_results=params.get("MaxResults"), default_max=self.MAX_TAGS,
                            invalid_token=lambda: _validation("Invalid pagination token"))
        return {"Tags": chunk, "NextToken": token}

    def DeleteTags(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        group = self._tagged_group(account, region, params["ResourceArn"])
        for key in params["TagKeys"]:
            group.tags.pop(key, None)
        return {}


def _check_policy(text: str, group: Group) -> None:
    """What SageMaker checks in a resource policy (AWS documents only "Duplicate principal"; the
    rest is the stricter reading of IAM's resource policy grammar)."""
    try:
        policy = json.loads(text)
    except ValueError:
        raise _validation("Invalid resource policy: not valid JSON") from None
    if not isinstance(policy, dict) or "Version" not in policy or "Statement" not in policy:
        raise _validation("Invalid resource policy: Version and Statement are required")
    statements = as_list(policy["Statement"])
    if not statements:
        raise _validation("Invalid resource policy: Statement must not be empty")
    model_packages = f"{group.arn.replace(':model-package-group/', ':model-package/')}/".lower()
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise _validation("Invalid resource policy: each statement needs Effect Allow or Deny")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise _validation("Invalid resource policy: each statement needs a Principal")
        if "Action" not in statement and "NotAction" not in statement:
            raise _validation("Invalid resource policy: each statement needs an Action")
        principals = statement_principals(statement)
        if "Principal" in statement and not principals:
            raise _validation("Invalid resource policy: Principal must name AWS principals")
        if "*" in principals:
            # Stricter reading (UNVERIFIED): a group cannot be shared with everyone.
            raise _validation("Invalid resource policy: Principal \"*\" is not supported")
        for principal in principals:
            if not IAM_PRINCIPAL.fullmatch(principal):
                # Stricter reading (UNVERIFIED, docs/aws-behaviour.md SM-POLICY-PRINCIPAL): IAM's
                # "Invalid principal in policy", as SageMaker's ValidationException (JSON-escaped, so
                # a look-alike digit shows as one).
                raise _validation(f"Invalid resource policy: Invalid principal in policy: {json.dumps(principal)}")
        duplicates = {p for p in principals if principals.count(p) > 1}
        if duplicates:
            raise _validation(f"Invalid resource policy: Duplicate principal: {sorted(duplicates)[0]}")
        if not as_list(statement.get("Resource")):
            raise _validation("Invalid resource policy: each statement needs a Resource")
        for resource in as_list(statement.get("Resource")):
            lowered = str(resource).lower()
            if lowered != group.arn.lower() and not lowered.startswith(model_packages):
                raise _validation(f"Invalid resource policy: resource {resource} is not {group.arn} "
                                  "or one of its model packages")
