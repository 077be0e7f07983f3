"""Owner side: share each allowlisted group through its resource policy, then promote the share
RAM creates from that policy so consumers can discover the group.

Every entry point reads the truth from AWS and converges; calling it twice is harmless.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from modelshare import policy as policies
from modelshare.allowlist import Allowlist, AllowlistError, ShareDecision
from modelshare.observability import count, logger
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    STANDARD,
    AllowlistSource,
    ModelRegistry,
    PromotionNotReady,
    PromotionRefused,
    ResourceShare,
    ResourceShares,
)

# Backoff while RAM creates the share from a new policy: 15 s in all, well inside one invocation.
# RAM can be slower (AWS_FACTS.md: UNVERIFIED how long); then the invocation fails and Lambda's
# asynchronous retry, a RAM event or the next sweep finishes the job.
SHARE_WAIT_SECONDS: Sequence[float] = (1, 2, 4, 8)
# Reconcile outcomes that changed nothing and need no telling (not-shared and conflict changed
# nothing either, but say why a group is not shared).
QUIET_ACTIONS = frozenset({"converged", "gone", "promoting"})
PERMISSION_NAME_MAX = 36


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


@dataclass
class OwnerService:
    account: str
    registry: ModelRegistry
    shares: ResourceShares
    allowlist_source: AllowlistSource
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))  # looked up per call
    share_wait: Sequence[float] = field(default=SHARE_WAIT_SECONDS)

    # -- share on creation ------------------------------------------------------------------
    def share_group(self, group_name: str) -> GroupOutcome:
        """A new group: give it what the allowlist asks for. Creation is rare and sharing is a
        grant, so the allowlist is read afresh; late or repeated events converge the same way."""
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return GroupOutcome(group_name, "skipped", "allowlist invalid")
        return self.reconcile_group(group_name, allowlist)

    # -- promotion --------------------------------------------------------------------------
    def promote_group(self, group_name: str, allowlist: Allowlist | None = None) -> GroupOutcome:
        """Promote the share RAM made from the group's policy, when it is safe and possible.

        Raises PromotionNotReady when RAM is not there yet, so the invocation is retried.
        Promotion is a grant: decided on a fresh read of the allowlist (the caller's, if given)."""
        allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return GroupOutcome(group_name, "skipped", "allowlist invalid")
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
        return self._promote_policy_shares(group_name, self._wait_for_policy_shares(group_arn))

    def _promote_policy_shares(self, group_name: str, shares: list[ResourceShare]) -> GroupOutcome:
        """Promote each created-from-policy share (promoting or promoted ones are success).
        A RAM refusal is an answer; PromotionNotReady propagates for the caller to retry."""
        pending = [s for s in shares if s.feature_set == CREATED_FROM_POLICY]
        if not pending:
            return GroupOutcome(group_name, "already-promoted")
        try:
            for share in pending:
                self._promote_share(group_name, share)
        except PromotionRefused as refusal:
            return self._not_promotable(group_name, f"RAM refused: {refusal}")
        logger.info("Promotion started", extra={"group": group_name, "shares": [s.arn for s in pending]})
        count("SharesPromoted")
        return GroupOutcome(group_name, "promoted")

    def promote_pending_shares(self) -> list[GroupOutcome]:
        """Promote every created-from-policy share this account owns that holds a model package
        group of this account (a RAM event names no group reliably: read them all)."""
        outcomes: list[GroupOutcome] = []
        not_ready: list[str] = []
        seen: set[str] = set()
        allowlist: Allowlist | None = None  # read fresh once, when there is something to promote
        group_prefix = f":{self.account}:model-package-group/"
        for share in self.shares.owned_shares():
            if share.feature_set != CREATED_FROM_POLICY:
                continue
            for resource_arn in self.shares.share_resource_arns(share.arn):
                if group_prefix not in resource_arn:
                    continue
                name = resource_arn.rpartition("/")[2]
                if name in seen:
                    continue
                seen.add(name)
                allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
                if allowlist is None:
                    return [GroupOutcome(name, "skipped", "allowlist invalid")]
                try:
                    outcomes.append(self.promote_group(name, allowlist))
                except PromotionNotReady as error:  # finish the others first, then ask for a retry
                    not_ready.append(str(error))
        if not_ready:
            raise PromotionNotReady("; ".join(not_ready))
        return outcomes

    def _promote_share(self, group_name: str, share: ResourceShare) -> None:
        for permission in self.shares.permissions(share.arn):
            if permission.feature_set == CREATED_FROM_POLICY:
                self.shares.promote_permission(permission.arn, permission_name(group_name, permission.arn))
        # The promoted permission takes a moment to become usable; until then RAM answers
        # UnmatchedPolicyPermissionException (PromotionNotReady). Wait a little, then let the
        # invocation be retried.
        last_error: PromotionNotReady | None = None

        def promote() -> bool | None:
            nonlocal last_error
            try:
                return self.shares.promote_share(share.arn)
            except PromotionNotReady as error:
                last_error = error
                return None

        if self._with_backoff(promote) is None:
            assert last_error is not None
            raise last_error

    def _wait_for_policy_shares(self, group_arn: str) -> list[ResourceShare]:
        shares = self._with_backoff(lambda: self.shares.shares_holding(group_arn) or None)
        if shares is None:
            raise PromotionNotReady(
                f"RAM has not created the share for {group_arn} after {sum(self.share_wait):g} s; retry later")
        return shares

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

    # -- reconcile ----------------------------------------------------------------------------
    def reconcile(self) -> list[GroupOutcome]:
        """Bring every group of the account to what the allowlist says, and clean up shares of
        deleted groups. A converged account costs reads only. Reads the allowlist afresh: a
        reconcile runs because it changed, or to repair what a cached value missed."""
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return []
        outcomes = [self.reconcile_group(name, allowlist) for name in self.registry.group_names()]
        outcomes.extend(self.delete_orphaned_shares())
        notable = [f"{o.group}: {o.action}" for o in outcomes if o.action not in QUIET_ACTIONS]
        logger.info("Reconciled", extra={"groups": len(outcomes), "notable": notable})
        return outcomes

    def reconcile_group(self, group_name: str, allowlist: Allowlist) -> GroupOutcome:
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, "gone")
        decision = allowlist.decide(self.account, group_name)
        desired = decision.consumers if decision.shared else ()
        why_not = decision.conflict or ("" if desired else "no allowlist rule matches")
        if decision.conflict:
            logger.warning("Group not shared: allowlist conflict", extra={"group": group_name, "reason": decision.conflict})
            count("AllowlistConflicts")
        shares = self.shares.shares_holding(group_arn)
        if any(s.feature_set == PROMOTING_TO_STANDARD for s in shares):
            return GroupOutcome(group_name, "promoting", "RAM is promoting the share; the next run continues")
        promoted = [s for s in shares if s.feature_set == STANDARD]
        if promoted:
            # After promotion RAM owns the principals (AWS_FACTS.md): change them there, and leave
            # the resource policy alone (what a later put does to a promoted share is UNVERIFIED).
            return self._sync_share_principals(group_name, promoted, decision, why_not)
        current = self.registry.get_policy(group_name)
        ours = policies.modelshare_statement(group_arn, desired, decision.actions) if desired else None
        wanted = policies.merge(current, ours)
        if not policies.same_policy(current, wanted):
            if wanted is None:
                self.registry.delete_policy(group_name)
            else:
                self.registry.put_policy(group_name, wanted)
            if ours is None:
                logger.info("Removed modelshare's statement", extra={"group": group_name, "reason": why_not})
                count("GroupsUnshared")
                return GroupOutcome(group_name, "unshared", why_not)
            logger.info("Shared group", extra={"group": group_name, "consumers": list(desired)})
            count("GroupsShared")
            return GroupOutcome(group_name, "shared", ", ".join(desired))
        if desired and shares:
            assessment = policies.assess(current, desired)
            if not assessment.promotable:
                return self._not_promotable(group_name, "; ".join(assessment.problems))
            try:
                return self._promote_policy_shares(group_name, shares)
            except PromotionNotReady as error:
                return GroupOutcome(group_name, "promotion-pending", str(error))
        return _settled(group_name, decision, why_not)

    def _sync_share_principals(self, group_name: str, shares: list[ResourceShare], decision: ShareDecision,
                               why_not: str) -> GroupOutcome:
        desired = decision.consumers if decision.shared else ()
        changes = []
        for share in shares:
            current = {a for p in self.shares.share_principals(share.arn) if (a := policies.account_of(p))}
            added = sorted(set(desired) - current)
            removed = sorted(current - set(desired))
            if added:
                self.shares.associate_principals(share.arn, added)
                changes.append(f"added {', '.join(added)}")
            if removed:
                self.shares.disassociate_principals(share.arn, removed)
                changes.append(f"removed {', '.join(removed)}")
        if not changes:
            return _settled(group_name, decision, why_not)
        logger.info("Changed consumers of promoted share", extra={"group": group_name, "changes": changes})
        count("ShareConsumersChanged")
        return GroupOutcome(group_name, "consumers-changed", "; ".join(changes))

    def delete_orphaned_shares(self) -> list[GroupOutcome]:
        """Delete promoted shares that held a model package group of this account and hold
        nothing any more (the group was deleted)."""
        outcomes = []
        group_marker = f":{self.account}:model-package-group/"
        for share in list(self.shares.owned_shares()):
            if share.feature_set != STANDARD or self.shares.share_resource_arns(share.arn):
                continue
            past = self.shares.share_resource_arns(share.arn, include_past=True)
            groups = [arn.rpartition("/")[2] for arn in past if group_marker in arn]
            if groups:
                self.shares.delete_share(share.arn)
                logger.info("Deleted share of deleted group", extra={"share": share.arn, "groups": groups})
                count("SharesDeleted")
                outcomes.append(GroupOutcome(", ".join(groups), "share-deleted", share.arn))
        return outcomes

    # -- state ------------------------------------------------------------------------------
    def group_state(self, group_name: str, allowlist: Allowlist) -> GroupState | None:
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return None
        decision = allowlist.decide(self.account, group_name)
        current = self.registry.get_policy(group_name)
        accounts = tuple(sorted({a for s in policies.statements(current) for p in policies.principals_of(s)
                                 if (a := policies.account_of(p))}))
        if decision.conflict:
            return GroupState(group_arn, "conflict", accounts, decision.conflict)
        if not policies.statements(current):
            reason = "no allowlist rule matches" if not decision.shared else "no resource policy yet"
            return GroupState(group_arn, "not-shared", accounts, reason)
        shares = self.shares.shares_holding(group_arn)
        feature_sets = {s.feature_set for s in shares}
        if feature_sets == {STANDARD}:
            # RAM, not the policy, says who the consumers of a promoted share are.
            consumers = tuple(sorted({a for s in shares for p in self.shares.share_principals(s.arn)
                                      if (a := policies.account_of(p))}))
            if not consumers:
                return GroupState(group_arn, "not-shared", consumers, "promoted share has no consumers")
            return GroupState(group_arn, "discoverable", consumers, "promoted RAM share")
        assessment = policies.assess(current, decision.consumers if decision.shared else ())
        if not assessment.promotable:
            reason = "; ".join(assessment.problems)
        elif not feature_sets:
            reason = "RAM has not created the share yet"
        else:
            reason = f"share is {', '.join(sorted(feature_sets))}"
        return GroupState(group_arn, "accessible-not-discoverable", accounts, reason)


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


def permission_name(group_name: str, permission_arn: str) -> str:
    """A stable, unique name for the customer managed permission a promotion creates."""
    digest = hashlib.sha256(permission_arn.encode()).hexdigest()[:8]
    return f"modelshare-{group_name[: PERMISSION_NAME_MAX - 20]}-{digest}"
