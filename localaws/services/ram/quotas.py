"""RAM's account-wide quotas in the local AWS, counted from the emulated state.

RAM user guide, "Service quotas" (docs/aws-behaviour.md, RAM-QUOTAS and RAM-QUOTA-REGION): per
account and Region, 25,000 shares, 25,000 resource associations and 25,000 principal
associations across all shares (a resource or principal in 10 shares counts 10), 1,500 customer
managed permissions in all; per share 5,000 resources and 5,000 principals. The values live in
`RamQuotas` (localaws/services/registry_state.py), which tests and `simulate` scenarios lower.

Stricter readings (UNVERIFIED, said so in docs/aws-behaviour.md): shares made from policies count
as any other; an association counts while it is ASSOCIATING, ASSOCIATED or DISASSOCIATING (until
it is gone); RAM's own asynchronous work over a quota (a share made from a policy) has nobody to
answer an error to, so the association it cannot make ends FAILED.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from localaws.core.errors import AwsError
from localaws.services.registry_state import ASSOCIATION_CHANGES, Association, RegistryState, Share
from modelshare import quota_budget
from modelshare.quota_budget import QuotaUse

# What an association counts against the Region quotas while it is in (stricter: until gone).
HELD = ("ASSOCIATED", "ASSOCIATING", "DISASSOCIATING")
RESOURCE, PRINCIPAL = "RESOURCE", "PRINCIPAL"
_WORDS = {RESOURCE: "resource associations", PRINCIPAL: "principal associations"}


def limit(state: RegistryState, kind: str) -> int:
    quotas = state.quotas
    return quotas.resource_associations_per_region if kind == RESOURCE else quotas.principal_associations_per_region


def _pool(share: Share, kind: str) -> dict[str, Association]:
    return share.resources if kind == RESOURCE else share.principals


def associations_held(state: RegistryState, account: str, region: str, kind: str) -> int:
    """The account's resource (or principal) associations in the Region, across all its shares."""
    key = (id(state), len(state.shares), account, region, kind)
    cached = _HELD.get(key)
    if cached is not None and cached[0] == ASSOCIATION_CHANGES[0]:
        return cached[1]
    held = sum(1 for share in state.shares.values()
               if share.account == account and share.region == region and share.status != "DELETED"
               for association in _pool(share, kind).values() if association.status in HELD)
    if len(_HELD) > 1_000:  # one entry per state, account and kind in use: never many
        _HELD.clear()
    _HELD[key] = (ASSOCIATION_CHANGES[0], held)
    return held


# Speed only: the last count per (state, number of its shares, account, region, kind), valid while
# no association changed since (registry_state.ASSOCIATION_CHANGES).
_HELD: dict[tuple[int, int, str, str, str], tuple[int, int]] = {}


def room(state: RegistryState, account: str, region: str, kind: str) -> int:
    """How many more associations of `kind` the Region quota takes."""
    return max(0, limit(state, kind) - associations_held(state, account, region, kind))


def full_message(state: RegistryState, account: str, kind: str) -> str:
    return f"The limit of {limit(state, kind)} {_WORDS[kind]} per Region for account {account} was reached."


def check_room(state: RegistryState, account: str, region: str, *, resources: int = 0, principals: int = 0) -> None:
    """ResourceShareLimitExceededException (documented for CreateResourceShare,
    AssociateResourceShare and PromoteResourceShareCreatedFromPolicy) when `resources` new
    resource associations or `principals` new principal associations would pass the Region quota."""
    for kind, wanted in ((RESOURCE, resources), (PRINCIPAL, principals)):
        held = associations_held(state, account, region, kind)
        if wanted and held + wanted > limit(state, kind):
            raise AwsError("ResourceShareLimitExceededException",
                           f"The operation would exceed the limit of {limit(state, kind)} {_WORDS[kind]} per Region "
                           f"for account {account} ({held} held, {wanted} more requested).")


def check_share_size(state: RegistryState, share: Share, *, resources: int = 0, principals: int = 0) -> None:
    """ResourceShareLimitExceededException when a share would hold more than 5,000 resources or
    principals (RAM guide, Service quotas)."""
    for kind, wanted, limit in ((RESOURCE, resources, state.quotas.resources_per_share),
                                (PRINCIPAL, principals, state.quotas.principals_per_share)):
        held = sum(1 for a in _pool(share, kind).values() if a.status in HELD)
        if wanted and held + wanted > limit:
            what = "resources" if kind == RESOURCE else "principals"
            raise AwsError("ResourceShareLimitExceededException",
                           f"A resource share can have at most {limit} {what}.")


def check_customer_managed_total(state: RegistryState, account: str, region: str) -> None:
    """PermissionLimitExceededException when the account holds its Region's 1,500 customer
    managed permissions (besides the 10 per resource type)."""
    limit = state.quotas.customer_managed_permissions_per_region
    held = sum(1 for p in state.permissions.values()
               if p.permission_type == "CUSTOMER_MANAGED" and p.feature_set == "STANDARD"
               and p.account == account and p.region == region and p.status != "DELETED")
    if held >= limit:
        raise AwsError("PermissionLimitExceededException",
                       f"The operation would exceed the limit of {limit} customer managed permissions in {region}.")


def usage(state: RegistryState, account: str, region: str) -> dict[str, int]:
    """The Region-wide association counts (for `modelshare simulate`'s report and `make bench`)."""
    return {"resource_associations": associations_held(state, account, region, RESOURCE),
            "principal_associations": associations_held(state, account, region, PRINCIPAL)}


def quota_use(state: RegistryState, account: str, region: str, usage: Mapping[str, int]) -> list[QuotaUse]:
    """What the account holds of each quota modelshare plans against (quota_budget's names),
    against the local AWS's settings (`usage`: LocalRam.usage), for `modelshare simulate`'s report
    and `make bench`."""
    quotas = state.quotas
    per_type = Counter(p.resource_type for p in state.permissions.values()
                       if p.permission_type == "CUSTOMER_MANAGED" and p.feature_set == "STANDARD"
                       and p.account == account and p.region == region and p.status != "DELETED")
    return [QuotaUse(quota_budget.SHARES, usage["resource_shares"], quotas.resource_shares_per_region),
            QuotaUse(quota_budget.RESOURCE_ASSOCIATIONS, usage["resource_associations"],
                     quotas.resource_associations_per_region),
            QuotaUse(quota_budget.PRINCIPAL_ASSOCIATIONS, usage["principal_associations"],
                     quotas.principal_associations_per_region),
            QuotaUse(quota_budget.PENDING_INVITATIONS, usage["pending_invitations_sent"],
                     quotas.pending_invitations_per_account),
            QuotaUse(quota_budget.CUSTOMER_MANAGED_PERMISSIONS, usage["customer_managed_permissions"],
                     quotas.customer_managed_permissions_per_region),
            QuotaUse(quota_budget.CUSTOMER_MANAGED_PERMISSIONS_PER_TYPE, max(per_type.values(), default=0),
                     quotas.customer_managed_permissions_per_resource_type)]


def as_report(uses: list[QuotaUse]) -> list[dict[str, object]]:
    return [{"quota": u.quota, "used": u.used, "limit": u.limit, "headroom": u.headroom,
             "percent": round(u.percent, 2)} for u in uses]
