"""Adding organization and OU principals to modelshare's shares, one run's worth (issue 20;
docs/security.md, "Organization and OU consumers (shares mode)").

Fail closed twice: a principal of an organization the owner is not in (read once a run with
DescribeOrganization: another ID, another management account, or no organization at all) is not
added; and when RAM refuses one because sharing with the organization is not enabled (no API
lets a member account read that: docs/aws-behaviour.md, ORG-RAM-ENABLED), no other is tried that
run, and it is said once. Organization and OU principals get no invitation, so they spend none of
the pending-invitation room; they are associated in calls of their own, so their refusal holds
no account back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelshare.observability import count, logger
from modelshare.org_principals import Organization, parse_org_principal
from modelshare.ports import OrganizationSharingDisabled
from modelshare.ram_ports import OrganizationReads, OwnerShareWrites

NOT_ENABLED = "RAM sharing with the organization is not enabled (or its onboarding is in progress)"


@dataclass
class OrgSharing:
    shares: OrganizationReads
    share_writes: OwnerShareWrites
    disabled: str | None = None
    _organization: Organization | None = field(default=None, init=False, repr=False)
    _read: bool = field(default=False, init=False, repr=False)

    def _own_organization(self) -> Organization | None:
        if not self._read:
            self._organization, self._read = self.shares.organization(), True
        return self._organization

    def refusal(self, principal: str) -> str | None:
        """Why this organization or OU principal is not added this run, or None."""
        if self.disabled is not None:
            return self.disabled
        parsed = parse_org_principal(principal)
        own = self._own_organization()
        if parsed is None or own is None or (parsed.organization_id, parsed.management_account) != (
                own.id, own.management_account):
            return (f"the owner is not in organization {parsed.organization_id if parsed else '?'} "
                    f"(management account {parsed.management_account if parsed else '?'}) that {principal} names")
        return None

    def associate(self, share_arn: str, principals: list[str]) -> tuple[list[str], str | None]:
        """Add these organization and OU principals to the share, those that may be: the ones
        added, and why the others wait (None when none does)."""
        allowed = [p for p in principals if self.refusal(p) is None]
        refused = {p: why for p in principals if (why := self.refusal(p)) is not None}
        for principal, why in refused.items():
            logger.warning("Organization or OU consumer not added", extra={"share": share_arn, "principal": principal,
                                                                           "reason": why})
            count("OrganizationPrincipalRefused")
        if allowed:
            try:
                self.share_writes.associate_principals(share_arn, allowed)
            except OrganizationSharingDisabled as disabled:
                self.disabled = NOT_ENABLED
                logger.warning(NOT_ENABLED + ": organization and OU consumers wait",
                               extra={"share": share_arn, "principals": allowed, "reason": str(disabled)})
                count("OrganizationSharingDisabled")
                return [], NOT_ENABLED
            count("ShareConsumersChanged")
        return allowed, next(iter(refused.values()), None)
