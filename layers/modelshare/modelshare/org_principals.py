"""Organization and OU principals (issue 20; docs/security.md, "Organization and OU consumers (shares mode)"):
pure, no AWS call.

RAM takes an organization or an organizational unit as a share's principal by its ARN
(botocore `ram` model, AssociateResourceShare `principals`), and Organizations documents both
ARNs' patterns (botocore `organizations` model, OrganizationArn and OrganizationalUnitArn). They
are matched here exactly: ASCII digits, lower-case IDs, the `aws` partition, nothing around them.

A consumer account knows its organization (DescribeOrganization) but not its OU; its OU path comes
from its stack parameter, in the `aws:PrincipalOrgPaths` form `o-…/r-…/ou-…/…/`, and counts only
when its organization is the one the account reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ORG_ID = r"o-[a-z0-9]{10,32}"
_OU_ID = r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}"
_ROOT_ID = r"r-[0-9a-z]{4,32}"
_ORGANIZATION_ARN = re.compile(rf"arn:aws:organizations::([0-9]{{12}}):organization/({_ORG_ID})")
_OU_ARN = re.compile(rf"arn:aws:organizations::([0-9]{{12}}):ou/({_ORG_ID})/({_OU_ID})")
# Either ARN, for a pattern that also takes account IDs (the allowlist's consumers).
ORG_PRINCIPAL = rf"arn:aws:organizations::[0-9]{{12}}:(?:organization/{_ORG_ID}|ou/{_ORG_ID}/{_OU_ID})"
_ORG_PATH = re.compile(rf"({_ORG_ID})/({_ROOT_ID})/((?:{_OU_ID}/)*)")
ORG_PRINCIPAL_MESSAGE = ("must be a 12-digit account ID string, or an organization or OU ARN "
                         "(arn:aws:organizations::<management account>:organization/o-... or :ou/o-.../ou-...)")


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class OrgPrincipal:
    """An organization (`ou` None) or one of its OUs, as a RAM principal ARN names it."""

    management_account: str
    organization_id: str
    ou: str | None = None

    @property
    def arn(self) -> str:
        if self.ou is None:
            return f"arn:aws:organizations::{self.management_account}:organization/{self.organization_id}"
        return f"arn:aws:organizations::{self.management_account}:ou/{self.organization_id}/{self.ou}"


def parse_org_principal(value: object) -> OrgPrincipal | None:
    """The organization or OU `value` names as a RAM principal ARN, else None."""
    if not isinstance(value, str):
        return None
    organization = _ORGANIZATION_ARN.fullmatch(value)
    if organization is not None:
        return OrgPrincipal(organization.group(1), organization.group(2))
    ou = _OU_ARN.fullmatch(value)
    if ou is not None:
        return OrgPrincipal(ou.group(1), ou.group(2), ou.group(3))
    return None


def is_org_principal(value: object) -> bool:
    return parse_org_principal(value) is not None


def account_consumers(consumers: Iterable[str]) -> tuple[str, ...]:
    """The consumers that are accounts (each costs an invitation outside the organization)."""
    return tuple(c for c in consumers if not is_org_principal(c))


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class Organization:
    """What any member account reads of its organization (DescribeOrganization)."""

    id: str
    management_account: str

    @property
    def arn(self) -> str:
        return OrgPrincipal(self.management_account, self.id).arn


def parse_org_path(path: str) -> tuple[str, tuple[str, ...]] | None:
    """(organization ID, OU IDs from the root down) of an `aws:PrincipalOrgPaths` path
    (`o-…/r-…/ou-…/ou-…/`), else None. The trailing slash may be left out."""
    text = path if path.endswith("/") else f"{path}/"
    match = _ORG_PATH.fullmatch(text)
    if match is None:
        return None
    return match.group(1), tuple(p for p in match.group(3).split("/") if p)


def memberships(organization: Organization | None, path: str | None) -> tuple[frozenset[str], str | None]:
    """The principal ARNs an account belongs to: its organization's, and each OU's of `path`
    (the account's OU path, from its stack) when that path is in the same organization. Also
    why the path was not used, or None. No organization: nothing (fail closed)."""
    if organization is None:
        return frozenset(), ("the path is ignored: the account is in no organization it may read" if path else None)
    found = {organization.arn}
    if not path:
        return frozenset(found), None
    parsed = parse_org_path(path)
    if parsed is None:
        return frozenset(found), f"the path {path!r} is not of the form o-.../r-.../ou-.../: ignored"
    org_id, ous = parsed
    if org_id != organization.id:
        return frozenset(found), f"the path names organization {org_id}, not this account's {organization.id}: ignored"
    found.update(OrgPrincipal(organization.management_account, organization.id, ou).arn for ou in ous)
    return frozenset(found), None
