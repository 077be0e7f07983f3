"""The small interfaces the domain uses to reach SageMaker, RAM and the allowlist, each sized to
its users: what a job reads and what it writes are separate interfaces (a dry run replaces the
writes only). RAM's are in `modelshare.ram_ports`; its values and errors are here, but for
those an owner function's cold start does not build (`modelshare.port_values`).

The boto3 adapters in `modelshare.aws` implement them; unit tests use in-memory fakes. Adapters
translate AWS error codes into the exceptions below, so the domain never sees botocore.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from modelshare.allowlist import Allowlist

if TYPE_CHECKING:  # built only where the allowlist's history is read (not at an owner cold start)
    from modelshare.port_values import LastValidAllowlist

# RAM featureSet values (ram/service-2.json, ResourceShareFeatureSet / PermissionFeatureSet).
CREATED_FROM_POLICY = "CREATED_FROM_POLICY"
PROMOTING_TO_STANDARD = "PROMOTING_TO_STANDARD"
STANDARD = "STANDARD"
PENDING = "PENDING"
ATTACHABLE = "ATTACHABLE"  # PermissionStatus
FAILED = "FAILED"  # ResourceShareAssociationStatus
# A share's associations: its resources or its principals (RAM's associationType), and the
# statuses RAM gives them (ResourceShareAssociationStatus).
type AssociationKind = Literal["RESOURCE", "PRINCIPAL"]
type AssociationStatus = Literal["ASSOCIATED", "ASSOCIATING", "DISASSOCIATED", "DISASSOCIATING", "FAILED", "RESTORING",
                                 "SUSPENDED", "SUSPENDING"]
# Associations that give access, or are on their way to (an invitation is pending).
LIVE_ASSOCIATIONS: frozenset[str] = frozenset({"ASSOCIATED", "ASSOCIATING"})
# The RAM resource type of a model package group as RAM is expected to report it. UNVERIFIED
# (docs/aws-behaviour.md, RAM-TYPE): compared case-insensitively, and only a hint; a shared
# resource is judged by its ARN.
MODEL_PACKAGE_GROUP_TYPE = "sagemaker:ModelPackageGroup"
# RAM's largest page for its listings (ram/service-2.json, MaxResults).
RAM_PAGE_SIZE = 500
# Share or invitation ARNs asked about in one RAM call (its models set no limit; kept modest).
ARNS_PER_CALL = 100
# RAM's default quota of customer managed permissions per resource type (docs/aws-behaviour.md,
# RAM-QUOTAS): an account may have had it raised.
CUSTOMER_MANAGED_PERMISSIONS_QUOTA = 10


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class ResourceShare:
    """A RAM resource share of this account, as RAM lists it."""

    arn: str
    name: str
    feature_set: str
    status: str
    tags: tuple[tuple[str, str], ...] = ()  # what RAM says; never proof of who made the share


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class Association:
    """A resource or principal association of one of this account's shares."""

    share_arn: str
    entity: str  # the resource ARN, or the principal
    status: str

    @property
    def live(self) -> bool:
        return self.status in LIVE_ASSOCIATIONS


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class SharePermission:
    """A managed permission a share uses (ListResourceSharePermissions)."""

    arn: str
    name: str
    feature_set: str
    resource_type: str = ""
    # Whether the share uses the permission's default version: the one GetPermission reads when
    # asked for no version. A share keeps the version it was given when a newer one becomes the
    # default, so on another version what it grants is not what a read of the permission says.
    default_version: bool = True


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class ManagedPermission:
    """A managed permission: AWS managed, or customer managed by this account."""

    arn: str
    name: str
    status: str  # ATTACHABLE | UNATTACHABLE | ...


class PromotionRefused(Exception):
    """RAM refused to promote (OperationNotPermittedException / InvalidPolicyException): the
    share stays created-from-policy, accessible but not discoverable."""


class PromotionNotReady(Exception):
    """Retry later: RAM has not made the share yet, or has not finished promoting the permission."""


class PermissionNotMatched(Exception):
    """RAM found no managed permission matching the share's own (UnmatchedPolicyPermissionException):
    one has to be promoted from it first."""


class PermissionNameTaken(Exception):
    """A customer managed permission with that name exists already."""


class RamQuotaReached(Exception):
    """A RAM quota stops the write (docs/aws-behaviour.md, RAM-QUOTAS). `quota` names it. An
    account-wide quota (shares, pending invitations) stops every promotion and invitation of the
    run; the customer managed permission quota only those needing a new permission. Retrying at
    once cannot help: a later run (an accepted invitation, the schedule) retries."""

    def __init__(self, quota: str, message: str, *, account_wide: bool, region: bool = False) -> None:
        super().__init__(f"{quota}: {message}")
        self.quota = quota
        self.account_wide = account_wide
        # A Region quota (shares, resource or principal associations): room comes only as use
        # falls, never by itself as it does for pending invitations (docs/aws-behaviour.md,
        # RAM-QUOTA-REGION), so a minute's wait cannot help.
        self.region = region


class OrganizationSharingDisabled(Exception):
    """RAM refused an organization or OU principal because sharing with the organization is not
    enabled, or its onboarding is still in progress (docs/aws-behaviour.md, ORG-RAM-ENABLED): no
    organization or OU principal can be added until it is."""


class ResourceTypeUnknown(Exception):
    """RAM's ListResourceTypes names no resource type that is a model package group's (matched
    case-insensitively), or names two: nothing that needs the type is done (fail closed)."""


class GroupNotFound(Exception):
    """The model package group does not exist (any more)."""


class PolicyConflict(Exception):
    """SageMaker refused a write of the group's policy because another write of it ran at the
    same moment (ConflictException, docs/aws-behaviour.md SM-POLICY-CONFLICT): nothing was
    written; read the policy again before deciding again, since the other writer may have been a
    person."""


class InvitationClosed(Exception):
    """The invitation can no longer be accepted (expired, rejected or gone)."""


class InvitationAlreadyAccepted(Exception):
    """The invitation was accepted already (by another run, or a person)."""


class ApiThrottled(Exception):
    """AWS kept throttling a call after the client's own retries (or its retry quota ran dry):
    back off and try later, rather than press on at the same pace (docs/aws-behaviour.md,
    BOTOCORE-RETRY-QUOTA)."""


class AllowlistUnavailable(Exception):
    """The allowlist could not be read for a transient reason; retry later."""


class RegistryReads(Protocol):
    """What the owner side reads of SageMaker's model package groups."""

    def group_arn(self, group_name: str) -> str | None: ...
    def groups(self) -> Iterator[tuple[str, str]]:
        """(name, ARN) of every group of this account, from the listing."""
        ...
    def created(self, group_name: str) -> datetime | None:
        """The group's CreationTime (DescribeModelPackageGroup); None when there is no such group.
        A group made again under the same name (and ARN) is created later: another group."""
        ...
    def get_policy(self, group_name: str) -> dict[str, Any] | None: ...
    def cross_account_group_arns(self) -> list[str]: ...


class RegistryWrites(Protocol):
    """The owner side's writes of a group's resource policy (a dry run records them instead)."""

    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None:
        """Replace the group's policy; raises GroupNotFound, or PolicyConflict (another write
        of it at the same moment)."""
        ...
    def delete_policy(self, group_name: str) -> None: ...


class ModelRegistry(RegistryReads, RegistryWrites, Protocol):
    """Both: what an adapter of SageMaker implements."""


@dataclass(frozen=True)
class Ownership:
    """What the ledger says modelshare made for one group: the shares it promoted (or began to
    promote) and the digests of the statements it wrote into the group's policy."""

    shares: frozenset[str] = frozenset()
    statements: frozenset[str] = frozenset()


class LedgerContents(dict[str, Ownership]):
    """The whole ledger from one paged read: every group's record (group ARN -> what modelshare
    made), the shares modelshare made itself (share ARN -> the name it made it under), and the
    RAM Region quota a run last said is full (`full_quota`)."""

    def __init__(self, groups: Mapping[str, Ownership] | None = None, made_shares: Mapping[str, str] | None = None,
                 full_quota: str | None = None) -> None:
        super().__init__(groups or {})
        self.made_shares: dict[str, str] = dict(made_shares or {})
        self.full_quota = full_quota


class LedgerReads(Protocol):
    """What the ownership ledger says modelshare made (OwnershipLedger)."""

    def everything(self) -> LedgerContents:
        """Every group's record (group ARN -> what modelshare made), and the shares it made
        (`made_shares`), in one paged read."""
        ...
    def of_groups(self, group_arns: Sequence[str]) -> dict[str, Ownership]:
        """The records of these groups (absent: modelshare made nothing for it), in as few calls
        as the store allows."""
        ...
    def permissions(self) -> frozenset[str]:
        """The names of the customer managed permissions modelshare made (created, or promoted
        from a share's own): the only ones, beside AWS managed permissions, it gives a share. A
        person's permission could be versioned to grant more at any time."""
        ...
    def made_shares(self) -> dict[str, str]:
        """The shares modelshare made itself (the shares mode): share ARN -> the name it made it
        under (which says its bucket: modelshare.share_layout), in one paged read."""
        ...
    def full_quota(self) -> str | None:
        """The RAM Region quota a run said is full (logged, RamQuotaReached) and no sweep has
        found room under since, or None: said once while it stays full, whichever execution
        environment runs next (also `everything().full_quota`)."""
        ...


class LedgerWrites(Protocol):
    """modelshare's records of what it makes and deletes (OwnershipLedger)."""

    def record_share(self, group_arn: str, share_arn: str) -> None:
        """modelshare is about to promote this share of the group."""
        ...
    def forget_share(self, group_arn: str, share_arn: str) -> None:
        """modelshare deleted the share."""
        ...
    def record_statement(self, group_arn: str, digest: str) -> None:
        """modelshare is about to write a statement with this digest (policy.statement_digest)."""
        ...
    def forget_statements(self, group_arn: str, digests: Sequence[str]) -> None:
        """modelshare's statements of these digests are gone from the group's policy (it replaced
        or removed them): a person who writes the same words later writes their own."""
        ...
    def record_permission(self, name: str) -> None:
        """modelshare is about to create (or promote) a customer managed permission of this name."""
        ...
    def record_made_share(self, share_arn: str, name: str) -> None:
        """modelshare made this share, empty (no resource, no principal yet), under this name: it
        is recorded before anything is put into it."""
        ...
    def forget_made_share(self, share_arn: str) -> None:
        """modelshare deleted the share it made (or RAM no longer has it)."""
        ...
    def record_full_quota(self, quota: str) -> None:
        """A run said this Region quota is full."""
        ...
    def forget_full_quota(self) -> None:
        """A sweep found room under every Region quota."""
        ...


class OwnershipLedger(LedgerReads, LedgerWrites, Protocol):
    """modelshare's record of what it made, in a store only its own roles can write (the stack's
    OwnershipTable): the proof of ownership. A tag, a Sid, a share's name or a queue message
    anyone may write; a share or statement is modelshare's only when the ledger says so
    (docs/security.md). Written before the write it records, so a run that stops between the
    two leaves a record of something that may not exist (harmless), never the reverse."""


class WorkQueue(Protocol):
    """Where the sweep hands out its work: each item a JSON object, delivered at least once."""

    def send(self, items: Sequence[dict[str, Any]], *, delay_seconds: int = 0, pace_seconds: int = 0) -> None:
        """Deliver the items `delay_seconds` from now; with `pace_seconds`, the queue's messages
        (a few dozen items each) one after another that far apart, as far as SQS can delay."""
        ...
    def waiting(self) -> int:
        """About how many messages the queue holds: visible, being worked on, or delayed."""
        ...
    def delayed(self) -> int:
        """About how many of them wait for their delay (sent with `delay_seconds`) to pass."""
        ...


class AllowlistSource(Protocol):
    def load(self, *, fresh: bool = False) -> Allowlist:
        """The current allowlist (`fresh`: bypass any cache); raises AllowlistError (invalid or
        missing: fail closed) or AllowlistUnavailable (transient)."""
        ...
    def last_valid(self) -> LastValidAllowlist | None:
        """The newest valid version in the allowlist's history as AWS keeps it (never a value a
        run remembers), or None when there is none. Read only when `load` found the current one
        invalid. Raises AllowlistUnavailable (transient)."""
        ...
