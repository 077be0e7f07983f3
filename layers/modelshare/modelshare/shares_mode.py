"""The shares mode's owner side (issue 20; README "Sharing modes"): modelshare makes a few RAM
shares itself, one per bucket (consumer accounts, actions; modelshare.share_layout), each with the
managed permission granting exactly the bucket's actions, and keeps each holding exactly its
bucket's groups and consumers. No group policy, no promotion: a share made directly is STANDARD,
so its groups are discoverable at once, and a group added later reaches the share's principals
with no new invitation.

Ownership is the ledger's (docs/security.md): a share is modelshare's only when
`OwnershipLedger.made_shares` records it. A share is made empty (no resource, no principal) with a
client token derived from its name, recorded, and only then filled, so a run that stops between
making and recording leaves an empty share that grants nothing, which the next run gets back
from RAM by the same token. A share of modelshare's holds only what the allowlist says: any other
resource or principal (a role, an organization, an account no longer named) is taken out, any
other permission replaced; a share whose permission cannot be set holds no principal.

Cost: one read of the ledger, then RAM's view of modelshare's shares in a few batched calls
(their resources and principals, ARNS_PER_CALL shares a call, paged), one permission read per
share, and writes of at most 100 resources a call: it does not grow with the groups but by
their hundreds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from modelshare.observability import count, logger
from modelshare.org_principals import is_org_principal
from modelshare.org_sharing import OrgSharing
from modelshare.owner import group_type, permission_name
from modelshare.ports import (
    ARNS_PER_CALL,
    ATTACHABLE,
    GroupNotFound,
    OwnershipLedger,
    PermissionNameTaken,
    RamQuotaReached,
    ResourceShare,
    ResourceShares,
    ResourceTypeUnknown,
)
from modelshare.share_layout import GROUPS_PER_SHARE, Bucket, lay_out, parse_share_name

# RAM's pending invitations per sharing account (docs/aws-behaviour.md, RAM-QUOTAS): consumers
# beyond the room left are offered the share by a later run, as earlier ones accept.
PENDING_INVITATIONS_PER_ACCOUNT = 20
# Waits for a customer managed permission modelshare just created to become attachable.
PERMISSION_WAIT_SECONDS: Sequence[float] = (1, 2, 4)
# How many times a share's client token is derived anew when RAM gives back a share that is
# gone (a token RAM still remembers from a share since deleted).
_TOKEN_ATTEMPTS = 3


@dataclass(frozen=True)
class SharesModeResult:
    """What one run found and did, by group ARN."""

    live: frozenset[str]  # in the share of their bucket, which has the bucket's permission
    added: Mapping[str, str]  # put into a share this run: group -> share name
    removed: Mapping[str, str]  # taken out of modelshare's share this run: resource -> share ARN
    waiting: Mapping[str, str]  # wanted but not live: group -> why
    deleted_shares: tuple[str, ...] = ()
    gone: frozenset[str] = frozenset()  # RAM found no such group (deleted since it was listed or named)


@dataclass
class _Share:
    """One of modelshare's shares as read this run."""

    share: ResourceShare
    resources: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    on_default_version: bool = True


@dataclass
class SharesMode:
    account: str
    shares: ResourceShares
    ledger: OwnershipLedger
    groups_per_share: int = GROUPS_PER_SHARE
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    permission_wait: Sequence[float] = field(default=PERMISSION_WAIT_SECONDS)
    # Per execution environment: the permission granting each action set (found by its actions).
    _permission_of: dict[frozenset[str], str] = field(default_factory=dict, init=False, repr=False)

    def converge(self, wanted: Mapping[str, Bucket], *, restrict_only: bool = False,
                 partial: bool = False) -> SharesModeResult:
        """Make modelshare's shares hold `wanted` (every group of the account to share -> its
        bucket). `restrict_only`: only take away (an invalid allowlist's last valid version, or
        an owner in the policy mode whose made shares remain). `partial`: `wanted` names a few
        groups only (new ones): the others stay where they are and nothing is taken out."""
        found = self._read()
        if restrict_only and not found:
            return SharesModeResult(frozenset(), {}, {}, {})
        by_name = _by_name(found)
        current = {name: s.resources for name, s in by_name.items()}
        targets = {group: bucket.digest for group, bucket in wanted.items()}
        buckets = {bucket.digest: bucket for bucket in wanted.values()}
        if partial:
            kept = {r: parsed[0] for name, held in current.items() if (parsed := parse_share_name(name))
                    for r in held}
            targets = {**kept, **targets}
        layout = lay_out(targets, current, groups_per_share=self.groups_per_share)
        added: dict[str, str] = {}
        waiting: dict[str, str] = {}
        live: set[str] = set()
        gone: set[str] = set()
        stop: RamQuotaReached | None = None
        room = None if restrict_only else PENDING_INVITATIONS_PER_ACCOUNT - self._pending_invitations()
        org = OrgSharing(self.shares)
        # Additions first, in every share, then removals: a group changing buckets joins its new
        # share before it leaves its old one.
        for name, groups in sorted(layout.items()):
            parsed = parse_share_name(name)
            bucket = buckets.get(parsed[0]) if parsed else None
            if not groups or bucket is None:
                continue
            wanted_here = [g for g in groups if g in wanted]
            held = by_name.get(name)
            permission = self._permission_for(bucket.actions, create=not restrict_only)
            if held is None:
                if restrict_only or stop is not None or permission is None:
                    waiting.update(dict.fromkeys(wanted_here, "not made while only taking away" if restrict_only
                                                 else str(stop) if stop is not None
                                                 else "no permission with these actions is attachable yet"))
                    continue
                try:
                    held = by_name[name] = self._make(name, permission)
                except RamQuotaReached as quota:
                    stop = self._quota(quota, name)
                    waiting.update(dict.fromkeys(wanted_here, str(quota)))
                    continue
            permitted = self._set_permission(held, permission)
            new = [g for g in groups if g not in held.resources]
            if new and not restrict_only and stop is None:
                try:
                    self._put_in(held, name, new, added, gone)
                except RamQuotaReached as quota:
                    stop = self._quota(quota, name)
            org_wait = None
            try:
                room, org_wait = self._set_principals(held, bucket, permitted, room, restrict_only or stop is not None, org)
            except RamQuotaReached as quota:
                stop = self._quota(quota, name)
            if permitted and org_wait is None:
                live.update(g for g in groups if g in held.resources)
            why = org_wait or (str(stop) if stop is not None else "the share's permission cannot be set: it holds no consumer")
            waiting.update({g: why for g in wanted_here if g not in live})
        removed, deleted = self._take_out(by_name, layout, partial)
        waiting.update({g: "not placed in a share" for g in wanted if g not in live and g not in waiting and g not in gone})
        return SharesModeResult(frozenset(live), added, removed, {g: w for g, w in waiting.items() if g not in gone},
                                deleted, frozenset(gone))

    @staticmethod
    def _quota(quota: RamQuotaReached, name: str) -> RamQuotaReached:
        """A RAM quota stops every further addition of the run (logged and counted once); what
        takes away goes on. The next run (the schedule) tries again: nothing retries at once."""
        logger.warning("RAM quota reached: additions wait for a later run", extra={"share_name": name, "quota": quota.quota,
                                                                                  "reason": str(quota)})
        count("RamQuotaReached")
        return quota

    # -- reads ------------------------------------------------------------------------------
    def _read(self) -> dict[str, tuple[str, _Share]]:
        """modelshare's shares that RAM still has: ARN -> (the name the ledger made it under, what
        it holds). A recorded share RAM no longer has is forgotten."""
        made = self.ledger.made_shares()
        if not made:
            return {}
        active = {s.arn: s for s in self.shares.shares_by_arn(sorted(made))}
        for arn in sorted(set(made) - set(active)):
            self.ledger.forget_made_share(arn)
        arns = sorted(active)
        resources = self.shares.share_resources(arns) if arns else {}
        principals = self.shares.share_principals(arns) if arns else {}
        found = {}
        for arn in arns:
            permissions = self.shares.permissions(arn)
            found[arn] = (made[arn], _Share(active[arn], resources.get(arn, ()), principals.get(arn, ()),
                                            tuple(p.arn for p in permissions),
                                            all(p.default_version for p in permissions)))
        return found

    def _pending_invitations(self) -> int:
        return sum(1 for _ in self.shares.associations("PRINCIPAL", status="ASSOCIATING"))

    # -- writes -----------------------------------------------------------------------------
    def _make(self, name: str, permission: str) -> _Share:
        """Make the share empty, with its permission, and record it before anything goes in.
        The client token is derived from the name and permission, so a run that stopped
        before recording gets the same share back; when RAM gives back one that is gone, the
        token is derived anew from that one's ARN."""
        token = _token(name, permission)
        for _ in range(_TOKEN_ATTEMPTS):
            share = self.shares.create_share(name, permission, token)
            if share.status == "ACTIVE" and self.shares.shares_by_arn([share.arn]):
                self.ledger.record_made_share(share.arn, name)
                logger.info("Made a share for a bucket of groups", extra={"share": share.arn, "share_name": name})
                count("SharesMade")
                return _Share(share, permissions=(permission,))
            token = _token(name, permission, share.arn)
        raise RuntimeError(f"RAM kept giving back a share that is gone for {name}")

    def _put_in(self, held: _Share, name: str, groups: Sequence[str], added: dict[str, str], gone: set[str]) -> None:
        """Put the groups into the share a call's worth at a time, so that what went in before a
        quota stopped the rest counts as in. RAM refuses a whole call naming a group deleted
        since it was listed or named (a creation event's): that call's groups then go in one by
        one, and a deleted one is `gone`, holding back no other."""
        try:
            for start in range(0, len(groups), ARNS_PER_CALL):
                batch = list(groups[start:start + ARNS_PER_CALL])
                try:
                    self.shares.associate_resources(held.share.arn, batch)
                except GroupNotFound:
                    batch = [g for g in batch if self._put_one(held, g, gone)]
                held.resources = (*held.resources, *batch)
                added.update(dict.fromkeys(batch, name))
        finally:
            put = [g for g in groups if g in added]
            if put:
                logger.info("Put groups into modelshare's share", extra={"share": held.share.arn, "groups": len(put)})
                count("GroupsShared", len(put))

    def _put_one(self, held: _Share, group: str, gone: set[str]) -> bool:
        try:
            self.shares.associate_resources(held.share.arn, [group])
        except GroupNotFound:
            logger.info("A group to share is gone", extra={"group": group, "share": held.share.arn})
            gone.add(group)
            return False
        return True

    def _set_permission(self, held: _Share, permission: str | None) -> bool:
        """Whether the share grants exactly the bucket's actions now: it has the one permission
        wanted (on its default version), or it has been given it. A share with several
        permissions (a person attached one for another resource type) cannot be judged."""
        if permission is None:
            return False
        if held.permissions == (permission,) and held.on_default_version:
            return True
        if len(held.permissions) > 1:
            logger.warning("modelshare's share has several permissions: it holds no consumer until it has one",
                           extra={"share": held.share.arn, "permissions": list(held.permissions)})
            return False
        self.shares.replace_permission(held.share.arn, permission)
        held.permissions, held.on_default_version = (permission,), True
        logger.info("Set the permission of modelshare's share", extra={"share": held.share.arn, "permission": permission})
        count("ShareActionsChanged")
        return True

    def _set_principals(self, held: _Share, bucket: Bucket, permitted: bool, room: int | None,
                        restrict_only: bool, org: OrgSharing) -> tuple[int | None, str | None]:
        """Exactly the bucket's consumers, when the share's permission is right (else none);
        new accounts within the pending-invitation room, organizations and OUs apart
        (modelshare.org_sharing). Returns the room left, and why an organization or OU the
        bucket names is not on the share."""
        desired = set(bucket.consumers) if permitted else set()
        extra = sorted(set(held.principals) - desired)
        if extra:
            self.shares.disassociate_principals(held.share.arn, extra)
            held.principals = tuple(p for p in held.principals if p not in extra)
            logger.warning("Removed principals from modelshare's share that its bucket does not name",
                           extra={"share": held.share.arn, "principals": extra})
            count("ShareConsumersChanged")
        missing = sorted(desired - set(held.principals))
        if not missing or restrict_only or room is None:
            return room, None
        org_principals = [p for p in missing if is_org_principal(p)]
        missing = [p for p in missing if p not in org_principals]
        offered = missing[:max(room, 0)]
        if len(offered) < len(missing):
            logger.warning("Pending invitation quota: consumers wait for a later run",
                           extra={"share": held.share.arn, "waiting": missing[len(offered):]})
            count("RamQuotaReached")
        if offered:
            self.shares.associate_principals(held.share.arn, offered)
            held.principals = (*held.principals, *offered)
            count("ShareConsumersChanged")
        org_wait = None
        if org_principals:
            added, org_wait = org.associate(held.share.arn, org_principals)
            held.principals = (*held.principals, *added)
        return room - len(offered), org_wait

    def _take_out(self, by_name: dict[str, _Share], layout: Mapping[str, tuple[str, ...]],
                  partial: bool) -> tuple[dict[str, str], tuple[str, ...]]:
        """Take out of each share what the layout does not put there (a group that left its
        bucket, or a resource a person added), and delete a share left empty."""
        removed: dict[str, str] = {}
        deleted: list[str] = []
        if partial:
            return removed, ()
        for name, held in sorted(by_name.items()):
            keep = set(layout.get(name, ()))
            if not keep:
                self.shares.delete_share(held.share.arn)
                self.ledger.forget_made_share(held.share.arn)  # after: a crash between leaves a record of nothing
                removed.update(dict.fromkeys(held.resources, held.share.arn))
                deleted.append(held.share.arn)
                logger.info("Deleted modelshare's share left empty", extra={"share": held.share.arn, "share_name": name})
                count("SharesDeleted")
                continue
            gone = sorted(set(held.resources) - keep)
            if gone:
                self.shares.disassociate_resources(held.share.arn, gone)
                removed.update(dict.fromkeys(gone, held.share.arn))
                logger.warning("Took out of modelshare's share what the allowlist does not put there",
                               extra={"share": held.share.arn, "resources": gone})
                count("ShareResourcesRemoved")
        return removed, tuple(deleted)

    # -- the permission of an action set -----------------------------------------------------
    def _permission_for(self, actions: Sequence[str], *, create: bool = True) -> str | None:
        """The attachable managed permission granting exactly `actions`: an AWS managed one,
        else the customer managed one modelshare made for the set (recorded in its ledger),
        created when missing. Found by its actions, never by its name; kept per execution
        environment. None while none is attachable."""
        wanted = frozenset(a.lower() for a in actions)
        if wanted in self._permission_of:
            return self._permission_of[wanted]
        try:
            resource_type = group_type(self.shares)
        except ResourceTypeUnknown:
            return None  # no permission is looked up or made: the share offers nothing (fail closed)
        found = self._attachable(wanted, resource_type)
        if found is None and create:
            found = self._create_permission(wanted, resource_type)
        if found is not None:
            self._permission_of[wanted] = found
        return found

    def _attachable(self, wanted: frozenset[str], resource_type: str) -> str | None:
        ours = self.ledger.permissions()
        for permission in self.shares.managed_permissions(resource_type):
            parts = permission.arn.split(":", 5)
            aws_managed = len(parts) == 6 and parts[4] == "aws"
            made = permission.name in ours and (len(parts) != 6 or parts[4] == self.account)
            if permission.status == ATTACHABLE and (aws_managed or made) \
                    and self.shares.permission_actions(permission.arn) == wanted:
                return permission.arn
        return None

    def _create_permission(self, wanted: frozenset[str], resource_type: str) -> str | None:
        """Create the customer managed permission for the action set under its name (the
        readable one, else the digest one when a person took it), recorded in the ledger before it
        exists, and wait a moment for it to become attachable. A name in use is waited for only
        when modelshare made it with these very actions; one a person made first is theirs."""
        existing = {p.name: p for p in self.shares.customer_managed_permissions(resource_type)}
        ours = self.ledger.permissions()
        for name in dict.fromkeys((permission_name(wanted), permission_name(wanted, digest=True))):
            if name in existing:
                if name not in ours or self.shares.permission_actions(existing[name].arn) != wanted:
                    continue  # a person's, or for other actions: never given to a share
            else:
                self.ledger.record_permission(name)  # before it exists: a person can never make it first unrecorded
                try:
                    self.shares.create_permission(name, resource_type, sorted(wanted))
                    logger.info("Created a permission for the shares mode", extra={"permission": name})
                    count("PermissionsCreated")
                except PermissionNameTaken:
                    pass  # made meanwhile: by a run beside this one (then waited for) or a person (never attachable here)
            for wait in self.permission_wait:
                found = self._attachable(wanted, resource_type)
                if found is not None:
                    return found
                self.sleep(wait)
            return self._attachable(wanted, resource_type)
        logger.warning("No permission for these actions: both of modelshare's names are taken",
                       extra={"actions": sorted(wanted)})
        return None


def _by_name(found: Mapping[str, tuple[str, _Share]]) -> dict[str, _Share]:
    """modelshare's shares by the name the ledger made them under. Two under one name (a run
    that made one, lost its record and made another): the lower ARN keeps the name, the other
    is laid out as no bucket's, so it is emptied."""
    by_name: dict[str, _Share] = {}
    for arn, (name, held) in sorted(found.items()):
        by_name[name if name not in by_name else f"{name} (also {arn})"] = held
    return by_name


def _token(name: str, permission: str, gone: str = "") -> str:
    # RAM's clientToken: at most 64 ASCII characters (ram/service-2.json, CreateResourceShare).
    return hashlib.sha256(f"{name}|{permission}|{gone}".encode()).hexdigest()[:64]
