"""Owner side: share each allowlisted group through its resource policy, promote the share RAM
creates from that policy so consumers can discover the group, and keep its consumers in step.

Every entry point reads the truth from AWS and converges; calling it twice is harmless.
Which shares modelshare changes: only those it promoted itself, tagged `modelshare:managed`, that
hold nothing but the one group it is deciding about. Shares people made or changed are reported
and left alone.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelshare import policy as policies
from modelshare.allowlist import Allowlist, AllowlistError, ShareDecision, access_levels_for
from modelshare.observability import count, logger
from modelshare.ports import (
    ATTACHABLE,
    CREATED_FROM_POLICY,
    CUSTOMER_MANAGED_PERMISSIONS_QUOTA,
    FAILED,
    PROMOTING_TO_STANDARD,
    STANDARD,
    AllowlistSource,
    ModelRegistry,
    PermissionNameTaken,
    PermissionNotMatched,
    PromotionNotReady,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceShares,
)

# Backoff while RAM works (creating the share from a new policy, finishing a promotion): 15 s in
# all, well inside one invocation. RAM can be slower (UNVERIFIED how long: docs/aws-behaviour.md,
# RAM-ASYNC); then the invocation asks for a retry, and a RAM event or the next sweep finishes.
SHARE_WAIT_SECONDS: Sequence[float] = (1, 2, 4, 8)
# Reconcile outcomes that changed nothing and need no telling (not-shared and conflict changed
# nothing either, but say why a group is not shared).
QUIET_ACTIONS = frozenset({"converged", "gone", "promoting"})
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


@dataclass(frozen=True)
class ShareView:
    """The live shares holding one group, as modelshare sees them."""

    from_policy: tuple[ResourceShare, ...]  # CREATED_FROM_POLICY: RAM made them from the group's policy
    managed: tuple[ResourceShare, ...]  # promoted by modelshare, holding nothing but this group
    unmanaged: tuple[ResourceShare, ...]  # anything else: never changed, only reported

    @property
    def promoting(self) -> bool:
        return any(s.feature_set == PROMOTING_TO_STANDARD for s in self.managed)

    @property
    def promoted(self) -> list[ResourceShare]:
        return [s for s in self.managed if s.feature_set == STANDARD]


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
    # Per run: an account-wide RAM quota hit (no further promotion or invitation is tried), and
    # shares promoted in this run that RAM would not let be tagged yet.
    _quota_stop: RamQuotaReached | None = field(default=None, init=False, repr=False)
    _untagged: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    # -- share on creation ------------------------------------------------------------------
    def share_group(self, group_name: str) -> GroupOutcome:
        """A new group: write the statement the allowlist asks for. Creation is rare and sharing
        is a grant, so the allowlist is read afresh; late or repeated events converge the same
        way. Only adds or updates: removing is reconcile's job, promoting PromoteFunction's."""
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return GroupOutcome(group_name, "skipped", "allowlist invalid")
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, "gone")
        decision = allowlist.decide(self.account, group_name)
        if not decision.shared:
            return _settled(group_name, decision, self._why_not(group_name, decision))
        if any(s.tagged_by_modelshare and s.feature_set != CREATED_FROM_POLICY for s in self.shares.shares_holding(group_arn)):
            return GroupOutcome(group_name, "already-promoted", "RAM holds its consumers; reconcile keeps them in step")
        current = self.registry.get_policy(group_name)
        return self._write_statement(group_name, group_arn, decision, current) or _settled(group_name, decision, "")

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

    def promote_pending_shares(self, *, invite_again: bool = True) -> list[GroupOutcome]:
        """A RAM wake-up (RAM events name no group reliably): promote every created-from-policy
        share holding a group of this account, and (`invite_again`) invite again the consumers
        whose invitation to one of modelshare's shares failed (a quota). The caller passes False
        for a wake-up that is itself a failure: an invitation failing again would wake this again,
        a loop; the next acceptance or the sweep invites again instead."""
        self._begin_run()
        allowlist: Allowlist | None = None  # read fresh once, when there is something to decide
        outcomes: list[GroupOutcome] = []
        not_ready: list[str] = []
        failures: list[str] = []
        for name in self._groups_in_policy_shares():
            allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
            if allowlist is None:
                return [GroupOutcome(name, "skipped", "allowlist invalid")]
            try:
                outcomes.append(self._promote_group(name, allowlist))
            except PromotionNotReady as error:  # finish the others first, then ask for a retry
                not_ready.append(str(error))
            except Exception as error:  # one group's failure must not stop the others
                failures.append(self._failed(name, error))
        repairs = self.shares.shares_with_principal_status(FAILED) if invite_again else set()
        if repairs:
            allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
            if allowlist is not None:
                outcomes.extend(self._invite_again(sorted(repairs), allowlist, failures))
        self._finish_tagging()
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        if not_ready:
            raise PromotionNotReady("; ".join(not_ready))
        return outcomes

    def _groups_in_policy_shares(self) -> list[str]:
        names: list[str] = []
        for share in self.shares.owned_shares():
            if share.feature_set != CREATED_FROM_POLICY:
                continue
            for arn in self.shares.share_resource_arns(share.arn):
                name = policies.group_name_of(arn, self.account)
                if name is not None and name not in names:
                    names.append(name)
        return names

    def _promote_group(self, group_name: str, allowlist: Allowlist) -> GroupOutcome:
        if self._quota_stop is not None:  # nothing to gain from reading: the promotion would wait
            return self._not_tried(group_name)
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, "gone")
        current = self.registry.get_policy(group_name)
        if current is None:
            return GroupOutcome(group_name, "no-policy")
        decision = allowlist.decide(self.account, group_name)
        assessment = policies.assess(current, decision.consumers if decision.shared else ())
        if not assessment.promotable:
            return self._not_promotable(group_name, "; ".join(assessment.problems))
        view = self._with_backoff(lambda: self._promotable_view(group_arn))
        if view is None:
            raise PromotionNotReady(
                f"RAM has not created the share for {group_arn} after {sum(self.share_wait):g} s; retry later")
        return self._promote_view(group_name, group_arn, view)

    def _promotable_view(self, group_arn: str) -> ShareView | None:
        view = self._view(group_arn, adopt=True)
        return view if view.from_policy or view.managed else None

    def _promote_view(self, group_name: str, group_arn: str, view: ShareView) -> GroupOutcome:
        """Promote each created-from-policy share of the group (promoting or promoted ones are
        success). A RAM refusal or quota is an answer; PromotionNotReady propagates."""
        if not view.from_policy:
            return GroupOutcome(group_name, "already-promoted")
        if self._quota_stop is not None:
            return self._not_tried(group_name)
        try:
            for share in view.from_policy:
                self._promote(group_name, group_arn, share)
        except PromotionRefused as refusal:
            return self._not_promotable(group_name, f"RAM refused: {refusal}")
        except RamQuotaReached as quota:
            return self._quota_reached(group_name, quota)
        logger.info("Promotion started", extra={"group": group_name, "shares": [s.arn for s in view.from_policy]})
        count("SharesPromoted")
        return GroupOutcome(group_name, "promoted")

    def _promote(self, group_name: str, group_arn: str, share: ResourceShare) -> None:
        """Promote the share first: RAM matches any managed permission with exactly the policy's
        actions, AWS or customer managed. Only when none matches, promote the share's own
        permission, under one name per action set (docs/aws-behaviour.md, RAM-MATCH)."""
        # The evidence that this share is modelshare's, kept on the group before anything changes.
        self.registry.record_promoted_share(group_arn, share.arn)
        tagged = self._try_tag(share.arn)
        try:
            self.shares.promote_share(share.arn)
        except PermissionNotMatched:
            self._promote_with_own_permission(share)
        if not tagged:
            self._untagged[share.arn] = group_name

    def _try_tag(self, share_arn: str) -> bool:
        """Best effort: whether RAM lets a share made from a policy, or one being promoted, be
        tagged is UNVERIFIED (docs/aws-behaviour.md, RAM-TAG-CFP), and so is the error it answers.
        Whatever it says, the share is tagged later: when promoted, or by the next reconcile."""
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
            for arn in list(remaining):
                if self._try_tag(arn):
                    del remaining[arn]
            return True if not remaining else None

        if self._with_backoff(attempt) is None:
            logger.warning("Promoted shares not tagged yet (RAM still promoting?); the next reconcile tags them",
                           extra={"shares": sorted(remaining), "groups": sorted(set(remaining.values()))})

    def _with_backoff[T](self, attempt: Callable[[], T | None]) -> T | None:
        """`attempt()` until it returns something, sleeping `share_wait` between tries."""
        for delay in (*self.share_wait, None):
            result = attempt()
            if result is not None or delay is None:
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

    # -- which shares are modelshare's ----------------------------------------------------------
    def _view(self, group_arn: str, *, adopt: bool) -> ShareView:
        """Sort the shares holding the group. A promoted share modelshare could not tag (the run
        ended first) is recognised by the ARN recorded on the group before promoting it, and with
        `adopt` tagged now. Any other share is left alone."""
        from_policy: list[ResourceShare] = []
        managed: list[ResourceShare] = []
        candidates: list[ResourceShare] = []
        unmanaged: list[ResourceShare] = []
        for share in self.shares.shares_holding(group_arn):
            if share.feature_set == CREATED_FROM_POLICY:
                from_policy.append(share)
            elif self.shares.share_resource_arns(share.arn) != [group_arn]:
                unmanaged.append(share)
            elif share.tagged_by_modelshare:
                managed.append(share)
            else:
                candidates.append(share)
        recorded = self.registry.promoted_share(group_arn) if candidates and not managed else None
        for share in candidates:
            if share.arn != recorded:
                unmanaged.append(share)
                continue
            if adopt and share.feature_set == STANDARD and self.shares.tag_as_managed(share.arn):
                logger.info("Tagged a share modelshare promoted earlier", extra={"share": share.arn})
            managed.append(share)
        return ShareView(tuple(from_policy), tuple(managed), tuple(unmanaged))

    # -- reconcile ----------------------------------------------------------------------------
    def reconcile(self) -> list[GroupOutcome]:
        """Bring every group of the account to what the allowlist says, and clean up shares of
        deleted groups. A converged account costs reads only. Reads the allowlist afresh: a
        reconcile runs because it changed, or to repair what a cached value missed. A group that
        fails does not stop the others; the run then fails with all of them named."""
        self._begin_run()
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return []
        outcomes: list[GroupOutcome] = []
        failures: list[str] = []
        for name in self.registry.group_names():
            try:
                outcomes.append(self.reconcile_group(name, allowlist))
            except Exception as error:
                failures.append(self._failed(name, error))
                outcomes.append(GroupOutcome(name, "failed", str(error)))
        outcomes.extend(self.delete_orphaned_shares())
        self._finish_tagging()
        notable = [f"{o.group}: {o.action}" for o in outcomes if o.action not in QUIET_ACTIONS]
        logger.info("Reconciled", extra={"groups": len(outcomes), "notable": notable})
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        return outcomes

    def reconcile_group(self, group_name: str, allowlist: Allowlist) -> GroupOutcome:
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, "gone")
        decision = allowlist.decide(self.account, group_name)
        desired = decision.consumers if decision.shared else ()
        why_not = self._why_not(group_name, decision)
        view = self._view(group_arn, adopt=True)
        if view.unmanaged:
            logger.info("Group is also in shares modelshare leaves alone",
                        extra={"group": group_name, "shares": [s.arn for s in view.unmanaged]})
        if view.promoting:
            return GroupOutcome(group_name, "promoting", "RAM is promoting the share; the next run continues")
        if view.promoted:
            # After promotion RAM owns the principals: change them there, and leave the resource
            # policy alone (what a later put does to a promoted share is UNVERIFIED:
            # docs/aws-behaviour.md, RAM-PUT-AFTER-PROMOTE).
            return self._sync_share_principals(group_name, view.promoted, decision, why_not)
        current = self.registry.get_policy(group_name)
        written = self._write_statement(group_name, group_arn, decision, current)
        if written is not None:
            return written
        if desired and view.from_policy:
            assessment = policies.assess(current, desired)
            if not assessment.promotable:
                return self._not_promotable(group_name, "; ".join(assessment.problems))
            try:
                return self._promote_view(group_name, group_arn, view)
            except PromotionNotReady as error:
                return GroupOutcome(group_name, "promotion-pending", str(error))
        return _settled(group_name, decision, why_not)

    def _why_not(self, group_name: str, decision: ShareDecision) -> str:
        if decision.conflict:
            logger.warning("Group not shared: allowlist conflict", extra={"group": group_name, "reason": decision.conflict})
            count("AllowlistConflicts")
            return decision.conflict
        return "" if decision.consumers else "no allowlist rule matches"

    def _write_statement(self, group_name: str, group_arn: str, decision: ShareDecision,
                         current: dict[str, Any] | None) -> GroupOutcome | None:
        """Put modelshare's statement as the allowlist wants it (or drop it), keeping everyone
        else's; None when the policy is right already."""
        desired = decision.consumers if decision.shared else ()
        ours = policies.modelshare_statement(group_arn, desired, decision.actions) if desired else None
        wanted = policies.merge(current, ours)
        if policies.same_policy(current, wanted):
            return None
        if wanted is None:
            self.registry.delete_policy(group_name)
        else:
            self.registry.put_policy(group_name, wanted)
        if ours is None:
            reason = decision.conflict or "no allowlist rule matches"
            logger.info("Removed modelshare's statement", extra={"group": group_name, "reason": reason})
            count("GroupsUnshared")
            return GroupOutcome(group_name, "unshared", reason)
        logger.info("Shared group", extra={"group": group_name, "consumers": list(desired)})
        count("GroupsShared")
        return GroupOutcome(group_name, "shared", ", ".join(desired))

    def _sync_share_principals(self, group_name: str, shares: list[ResourceShare], decision: ShareDecision,
                               why_not: str, *, add_only: bool = False) -> GroupOutcome:
        desired = set(decision.consumers if decision.shared else ())
        changes = []
        for share in shares:
            current = {a for p in self.shares.share_principals(share.arn) if (a := policies.account_of(p))}
            added = sorted(desired - current)
            removed = [] if add_only else sorted(current - desired)
            if removed:
                self.shares.disassociate_principals(share.arn, removed)
                changes.append(f"removed {', '.join(removed)}")
            if added:
                if self._quota_stop is not None:
                    return self._not_tried(group_name)
                try:
                    self.shares.associate_principals(share.arn, added)
                except RamQuotaReached as quota:
                    return self._quota_reached(group_name, quota)
                changes.append(f"added {', '.join(added)}")
        if not changes:
            return _settled(group_name, decision, why_not)
        logger.info("Changed consumers of promoted share", extra={"group": group_name, "changes": changes})
        count("ShareConsumersChanged")
        return GroupOutcome(group_name, "consumers-changed", "; ".join(changes))

    def _invite_again(self, share_arns: list[str], allowlist: Allowlist, failures: list[str]) -> list[GroupOutcome]:
        """Consumers whose invitation to a share of modelshare's failed (RAM's pending-invitation
        quota) are associated again, as far as the allowlist still names them."""
        outcomes = []
        for arn in share_arns:
            share = self.shares.share(arn)
            if share is None or share.feature_set != STANDARD or not share.tagged_by_modelshare:
                continue
            resources = self.shares.share_resource_arns(arn)
            name = policies.group_name_of(resources[0], self.account) if len(resources) == 1 else None
            if name is None:
                continue
            try:
                outcomes.append(self._sync_share_principals(name, [share], allowlist.decide(self.account, name), "",
                                                            add_only=True))
            except Exception as error:
                failures.append(self._failed(name, error))
        return outcomes

    def delete_orphaned_shares(self) -> list[GroupOutcome]:
        """Delete modelshare's promoted shares that held a model package group of this account
        and hold nothing any more (the group was deleted)."""
        outcomes = []
        for share in list(self.shares.owned_shares()):
            if share.feature_set != STANDARD or not share.tagged_by_modelshare or self.shares.share_resource_arns(share.arn):
                continue
            past = self.shares.share_resource_arns(share.arn, include_past=True)
            groups = [name for arn in past if (name := policies.group_name_of(arn, self.account))]
            if groups:
                self.shares.delete_share(share.arn)
                logger.info("Deleted share of deleted group", extra={"share": share.arn, "groups": groups})
                count("SharesDeleted")
                outcomes.append(GroupOutcome(", ".join(groups), "share-deleted", share.arn))
        return outcomes

    @staticmethod
    def _failed(group_name: str, error: Exception) -> str:
        logger.exception("Group could not be handled; the others were", extra={"group": group_name})
        return f"{group_name}: {type(error).__name__}: {error}"

    # -- state ------------------------------------------------------------------------------
    def group_state(self, group_name: str, allowlist: Allowlist) -> GroupState | None:
        """Reads only: where the group stands and why."""
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return None
        decision = allowlist.decide(self.account, group_name)
        desired = decision.consumers if decision.shared else ()
        current = self.registry.get_policy(group_name)
        view = self._view(group_arn, adopt=False)
        others = tuple(s.arn for s in view.unmanaged)
        note = f"; also in {len(others)} share(s) modelshare leaves alone" if others else ""
        accounts = tuple(sorted({a for s in policies.statements(current) for p in policies.principals_of(s)
                                 if (a := policies.account_of(p))}))

        def state(status: str, consumers: tuple[str, ...], reason: str) -> GroupState:
            return GroupState(group_arn, status, consumers, reason + note, others)

        if decision.conflict:
            return state("conflict", accounts, decision.conflict)
        if view.promoted:
            # RAM, not the policy, says who the consumers of a promoted share are.
            consumers = tuple(sorted({a for s in view.promoted for p in self.shares.share_principals(s.arn)
                                      if (a := policies.account_of(p))}))
            missing = sorted(set(desired) - set(consumers))
            pending = f"; not yet invited: {', '.join(missing)}" if missing else ""
            if not consumers:
                return state("not-shared", consumers, "promoted share has no consumers" + pending)
            return state("discoverable", consumers, "promoted RAM share" + pending)
        if view.promoting:
            return state("accessible-not-discoverable", accounts, "RAM is promoting the share")
        if not policies.statements(current):
            return state("not-shared", accounts, "no resource policy yet" if desired else "no allowlist rule matches")
        assessment = policies.assess(current, desired)
        if not assessment.promotable:
            reason = "; ".join(assessment.problems)
        elif not view.from_policy:
            reason = "RAM has not created the share yet"
        else:
            reason = "share is CREATED_FROM_POLICY: promotion pending"
        return state("accessible-not-discoverable", accounts, reason)


def _settled(group_name: str, decision: ShareDecision, why_not: str) -> GroupOutcome:
    """Nothing to change: the group is shared as wanted, or (why_not) not shared at all."""
    if decision.shared:
        return GroupOutcome(group_name, "converged")
    return GroupOutcome(group_name, "conflict" if decision.conflict else "not-shared", why_not)


def load_allowlist(source: AllowlistSource, *, fresh: bool = False) -> Allowlist | None:
    """The allowlist, or None (logged, counted) when it is invalid or missing: fail closed."""
    try:
        return source.load(fresh=fresh)
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
