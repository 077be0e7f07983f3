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
other permission replaced; a share whose permission cannot be set holds no principal, unless
the permission could not be looked up this run and what the share grants now is provably within
its bucket: then it is left as it is (a throttle must not take consumers away and back). A share
whose groups all move to another bucket changes in place and is recorded under that bucket. A
run puts groups in first (what leaves a share whose permission changes goes before: share_takeout),
then takes out what leaves, then invites consumers: a consumer new to a share never sees a group
leaving it. A group whose bucket widened stays in the share it is in,
while that grants it no more than its bucket, until its new share is accepted (share_handover).

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

from modelshare.invitation_pace import PENDING_INVITATIONS_PER_ACCOUNT
from modelshare.observability import count, logger
from modelshare.org_principals import is_org_principal
from modelshare.org_sharing import OrgSharing
from modelshare.ports import (
    ARNS_PER_CALL,
    GroupNotFound,
    OwnershipLedger,
    RamQuotaReached,
    ResourceShare,
    ResourceShares,
)
from modelshare.region_room import REFUSED
from modelshare.share_grants import ShareGrants
from modelshare.share_handover import Acceptance, held_back
from modelshare.share_layout import GROUPS_PER_SHARE, Bucket, kept_in_place, lay_out, moved_whole, parse_share_name
from modelshare.share_permissions import PERMISSION_WAIT_SECONDS, SharePermissions
from modelshare.share_takeout import empty_out, leaving, not_groups, take_out, unjudged

# How many times a share's client token is derived anew when RAM gives back a share that is
# gone (a token RAM still remembers from a share since deleted).
_TOKEN_ATTEMPTS = 3
# Why a new group waits for the sweep: its bucket has no share with room (ShareOnCreate makes none).
SHARE_TO_MAKE = "its bucket has no share with room yet"


@dataclass(frozen=True)
class SharesModeResult:
    """What one run found and did, by group ARN."""

    live: frozenset[str]  # in the share of their bucket, which has the bucket's permission
    added: Mapping[str, str]  # put into a share this run: group -> share name
    removed: Mapping[str, str]  # taken out of modelshare's share this run: resource -> share ARN
    waiting: Mapping[str, str]  # wanted but not live: group -> why
    deleted_shares: tuple[str, ...] = ()
    gone: frozenset[str] = frozenset()  # RAM found no such group (deleted since it was listed or named)
    # modelshare's shares after the run (by ARN): the ledger's, less those deleted, and those it
    # made and recorded (converge only).
    shares: frozenset[str] = frozenset()
    invitations: tuple[int, int] = (0, 0)  # consumers invited, and left uninvited for want of room


@dataclass
class _Share:
    """One of modelshare's shares as read this run."""

    share: ResourceShare
    resources: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    on_default_version: bool = True


@dataclass(frozen=True)
class _Inviting:
    """A share whose consumers a run sets once every share holds only its bucket's groups."""

    name: str
    held: _Share
    bucket: Bucket
    groups: tuple[str, ...]
    wanted_here: list[str]
    permitted: bool
    stop: RamQuotaReached | None  # a quota met by the run before this share's consumers were due
    unknown: str  # why the permission is not known this run, or ""
    unjudged: bool  # it holds what a partial run cannot judge: consumers join by the sweep only


@dataclass
class SharesMode:
    account: str
    shares: ResourceShares
    ledger: OwnershipLedger
    groups_per_share: int = GROUPS_PER_SHARE
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    permission_wait: Sequence[float] = field(default=PERMISSION_WAIT_SECONDS)
    _permissions: SharePermissions = field(init=False, repr=False)
    _grants: ShareGrants = field(init=False, repr=False)
    # Per run: a Region quota refused an addition (said once: `_quota`); consumers (un)invited.
    _region_refused: bool = field(default=False, init=False, repr=False)
    _invitations: list[int] = field(default_factory=lambda: [0, 0], init=False, repr=False)

    def __post_init__(self) -> None:
        self._permissions = SharePermissions(self.account, self.shares, self.ledger, self.sleep, self.permission_wait)
        self._grants = ShareGrants(self.shares, self._permissions)

    def converge(self, wanted: Mapping[str, Bucket], *, restrict_only: bool = False,
                 partial: bool = False, made: Mapping[str, str] | None = None) -> SharesModeResult:
        """Make modelshare's shares hold `wanted` (every group of the account to share -> its
        bucket). `restrict_only`: only take away (an invalid allowlist's last valid version, or
        an owner in the policy mode whose made shares remain). `partial`: `wanted` names a few
        groups only (new ones): the others stay where they are and nothing is taken out. `made`:
        the ledger's made shares as the run read them already (else read here)."""
        self._region_refused, self._invitations = False, [0, 0]
        found = self._read(made)
        if restrict_only and not found:
            return SharesModeResult(frozenset(), {}, {}, {})
        by_name = _by_name(found)
        targets = {group: bucket.digest for group, bucket in wanted.items()}
        buckets = {bucket.digest: bucket for bucket in wanted.values()}
        within = self._grants.within_once_converged(by_name, buckets)  # read lazily, once the shares are named
        if partial:
            kept = {r: parsed[0] for name, held in by_name.items() if (parsed := parse_share_name(name))
                    for r in set(held.resources) - set(not_groups(held, self.account))}  # the rest goes
            targets = {**kept, **targets}
        else:
            self._move_whole(by_name, targets, buckets, split=not restrict_only)
            if restrict_only:  # no share is made: a group keeps the one it is in while that is within
                targets = kept_in_place(targets, {name: held.resources for name, held in by_name.items()}, within)
        current = {name: s.resources for name, s in by_name.items()}
        layout = lay_out(targets, current, groups_per_share=self.groups_per_share)
        acceptance = Acceptance(self.shares)
        # A group changing buckets stays where it is until its new share is accepted (make-before-break).
        holding = {} if partial else held_back(layout, by_name, targets, buckets, within, acceptance)
        added: dict[str, str] = {}
        waiting: dict[str, str] = {}
        live: set[str] = set()
        gone: set[str] = set()
        strays: dict[str, str] = {}
        stop: RamQuotaReached | None = None
        room = None if restrict_only else PENDING_INVITATIONS_PER_ACCOUNT - len(acceptance.pending("PRINCIPAL"))
        ours = frozenset(held.share.arn for held in by_name.values())
        org = OrgSharing(self.shares)
        inviting: list[_Inviting] = []
        # Groups join first, in every share, then what leaves a share goes, then consumers are
        # invited: a group changing buckets joins its new share before it leaves its old one.
        for name, groups in sorted(layout.items()):
            parsed = parse_share_name(name)
            bucket = buckets.get(parsed[0]) if parsed else None
            if not groups or bucket is None:
                continue
            wanted_here = [g for g in groups if g in wanted]
            held = by_name.get(name)
            permission, unknown = self._grants.lookup(bucket.actions, create=not restrict_only)
            if held is None:
                if restrict_only or stop is not None or permission is None:
                    waiting.update(dict.fromkeys(wanted_here, "not made while only taking away" if restrict_only
                                                 else str(stop) if stop is not None else unknown))
                    continue
                try:
                    held = by_name[name] = self._make(name, permission, ours)
                except RamQuotaReached as quota:
                    stop = self._quota(quota, name)
                    waiting.update(dict.fromkeys(wanted_here, str(quota)))
                    continue
            # Consumers the bucket no longer names, what no bucket wants, and, when the permission
            # changes, every group leaving the share (share_takeout) go before the permission: it may
            # widen, and it is granted on all the share holds. Else a group leaves once in its new share.
            self._remove_principals(held, sorted(set(held.principals) - set(bucket.consumers)),
                                    "Removed principals from modelshare's share that its bucket does not name")
            changes = permission is not None and (held.permissions, held.on_default_version) != ((permission,), True)
            strays.update(take_out(self.shares, held, not_groups(held, self.account) if partial else
                                   leaving(held, groups if changes else targets, holding.get(name, ()))))
            permitted = self._set_permission(held, permission)
            if not permitted and partial and len(held.permissions) > 1:
                waiting.update(dict.fromkeys(wanted_here, "its share has several permissions: left to the sweep"))
                continue  # its consumers are the sweep's to judge, which takes out first what it cannot hold
            if not permitted and permission is None and self._grants.within(held, bucket):
                # No answer about the permission this run (a throttle, a 5xx, one not attachable
                # yet), and what the share grants now is within its bucket: left as it is.
                live.update(g for g in groups if g in held.resources and self._grants.exactly(held, bucket))
                waiting.update({g: unknown for g in wanted_here if g not in live})
                continue
            if not permitted:  # before any group goes in: it reaches no one through a wrong permission
                self._remove_principals(held, list(held.principals),
                                        "modelshare's share holds no consumer until its permission is right")
            new = [g for g in groups if g not in held.resources]
            if new and not restrict_only and stop is None:
                try:
                    self._put_in(held, name, new, added, gone)
                except RamQuotaReached as quota:
                    stop = self._quota(quota, name)
            inviting.append(_Inviting(name, held, bucket, groups, wanted_here, permitted, stop,
                                      unknown if permission is None else "",
                                      partial and unjudged(held, wanted, bucket.digest)))
        removed, deleted = ({}, ()) if partial else empty_out(self.shares, self.ledger, by_name, layout, holding)
        removed.update(strays)
        # Consumers are invited last, once every share holds only its bucket's groups: a consumer
        # new to a share never sees a group leaving it or one a person put in, even for a moment.
        invite_stop: RamQuotaReached | None = None
        for step in inviting:
            org_wait = None
            stopped = step.stop or invite_stop
            try:
                room, org_wait = self._set_principals(step.held, step.bucket, step.permitted, room,
                                                      restrict_only or stopped is not None or step.unjudged, org)
            except RamQuotaReached as quota:
                invite_stop = stopped = self._quota(quota, step.name)
            if step.permitted and org_wait is None:
                live.update(g for g in step.groups if g in step.held.resources)
            why = org_wait or (str(stopped) if stopped is not None else step.unknown
                               or "the share's permission cannot be set: it holds no consumer")
            waiting.update({g: why for g in step.wanted_here if g not in live})
        waiting.update({g: "not placed in a share" for g in wanted if g not in live and g not in waiting and g not in gone})
        if added and not self._region_refused and self.ledger.full_quota() is not None:
            self.ledger.forget_full_quota()  # RAM took a group: a Region quota full again is said again
        return SharesModeResult(frozenset(live), added, removed, {g: w for g, w in waiting.items() if g not in gone},
                                deleted, frozenset(gone), frozenset(h.share.arn for h in by_name.values()) - set(deleted),
                                (self._invitations[0], self._invitations[1]))

    def place_new(self, wanted: Mapping[str, Bucket]) -> SharesModeResult:
        """New groups (ShareOnCreate): each put into its bucket's share only when that share is
        ready for it: recorded, with room, with exactly the bucket's permission (one, on its
        default version, AWS managed or the ledger's) and no principal the bucket does not name,
        so the group reaches no one and grants nothing the allowlist does not give. Nothing else
        is changed: a share to make, a permission to make or set, consumers to invite or take
        out are the sweep's, and such groups are returned waiting, with why."""
        self._region_refused = False
        by_name = _by_name(self._read())
        kept = {r: parsed[0] for name, held in by_name.items() if (parsed := parse_share_name(name))
                for r in held.resources}
        targets = {**kept, **{group: bucket.digest for group, bucket in wanted.items()}}
        layout = lay_out(targets, {name: held.resources for name, held in by_name.items()},
                         groups_per_share=self.groups_per_share)
        added: dict[str, str] = {}
        waiting: dict[str, str] = {}
        live: set[str] = set()
        gone: set[str] = set()
        for name, groups in sorted(layout.items()):
            new = [g for g in groups if g in wanted]
            if not new:
                continue
            held = by_name.get(name)
            why = SHARE_TO_MAKE if held is None else self._grants.not_ready(held, wanted[new[0]])
            if held is None or why is not None:
                waiting.update(dict.fromkeys(new, why or SHARE_TO_MAKE))
                continue
            try:
                self._put_in(held, name, [g for g in new if g not in held.resources], added, gone)
            except RamQuotaReached as quota:
                why = str(self._quota(quota, name))
            live.update(g for g in new if g in held.resources)
            waiting.update({g: why or "" for g in new if g not in live and g not in gone})
        return SharesModeResult(frozenset(live), added, {}, waiting, gone=frozenset(gone))

    def _move_whole(self, by_name: dict[str, _Share], targets: Mapping[str, str], buckets: Mapping[str, Bucket],
                    *, split: bool) -> None:
        """A share whose groups all go to one other bucket (or, `split`, to several: to one that
        gives no more than each other the share grants within now: `narrower`, so every group it
        would keep until handed over it still keeps) is recorded under that bucket's name
        (share_layout.moved_whole) and converged there in place: its consumers and permission
        change, its groups stay. Recorded first: a run that stops after leaves a
        share the next run converges to the bucket it is recorded for."""
        current = {name: held.resources for name, held in by_name.items()}
        principals = {name: held.principals for name, held in by_name.items()}
        consumers = {digest: bucket.consumers for digest, bucket in buckets.items()}

        def narrower(name: str, to: str, others: frozenset[str]) -> bool:
            return split and all(not self._grants.within(by_name[name], buckets[o]) or _granted_by(buckets[to], buckets[o])
                                 for o in sorted(others))
        for old, new in moved_whole(targets, current, principals, consumers, narrower).items():
            held = by_name.pop(old)
            self.ledger.record_made_share(held.share.arn, new)
            by_name[new] = held
            logger.info("modelshare's share changes bucket in place", extra={"share": held.share.arn, "from": old, "to": new})
            count("SharesMovedInPlace")

    def _quota(self, quota: RamQuotaReached, name: str) -> RamQuotaReached:
        """A RAM quota stops every further addition of the run (logged and counted once); what
        takes away goes on. The next run (the schedule) tries again: nothing retries at once. A
        full Region quota is said once while it stays full, in whichever execution environment,
        as the policy mode says it (OwnerService._quota_reached): the ledger records that it was
        said, and a run that puts a group in (RAM took it: there was room) forgets it (`converge`)."""
        said = quota.region and (self._region_refused or self.ledger.full_quota() is not None)
        self._region_refused = self._region_refused or quota.region
        if said:
            logger.info("RAM quota still reached: additions wait for a later run", extra={"share_name": name,
                                                                                        "quota": quota.quota})
            return quota
        if quota.region:
            self.ledger.record_full_quota(REFUSED)  # said: no run says it again while it stays full
        logger.warning("RAM quota reached: additions wait for a later run", extra={"share_name": name, "quota": quota.quota,
                                                                                  "reason": str(quota)})
        count("RamQuotaReached")
        return quota

    # -- reads ------------------------------------------------------------------------------
    def _read(self, made: Mapping[str, str] | None = None) -> dict[str, tuple[str, _Share]]:
        """modelshare's shares that RAM still has: ARN -> (the name the ledger made it under, what
        it holds). A recorded share RAM no longer has is forgotten."""
        made = self.ledger.made_shares() if made is None else made
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

    # -- writes -----------------------------------------------------------------------------
    def _make(self, name: str, permission: str, ours: frozenset[str]) -> _Share:
        """Make the share empty, with its permission, and record it before anything goes in.
        The client token is derived from the name and permission, so a run that stopped
        before recording gets the same share back; when RAM gives back one that is gone, or
        one of `ours` (a share made under this name that has since moved to another bucket),
        the token is derived anew from that one's ARN."""
        token = _token(name, permission)
        for _ in range(_TOKEN_ATTEMPTS):
            share = self.shares.create_share(name, permission, token)
            if share.arn not in ours and share.status == "ACTIVE" and self.shares.shares_by_arn([share.arn]):
                self.ledger.record_made_share(share.arn, name)
                logger.info("Made a share for a bucket of groups", extra={"share": share.arn, "share_name": name})
                count("SharesMade")
                return _Share(share, permissions=(permission,))
            token = _token(name, permission, share.arn)
        raise RuntimeError(f"RAM kept giving back a share that is gone or taken for {name}")

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
        permissions (a person attached one for another resource type) has the others taken off
        first; until it has one it cannot be judged."""
        if len(held.permissions) > 1:
            kept = self._permissions.take_off_other_types(held.share.arn)
            if kept is None:
                logger.warning("modelshare's share has several permissions: it holds no consumer until it has one",
                               extra={"share": held.share.arn, "permissions": list(held.permissions)})
                return False
            held.permissions = tuple(p.arn for p in kept)
            held.on_default_version = all(p.default_version for p in kept)
        if permission is None:
            return False
        if held.permissions == (permission,) and held.on_default_version:
            return True
        self.shares.replace_permission(held.share.arn, permission)
        held.permissions, held.on_default_version = (permission,), True
        logger.info("Set the permission of modelshare's share", extra={"share": held.share.arn, "permission": permission})
        count("ShareActionsChanged")
        return True

    def _remove_principals(self, held: _Share, principals: Sequence[str], why: str) -> None:
        if principals:
            self.shares.disassociate_principals(held.share.arn, list(principals))
            held.principals = tuple(p for p in held.principals if p not in principals)
            logger.warning(why, extra={"share": held.share.arn, "principals": list(principals)})
            count("ShareConsumersChanged")

    def _set_principals(self, held: _Share, bucket: Bucket, permitted: bool, room: int | None,
                        restrict_only: bool, org: OrgSharing) -> tuple[int | None, str | None]:
        """Exactly the bucket's consumers, when the share's permission is right (else none);
        new accounts within the pending-invitation room, organizations and OUs apart
        (modelshare.org_sharing). Returns the room left, and why an organization or OU the
        bucket names is not on the share."""
        desired = set(bucket.consumers) if permitted else set()
        self._remove_principals(held, sorted(set(held.principals) - desired),
                                "modelshare's share holds no consumer until its permission is right")
        missing = sorted(desired - set(held.principals))
        if not missing or restrict_only or room is None:
            return room, None
        org_principals = [p for p in missing if is_org_principal(p)]
        missing = [p for p in missing if p not in org_principals]
        offered = missing[:max(room, 0)]
        self._invitations = [self._invitations[0] + len(offered), self._invitations[1] + len(missing) - len(offered)]
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


def _by_name(found: Mapping[str, tuple[str, _Share]]) -> dict[str, _Share]:
    """modelshare's shares by the name the ledger made them under. Two under one name (a run
    that made one, lost its record and made another): the lower ARN keeps the name, the other
    is laid out as no bucket's, so it is emptied."""
    by_name: dict[str, _Share] = {}
    for arn, (name, held) in sorted(found.items()):
        by_name[name if name not in by_name else f"{name} (also {arn})"] = held
    return by_name


def _granted_by(bucket: Bucket, other: Bucket) -> bool:
    """Whether `other` gives every consumer and action `bucket` gives."""
    return set(bucket.consumers) <= set(other.consumers) and set(bucket.actions) <= set(other.actions)


def _token(name: str, permission: str, gone: str = "") -> str:
    # RAM's clientToken: at most 64 ASCII characters (ram/service-2.json, CreateResourceShare).
    return hashlib.sha256(f"{name}|{permission}|{gone}".encode()).hexdigest()[:64]
