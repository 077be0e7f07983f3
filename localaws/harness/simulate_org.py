"""A `simulate` scenario's organization (issue 20): the AWS Organization some of its accounts are
in, its OUs and whether RAM sharing with it is enabled, built on localaws/services/organizations/api.py.

    "organization": {"id": "o-exampleorg1", "management_account": "999988887777",
                     "ous": {"ou-ab12-examplou": null, "ou-ab12-childou1": "ou-ab12-examplou"},
                     "accounts": {"111111111111": null, "222222222222": "ou-ab12-childou1"},
                     "ram_sharing_enabled": true}

`ous` maps each OU to its parent (null: the root), a parent named before its children;
`accounts` maps scenario accounts to the OU they are in (null: directly under the root). The
management account need not be one of the scenario's accounts (it is in the organization all the
same). RAM sharing with the organization is off unless the scenario turns it on, as in AWS. Each
member's stack is installed with its true OU path (the OrganizationPath parameter).

`"central_allowlist": true` (issue 22, docs/central-allowlist.md): the management account, which
must not be one of the scenario's accounts, runs the central stack (Role owner) holding the one
allowlist, shared through RAM with the organization (so `ram_sharing_enabled` must be true); every
scenario account, each of which must be in the organization, reads it by ARN and follows its
changes on the central topic. The allowlist and each edit are then written once, there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localaws.services.organizations.api import ORG_ID, OU_ID, ROOT_ID, OrganizationModel

_KEYS = frozenset({"id", "management_account", "root_id", "ous", "accounts", "ram_sharing_enabled",
                   "central_allowlist"})
CENTRAL_PARAMETER = "/modelshare/allowlist"  # the central stack's AllowlistParameterName (its default)
_ACCOUNT = re.compile(r"[0-9]{12}")
WHERE = "scenario.organization"


@dataclass(frozen=True)
class OrganizationPlan:
    id: str
    management_account: str
    root_id: str
    ous: tuple[tuple[str, str | None], ...]  # (OU, parent OU or None for the root), parents first
    accounts: tuple[tuple[str, str | None], ...]  # (account, OU or None for the root)
    ram_sharing_enabled: bool
    central_allowlist: bool = False  # the management account holds the one allowlist (docs/central-allowlist.md)

    def central_stack_parameters(self) -> dict[str, str]:
        """The central stack's parameters: its parameter shared with the whole organization."""
        return {"Role": "owner", "AllowlistOrganizationId": self.id, "AllowlistTier": "Advanced",
                "AllowlistShareWith": self.build().arn}

    def central_parameter_arn(self, region: str) -> str:
        return f"arn:aws:ssm:{region}:{self.management_account}:parameter{CENTRAL_PARAMETER}"

    def build(self) -> OrganizationModel:
        """A fresh model (RAM may change it: EnableSharingWithAwsOrganization)."""
        organization = OrganizationModel(self.id, self.management_account, self.root_id,
                                         ram_sharing_enabled=self.ram_sharing_enabled)
        for ou, parent in self.ous:
            organization.add_ou(ou, parent)
        for account, parent in self.accounts:
            organization.move_account(account, parent)
        return organization

    def path(self, account: str) -> str | None:
        """The account's OU path as aws:PrincipalOrgPaths spells it (o-…/r-…/ou-…/), or None when
        it is not in the organization."""
        organization = self.build()
        if account not in organization.accounts:
            return None
        return f"{self.id}/{self.root_id}/" + "".join(f"{ou}/" for ou in organization.path(account))


def parse_organization(data: Any, accounts: set[str], fail: Callable[[str], Exception]) -> OrganizationPlan:
    """The scenario's organization, strictly: every ID as Organizations spells it, every OU's
    parent named before it, every account one of the scenario's, or `fail`'s error saying why."""
    if not isinstance(data, dict):
        raise fail(f"{WHERE}: must be an object")
    unknown, missing = sorted(set(data) - _KEYS), sorted({"id", "management_account"} - set(data))
    if unknown or missing:
        raise fail(f"{WHERE}: takes {sorted(_KEYS)}" + (f"; unknown {unknown}" if unknown else "")
                   + (f"; missing {missing}" if missing else ""))
    org_id, management, root = data["id"], data["management_account"], data.get("root_id", "r-ab12")
    for key, value, pattern in (("id", org_id, ORG_ID), ("management_account", management, _ACCOUNT),
                                ("root_id", root, ROOT_ID)):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise fail(f"{WHERE}.{key}: not as Organizations spells it ({pattern.pattern}): {value!r}")
    ous = _mapping(data.get("ous", {}), "ous", fail)
    declared: list[str] = []
    for ou, parent in ous.items():
        if not OU_ID.fullmatch(ou):
            raise fail(f"{WHERE}.ous.{ou}: not an OU ID ({OU_ID.pattern})")
        if parent is not None and parent not in declared:
            raise fail(f"{WHERE}.ous.{ou}: its parent must be null (the root) or an OU named before it")
        declared.append(ou)
    members = _mapping(data.get("accounts", {}), "accounts", fail)
    for account, place in members.items():
        if account not in accounts:
            raise fail(f"{WHERE}.accounts.{account}: not one of the scenario's accounts")
        if place is not None and place not in ous:
            raise fail(f"{WHERE}.accounts.{account}: must be null (the root) or one of the OUs in {WHERE}.ous")
    enabled, central = data.get("ram_sharing_enabled", False), data.get("central_allowlist", False)
    for key, value in (("ram_sharing_enabled", enabled), ("central_allowlist", central)):
        if not isinstance(value, bool):
            raise fail(f"{WHERE}.{key}: must be true or false")
    if central and (not enabled or management in accounts or set(accounts) - set(members)):
        raise fail(f"{WHERE}.central_allowlist: needs ram_sharing_enabled true (RAM shares the parameter with the "
                   "organization), a management account that is not one of the scenario's accounts (its central "
                   "stack holds the allowlist), and every scenario account in the organization (each reads it)")
    return OrganizationPlan(org_id, management, root, tuple(ous.items()), tuple(members.items()), enabled, central)


def _mapping(value: Any, key: str, fail: Callable[[str], Exception]) -> Mapping[str, str | None]:
    if not isinstance(value, dict) or not all(isinstance(v, str) or v is None for v in value.values()):
        raise fail(f"{WHERE}.{key}: must be an object of IDs to an OU ID or null")
    return value
