"""What a share another account shares with this one grants, judged against the allowlist: before
an invitation is accepted, and again, on the consumer's schedule, for the shares it accepted.

A consumer reads a share's permission with ListResourceSharePermissions and the permission's
actions with GetPermission (docs/aws-behaviour.md, RAM-CONSUMER-READS). What RAM does not let it
read is unreadable, and an unreadable share is never accepted (fail closed). An accepted share
that holds or grants more than the allowlist gives is reported only: model package groups do not
support leaving a share (RAM-LEAVE), so only its owner can take this account off it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from modelshare.allowlist import Allowlist
from modelshare.policy import group_name_of
from modelshare.port_values import SharedResource
from modelshare.ram_ports import ConsumerShareReads

UNREADABLE = "RAM did not let this account read what the share grants"


@dataclass
class GrantReader:
    """Reads what shares shared with this account grant; each permission once per reader (one run)."""

    shares: ConsumerShareReads
    _actions: dict[str, frozenset[str] | None] = field(default_factory=dict, init=False, repr=False)

    def granted(self, share_arns: Sequence[str]) -> dict[str, frozenset[str] | None]:
        """The actions (lower-cased) each share grants, all its permissions together; None when RAM
        does not let this account read the share, or one of its permissions, or names none."""
        if not share_arns:
            return {}
        permissions = self.shares.received_share_permissions(share_arns)
        found: dict[str, frozenset[str] | None] = {}
        for share_arn in share_arns:
            actions: set[str] | None = None
            for permission in permissions.get(share_arn) or ():
                if not permission.default_version:
                    # RAM keeps a share on the version it was given when a newer one becomes the
                    # default; a read of the permission gives the default's: what the share grants
                    # is not known (fail closed).
                    actions = None
                    break
                if permission.arn not in self._actions:
                    self._actions[permission.arn] = self.shares.received_permission_actions(permission.arn)
                granted = self._actions[permission.arn]
                if granted is None:
                    actions = None
                    break
                actions = (actions or set()) | granted
            found[share_arn] = None if actions is None else frozenset(actions)
        return found


def allowed_actions(allowlist: Allowlist, owner: str, group_names: Iterable[str], consumer: str,
                    memberships: frozenset[str] = frozenset()) -> frozenset[str]:
    """What a share holding all these groups of `owner` may grant `consumer` (lower-cased): the
    actions the allowlist gives it (by its ID, or through `memberships`) on every one of them."""
    allowed: frozenset[str] | None = None
    for name in group_names:
        decision = allowlist.decide(owner, name)
        actions = frozenset(a.lower() for a in decision.actions) if decision.allows(consumer, memberships) else frozenset()
        allowed = actions if allowed is None else allowed & actions
    return allowed or frozenset()


def beyond_allowlist(granted: frozenset[str], allowed: frozenset[str], owner: str, group_names: Sequence[str],
                     consumer: str) -> str | None:
    """Why a share granting `granted` on these groups grants more than `allowed`, or None."""
    extra = sorted(granted - allowed)
    if not extra:
        return None
    groups = ", ".join(repr(name) for name in sorted(group_names))
    return (f"the share grants {', '.join(extra)}, beyond the access the allowlist gives account {consumer} "
            f"on group(s) {groups} of {owner}")


def owner_of(share_arn: str) -> str:
    """The account owning a share: the account field of its ARN."""
    parts = share_arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


@dataclass(frozen=True)
class ShareFinding:
    """An accepted share that holds or grants more than the allowlist gives this account
    (`problems`), or whose grant RAM did not let this account read (`unreadable`)."""

    share_arn: str
    owner: str
    problems: tuple[str, ...]
    unreadable: bool = False


def recheck(account: str, shares: ConsumerShareReads, allowlist: Allowlist, reader: GrantReader,
            memberships: frozenset[str] = frozenset()) -> list[ShareFinding]:
    """Every received share of model package groups from an owner the allowlist names for
    `account`, or that names an organization or OU, judged again: what it holds now (one paged
    read for all of them) and what it grants (one read per share, each permission once). A
    group is this account's by its ID or through `memberships` (its organization and OUs)."""
    owners = allowlist.owners_naming(account)
    judged: dict[str, tuple[str, list[str], list[str]]] = {}
    for share_arn, resources in sorted(shares.received_resources().items()):
        owner = owner_of(share_arn)
        if owner not in owners or not any(group_name_of(r.arn, owner) for r in resources):
            continue  # not a share of model package groups from an allowlisted owner
        allowed_groups: list[str] = []
        problems = [p for r in resources
                    if (p := _resource_problem(r, owner, account, allowlist, allowed_groups, memberships))]
        judged[share_arn] = (owner, allowed_groups, problems)
    grants = reader.granted(list(judged))
    findings = []
    for share_arn, (owner, allowed_groups, problems) in judged.items():
        granted = grants.get(share_arn)
        if granted is not None and allowed_groups:
            allowed = allowed_actions(allowlist, owner, allowed_groups, account, memberships)
            problem = beyond_allowlist(granted, allowed, owner, allowed_groups, account)
            if problem:
                problems.append(problem)
        if problems or granted is None:
            findings.append(ShareFinding(share_arn, owner, tuple(problems), unreadable=granted is None))
    return findings


def _resource_problem(resource: SharedResource, owner: str, account: str, allowlist: Allowlist,
                      allowed_groups: list[str], memberships: frozenset[str]) -> str | None:
    """Why `account` should not hold `resource` through a share of `owner` (None when the
    allowlist shares it, then added to `allowed_groups`)."""
    name = group_name_of(resource.arn, owner)
    if name is None:
        return f"the share holds {resource.arn} ({resource.type}), not a model package group of {owner}"
    decision = allowlist.decide(owner, name)
    if decision.conflict:
        return f"the share holds {resource.arn}: {decision.conflict}"
    if not decision.allows(account, memberships):
        return f"the share holds {resource.arn}, which the allowlist does not share with account {account}"
    allowed_groups.append(name)
    return None
