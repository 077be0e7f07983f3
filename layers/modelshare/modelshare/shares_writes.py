"""The shares mode's writes to RAM for one run (issue 20): make a share, put groups in, set its
permission, take principals out, invite consumers. What to write is
decided by modelshare.decision.shares; this module only makes the writes and keeps the run's
view of each share (`HeldShare`) up to date. Split out of modelshare.shares_mode; one
`ShareWrites` per run, so no state outlives it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from modelshare.decision import shares as rules
from modelshare.observability import count, logger
from modelshare.org_sharing import OrgSharing
from modelshare.ports import ARNS_PER_CALL, GroupNotFound, OwnershipLedger, ResourceShare
from modelshare.ram_ports import OwnerShareReads, OwnerShareWrites
from modelshare.share_layout import Bucket
from modelshare.share_permissions import SharePermissions

# How many times a share's client token is derived anew when RAM gives back a share that is
# gone (a token RAM still remembers from a share since deleted).
_TOKEN_ATTEMPTS = 3


@dataclass
class HeldShare:
    """One of modelshare's shares as read this run, kept up to date by the run's writes."""

    share: ResourceShare
    resources: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    on_default_version: bool = True


@dataclass
class ShareWrites:
    shares: OwnerShareReads
    share_writes: OwnerShareWrites
    ledger: OwnershipLedger
    permissions: SharePermissions
    region_refused: bool = False  # a Region quota refused an addition this run (said once: SharesMode._quota)
    invited: int = 0  # consumers invited this run
    uninvited: int = 0  # and left uninvited for want of room
    org: OrgSharing = field(init=False)

    def __post_init__(self) -> None:
        self.org = OrgSharing(self.shares, self.share_writes)

    def make(self, name: str, permission: str, ours: frozenset[str]) -> HeldShare:
        """Make the share empty, with its permission, and record it before anything goes in.
        The client token is derived from the name and permission, so a run that stopped
        before recording gets the same share back; when RAM gives back one that is gone, or
        one of `ours` (a share made under this name that has since moved to another bucket),
        the token is derived anew from that one's ARN."""
        token = _token(name, permission)
        for _ in range(_TOKEN_ATTEMPTS):
            share = self.share_writes.create_share(name, permission, token)
            if share.arn not in ours and share.status == "ACTIVE" and self.shares.shares_by_arn([share.arn]):
                self.ledger.record_made_share(share.arn, name)
                logger.info("Made a share for a bucket of groups", extra={"share": share.arn, "share_name": name})
                count("SharesMade")
                return HeldShare(share, permissions=(permission,))
            token = _token(name, permission, share.arn)
        raise RuntimeError(f"RAM kept giving back a share that is gone or taken for {name}")

    def put_in(self, held: HeldShare, name: str, groups: Sequence[str], added: dict[str, str], gone: set[str]) -> None:
        """Put the groups into the share a call's worth at a time, so that what went in before a
        quota stopped the rest counts as in. RAM refuses a whole call naming a group deleted
        since it was listed or named (a creation event's): that call's groups then go in one by
        one, and a deleted one is `gone`, holding back no other."""
        try:
            for start in range(0, len(groups), ARNS_PER_CALL):
                batch = list(groups[start:start + ARNS_PER_CALL])
                try:
                    self.share_writes.associate_resources(held.share.arn, batch)
                except GroupNotFound:
                    batch = [g for g in batch if self._put_one(held, g, gone)]
                held.resources = (*held.resources, *batch)
                added.update(dict.fromkeys(batch, name))
        finally:
            put = [g for g in groups if g in added]
            if put:
                logger.info("Put groups into modelshare's share", extra={"share": held.share.arn, "groups": len(put)})
                count("GroupsShared", len(put))

    def _put_one(self, held: HeldShare, group: str, gone: set[str]) -> bool:
        try:
            self.share_writes.associate_resources(held.share.arn, [group])
        except GroupNotFound:
            logger.info("A group to share is gone", extra={"group": group, "share": held.share.arn})
            gone.add(group)
            return False
        return True

    def set_permission(self, held: HeldShare, permission: str | None) -> bool:
        """Whether the share grants exactly the bucket's actions now: it has the one permission
        wanted (on its default version), or it has been given it. A share with several
        permissions (a person attached one for another resource type) has the others taken off
        first; until it has one it cannot be judged."""
        if len(held.permissions) > 1:
            kept = self.permissions.take_off_other_types(held.share.arn)
            if kept is None:
                logger.warning("modelshare's share has several permissions: it holds no consumer until it has one",
                               extra={"share": held.share.arn, "permissions": list(held.permissions)})
                return False
            held.permissions = tuple(p.arn for p in kept)
            held.on_default_version = all(p.default_version for p in kept)
        if permission is None:
            return False
        if not rules.permission_changes(held.permissions, held.on_default_version, permission):
            return True
        self.share_writes.replace_permission(held.share.arn, permission)
        held.permissions, held.on_default_version = (permission,), True
        logger.info("Set the permission of modelshare's share", extra={"share": held.share.arn, "permission": permission})
        count("ShareActionsChanged")
        return True

    def remove_principals(self, held: HeldShare, principals: Sequence[str], why: str) -> None:
        if principals:
            self.share_writes.disassociate_principals(held.share.arn, list(principals))
            held.principals = tuple(p for p in held.principals if p not in principals)
            logger.warning(why, extra={"share": held.share.arn, "principals": list(principals)})
            count("ShareConsumersChanged")

    def set_principals(self, held: HeldShare, bucket: Bucket, permitted: bool, room: int | None,
                       restrict_only: bool) -> tuple[int | None, str | None]:
        """Exactly the bucket's consumers, when the share's permission is right (else none);
        new accounts within the pending-invitation room, organizations and OUs apart
        (modelshare.org_sharing). Returns the room left, and why an organization or OU the
        bucket names is not on the share."""
        desired = rules.consumers_wanted(bucket, permitted=permitted)
        self.remove_principals(held, sorted(set(held.principals) - desired),
                               "modelshare's share holds no consumer until its permission is right")
        missing = sorted(desired - set(held.principals))
        if not missing or restrict_only or room is None:
            return room, None
        offered, waiting, orgs = rules.invitations(missing, room)
        self.invited, self.uninvited = self.invited + len(offered), self.uninvited + len(waiting)
        if waiting:  # said before the invitations: a quota RAM meets on them must not silence it
            logger.warning("Pending invitation quota: consumers wait for a later run",
                           extra={"share": held.share.arn, "waiting": waiting})
            count("RamQuotaReached")
        if offered:
            self.share_writes.associate_principals(held.share.arn, offered)
            held.principals = (*held.principals, *offered)
            count("ShareConsumersChanged")
        org_wait = None
        if orgs:
            added, org_wait = self.org.associate(held.share.arn, orgs)
            held.principals = (*held.principals, *added)
        return room - len(offered), org_wait


def _token(name: str, permission: str, gone: str = "") -> str:
    # RAM's clientToken: at most 64 ASCII characters (ram/service-2.json, CreateResourceShare).
    return hashlib.sha256(f"{name}|{permission}|{gone}".encode()).hexdigest()[:64]
