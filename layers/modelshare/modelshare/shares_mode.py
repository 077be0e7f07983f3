"""The shares mode's owner side (issue 20; docs/sharing-modes.md): modelshare makes a few RAM
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

What each share needs is decided by modelshare.decision.shares (pure rules); the writes are
made by modelshare.shares_writes, one `ShareWrites` per run.

Cost: one read of the ledger, then RAM's view of modelshare's shares in a few batched calls
(their resources and principals, ARNS_PER_CALL shares a call, paged), one permission read per
share, and writes of at most 100 resources a call: it does not grow with the groups but by
their hundreds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from modelshare.decision import shares as rules
from modelshare.decision.shares import SHARE_TO_MAKE as SHARE_TO_MAKE
from modelshare.decision.shares import ShareRule, Wait
from modelshare.invitation_pace import PENDING_INVITATIONS_PER_ACCOUNT
from modelshare.observability import count, logger
from modelshare.ports import OwnershipLedger, RamQuotaReached
from modelshare.ram_ports import OwnerShareReads, OwnerShareWrites
from modelshare.region_room import REFUSED
from modelshare.share_grants import ShareGrants
from modelshare.share_handover import Acceptance, held_back
from modelshare.share_layout import GROUPS_PER_SHARE, Bucket, kept_in_place, lay_out, moved_whole, parse_share_name
from modelshare.share_permissions import PERMISSION_WAIT_SECONDS, SharePermissions
from modelshare.share_takeout import empty_out, not_groups, take_out, unjudged
from modelshare.shares_writes import HeldShare, ShareWrites


@dataclass(frozen=True)
class SharesModeResult:
    """What one run found and did, by group ARN."""

    live: frozenset[str]  # in the share of their bucket, which has the bucket's permission
    added: Mapping[str, str]  # put into a share this run: group -> share name
    removed: Mapping[str, str]  # taken out of modelshare's share this run: resource -> share ARN
    waiting: Mapping[str, Wait]  # wanted but not live: group -> why (a quota, or anything else)
    deleted_shares: tuple[str, ...] = ()
    gone: frozenset[str] = frozenset()  # RAM found no such group (deleted since it was listed or named)
    # modelshare's shares after the run (by ARN): the ledger's, less those deleted, and those it
    # made and recorded (converge only).
    shares: frozenset[str] = frozenset()
    invitations: tuple[int, int] = (0, 0)  # consumers invited, and left uninvited for want of room


@dataclass(frozen=True)
class _Inviting:
    """A share whose consumers a run sets once every share holds only its bucket's groups."""

    name: str
    held: HeldShare
    bucket: Bucket
    groups: tuple[str, ...]
    wanted_here: list[str]
    permitted: bool
    stop: RamQuotaReached | None  # a quota met by the run before this share's consumers were due
    unknown: str  # why the permission is not known this run, or ""
    unjudged: bool  # it holds what a partial run cannot judge: consumers join by the sweep only


@dataclass
class _Run:
    """One converge run: what it asks (`wanted`, the flags), what it read and laid out, and what it
    did so far. Nothing of it outlives the run."""

    wanted: Mapping[str, Bucket]
    restrict_only: bool
    partial: bool
    writes: ShareWrites
    by_name: dict[str, HeldShare]
    targets: dict[str, str] = field(default_factory=dict)  # group -> its bucket's digest
    buckets: dict[str, Bucket] = field(default_factory=dict)
    holding: dict[str, frozenset[str]] = field(default_factory=dict)  # kept by the hand-over
    added: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, Wait] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    strays: dict[str, str] = field(default_factory=dict)
    stop: RamQuotaReached | None = None
    room: int | None = None
    inviting: list[_Inviting] = field(default_factory=list)

    def wait(self, groups: Sequence[str], why: Wait) -> None:
        self.waiting.update(dict.fromkeys(groups, why))


@dataclass
class SharesMode:
    account: str
    shares: OwnerShareReads
    ledger: OwnershipLedger
    share_writes: OwnerShareWrites
    groups_per_share: int = GROUPS_PER_SHARE
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    permission_wait: Sequence[float] = field(default=PERMISSION_WAIT_SECONDS)
    _permissions: SharePermissions = field(init=False, repr=False)
    _grants: ShareGrants = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._permissions = SharePermissions(self.account, self.shares, self.share_writes, self.ledger, self.sleep,
                                             self.permission_wait)
        self._grants = ShareGrants(self.shares, self._permissions)

    def _writes(self) -> ShareWrites:
        return ShareWrites(self.shares, self.share_writes, self.ledger, self._permissions)

    def converge(self, wanted: Mapping[str, Bucket], *, restrict_only: bool = False,
                 partial: bool = False, made: Mapping[str, str] | None = None) -> SharesModeResult:
        """Make modelshare's shares hold `wanted` (every group of the account to share -> its
        bucket). `restrict_only`: only take away (an invalid allowlist's last valid version, or
        an owner in the policy mode whose made shares remain). `partial`: `wanted` names a few
        groups only (new ones): the others stay where they are and nothing is taken out. `made`:
        the ledger's made shares as the run read them already (else read here)."""
        found = self._read(made)
        if restrict_only and not found:
            return SharesModeResult(frozenset(), {}, {}, {})
        run = _Run(wanted, restrict_only, partial, self._writes(), _by_name(found))
        layout = self._lay_out(run)
        # Groups join first, in every share, then what leaves a share goes, then consumers are
        # invited: a group changing buckets joins its new share before it leaves its old one.
        for name, groups in sorted(layout.items()):
            parsed = parse_share_name(name)
            bucket = run.buckets.get(parsed[0]) if parsed else None
            if groups and bucket is not None:
                self._converge_share(run, name, groups, bucket)
        removed, deleted = ({}, ()) if partial else empty_out(self.share_writes, self.ledger, run.by_name, layout, run.holding)
        removed.update(run.strays)
        self._invite(run)
        run.wait([g for g in wanted if g not in run.live and g not in run.waiting and g not in run.gone],
                 Wait(rules.NOT_PLACED_REASON))
        if run.added and not run.writes.region_refused and self.ledger.full_quota() is not None:
            self.ledger.forget_full_quota()  # RAM took a group: a Region quota full again is said again
        return SharesModeResult(frozenset(run.live), run.added, removed,
                                {g: w for g, w in run.waiting.items() if g not in run.gone}, deleted,
                                frozenset(run.gone), frozenset(h.share.arn for h in run.by_name.values()) - set(deleted),
                                (run.writes.invited, run.writes.uninvited))

    def _lay_out(self, run: _Run) -> dict[str, tuple[str, ...]]:
        """Which groups each share should hold this run (share_layout), with the groups the
        hand-over keeps where they are (`run.holding`) and the pending-invitation room."""
        run.targets = {group: bucket.digest for group, bucket in run.wanted.items()}
        run.buckets = {bucket.digest: bucket for bucket in run.wanted.values()}
        within = self._grants.within_once_converged(run.by_name, run.buckets)  # read lazily, once the shares are named
        if run.partial:
            kept = {r: parsed[0] for name, held in run.by_name.items() if (parsed := parse_share_name(name))
                    for r in set(held.resources) - set(not_groups(held, self.account))}  # the rest goes
            run.targets = {**kept, **run.targets}
        else:
            self._move_whole(run.by_name, run.targets, run.buckets, split=not run.restrict_only)
            if run.restrict_only:  # no share is made: a group keeps the one it is in while that is within
                run.targets = kept_in_place(run.targets, {name: held.resources for name, held in run.by_name.items()},
                                            within)
        layout = lay_out(run.targets, {name: s.resources for name, s in run.by_name.items()},
                         groups_per_share=self.groups_per_share)
        acceptance = Acceptance(self.shares)
        # A group changing buckets stays where it is until its new share is accepted (make-before-break).
        run.holding = {} if run.partial else held_back(layout, run.by_name, run.targets, run.buckets, within, acceptance)
        run.room = None if run.restrict_only else PENDING_INVITATIONS_PER_ACCOUNT - len(acceptance.pending("PRINCIPAL"))
        return layout

    def _converge_share(self, run: _Run, name: str, groups: tuple[str, ...], bucket: Bucket) -> None:
        """One share the layout gives groups, up to its invitations (decision.shares, in order)."""
        wanted_here = [g for g in groups if g in run.wanted]
        permission, unknown = self._grants.lookup(bucket.actions, create=not run.restrict_only)
        held = run.by_name.get(name) or self._made(run, name, wanted_here, permission, unknown)
        if held is None:
            return
        run.writes.remove_principals(held, rules.principals_beyond(held.principals, bucket),
                                     "Removed principals from modelshare's share that its bucket does not name")
        changes = rules.permission_changes(held.permissions, held.on_default_version, permission)
        run.strays.update(take_out(self.share_writes, held, rules.leaving_resources(
            held.resources, not_groups=not_groups(held, self.account) if run.partial else (), partial=run.partial,
            changes=changes, groups=groups, targets=run.targets, holding=run.holding.get(name, ()))))
        permitted = run.writes.set_permission(held, permission)
        rule = rules.share_rule(permitted=permitted, partial=run.partial, several_permissions=len(held.permissions) > 1,
                                permission_known=permission is not None, within=lambda: self._grants.within(held, bucket))
        if rule == ShareRule.SEVERAL_PERMISSIONS:
            run.wait(wanted_here, Wait(rules.SEVERAL_PERMISSIONS_REASON))
            return  # its consumers are the sweep's to judge, which takes out first what it cannot hold
        if rule == ShareRule.LEFT_AS_IT_IS:
            run.live.update(g for g in groups if g in held.resources and self._grants.exactly(held, bucket))
            run.waiting.update({g: Wait(unknown) for g in wanted_here if g not in run.live})
            return
        if rule == ShareRule.NO_CONSUMER:  # before any group goes in: it reaches no one through a wrong permission
            run.writes.remove_principals(held, list(held.principals),
                                         "modelshare's share holds no consumer until its permission is right")
        self._put(run, held, name, rules.groups_to_put(groups, held.resources, restrict_only=run.restrict_only,
                                                       stopped=run.stop is not None))
        run.inviting.append(_Inviting(name, held, bucket, groups, wanted_here, permitted, run.stop,
                                      unknown if permission is None else "",
                                      run.partial and unjudged(held, run.wanted, bucket.digest)))

    def _made(self, run: _Run, name: str, wanted_here: list[str], permission: str | None,
              unknown: str) -> HeldShare | None:
        """A share the layout names that does not exist: made and recorded, or None (its groups wait)."""
        rule, why = rules.making(restrict_only=run.restrict_only, stopped=None if run.stop is None else str(run.stop),
                                 permission=permission, unknown=unknown)
        if rule == ShareRule.MAKE_WAITS or permission is None:
            run.wait(wanted_here, why or Wait(unknown))
            return None
        try:
            held = run.by_name[name] = run.writes.make(name, permission, frozenset(h.share.arn for h in run.by_name.values()))
        except RamQuotaReached as quota:
            run.stop = self._quota(run.writes, quota, name)
            run.wait(wanted_here, Wait(str(quota), quota=True))
            return None
        return held

    def _put(self, run: _Run, held: HeldShare, name: str, new: list[str]) -> None:
        if not new:
            return
        try:
            run.writes.put_in(held, name, new, run.added, run.gone)
        except RamQuotaReached as quota:
            run.stop = self._quota(run.writes, quota, name)

    def _invite(self, run: _Run) -> None:
        """Consumers are invited last, once every share holds only its bucket's groups: a consumer
        new to a share never sees a group leaving it or one a person put in, even for a moment."""
        invite_stop: RamQuotaReached | None = None
        for step in run.inviting:
            org_wait = None
            stopped = step.stop or invite_stop
            try:
                run.room, org_wait = run.writes.set_principals(step.held, step.bucket, step.permitted, run.room,
                                                               run.restrict_only or stopped is not None or step.unjudged)
            except RamQuotaReached as quota:
                invite_stop = stopped = self._quota(run.writes, quota, step.name)
            if step.permitted and org_wait is None:
                run.live.update(g for g in step.groups if g in step.held.resources)
            why = rules.waiting_reason(org_wait=org_wait, stopped=None if stopped is None else str(stopped),
                                       unknown=step.unknown)
            run.waiting.update({g: why for g in step.wanted_here if g not in run.live})

    def place_new(self, wanted: Mapping[str, Bucket]) -> SharesModeResult:
        """New groups (ShareOnCreate): each put into its bucket's share only when that share is
        ready for it: recorded, with room, with exactly the bucket's permission (one, on its
        default version, AWS managed or the ledger's) and no principal the bucket does not name,
        so the group reaches no one and grants nothing the allowlist does not give. Nothing else
        is changed: a share to make, a permission to make or set, consumers to invite or take
        out are the sweep's, and such groups are returned waiting, with why."""
        by_name = _by_name(self._read())
        kept = {r: parsed[0] for name, held in by_name.items() if (parsed := parse_share_name(name))
                for r in held.resources}
        targets = {**kept, **{group: bucket.digest for group, bucket in wanted.items()}}
        layout = lay_out(targets, {name: held.resources for name, held in by_name.items()},
                         groups_per_share=self.groups_per_share)
        run = _Run(wanted, False, True, self._writes(), by_name)
        for name, groups in sorted(layout.items()):
            new = [g for g in groups if g in wanted]
            if new:
                self._place(run, name, new)
        return SharesModeResult(frozenset(run.live), run.added, {}, run.waiting, gone=frozenset(run.gone))

    def _place(self, run: _Run, name: str, new: list[str]) -> None:
        """New groups into their bucket's share `name`, when it is ready for them (decision.shares)."""
        held = run.by_name.get(name)
        bucket = run.wanted[new[0]]
        why = rules.placement_wait(exists=held is not None,
                                   not_ready=lambda: None if held is None else self._grants.not_ready(held, bucket))
        if held is None or why is not None:
            run.wait(new, Wait(why or SHARE_TO_MAKE))
            return
        wait = Wait("")
        try:
            run.writes.put_in(held, name, [g for g in new if g not in held.resources], run.added, run.gone)
        except RamQuotaReached as quota:
            wait = Wait(str(self._quota(run.writes, quota, name)), quota=True)
        run.live.update(g for g in new if g in held.resources)
        run.waiting.update({g: wait for g in new if g not in run.live and g not in run.gone})

    def _move_whole(self, by_name: dict[str, HeldShare], targets: Mapping[str, str], buckets: Mapping[str, Bucket],
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

    def _quota(self, writes: ShareWrites, quota: RamQuotaReached, name: str) -> RamQuotaReached:
        """A RAM quota stops every further addition of the run (logged and counted once); what
        takes away goes on. The next run (the schedule) tries again: nothing retries at once. A
        full Region quota is said once while it stays full, in whichever execution environment,
        as the policy mode says it (modelshare.owner.quota.quota_reached): the ledger records that it was
        said, and a run that puts a group in (RAM took it: there was room) forgets it (`converge`)."""
        said = quota.region and (writes.region_refused or self.ledger.full_quota() is not None)
        writes.region_refused = writes.region_refused or quota.region
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
    def _read(self, made: Mapping[str, str] | None = None) -> dict[str, tuple[str, HeldShare]]:
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
            found[arn] = (made[arn], HeldShare(active[arn], resources.get(arn, ()), principals.get(arn, ()),
                                            tuple(p.arn for p in permissions),
                                            all(p.default_version for p in permissions)))
        return found

def _by_name(found: Mapping[str, tuple[str, HeldShare]]) -> dict[str, HeldShare]:
    """modelshare's shares by the name the ledger made them under. Two under one name (a run
    that made one, lost its record and made another): the lower ARN keeps the name, the other
    is laid out as no bucket's, so it is emptied."""
    by_name: dict[str, HeldShare] = {}
    for arn, (name, held) in sorted(found.items()):
        by_name[name if name not in by_name else f"{name} (also {arn})"] = held
    return by_name


def _granted_by(bucket: Bucket, other: Bucket) -> bool:
    """Whether `other` gives every consumer and action `bucket` gives."""
    return set(bucket.consumers) <= set(other.consumers) and set(bucket.actions) <= set(other.actions)
