"""Emulated AWS Organizations (json protocol): one organization, its OUs (nested) and accounts,
and whether RAM sharing with the organization is enabled (docs/aws-behaviour.md, ORG-*).

Only what modelshare and RAM need: `DescribeOrganization`, which any member account may call
(botocore `organizations` model: "You can call this operation from any account in a
organization"; AWSOrganizationsNotInUseException outside one), and `ListParents`, which only the
management account answers here (a delegated administrator is not modelled: stricter). RAM reads
the model to resolve an organization or OU principal to its accounts, at the moment of access: an
account moved out of an OU loses what the OU was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from localaws.core.errors import AwsError

# Organizations' own patterns (botocore `organizations` model: OrganizationArn,
# OrganizationalUnitArn), matched whole.
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}")
ORGANIZATION_ARN = re.compile(r"arn:aws:organizations::([0-9]{12}):organization/(o-[a-z0-9]{10,32})")
OU_ARN = re.compile(r"arn:aws:organizations::([0-9]{12}):ou/(o-[a-z0-9]{10,32})/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})")


def is_org_principal(principal: str) -> bool:
    """Whether a RAM principal names an organization or an OU (by its ARN)."""
    return bool(ORGANIZATION_ARN.fullmatch(principal) or OU_ARN.fullmatch(principal))


@dataclass
class OrganizationModel:
    """The organization: its root, OUs (ID -> parent ID, the root's or an OU's), accounts
    (account -> parent ID) and RAM's org sharing switch (EnableSharingWithAwsOrganization)."""

    id: str
    management_account: str
    root_id: str = "r-ab12"
    ous: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    ram_sharing_enabled: bool = False

    def __post_init__(self) -> None:
        if not ORG_ID.fullmatch(self.id) or not ROOT_ID.fullmatch(self.root_id):
            raise ValueError(f"not an organization/root ID: {self.id} {self.root_id}")
        self.accounts.setdefault(self.management_account, self.root_id)

    @property
    def arn(self) -> str:
        return f"arn:aws:organizations::{self.management_account}:organization/{self.id}"

    def ou_arn(self, ou: str) -> str:
        return f"arn:aws:organizations::{self.management_account}:ou/{self.id}/{ou}"

    def add_ou(self, ou: str, parent: str | None = None) -> str:
        """Add OU `ou` under `parent` (an OU, else the root); its ARN."""
        if not OU_ID.fullmatch(ou) or (parent is not None and parent not in self.ous):
            raise ValueError(f"not an OU ID, or an unknown parent: {ou} {parent}")
        self.ous[ou] = parent or self.root_id
        return self.ou_arn(ou)

    def move_account(self, account: str, parent: str | None = None) -> None:
        """Put `account` in the organization, in OU `parent` (else directly under the root)."""
        if parent is not None and parent not in self.ous:
            raise ValueError(f"unknown OU {parent}")
        self.accounts[account] = parent or self.root_id

    def path(self, account: str) -> list[str]:
        """The OUs holding `account`, from the root down."""
        ous: list[str] = []
        parent = self.accounts.get(account)
        while parent is not None and parent in self.ous:
            ous.insert(0, parent)
            parent = self.ous[parent]
        return ous

    def memberships(self, account: str) -> frozenset[str]:
        """The principal ARNs that reach `account`: the organization's and every OU's above it
        (sharing with an OU reaches the accounts of the OUs under it too)."""
        if account not in self.accounts:
            return frozenset()
        return frozenset({self.arn, *(self.ou_arn(ou) for ou in self.path(account))})

    def knows(self, principal: str) -> bool:
        """Whether `principal` is this organization's ARN or one of its OUs' exactly."""
        ou = OU_ARN.fullmatch(principal)
        if ou is not None:
            return ou.group(1) == self.management_account and ou.group(2) == self.id and ou.group(3) in self.ous
        return principal == self.arn


class Organizations:
    OPERATIONS = frozenset({"DescribeOrganization", "ListParents"})

    def __init__(self, state: Any) -> None:
        self.state = state  # RegistryState: its `organization` may be set or changed at any time

    def _organization_of(self, account: str) -> OrganizationModel:
        organization: OrganizationModel | None = self.state.organization
        if organization is None or account not in organization.accounts:
            raise AwsError("AWSOrganizationsNotInUseException",
                           "Your account is not a member of an organization.", 400)
        return organization

    def DescribeOrganization(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        organization = self._organization_of(account)
        management = organization.management_account
        return {"Organization": {
            "Id": organization.id, "Arn": organization.arn, "FeatureSet": "ALL",
            "MasterAccountArn": f"arn:aws:organizations::{management}:account/{organization.id}/{management}",
            "MasterAccountId": management, "MasterAccountEmail": f"{management}@example.com",
            "AvailablePolicyTypes": [],
        }}

    def ListParents(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        organization = self._organization_of(account)
        if account != organization.management_account:
            # The management account or a delegated administrator only (Organizations guide);
            # no delegated administrator is modelled.
            raise AwsError("AccessDeniedException", "You don't have permissions to access this resource.", 400)
        child = params["ChildId"]
        parent = organization.accounts.get(child) or organization.ous.get(child)
        if parent is None:
            raise AwsError("ChildNotFoundException", f"We can't find a child with the ID {child}.", 400)
        kind = "ROOT" if parent == organization.root_id else "ORGANIZATIONAL_UNIT"
        return {"Parents": [{"Id": parent, "Type": kind}]}
