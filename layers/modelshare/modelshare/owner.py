"""Owner side: share each allowlisted group through its resource policy, promote the share RAM
creates from that policy so consumers can discover the group, and keep its consumers in step.

Every entry point reads the truth from AWS and converges; calling it twice is harmless.
Which shares modelshare changes: only those it promoted itself, tagged `modelshare:managed`, that
hold nothing but the one group it is deciding about. Shares people made or changed are reported
and left alone.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from modelshare import policy as policies
from modelshare.allowlist import Allowlist, AllowlistError, ShareDecision, access_levels_for
from modelshare.allowlist_parts import AllowlistIncomplete
from modelshare.convergence import (
    GroupDecision,
    GroupSnapshot,
    Holding,
    RamIndex,
    ShareView,
    decide,
    group_of_item,
    needs_recorded_share,
    policy_matters,
    view_of,
    work_item,
)
from modelshare.observability import count, logger
from modelshare.ports import (
    ATTACHABLE,
    CREATED_FROM_POLICY,
    CUSTOMER_MANAGED_PERMISSIONS_QUOTA,
    FAILED,
    RAM_PAGE_SIZE,
    STANDARD,
    AllowlistSource,
    ApiThrottled,
    GroupNotFound,
    ModelRegistry,
    PermissionNameTaken,
    PermissionNotMatched,
    PromotionNotReady,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceShares,
    WorkQueue,
)

# Backoff while RAM works (creating the share from a new policy, finishing a promotion): 15 s in
# all, well inside one invocation. RAM can be slower (UNVERIFIED how long: docs/aws-behaviour.md,
# RAM-ASYNC); then the invocation asks for a retry, and a RAM event or the next sweep finishes.
SHARE_WAIT_SECONDS: Sequence[float] = (1, 2, 4, 8)
# What an invocation keeps for its remaining work and for reporting, rather than wait for RAM.
TIME_RESERVE_SECONDS = 20.0
# Reconcile outcomes that changed nothing and need no telling (not-shared and conflict changed
# nothing either, but say why a group is not shared).
QUIET_ACTIONS = frozenset({"converged", "gone", "promoting", "queued"})
# A group the sweep handed out that waits for RAM's invitation quota goes back on the queue this
# much later, at most this many times (then the next sweep hands it out again).
QUOTA_RETRY_DELAY_SECONDS = 60
QUOTA_RETRY_ATTEMPTS = 60
# Sweep work that AWS throttled past botocore's retries comes back this much later.
THROTTLED_RETRY_DELAY_SECONDS = 30
PERMISSION_NAME_PREFIX = "modelshare-"


@dataclass(frozen=True)
class GroupOutcome:
    group: str
    action: str
    reason: str = ""


@dataclass(frozen=True)
class GroupState:
    """Where one group stands, for reports and `modelshare status`."""

    arn: str
    status: str  # discoverable | accessible-not-discoverable | not-shared | conflict
    consumers: tuple[str, ...]
    reason: str
    # Shares holding the group that modelshare does not manage (made or changed by people).
    other_shares: tuple[str, ...] = ()


class ReconcileIncomplete(Exception):
    """Some groups could not be handled (each is logged with its error); the others were. The
    invocation fails so that Lambda retries it and the failure is seen."""


@dataclass
class OwnerService:
    account: str
    registry: ModelRegistry
    shares: ResourceShares
    allowlist_source: AllowlistSource
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))  # looked up per call
    share_wait: Sequence[float] = field(default=SHARE_WAIT_SECONDS)
    # Seconds the invocation has left (set per invocation by the handler): no wait for RAM may
    # run into Lambda's timeout.
    time_left: Callable[[], float] = field(default=lambda: math.inf)
    # Where the sweep hands out its work (the function's SweepQueue); None: sweep in one run.
    work_queue: WorkQueue | None = None
    # Per run: an account-wide RAM quota hit (no further promotion or invitation is tried), and
    # shares promoted in this run that RAM would not let be tagged yet.
    _quota_stop: RamQuotaReached | None = field(default=None, init=False, repr=False)
    # Calls the last pass over every share took (kept per execution environment): a batch
    # naming more shares than that reads them all in one pass instead of one by one.
    _pass_calls: int = field(default=2, init=False, repr=False)
    _untagged: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    # -- share on creation ------------------------------------------------------------------
    def share_group(self, group_name: str) -> GroupOutcome:
        outcome, = self.share_groups({group_name: None})
        return outcome

    def share_groups(self, groups: Mapping[str, str | None]) -> list[GroupOutcome]:
        """New groups (a batch of creation events): write the statement the allowlist asks for.
        Sharing is a grant, so the allowlist is read afresh, once for the batch; late or
        repeated events converge the same way. Only adds or updates: removing is reconcile's
        job, promoting PromoteFunction's. `groups`: name -> ARN when the event said it (else the
        group is described). One group's failure does not stop the others; the run then fails
        with all of them named."""
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return [GroupOutcome(name, "skipped", "allowlist invalid") for name in groups]
        outcomes: list[GroupOutcome] = []
        failures: list[str] = []
        for name, arn in groups.items():
            try:
                outcomes.append(self._share_group(name, allowlist, arn))
            except Exception as error:
                failures.append(self._failed(name, error))
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        return outcomes

    def _share_group(self, group_name: str, allowlist: Allowlist, group_arn: str | None = None) -> GroupOutcome:
        decision = allowlist.decide(self.account, group_name)
        if not decision.shared:  # decided without a call: a group no rule names costs nothing
            return _settled(group_name, decision, self._why_not(group_name, decision))
        group_arn = group_arn or self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, "gone")
        current = self.registry.get_policy(group_name)
        # Shares are looked for only when the group has a policy: modelshare promotes only
        # shares RAM made from one (a person who deletes the policy of a promoted group gets a
        # new share from the next statement, promoted in turn). A share promoted but not yet
        # tagged is not looked for either: writing the statement then is harmless (RAM holds
        # the consumers), and the sweep adopts the share.
        group = GroupSnapshot(group_name, group_arn) if not policies.statements(current) else \
            self._group_snapshot(group_name, group_arn, principals=False, recorded=False)
        view = view_of(group)
        if view.promoted or view.promoting:
            return GroupOutcome(group_name, "already-promoted", "RAM holds its consumers; reconcile keeps them in step")
        verdict = decide(replace(group, policy=current, policy_read=True), decision)
        puts = tuple(w for w in verdict.writes if w.kind == "put-policy")
        if not puts:
            return _settled(group_name, decision, "")
        return self._apply(group, decision, replace(verdict, writes=puts))

    # -- promotion --------------------------------------------------------------------------
    def promote_group(self, group_name: str) -> GroupOutcome:
        """Promote the share RAM made from the group's policy, when it is safe and possible.
        Raises PromotionNotReady when RAM is not there yet, so the invocation is retried.
        Promotion is a grant: decided on a fresh read of the allowlist."""
        self._begin_run()
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return GroupOutcome(group_name, "skipped", "allowlist invalid")
        outcome = self._promote_group(group_name, allowlist)
        self._finish_tagging()
        return outcome

    def promote_pending_shares(self, *, invite_again: bool = True, groups: Mapping[str, str | None] | None = None,
                               share_arns: Sequence[str] | None = None) -> list[GroupOutcome]:
        """A batch of wake-ups: promote the created-from-policy shares of the `groups` named
        (policies put: name -> ARN when the event had it) and of the shares RAM's events named (`share_arns`; None when one named
        none: then every created-from-policy share of the account is looked at), and
        (`invite_again`) invite again the consumers whose invitation to one of modelshare's
        shares failed (a quota). The caller passes False when every wake-up is itself a failure:
        an invitation failing again would wake this again, a loop; the next acceptance or the
        sweep invites again instead."""
        self._begin_run()
        allowlist: Allowlist | None = None  # read fresh once, when there is something to decide
        outcomes: list[GroupOutcome] = []
        not_ready: list[str] = []
        failures: list[str] = []
        repairs = {a.share_arn for a in self.shares.associations("PRINCIPAL", status=FAILED)} if invite_again else set()
        # One paged pass over every share when it is cheaper than reading those named one by one,
        # or when invitations must be made again (it has their groups and principals).
        index = None
        if share_arns is None or repairs or 2 * len(set(share_arns)) >= self._pass_calls:
            index = self._ram_index(principals=bool(repairs))
            self._pass_calls = index.pages(RAM_PAGE_SIZE)
        # A group held by a share comes with its ARN (no describe); a group named by its policy's
        # CloudTrail event comes with the ARN from the call's response, else is described.
        held = self._groups_in_policy_shares(share_arns, index)
        named: dict[str, tuple[str | None, list[ResourceShare]]] = {
            name: (arn, []) for name, arn in (groups or {}).items()}
        named.update({name: found for name, found in held.items()})
        for name, (arn, from_policy) in named.items():
            allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
            if allowlist is None:
                return [GroupOutcome(name, "skipped", "allowlist invalid")]
            try:
                outcomes.append(self._promote_group(name, allowlist, arn, from_policy))
            except PromotionNotReady as error:  # finish the others first, then ask for a retry
                not_ready.append(str(error))
            except Exception as error:  # one group's failure must not stop the others
                failures.append(self._failed(name, error))
        if repairs and index is not None:
            allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
            if allowlist is not None:
                outcomes.extend(self._invite_again(sorted(repairs), allowlist, failures, index))
        self._finish_tagging()
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        if not_ready:
            raise PromotionNotReady("; ".join(not_ready))
        return outcomes

    def _groups_in_policy_shares(self, share_arns: Sequence[str] | None,
                                 index: RamIndex | None) -> dict[str, tuple[str, list[ResourceShare]]]:
        """Groups of this account in created-from-policy shares (all of them, from `index`, or
        those named, read one by one): name -> (ARN, those shares)."""
        held: list[tuple[ResourceShare, tuple[str, ...]]] = []
        if index is not None:
            held = [(share, index.live_resources.get(arn, ())) for arn, share in index.shares.items()
                    if share.feature_set == CREATED_FROM_POLICY]
        else:
            for arn in dict.fromkeys(share_arns or ()):
                share = self.shares.share(arn)
                if share is not None and share.feature_set == CREATED_FROM_POLICY:
                    held.append((share, tuple(self.shares.share_resource_arns(arn))))
        names: dict[str, tuple[str, list[ResourceShare]]] = {}
        for share, resources in held:
            for resource in resources:
                name = policies.group_name_of(resource, self.account)
                if name is not None:
                    names.setdefault(name, (resource, []))[1].append(share)
        return names

    def _promote_group(self, group_name: str, allowlist: Allowlist, group_arn: str | None = None,
                       from_policy: Sequence[ResourceShare] = ()) -> GroupOutcome:
        """Promote the group's created-from-policy shares: `from_policy` when the caller read
        them already, else those found by reading (waiting for RAM to make them)."""
        if self._quota_stop is not None:  # nothing to gain from reading: the promotion would wait
            return self._not_tried(group_name)
        group_arn = group_arn or self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, "gone")
        current = self.registry.get_policy(group_name)
        if current is None:
            return GroupOutcome(group_name, "no-policy")
        decision = allowlist.decide(self.account, group_name)
        assessment = policies.assess(current, decision.consumers if decision.shared else ())
        if not assessment.promotable:
            return self._not_promotable(group_name, "; ".join(assessment.problems))
        if from_policy:
            return self._promote_shares(group_name, group_arn, from_policy)
        view = self._with_backoff(lambda: self._promotable_view(group_name, group_arn))
        if view is None:
            raise PromotionNotReady(
                f"RAM has not created the share for {group_arn} after {sum(self.share_wait):g} s; retry later")
        return self._promote_shares(group_name, group_arn, [h.share for h in view.from_policy])

    def _promotable_view(self, group_name: str, group_arn: str) -> ShareView | None:
        view = view_of(self._group_snapshot(group_name, group_arn, principals=False))
        self._adopt(view)
        return view if view.from_policy or view.managed else None

    def _promote_shares(self, group_name: str, group_arn: str, shares: Sequence[ResourceShare]) -> GroupOutcome:
        """Promote each created-from-policy share of the group (none left: promoting or promoted
        already, success). A RAM refusal or quota is an answer; PromotionNotReady propagates."""
        if not shares:
            return GroupOutcome(group_name, "already-promoted")
        if self._quota_stop is not None:
            return self._not_tried(group_name)
        try:
            for share in shares:
                self._promote(group_name, group_arn, share)
        except PromotionRefused as refusal:
            return self._not_promotable(group_name, f"RAM refused: {refusal}")
        except RamQuotaReached as quota:
            return self._quota_reached(group_name, quota)
        logger.info("Promotion started", extra={"group": group_name, "shares": [s.arn for s in shares]})
        count("SharesPromoted")
        return GroupOutcome(group_name, "promoted")

    def _promote(self, group_name: str, group_arn: str, share: ResourceShare) -> None:
        """Promote the share first: RAM matches any managed permission with exactly the policy's
        actions, AWS or customer managed. Only when none matches, promote the share's own
        permission, under one name per action set (docs/aws-behaviour.md, RAM-MATCH)."""
        # The evidence that this share is modelshare's, kept on the group before anything changes.
        # The share itself is tagged once promoted (`_finish_tagging`): whether RAM lets a share
        # made from a policy be tagged is UNVERIFIED (docs/aws-behaviour.md, RAM-TAG-CFP), and
        # the record on the group covers the time until then.
        self.registry.record_promoted_share(group_arn, share.arn)
        try:
            self.shares.promote_share(share.arn)
        except PermissionNotMatched:
            self._promote_with_own_permission(share)
        self._untagged[share.arn] = group_name

    def _try_tag(self, share_arn: str) -> bool:
        """Best effort: whether RAM lets a share being promoted be tagged is UNVERIFIED
        (docs/aws-behaviour.md, RAM-TAG-CFP), and so is the error it answers. Whatever it says,
        the share is tagged later: by the next reconcile."""
        try:
            return self.shares.tag_as_managed(share_arn)
        except Exception as error:
            logger.debug("Share not tagged yet", extra={"share": share_arn, "reason": str(error)})
            return False

    def _promote_with_own_permission(self, share: ResourceShare) -> None:
        name, resource_type = self._ensure_permission(share)

        def attempt() -> bool | None:
            try:
                self.shares.promote_share(share.arn)
            except PermissionNotMatched:
                return None  # the permission's promotion has not finished yet
            return True

        if self._with_backoff(attempt) is None:
            found = next((p for p in self.shares.customer_managed_permissions(resource_type) if p.name == name), None)
            if found is not None and found.status == ATTACHABLE:
                raise PromotionRefused(f"customer managed permission {name} exists, but RAM does not match it "
                                       "to this share's permission")
            raise PromotionNotReady(f"customer managed permission {name} is not attachable yet; retry later")

    def _ensure_permission(self, share: ResourceShare) -> tuple[str, str]:
        """The customer managed permission for the actions of the share's CREATED_FROM_POLICY
        permission: promoted from it when missing, reused when it exists with those very actions.
        At most one per action set, whatever the number of groups (RAM allows 10 per resource
        type by default)."""
        for permission in self.shares.permissions(share.arn):
            if permission.feature_set != CREATED_FROM_POLICY:
                continue
            actions = self.shares.permission_actions(permission.arn)
            if not actions:
                raise PromotionRefused(f"RAM shows no actions in permission {permission.arn}")
            existing = {p.name: p for p in self.shares.customer_managed_permissions(permission.resource_type)}
            # The readable name, or (taken for other actions: by a person, an older modelshare)
            # the digest one.
            names = dict.fromkeys((permission_name(actions), permission_name(actions, digest=True)))
            name = next((n for n in names if n not in existing
                         or self.shares.permission_actions(existing[n].arn) == actions), None)
            if name is None:
                raise PromotionRefused(f"customer managed permissions {' and '.join(names)} exist with other actions")
            if name not in existing:
                self._promote_permission(permission.arn, name, permission.resource_type, len(existing))
            return name, permission.resource_type
        raise PromotionNotReady(f"RAM matched no managed permission to share {share.arn}, and the share has no "
                                "permission of its own to promote; retry later")

    def _promote_permission(self, permission_arn: str, name: str, resource_type: str, owned: int) -> None:
        try:
            self.shares.promote_permission(permission_arn, name)
        except PermissionNameTaken:
            return  # promoted meanwhile by another run: reuse it
        except PromotionRefused as refusal:
            # Which error RAM gives at its permission quota is UNVERIFIED (docs/aws-behaviour.md,
            # RAM-QUOTAS): a refusal with the account at the default quota is taken for it.
            if owned >= CUSTOMER_MANAGED_PERMISSIONS_QUOTA:
                raise RamQuotaReached("customer managed permissions per resource type",
                                      f"RAM refused ({refusal}) with {owned} customer managed permissions for "
                                      f"{resource_type}, its default quota", account_wide=False) from refusal
            raise
        logger.info("Promoted a permission, shared by every group with these actions",
                    extra={"permission": name})
        count("PermissionsPromoted")

    def _finish_tagging(self) -> None:
        """Tag the shares promoted in this run that could not be tagged before, once RAM has
        finished promoting them. A share still untagged is adopted by the next reconcile."""
        remaining = dict(self._untagged)
        self._untagged.clear()
        if not remaining:
            return

        def attempt() -> bool | None:
            # One call says which have finished promoting; only those are tagged.
            for share in self.shares.shares_by_arn(list(remaining)):
                if share.feature_set == STANDARD and self._try_tag(share.arn):
                    del remaining[share.arn]
            return True if not remaining else None

        if self._with_backoff(attempt) is None:
            logger.warning("Promoted shares not tagged yet (RAM still promoting?); the next reconcile tags them",
                           extra={"shares": sorted(remaining), "groups": sorted(set(remaining.values()))})

    def _with_backoff[T](self, attempt: Callable[[], T | None]) -> T | None:
        """`attempt()` until it returns something, sleeping `share_wait` between tries."""
        for delay in (*self.share_wait, None):
            result = attempt()
            if result is not None or delay is None or self.time_left() < delay + TIME_RESERVE_SECONDS:
                return result
            self.sleep(delay)
        return None

    def _not_promotable(self, group_name: str, reason: str) -> GroupOutcome:
        logger.warning("Group stays accessible but not discoverable",
                       extra={"group": group_name, "reason": reason})
        count("NotPromotable")
        return GroupOutcome(group_name, "not-promotable", reason)

    def _quota_reached(self, group_name: str, quota: RamQuotaReached) -> GroupOutcome:
        if quota.account_wide:
            self._quota_stop = quota
        logger.warning("RAM quota reached: the group waits for a later run (an accepted invitation, the schedule)",
                       extra={"group": group_name, "quota": quota.quota, "reason": str(quota)})
        count("RamQuotaReached")
        return GroupOutcome(group_name, "quota-reached", str(quota))

    def _not_tried(self, group_name: str) -> GroupOutcome:
        """An account-wide quota stopped this run earlier: the group waits, unlogged (the quota
        was logged and counted once)."""
        return GroupOutcome(group_name, "quota-reached", f"not tried in this run: {self._quota_stop}")

    def _begin_run(self) -> None:
        self._quota_stop = None
        self._untagged.clear()

    # -- what is read about a group ------------------------------------------------------------
    def _ram_index(self, *, principals: bool = True) -> RamIndex:
        """The account's shares and their associations, in a few paged listings whatever the
        number of groups."""
        return RamIndex.build(self.shares.owned_shares(), self.shares.associations("RESOURCE"),
                              self.shares.associations("PRINCIPAL") if principals else ())

    def _group_snapshot(self, group_name: str, group_arn: str, *, principals: bool,
                        recorded: bool = True) -> GroupSnapshot:
        """One group's shares, read for it alone (an event's group; a status line). With
        `principals`, those of modelshare's promoted shares too; without `recorded`, a share
        modelshare promoted but could not tag is not recognised."""
        holdings = tuple(
            Holding(share, () if share.feature_set == CREATED_FROM_POLICY else
                    tuple(self.shares.share_resource_arns(share.arn)), ())
            for share in self.shares.shares_holding(group_arn))
        group = GroupSnapshot(group_name, group_arn, holdings)
        if recorded:
            group = self._with_recorded_share(group)
        if principals:
            group = self._with_principals(group)
        return group

    def _with_principals(self, group: GroupSnapshot) -> GroupSnapshot:
        """The group with the principals of modelshare's promoted shares read now."""
        promoted = {h.share.arn for h in view_of(group).promoted}
        return replace(group, holdings=tuple(
            replace(h, principals=tuple(self.shares.share_principals(h.share.arn))) if h.share.arn in promoted else h
            for h in group.holdings))

    def _with_recorded_share(self, group: GroupSnapshot) -> GroupSnapshot:
        if not needs_recorded_share(group):
            return group
        return replace(group, recorded_share=self.registry.promoted_share(group.arn))

    def _with_policy(self, group: GroupSnapshot) -> GroupSnapshot:
        return replace(group, policy=self.registry.get_policy(group.name), policy_read=True)

    def _adopt(self, view: ShareView) -> set[str]:
        """Tag the promoted shares recognised by the ARN recorded on their group; returns those
        tagged."""
        tagged = set()
        for arn in view.adopted:
            if self.shares.tag_as_managed(arn):
                logger.info("Tagged a share modelshare promoted earlier", extra={"share": arn})
                tagged.add(arn)
        return tagged

    # -- reconcile ----------------------------------------------------------------------------
    def reconcile(self) -> list[GroupOutcome]:
        """Bring every group of the account to what the allowlist says, and clean up shares of
        deleted groups. Reads in bulk: the group listing, one paged pass over RAM, and a group's
        policy only where it matters; a converged account costs no write. Reads the allowlist
        afresh: a reconcile runs because it changed, or to repair what a cached value missed. A
        group that fails does not stop the others; the run then fails with all of them named."""
        self._begin_run()
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return []
        index = self._ram_index()
        outcomes: list[GroupOutcome] = []
        failures: list[str] = []
        for name, arn in self.registry.groups():
            try:
                outcomes.append(self._reconcile_group(GroupSnapshot(name, arn, index.holdings(arn)), allowlist))
            except Exception as error:
                failures.append(self._failed(name, error))
                outcomes.append(GroupOutcome(name, "failed", str(error)))
        outcomes.extend(self._delete_orphaned(index))
        self._finish_tagging()
        notable = [f"{o.group}: {o.action}" for o in outcomes if o.action not in QUIET_ACTIONS]
        logger.info("Reconciled", extra={"groups": len(outcomes), "notable": notable})
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        return outcomes

    # -- the sweep, fanned out ----------------------------------------------------------------
    def sweep(self) -> list[GroupOutcome]:
        """The scheduled (or allowlist-triggered) sweep: fanned out through the work queue when
        there is one, else all groups in this run (`reconcile`)."""
        return self.reconcile() if self.work_queue is None else self.plan_sweep(self.work_queue)

    def plan_sweep(self, queue: WorkQueue) -> list[GroupOutcome]:
        """The sweep of a big account, in a few calls: list the groups and read RAM in one paged
        pass, settle every group that needs nothing more here, and hand each other one (its
        policy to read, or writes to make) to the work queue with what RAM said about it. The
        workers (`reconcile_items`) converge them at the pace the queue's batches and the API
        rates allow, whatever the number of groups. Shares of deleted groups are deleted here."""
        self._begin_run()
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return []
        index = self._ram_index()
        outcomes: list[GroupOutcome] = []
        items: list[dict[str, Any]] = []
        for name, arn in self.registry.groups():
            group = GroupSnapshot(name, arn, index.holdings(arn))
            verdict = None if needs_recorded_share(group) or policy_matters(group) else \
                decide(group, allowlist.decide(self.account, name))
            if verdict is None or verdict.writes:
                items.append(work_item(group))
                outcomes.append(GroupOutcome(name, "queued"))
            else:
                outcomes.append(GroupOutcome(name, verdict.outcome, verdict.detail))
        outcomes.extend(self._delete_orphaned(index))
        queue.send(items)
        logger.info("Sweep planned", extra={"groups": len(outcomes), "handed_out": len(items)})
        return outcomes

    def reconcile_items(self, items: Sequence[Any]) -> list[GroupOutcome]:
        """A batch of the sweep's work items: converge each group on a fresh allowlist read
        (once for the batch). What RAM said is as the sweep read it, so the principals of a
        promoted share are read again before they are changed. A group waiting for RAM's
        invitation quota goes back on the queue a minute later (room comes as consumers
        accept). One group's failure does not stop the others; the batch then fails and comes
        back."""
        self._begin_run()
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return []
        outcomes: list[GroupOutcome] = []
        failures: list[str] = []
        waiting: list[dict[str, Any]] = []
        for position, item in enumerate(items):
            if self.work_queue is not None and self.time_left() < TIME_RESERVE_SECONDS:
                # Lambda's timeout is near: the rest goes back on the queue for the next run.
                self._hand_back(items[position:], "Lambda's timeout is near")
                break
            try:
                group, attempt = group_of_item(item)
            except ValueError as refusal:  # it can never become valid: dropped, not retried
                logger.warning("Work item ignored", extra={"reason": str(refusal)})
                count("EventsIgnored")
                continue
            try:
                outcome = self._reconcile_group(self._with_current_principals(group, allowlist), allowlist)
            except ApiThrottled as throttled:
                if self.work_queue is None:
                    raise
                # AWS still throttles after botocore's retries: pressing on would only fail group
                # after group. This group and the rest come back later, at a pace AWS can take.
                self._hand_back(items[position:], str(throttled), delay_seconds=THROTTLED_RETRY_DELAY_SECONDS)
                count("Throttled")
                break
            except Exception as error:
                failures.append(self._failed(group.name, error))
                continue
            outcomes.append(outcome)
            if outcome.action == "quota-reached" and attempt < QUOTA_RETRY_ATTEMPTS:
                waiting.append(work_item(group, attempt + 1))
        self._finish_tagging()
        if waiting and self.work_queue is not None:
            self.work_queue.send(waiting, delay_seconds=QUOTA_RETRY_DELAY_SECONDS)
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        return outcomes

    def _hand_back(self, items: Sequence[Any], why: str, *, delay_seconds: int = 0) -> None:
        assert self.work_queue is not None
        self.work_queue.send(list(items), delay_seconds=delay_seconds)
        logger.info("Sweep work handed back", extra={"items": len(items), "reason": why, "delay_seconds": delay_seconds})

    def _with_current_principals(self, group: GroupSnapshot, allowlist: Allowlist) -> GroupSnapshot:
        verdict = None if policy_matters(group) else decide(group, allowlist.decide(self.account, group.name))
        if verdict is None or not any(w.kind.endswith("-consumers") for w in verdict.writes):
            return group
        return self._with_principals(group)

    def _reconcile_group(self, group: GroupSnapshot, allowlist: Allowlist) -> GroupOutcome:
        decision = allowlist.decide(self.account, group.name)
        group = self._with_recorded_share(group)
        if policy_matters(group):
            group = self._with_policy(group)
        return self._apply(group, decision, decide(group, decision))

    def _apply(self, group: GroupSnapshot, decision: ShareDecision, verdict: GroupDecision) -> GroupOutcome:
        """Make the writes `decide` asked for, then report its outcome."""
        name = group.name
        self._why_not(name, decision)
        if verdict.other_shares:
            logger.info("Group is also in shares modelshare leaves alone",
                        extra={"group": name, "shares": list(verdict.other_shares)})
        try:
            for write in verdict.writes:
                if write.kind == "tag-share":
                    self._adopt(ShareView((), (), (), (write.share,)))
                elif write.kind == "put-policy" and write.policy is not None:
                    self.registry.put_policy(name, write.policy)
                elif write.kind == "delete-policy":
                    self.registry.delete_policy(name)
                elif write.kind == "remove-consumers":
                    self.shares.disassociate_principals(write.share, list(write.accounts))
                elif write.kind == "add-consumers":
                    if self._quota_stop is not None:
                        return self._not_tried(name)
                    try:
                        self.shares.associate_principals(write.share, list(write.accounts))
                    except RamQuotaReached as quota:
                        return self._quota_reached(name, quota)
                elif write.kind == "promote":
                    shares = [h.share for h in group.holdings if h.share.arn in write.shares]
                    try:
                        return self._promote_shares(name, group.arn, shares)
                    except PromotionNotReady as error:
                        return GroupOutcome(name, "promotion-pending", str(error))
        except GroupNotFound:
            return GroupOutcome(name, "gone")
        outcome = GroupOutcome(name, verdict.outcome, verdict.detail)
        if outcome.action == "shared":
            logger.info("Shared group", extra={"group": name, "consumers": list(decision.consumers)})
            count("GroupsShared")
        elif outcome.action == "unshared":
            logger.info("Removed modelshare's statement", extra={"group": name, "reason": outcome.reason})
            count("GroupsUnshared")
        elif outcome.action == "consumers-changed":
            logger.info("Changed consumers of promoted share", extra={"group": name, "changes": outcome.reason})
            count("ShareConsumersChanged")
        elif outcome.action == "not-promotable":
            return self._not_promotable(name, outcome.reason)
        return outcome

    def _why_not(self, group_name: str, decision: ShareDecision) -> str:
        if decision.conflict:
            logger.warning("Group not shared: allowlist conflict", extra={"group": group_name, "reason": decision.conflict})
            count("AllowlistConflicts")
            return decision.conflict
        return "" if decision.consumers else "no allowlist rule matches"

    def _invite_again(self, share_arns: list[str], allowlist: Allowlist, failures: list[str],
                      index: RamIndex) -> list[GroupOutcome]:
        """Consumers whose invitation to a share of modelshare's failed (RAM's pending-invitation
        quota) are associated again, as far as the allowlist still names them. Only adds: a
        removal waits for the sweep. Everything needed was read in the pass (`index`)."""
        outcomes = []
        for arn in share_arns:
            share = index.shares.get(arn)
            if share is None or share.feature_set != STANDARD:
                continue
            resources = index.live_resources.get(arn, ())
            name = policies.group_name_of(resources[0], self.account) if len(resources) == 1 else None
            if name is None:
                continue
            try:
                group = self._with_recorded_share(GroupSnapshot(name, resources[0], index.holdings(resources[0])))
                # A share promoted by a run that could not tag it yet is modelshare's by the ARN
                # recorded on its group: tagged now (IAM lets modelshare change only tagged shares).
                if not share.tagged_by_modelshare and arn not in self._adopt(view_of(group)):
                    continue
                decision = allowlist.decide(self.account, name)
                adds = tuple(w for w in decide(group, decision).writes if w.kind == "add-consumers" and w.share == arn)
                detail = "; ".join(f"added {', '.join(w.accounts)}" for w in adds)
                verdict = GroupDecision("", (), "", "consumers-changed" if adds else "converged", detail, adds, ())
                outcomes.append(self._apply(group, decision, verdict))
            except Exception as error:
                failures.append(self._failed(name, error))
        return outcomes

    def delete_orphaned_shares(self) -> list[GroupOutcome]:
        """Delete modelshare's promoted shares that held a model package group of this account
        and hold nothing any more (the group was deleted)."""
        return self._delete_orphaned(self._ram_index(principals=False))

    def _delete_orphaned(self, index: RamIndex) -> list[GroupOutcome]:
        outcomes = []
        for arn, groups in index.orphaned(self.account):
            self.shares.delete_share(arn)
            logger.info("Deleted share of deleted group", extra={"share": arn, "groups": groups})
            count("SharesDeleted")
            outcomes.append(GroupOutcome(", ".join(groups), "share-deleted", arn))
        return outcomes

    @staticmethod
    def _failed(group_name: str, error: Exception) -> str:
        logger.exception("Group could not be handled; the others were", extra={"group": group_name})
        return f"{group_name}: {type(error).__name__}: {error}"

    # -- state ------------------------------------------------------------------------------
    def group_state(self, group_name: str, allowlist: Allowlist) -> GroupState | None:
        """Reads only: where the group stands and why, as `decide` sees it."""
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return None
        group = self._with_policy(self._group_snapshot(group_name, group_arn, principals=True))
        verdict = decide(group, allowlist.decide(self.account, group_name))
        return GroupState(group_arn, verdict.status, verdict.consumers, verdict.reason, verdict.other_shares)


def _settled(group_name: str, decision: ShareDecision, why_not: str) -> GroupOutcome:
    """Nothing to change: the group is shared as wanted, or (why_not) not shared at all."""
    if decision.shared:
        return GroupOutcome(group_name, "converged")
    return GroupOutcome(group_name, "conflict" if decision.conflict else "not-shared", why_not)


def load_allowlist(source: AllowlistSource, *, fresh: bool = False) -> Allowlist | None:
    """The allowlist, or None (logged, counted) when it is invalid, missing or (path mode) half
    written: fail closed. A half-written document is counted apart (AllowlistIncomplete): every
    write over several parts looks so until its last call, so only its persisting is alarmed."""
    try:
        return source.load(fresh=fresh)
    except AllowlistIncomplete as error:
        logger.warning("Allowlist incomplete (a write in progress or interrupted): nothing is shared or accepted",
                       extra={"problems": [f"{path}: {message}" for path, message in error.problems]})
        count("AllowlistIncomplete")
        return None
    except AllowlistError as error:
        logger.error("Allowlist invalid: nothing is shared or accepted",
                     extra={"problems": [f"{path}: {message}" for path, message in error.problems]})
        count("AllowlistInvalid")
        return None


def permission_name(actions: Iterable[str], *, digest: bool = False) -> str:
    """The name of the customer managed permission for an action set: one per set, so every
    group granted the same actions shares it. Named after the allowlist's access levels when the
    actions are exactly theirs (modelshare-discover-register), else (or with `digest`) after a
    digest of the actions."""
    levels = None if digest else access_levels_for(actions)
    if levels is not None:
        return PERMISSION_NAME_PREFIX + "-".join(levels)
    digest = hashlib.sha256(",".join(sorted({a.lower() for a in actions})).encode()).hexdigest()[:16]
    return f"{PERMISSION_NAME_PREFIX}{digest}"
