"""The small interfaces the domain uses to reach SageMaker, RAM and the allowlist.

The boto3 adapters in `modelshare.aws` implement them; unit tests use in-memory fakes. Adapters
translate AWS error codes into the exceptions below, so the domain never sees botocore.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from modelshare.allowlist import Allowlist

# RAM featureSet values (ram/service-2.json, ResourceShareFeatureSet / PermissionFeatureSet).
CREATED_FROM_POLICY = "CREATED_FROM_POLICY"
PROMOTING_TO_STANDARD = "PROMOTING_TO_STANDARD"
STANDARD = "STANDARD"
PENDING = "PENDING"
# The RAM resource type of a model package group, as RAM reports it on share resources.
MODEL_PACKAGE_GROUP_TYPE = "sagemaker:ModelPackageGroup"


@dataclass(frozen=True)
class ResourceShare:
    arn: str
    name: str
    feature_set: str
    status: str


@dataclass(frozen=True)
class SharePermission:
    arn: str
    name: str
    feature_set: str


@dataclass(frozen=True)
class Invitation:
    arn: str
    share_arn: str
    share_name: str
    sender: str
    status: str
    sent_at: datetime | None


@dataclass(frozen=True)
class SharedResource:
    arn: str
    type: str


class PromotionRefused(Exception):
    """RAM refused to promote (OperationNotPermittedException / InvalidPolicyException): the
    share stays created-from-policy, accessible but not discoverable."""


class PromotionNotReady(Exception):
    """Retry later: RAM has not made the share yet, or has not finished promoting the permission."""


class InvitationClosed(Exception):
    """The invitation can no longer be accepted (expired, rejected or gone)."""


class AllowlistUnavailable(Exception):
    """The allowlist could not be read for a transient reason; retry later."""


class ModelRegistry(Protocol):
    def group_arn(self, group_name: str) -> str | None: ...
    def group_names(self) -> Iterator[str]: ...
    def get_policy(self, group_name: str) -> dict[str, Any] | None: ...
    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None: ...
    def delete_policy(self, group_name: str) -> None: ...
    def cross_account_group_arns(self) -> list[str]: ...


class ResourceShares(Protocol):
    def shares_holding(self, resource_arn: str) -> list[ResourceShare]: ...
    def owned_shares(self) -> Iterator[ResourceShare]: ...
    def share_resource_arns(self, share_arn: str, *, include_past: bool = False) -> list[str]: ...
    def share_principals(self, share_arn: str) -> list[str]: ...
    def associate_principals(self, share_arn: str, principals: list[str]) -> None: ...
    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None: ...
    def delete_share(self, share_arn: str) -> None: ...
    def permissions(self, share_arn: str) -> list[SharePermission]: ...
    def promote_permission(self, permission_arn: str, name: str) -> None: ...
    def promote_share(self, share_arn: str) -> bool:
        """True when promotion started; False when it was already promoting or promoted."""
        ...
    def invitations(self) -> Iterator[Invitation]: ...
    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]: ...
    def accept(self, invitation_arn: str) -> bool:
        """True when accepted now; False when it had been accepted already."""
        ...


class AllowlistSource(Protocol):
    def load(self, *, fresh: bool = False) -> Allowlist:
        """The current allowlist (`fresh`: bypass any cache); raises AllowlistError (invalid or
        missing: fail closed) or AllowlistUnavailable (transient)."""
        ...
