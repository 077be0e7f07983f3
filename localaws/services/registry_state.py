"""State shared by the emulated SageMaker model package groups and AWS RAM.

Groups are keyed by (account, region); shares, permissions and invitations by ARN (each ARN names
its account and region, and every query filters on both).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localaws.core.errors import AwsError
from localaws.services.organizations.api import OrganizationModel

# Account IDs are twelve ASCII digits: Python's digit class would take any Unicode digit
# (docs/aws-behaviour.md, RAM-PRINCIPAL-ID).
ACCOUNT = re.compile(r"[0-9]{12}")
# What a policy's "AWS" principal may be (IAM user guide, Principal element): an account, its root,
# an IAM role or user, or a role session (docs/aws-behaviour.md, SM-POLICY-PRINCIPAL).
IAM_PRINCIPAL = re.compile(r"[0-9]{12}|arn:aws[a-z\-]*:iam::[0-9]{12}:(root|role/.+|user/.+)"
                           r"|arn:aws[a-z\-]*:sts::[0-9]{12}:assumed-role/.+")
ROOT_ARN = re.compile(r"arn:aws:iam::([0-9]{12}):root")
GROUP_ARN = re.compile(r"arn:aws[a-z\-]*:sagemaker:([a-z0-9\-]+):([0-9]{12}):model-package-group/([^/]+)")
SHARE_ARN = re.compile(r"arn:aws[a-z\-]*:ram:([a-z0-9\-]+):([0-9]{12}):resource-share/[A-Za-z0-9\-]+")
INVITATION_ARN = re.compile(
    r"arn:aws[a-z\-]*:ram:([a-z0-9\-]+):([0-9]{12}):resource-share-invitation/[A-Za-z0-9\-]+")
PERMISSION_ARN = re.compile(r"arn:aws[a-z\-]*:ram:([a-z0-9\-]*):([0-9]{12}|aws):permission/[A-Za-z0-9_.\-]+")
# The RAM resource type string of a model package group: UNVERIFIED (docs/aws-behaviour.md,
# RAM-TYPE). Deliberately in another case than modelshare's guess (MODEL_PACKAGE_GROUP_TYPE,
# "sagemaker:ModelPackageGroup"): CreatePermission is case sensitive, so code that passes its
# own constant instead of ListResourceTypes' spelling fails here. RegistryState.group_type can
# be set to yet another spelling.
GROUP_TYPE = "sagemaker:modelpackagegroup"
DISCOVER_ACTIONS = ("sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                    "sagemaker:ListModelPackages")

# The AWS managed permissions for model package groups (docs/aws-behaviour.md, RAM-AWS-MANAGED).
# The names are the ones public samples use; the action lists are UNVERIFIED guesses, kept in this
# one table. modelshare never names them: RAM matches them to a policy's actions by itself.
AWS_MANAGED_GROUP_PERMISSIONS: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    ("AWSRAMDefaultPermissionSageMakerModelPackageGroup", True, DISCOVER_ACTIONS),
    ("AWSRAMPermissionSageMakerModelPackageGroupAllowRegister", False,
     (*DISCOVER_ACTIONS, "sagemaker:CreateModelPackage")),
    ("AWSRAMPermissionSageMakerModelPackageGroupAllowDeploy", False,
     (*DISCOVER_ACTIONS, "sagemaker:UpdateModelPackage", "sagemaker:CreateModel")),
)


@dataclass(frozen=True)
class RamQuotas:
    """RAM's default quotas (docs/aws-behaviour.md, RAM-QUOTAS); tests lower them."""

    customer_managed_permissions_per_resource_type: int = 10
    customer_managed_permissions_per_region: int = 1_500
    # CreatePermissionVersion is not emulated: no permission ever has a second version here.
    versions_per_permission: int = 5
    pending_invitations_per_account: int = 20
    resource_shares_per_region: int = 25_000
    # Across every share of the account in the Region: a resource (a principal) in 10 shares
    # counts 10, and shares made from policies count too (localaws/services/ram/quotas.py).
    resource_associations_per_region: int = 25_000
    principal_associations_per_region: int = 25_000
    resources_per_share: int = 5_000
    principals_per_share: int = 5_000
    tags_per_resource: int = 50
    # An API limit rather than a quota ("You can associate up to 100 resources per call").
    resources_per_call: int = 100


def principal_account(principal: str) -> str | None:
    """The account an account-level principal names ("123456789012" or its root ARN), else None."""
    if ACCOUNT.fullmatch(principal):
        return principal
    match = ROOT_ARN.fullmatch(principal)
    return match.group(1) if match else None


@dataclass
class Group:
    account: str
    region: str
    name: str
    arn: str
    description: str | None
    creation_time: datetime
    created_by: dict[str, Any]
    policy: str | None = None
    # Set once a share holding the group was promoted: from then on RAM, not the policy, decides.
    ram_managed: bool = False
    tags: dict[str, str] = field(default_factory=dict)


# Speed only: a count of the changes that can change how many associations a Region holds (an
# association made or moved, a share's status or pools replaced), so localaws/services/ram/quotas.py counts
# them again only after one, not for every association it checks (quadratic at 10,000 shares).
ASSOCIATION_CHANGES = [0]
_COUNTED_SHARE_FIELDS = frozenset({"status", "account", "region", "resources", "principals"})


@dataclass
class Association:
    entity: str
    kind: str  # PRINCIPAL | RESOURCE
    status: str
    creation_time: datetime
    last_updated: datetime
    external: bool = False
    status_message: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "status":
            ASSOCIATION_CHANGES[0] += 1

    def move(self, status: str, now: datetime) -> None:
        if status != self.status:
            self.status = status
            self.last_updated = now


@dataclass
class Permission:
    arn: str
    account: str  # "aws" for AWS managed permissions
    region: str
    name: str
    resource_type: str
    feature_set: str  # CREATED_FROM_POLICY | PROMOTING_TO_STANDARD | STANDARD
    permission_type: str  # AWS_MANAGED | CUSTOMER_MANAGED
    statements: list[dict[str, Any]]
    creation_time: datetime
    last_updated: datetime
    status: str = "ATTACHABLE"  # ATTACHABLE | UNATTACHABLE | DELETED
    is_default: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def actions(self) -> frozenset[str]:
        found: set[str] = set()
        for statement in self.statements:
            action = statement.get("Action", [])
            found.update(a.lower() for a in ([action] if isinstance(action, str) else action))
        return frozenset(found)


_LIVENESS = {"ASSOCIATED": 0, "ASSOCIATING": 1, "DISASSOCIATING": 2}


@dataclass
class Share:
    arn: str
    account: str
    region: str
    name: str
    feature_set: str
    creation_time: datetime
    last_updated: datetime
    status: str = "ACTIVE"
    allow_external_principals: bool = True
    resources: dict[str, Association] = field(default_factory=dict)
    principals: dict[str, Association] = field(default_factory=dict)
    permission_arns: list[str] = field(default_factory=list)
    from_policy_of: str | None = None  # the group ARN whose policy created it
    tags: dict[str, str] = field(default_factory=dict)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _COUNTED_SHARE_FIELDS:
            ASSOCIATION_CHANGES[0] += 1

    def touch(self, now: datetime) -> None:
        self.last_updated = now

    def has_resource(self, arn: str) -> bool:
        association = self.resources.get(arn)
        return association is not None and association.status == "ASSOCIATED"

    def principal_status(self, account: str) -> str | None:
        """The account's association (of its forms: ID, root ARN), the most live one: a FAILED
        association RAM left under one form does not hide a later one under the other."""
        found = [a.status for entity, a in self.principals.items() if principal_account(entity) == account]
        return min(found, key=lambda status: _LIVENESS.get(status, len(_LIVENESS)), default=None)


@dataclass
class Invitation:
    arn: str
    share_arn: str
    sender: str
    receiver: str
    region: str
    status: str
    timestamp: datetime


@dataclass
class RegistryState:
    groups: dict[tuple[str, str], dict[str, Group]] = field(default_factory=dict)
    shares: dict[str, Share] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    # Resources of services localaws does not emulate (an EC2 subnet, say) that RAM may share
    # beside model package groups: ARN -> RAM resource type.
    other_resources: dict[str, str] = field(default_factory=dict)
    # (account, operation, clientToken) -> (fingerprint of the request, response)
    idempotency: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)
    quotas: RamQuotas = field(default_factory=RamQuotas)
    group_type: str = GROUP_TYPE
    # The AWS Organization the accounts may be in (localaws/services/organizations/api.py); None: none.
    organization: OrganizationModel | None = None

    def groups_in(self, account: str, region: str) -> dict[str, Group]:
        return self.groups.setdefault((account, region), {})

    def group_by_arn(self, arn: str) -> Group | None:
        match = GROUP_ARN.fullmatch(arn)
        if match is None:
            return None
        region, account, name = match.groups()
        group = self.groups_in(account, region).get(name)
        return group if group is not None and group.arn == arn else None

    def in_shared_organization(self, owner: str, account: str) -> bool:
        """Whether `owner` and `account` are in the organization and RAM sharing with it is
        enabled: then an organization or OU principal reaches `account`, and an account
        principal needs no invitation (docs/aws-behaviour.md, ORG-NO-INVITATION)."""
        organization = self.organization
        return (organization is not None and organization.ram_sharing_enabled
                and owner in organization.accounts and account in organization.accounts)

    def principal_status(self, share: Share, account: str) -> str | None:
        """How `share` reaches `account`, the most live way: as an account principal, or through
        the organization or an OU holding it (resolved now: an account that left the OU is no
        longer reached through it)."""
        found = [status] if (status := share.principal_status(account)) is not None else []
        if self.organization is not None and self.in_shared_organization(share.account, account):
            reaching = self.organization.memberships(account)
            found += [a.status for entity, a in share.principals.items() if entity in reaching]
        return min(found, key=lambda s: _LIVENESS.get(s, len(_LIVENESS)), default=None)

    def resource_type(self, arn: str) -> str:
        return self.group_type if GROUP_ARN.fullmatch(arn) else self.other_resources[arn]

    def shares_holding(self, resource_arn: str) -> list[Share]:
        return [s for s in self.shares.values() if s.status == "ACTIVE" and s.has_resource(resource_arn)]

    def can_access(self, group: Group, caller: str, action: str) -> bool:
        """Whether `caller` (an account) may perform `action` on `group`.

        Until a share holding the group is promoted, the group's resource policy decides. Once one
        was promoted, RAM owns access: the caller must be an ASSOCIATED principal (an accepted
        invitation) of an ACTIVE STANDARD share whose permission allows the action, so deleting
        the share or disassociating the account ends access.
        UNVERIFIED: stricter reading of what AWS does with the original policy after promotion.
        """
        if caller == group.account:
            return True
        shares = self.shares_holding(group.arn)
        standard = [s for s in shares if s.feature_set == "STANDARD"]
        if standard or group.ram_managed:
            for share in standard:
                if self.principal_status(share, caller) != "ASSOCIATED":
                    continue
                for arn in share.permission_arns:
                    permission = self.permissions.get(arn)
                    if permission is not None and any(
                            fnmatch.fnmatchcase(action.lower(), a) for a in permission.actions()):
                        return True
            return False
        if group.policy is None:
            return False
        return any(statement_allows(s, caller, action, group.arn)
                   for s in json.loads(group.policy).get("Statement", []))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if not isinstance(value, list) else value


def statement_principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(p) for p in as_list(principal.get("AWS"))]
    return []


def statement_allows(statement: dict[str, Any], account: str, action: str, resource_arn: str) -> bool:
    if statement.get("Effect") != "Allow" or "Condition" in statement:
        return False
    principals = statement_principals(statement)
    if not any(p == "*" or principal_account(p) == account for p in principals):
        return False
    if not any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in as_list(statement.get("Action"))):
        return False
    return any(fnmatch.fnmatchcase(resource_arn.lower(), str(r).lower()) for r in as_list(statement.get("Resource")))


# -- paging ------------------------------------------------------------------------------------


def page[T](
    items: Sequence[T],
    *,
    scope: str,
    token: str | None,
    max_results: int | None,
    default_max: int,
    invalid_token: Callable[[], AwsError],
) -> tuple[list[T], str | None]:
    """One page of `items`. Tokens are opaque, bound to `scope` (operation, caller, region):
    a token that does not decode or was issued for another scope is rejected."""
    offset = 0
    if token is not None:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            if not isinstance(decoded, dict) or decoded.get("scope") != scope:
                raise ValueError("token of another scope")
            offset = int(decoded["offset"])
            if offset < 0:
                raise ValueError("negative offset")
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise invalid_token() from None
    size = max_results or default_max
    chunk = list(items[offset:offset + size])
    if offset + size >= len(items):
        return chunk, None
    next_token = base64.urlsafe_b64encode(json.dumps({"scope": scope, "offset": offset + size}).encode()).decode()
    return chunk, next_token
