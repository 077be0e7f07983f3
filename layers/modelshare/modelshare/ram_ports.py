"""RAM as each side of modelshare uses it: the owner reads and writes its own shares and
permissions, the consumer reads what other accounts share with it and accepts invitations.
What a side reads and what it writes are separate interfaces, so a dry run replaces the writes
and reads the truth (modelshare.dry_run). The adapters: modelshare.aws.ram_owner and
modelshare.aws.ram_consumer; the values and errors they use: modelshare.ports (and the
consumer's, modelshare.port_values)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from modelshare.org_principals import Organization
from modelshare.ports import (
    Association,
    AssociationKind,
    AssociationStatus,
    ManagedPermission,
    ResourceShare,
    SharePermission,
)

if TYPE_CHECKING:  # the consumer's values, not built at an owner function's cold start
    from modelshare.port_values import Invitation, SharedResource


class OrganizationReads(Protocol):
    def organization(self) -> Organization | None:
        """The organization this account is in (DescribeOrganization, which any member may call),
        or None when it is in none or may not read it (fail closed: it then names no
        organization or OU)."""
        ...


class OwnerShareReads(OrganizationReads, Protocol):
    """What the owner side reads of this account's shares and managed permissions."""

    def shares_holding(self, resource_arn: str) -> list[ResourceShare]: ...
    def owned_shares(self) -> Iterator[ResourceShare]: ...
    def shares_by_arn(self, share_arns: Sequence[str]) -> list[ResourceShare]:
        """Those of the shares that exist, in as few calls as RAM allows."""
        ...
    def share_resources(self, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The resources each share holds now (live associations), in as few calls as RAM allows."""
        ...
    def share_principals(self, share_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The principals of each share that have or are being offered access, in as few calls
        as RAM allows."""
        ...
    def associations(self, kind: AssociationKind, *, status: AssociationStatus | None = None) -> Iterator[Association]:
        """Every RESOURCE or PRINCIPAL association of this account's shares (with `status`: in
        that status only), in one paged pass."""
        ...
    def permissions(self, share_arn: str) -> list[SharePermission]: ...
    def permission_actions(self, permission_arn: str) -> frozenset[str]:
        """The actions a permission grants, lower-cased."""
        ...
    def model_package_group_type(self) -> str:
        """RAM's own spelling of a model package group's resource type, as ListResourceTypes
        gives it (found there case-insensitively): what every call naming the type passes, since
        CreatePermission's is case sensitive (docs/aws-behaviour.md, RAM-TYPE). Read once for
        the adapter's life (an execution environment). Raises ResourceTypeUnknown."""
        ...
    def customer_managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        """This account's customer managed permissions for the resource type."""
        ...
    def managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        """The AWS managed and this account's customer managed permissions for the resource type."""
        ...
    def shareable_permissions(self) -> list[str]:
        """The ARN of every managed permission this account can give a share, of any resource
        type: AWS managed ones and its own customer managed ones (ListPermissions, all pages)."""
        ...
    def permission_associations(self, permission_arns: Sequence[str]) -> dict[str, tuple[SharePermission, ...]]:
        """The STANDARD shares this account owns that use any of `permission_arns` (share ARN ->
        those of its permissions): one paged ListPermissionAssociations per permission
        (docs/aws-behaviour.md, RAM-PERMISSION-ASSOCIATIONS)."""
        ...


class OwnerShareWrites(Protocol):
    """What the owner side changes in this account's shares and managed permissions."""

    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        """Raises RamQuotaReached, or OrganizationSharingDisabled (organization or OU principals)."""
        ...
    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None: ...
    def delete_share(self, share_arn: str) -> None: ...
    def disassociate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        """Take resources out of the share (what a person added to one of modelshare's)."""
        ...
    def promote_permission(self, permission_arn: str, name: str) -> None:
        """Raises PermissionNameTaken, RamQuotaReached or PromotionRefused."""
        ...
    def create_share(self, name: str, permission_arn: str, client_token: str) -> ResourceShare:
        """A share of this account's (the shares mode's), made empty: no resource, no principal,
        with this managed permission. The same `client_token` gives back the share it made
        (RAM's idempotency) rather than a second one. Raises RamQuotaReached."""
        ...
    def associate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        """Put resources into one of this account's shares, at most 100 a call (RAM's limit).
        Principals already on the share reach them at once, with no new invitation. Raises
        RamQuotaReached, or GroupNotFound when RAM finds no resource of the call (a group deleted
        since: RAM then associates none of the call's)."""
        ...
    def create_permission(self, name: str, resource_type: str, actions: Sequence[str]) -> None:
        """A customer managed permission granting `actions`. Raises PermissionNameTaken or
        RamQuotaReached."""
        ...
    def replace_permission(self, share_arn: str, permission_arn: str) -> None:
        """Make `permission_arn` the share's permission for its resource type, in place of the
        one it has."""
        ...
    def disassociate_permission(self, share_arn: str, permission_arn: str) -> None:
        """Take a permission off one of this account's shares. RAM refuses while the share holds
        a resource of the permission's type (docs/aws-behaviour.md, RAM-PERMISSION-OFF)."""
        ...
    def promote_share(self, share_arn: str) -> bool:
        """True when promotion started; False when it was already promoting or promoted. Raises
        PermissionNotMatched, RamQuotaReached or PromotionRefused."""
        ...


class OwnerShares(OwnerShareReads, OwnerShareWrites, Protocol):
    """Both: what the owner's RAM adapter implements."""


class ConsumerShareReads(OrganizationReads, Protocol):
    """What the consumer side reads: its invitations, and the shares other accounts share with it."""

    def invitations(self, about: Sequence[str] | None = None) -> Iterator[Invitation]:
        """This account's invitations; with `about` (invitation or share ARNs), those only."""
        ...
    def pending_invitation_resources(self, invitation_arn: str) -> list[SharedResource]:
        """What a pending invitation's share holds. Raises InvitationClosed, or
        InvitationAlreadyAccepted (whether RAM answers so here is UNVERIFIED: docs/aws-behaviour.md,
        RAM-INVITATIONS)."""
        ...
    def received_resources(self) -> dict[str, tuple[SharedResource, ...]]:
        """Every resource other accounts share with this account through shares it accepted, by
        share ARN, in one paged pass (docs/aws-behaviour.md, RAM-CONSUMER-READS)."""
        ...
    def received_share_permissions(self, share_arns: Sequence[str]) -> dict[str, tuple[SharePermission, ...] | None]:
        """The permissions of each of these shares another account shares with this one (its
        invitation pending or accepted); None for a share RAM does not let this account read
        (docs/aws-behaviour.md, RAM-CONSUMER-READS)."""
        ...
    def received_permission_actions(self, permission_arn: str) -> frozenset[str] | None:
        """The actions (lower-cased) of a permission of a share shared with this account; None
        when RAM does not let this account read it."""
        ...


class ConsumerShareWrites(Protocol):
    """The consumer side's one write: accepting an invitation."""

    def accept(self, invitation_arn: str) -> bool:
        """True when accepted now; False when it had been accepted already."""
        ...


class ConsumerShares(ConsumerShareReads, ConsumerShareWrites, Protocol):
    """Both: what the consumer's RAM adapter implements."""
