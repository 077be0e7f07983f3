"""Owner side: share each allowlisted group through its resource policy, promote the share RAM
creates from that policy so consumers can discover the group, and keep its consumers in step.

Every entry point reads the truth from AWS and converges; calling it twice is harmless.
Which shares and statements modelshare changes: only those its ownership ledger says it made
(ports.OwnershipLedger), recorded before each write. Everything people made is reported and left
alone; a share of modelshare's is kept holding exactly what the allowlist says.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from modelshare import incarnation, invitation_pace, region_room
from modelshare import policy as policies
from modelshare.allowlist import Allowlist, ShareDecision, access_levels_for
from modelshare.allowlist_loading import load_allowlist, load_allowlist_in_force
from modelshare.convergence import (
    GroupDecision,
    GroupSnapshot,
    Holding,
    RamIndex,
    Write,
    decide,
    group_of_item,
    policy_matters,
    view_of,
    work_item,
)
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind
from modelshare.ports import (
    ARNS_PER_CALL,
    ATTACHABLE,
    CREATED_FROM_POLICY,
    CUSTOMER_MANAGED_PERMISSIONS_QUOTA,
    RAM_PAGE_SIZE,
    STANDARD,
    AllowlistSource,
    ApiThrottled,
    GroupNotFound,
    LedgerContents,
    ManagedPermission,
    ModelRegistry,
    Ownership,
    OwnershipLedger,
    PermissionNameTaken,
    PermissionNotMatched,
    PolicyConflict,
    PromotionNotReady,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceShares,
    ResourceTypeUnknown,
    SharePermission,
    WorkQueue,
)
from modelshare.quota_budget import QuotaLimits, QuotaUse
from modelshare.restriction import restrict

# What `_full_reported` and the ledger hold once RAM refused a call over a Region quota (which
# one, its message tells only as a hint): the sweep's count then names it without saying it again.
_REFUSED = region_room.REFUSED
# Backoff while RAM works (creating the share from a new policy, finishing a promotion): 15 s in
# all, well inside one invocation. RAM can be slower (UNVERIFIED how long: docs/aws-behaviour.md,
# RAM-ASYNC); then the invocation asks for a retry, and a RAM event or the next sweep finishes.
SHARE_WAIT_SECONDS: Sequence[float] = (1, 2, 4, 8)
# Waits before checking which shares finished promoting (to take out at once any consumer the
# allowlist stopped allowing meanwhile): a promotion takes RAM seconds (UNVERIFIED how many:
# RAM-ASYNC); a share still promoting then is checked by RAM's events about it and the sweep.
PROMOTION_WAIT_SECONDS: Sequence[float] = (6, 6)
# What an invocation keeps for its remaining work and for reporting, rather than wait for RAM.
TIME_RESERVE_SECONDS = 20.0
# Reconcile outcomes that changed nothing and need no telling (not-shared and conflict changed
# nothing either, but say why a group is not shared).
QUIET_ACTIONS = frozenset({GroupAction.CONVERGED, GroupAction.GONE, GroupAction.PROMOTING, GroupAction.QUEUED,
                           GroupAction.DEFERRED})
# Groups waiting for RAM's invitation quota go (back) on the sweep's queue a minute later, one
# message of a few dozen groups a minute after another (the quota lets some 20 through as
# consumers accept, about a minute apart), so a backlog of thousands is tried at the pace room
# comes, not all at once. A group RAM refused this many times waits for the next sweep.
QUOTA_RETRY_DELAY_SECONDS = 60
QUOTA_RETRY_PACE_SECONDS = 60
QUOTA_RETRY_ATTEMPTS = 60
# Waits before reading a group's policy again after SageMaker refused a write of it for a
# conflicting write at the same moment (SM-POLICY-CONFLICT; botocore does not retry it); after
# the last, the group waits for the next run.
POLICY_CONFLICT_WAITS: Sequence[float] = (0.5, 1, 2)
# Sweep work that AWS throttled past botocore's retries comes back this much later.
THROTTLED_RETRY_DELAY_SECONDS = 30
PERMISSION_NAME_PREFIX = "modelshare-"


@dataclass(frozen=True)
class GroupOutcome:
    group: str
    action: GroupAction
    reason: str = ""


@dataclass(frozen=True)
class GroupState:
    """Where one group stands, for reports and `modelshare status`."""

    arn: str
    status: GroupStatus
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
    # What modelshare made (the proof of ownership): only its own roles can write it.
    ledger: OwnershipLedger
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))  # looked up per call
    share_wait: Sequence[float] = field(default=SHARE_WAIT_SECONDS)
    promotion_wait: Sequence[float] = field(default=PROMOTION_WAIT_SECONDS)
    # Seconds the invocation has left (set per invocation by the handler): no wait for RAM may
    # run into Lambda's timeout.
    time_left: Callable[[], float] = field(default=lambda: math.inf)
    # Where the sweep hands out its work (the function's SweepQueue); None: sweep in one run.
    work_queue: WorkQueue | None = None
    # RAM's quotas as the account has them (settings.RAM_QUOTAS_ENV).
    quota_limits: QuotaLimits = field(default_factory=QuotaLimits)
    # The Region quota this run knows was reported full (the ledger keeps it across runs).
    _full_reported: str | None = field(default=None, init=False, repr=False)
    # How this owner shares when the allowlist's `modes` does not say (the stack's SharingMode),
    # and the shares mode's job, built at its first run (modelshare.shares_sweep).
    sharing_mode: str = "policy"
    shares_mode_job: object = field(default=None, repr=False)
    # Per run: an account-wide RAM quota hit (no further promotion or invitation is tried), and
    # shares whose promotion this run started (share ARN -> group name).
    _quota_stop: RamQuotaReached | None = field(default=None, init=False, repr=False)
    # Calls the last pass over every share took (kept per execution environment): a batch
    # naming more shares than that reads them all in one pass instead of one by one.
    _pass_calls: int = field(default=2, init=False, repr=False)
    _promoting: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    # Per run: what the ledger says of each group read so far, and the permissions it made.
    _ownership: dict[str, Ownership] = field(default_factory=dict, init=False, repr=False)
    _permission_names: frozenset[str] | None = field(default=None, init=False, repr=False)
    # Per run: the whole ledger, scanned once (`read_ledger`).
    _ledger_read: LedgerContents | None = field(default=None, init=False, repr=False)
    # The same for the sweep's workers, whose pass reads principals and permissions too: a batch
    # whose groups would cost at least that, read group by group, is read in one pass instead.
    _worker_pass_calls: int = field(default=4, init=False, repr=False)
    # Per run: the principals of shares made from policies, read in one batched call for every
    # share the run is about to promote (RAM-CFP-LAG), not one call per group.
    _cfp_principals: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)
    # Per run: what each permission read so far grants.
    _permission_actions: dict[str, frozenset[str]] = field(default_factory=dict, init=False, repr=False)
    # Per sweep run: the allowlist is invalid and the sweep decides with its last valid version,
    # applying only what takes access away (modelshare.restriction).
    _restrict_only: bool = field(default=False, init=False, repr=False)

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
        self._begin_run()  # the environment is reused: nothing read in an earlier invocation holds
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:
            return [GroupOutcome(name, GroupAction.SKIPPED, "allowlist invalid") for name in groups]
        if (by_shares := self._in_shares_mode(allowlist, groups, new_groups=True)) is not None:
            return by_shares
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
            return GroupOutcome(group_name, GroupAction.GONE)
        current = self.registry.get_policy(group_name)
        # Shares (and the ledger) are looked at only when the group has a policy: modelshare
        # promotes only shares RAM made from one, and a statement can only be modelshare's when
        # there is one (a person who deletes the policy of a promoted group gets a new share from
        # the next statement, promoted in turn).
        group = GroupSnapshot(group_name, group_arn, ownership=Ownership()) if not policies.statements(current) else \
            self._with_ownership(self._group_snapshot(group_name, group_arn, principals=False))
        view = view_of(group)
        if view.promoted or view.promoting:
            return GroupOutcome(group_name, GroupAction.ALREADY_PROMOTED,
                                "RAM holds its consumers; reconcile keeps them in step")
        group = self._with_incarnation(replace(group, policy=current, policy_read=True))
        verdict = decide(group, decision)
        puts = tuple(w for w in verdict.writes if w.kind == WriteKind.PUT_POLICY)
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
            return GroupOutcome(group_name, GroupAction.SKIPPED, "allowlist invalid")
        outcome = self._promote_group(group_name, allowlist)
        self._finish_promotions()
        return outcome

    def promote_pending_shares(self, *, groups: Mapping[str, str | None] | None = None,
                               share_arns: Sequence[str] | None = None,
                               failed_share_arns: Sequence[str] = ()) -> list[GroupOutcome]:
        """A batch of wake-ups: promote the created-from-policy shares of the `groups` named
        (policies put: name -> ARN when the event had it, else the group is described) and of the
        shares RAM's events named (`share_arns`; None when an event named none: then every share
        of the account is looked at). What was named is read in batched calls, or in one paged
        pass over every share when that costs no more; a group whose share modelshare promoted
        already costs no further call. Groups RAM's pending-invitation quota stops, and the groups
        of shares whose invitations RAM reported failed (`failed_share_arns`: the same quota),
        go to the sweep's work queue to be tried again a minute later, as consumers' acceptances
        make room. One group's failure does not stop the others; the run then fails with all of
        them named."""
        self._begin_run()
        named_groups = dict(groups or {})
        wanted = list(dict.fromkeys([*(share_arns or ()), *failed_share_arns]))
        index = None
        if share_arns is None or self._pass_calls <= self._named_read_calls(len(wanted), len(named_groups)):
            index = self._ram_index(principals=False)
            self._pass_calls = index.pages(RAM_PAGE_SIZE)
        in_shares = self._groups_in_shares(None if share_arns is None else wanted, index)
        allowlist: Allowlist | None = None  # read fresh once, when there is something to decide
        outcomes: list[GroupOutcome] = []
        not_ready: list[str] = []
        failures: list[str] = []
        failed = set(failed_share_arns)
        # RAM could not invite these groups' consumers: its quota is full now.
        waiting = [g for g in in_shares.values() if any(h.share.arn in failed for h in g.holdings)]
        candidates: dict[str, tuple[str | None, tuple[Holding, ...] | None]] = {
            name: (arn, index.holdings(arn) if index is not None and arn else None) for name, arn in named_groups.items()}
        candidates.update({name: (group.arn, group.holdings) for name, group in in_shares.items()
                           if any(h.share.feature_set == CREATED_FROM_POLICY for h in group.holdings)})
        # What the ledger says of every group named, in one read.
        self._owned([arn for arn, _ in candidates.values() if arn] + [g.arn for g in in_shares.values()])
        # modelshare's promoted shares the events named: RAM finished promoting them, or changed
        # their principals. Each is brought to what the allowlist says now: a consumer the allowlist
        # stopped allowing while RAM promoted its share leaves at once, not at the next sweep.
        # (Not those a failure named: RAM's invitation quota is full, the sweep's workers go on later.)
        promoted = [self._with_ownership(g) for g in in_shares.values() if g not in waiting]
        promoted = [g for g in promoted if view_of(g).promoted]
        if promoted:
            allowlist = load_allowlist(self.allowlist_source, fresh=True)
            if allowlist is None:
                return [GroupOutcome(g.name, GroupAction.SKIPPED, "allowlist invalid") for g in promoted]
            for group in self._with_principals(promoted):
                try:  # with what RAM gave it as it finished promoting: a person's permission is replaced
                    outcomes.append(self._reconcile_group(self._with_permissions(group), allowlist))
                except Exception as error:  # one group's failure must not stop the others
                    failures.append(self._failed(group.name, error))
        to_promote: list[GroupSnapshot] = []
        for name, (arn, holdings) in candidates.items():
            try:
                pending = self._pending_promotion(name, arn, holdings)
                if isinstance(pending, GroupOutcome):  # decided without the allowlist
                    outcomes.append(pending)
                else:
                    to_promote.append(pending)
            except Exception as error:  # one group's failure must not stop the others
                failures.append(self._failed(name, error))
        if to_promote and self._quota_stop is None:
            # What the shares made from policies name, for all the groups at once (RAM-CFP-LAG).
            self._read_cfp_principals([h.share.arn for g in to_promote for h in view_of(g).from_policy])
        for pending in to_promote:
            try:
                allowlist = allowlist or load_allowlist(self.allowlist_source, fresh=True)
                if allowlist is None:
                    return [GroupOutcome(pending.name, GroupAction.SKIPPED, "allowlist invalid")]
                outcomes.append(self._promote_group(pending.name, allowlist, pending, waiting=waiting))
            except PromotionNotReady as error:  # finish the others first, then ask for a retry
                not_ready.append(str(error))
            except Exception as error:  # one group's failure must not stop the others
                failures.append(self._failed(pending.name, error))
        self._finish_promotions()
        self._retry_later(waiting)
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        if not_ready:
            raise PromotionNotReady("; ".join(not_ready))
        return outcomes

    @staticmethod
    def _named_read_calls(shares: int, groups: int) -> int:
        """Calls reading what a batch named costs: its shares and their resources (batched), and
        each named group's shares."""
        return 2 * -(-shares // ARNS_PER_CALL) + 2 * groups

    def _groups_in_shares(self, share_arns: Sequence[str] | None, index: RamIndex | None) -> dict[str, GroupSnapshot]:
        """This account's groups held by the shares named (every share: None), with those shares:
        created-from-policy ones (to promote), and promoted ones of a single group (named by a
        failure: the sweep's workers decide later, on what they read then, whether the share is
        modelshare's). From `index` when there is one, else read in batched calls."""
        if index is not None:
            shares = [s for arn, s in index.shares.items() if share_arns is None or arn in share_arns]
            resources = index.live_resources
        else:
            shares = self.shares.shares_by_arn(share_arns or ())
            resources = self.shares.share_resources([s.arn for s in shares]) if shares else {}
        found: dict[str, GroupSnapshot] = {}
        for share in shares:
            held = resources.get(share.arn, ())
            if share.feature_set == CREATED_FROM_POLICY and len(held) != 1:
                continue  # RAM makes a share from a policy holding that group alone: promote no other
            for resource in held:
                name = policies.group_name_of(resource, self.account)
                if name is not None:
                    group = found.get(name, GroupSnapshot(name, resource))
                    found[name] = replace(group, holdings=(*group.holdings, Holding(share, held, ())))
        return found

    def _pending_promotion(self, group_name: str, group_arn: str | None,
                           holdings: tuple[Holding, ...] | None) -> GroupSnapshot | GroupOutcome:
        """The group with what RAM holds of it, to promote; or, decided from RAM alone, why there
        is nothing to promote (gone, or modelshare's share already promoted or promoting)."""
        group_arn = group_arn or self.registry.group_arn(group_name)
        if group_arn is None:
            return GroupOutcome(group_name, GroupAction.GONE)
        ownership = self._owned([group_arn])[group_arn]
        if holdings is None:
            found = self.shares.shares_holding(group_arn)
            if not any(s.feature_set == CREATED_FROM_POLICY for s in found) and any(s.arn in ownership.shares for s in found):
                # modelshare's share of the group is promoted or promoting, and RAM holds nothing
                # made from a policy: nothing to promote (the usual late duplicate of an event).
                return GroupOutcome(group_name, GroupAction.ALREADY_PROMOTED)
            group = self._snapshot_of(group_name, group_arn, found)
        else:
            group = GroupSnapshot(group_name, group_arn, holdings)
        group = replace(group, ownership=ownership)
        view = view_of(group)
        if view.promoted or view.promoting:
            return GroupOutcome(group_name, GroupAction.ALREADY_PROMOTED)
        return group

    def _promote_group(self, group_name: str, allowlist: Allowlist, group: GroupSnapshot | None = None, *,
                       waiting: list[GroupSnapshot] | None = None) -> GroupOutcome:
        """Promote the group's created-from-policy shares, when its policy allows it. The shares
        are those in `group` (read by the caller), else looked for now, waiting for RAM to make
        them from a new policy (PromotionNotReady when it has not). A group RAM's invitation
        quota stops goes on `waiting`, with the shares it is to promote."""
        if group is None:
            pending = self._pending_promotion(group_name, None, None)
            if isinstance(pending, GroupOutcome):
                return pending
            group = pending
        if self._quota_stop is not None:  # nothing to gain from reading: the promotion would wait
            if waiting is not None:
                waiting.append(group)
            return self._not_tried(group_name)
        current = self.registry.get_policy(group_name)
        if current is None:
            return GroupOutcome(group_name, GroupAction.NO_POLICY)
        decision = allowlist.decide(self.account, group_name)
        assessment = policies.assess(current, decision.consumers if decision.shared else (), decision.actions)
        if not assessment.promotable:
            return self._not_promotable(group_name, "; ".join(assessment.problems))
        from_policy = [h.share for h in view_of(group).from_policy]
        if not from_policy:
            # A new policy: RAM makes its share asynchronously (docs/aws-behaviour.md, RAM-ASYNC).
            group_arn = group.arn
            made = self._with_backoff(lambda: [s for s in self.shares.shares_holding(group_arn)
                                               if s.feature_set == CREATED_FROM_POLICY] or None, wait_first=True)
            if made is None:
                raise PromotionNotReady(
                    f"RAM has not created the share for {group_arn} after {sum(self.share_wait):g} s; retry later")
            group = replace(self._snapshot_of(group_name, group_arn, [*(h.share for h in group.holdings), *made]),
                            ownership=group.ownership)
            from_policy = [h.share for h in view_of(group).from_policy]
            if not from_policy:
                return self._not_promotable(group_name, "RAM's share made from the policy holds other resources too")
        outcome = self._promote_shares(group_name, group.arn, from_policy, decision)
        if outcome.action == GroupAction.QUOTA_REACHED and waiting is not None:
            waiting.append(group)
        return outcome

    def _retry_later(self, groups: Sequence[GroupSnapshot]) -> None:
        """Groups waiting for room under RAM's pending-invitation quota: to the sweep's work queue,
        a minute later (its workers converge them, and send them back while the quota is full)."""
        if groups and self.work_queue is not None:
            self._send_waiting([work_item(g) for g in groups])
            logger.info("Groups waiting for RAM's invitation quota handed to the sweep",
                        extra={"groups": [g.name for g in groups], "delay_seconds": QUOTA_RETRY_DELAY_SECONDS})

    def _send_waiting(self, items: Sequence[dict[str, Any]]) -> None:
        assert self.work_queue is not None
        self.work_queue.send(items, delay_seconds=QUOTA_RETRY_DELAY_SECONDS, pace_seconds=QUOTA_RETRY_PACE_SECONDS)

    def _promote_shares(self, group_name: str, group_arn: str, shares: Sequence[ResourceShare],
                        decision: ShareDecision) -> GroupOutcome:
        """Promote each created-from-policy share of the group (none left: promoting or promoted
        already, success), when the share names only consumers the decision allows: RAM updates a
        share made from a policy some time after the policy changes (docs/aws-behaviour.md,
        RAM-CFP-LAG), so a share can still name an account the policy (and the allowlist) no
        longer does (PromotionNotReady: retried once RAM caught up). A RAM refusal or quota is an
        answer; PromotionNotReady propagates."""
        if not shares:
            return GroupOutcome(group_name, GroupAction.ALREADY_PROMOTED)
        if self._quota_stop is not None:
            return self._not_tried(group_name)
        allowed = set(decision.consumers if decision.shared else ())
        self._read_cfp_principals([s.arn for s in shares])
        beyond = sorted({p for s in shares for p in self._cfp_principals.get(s.arn, ())
                         if policies.account_of(p) not in allowed})
        if beyond:
            raise PromotionNotReady(f"RAM's share made from the policy of {group_arn} still names {', '.join(beyond)}, "
                                    "which the allowlist does not allow (RAM has not caught up with the policy yet); "
                                    "retry later")
        # Promotion hands the consumers what the share's permission grants, which RAM updates
        # after the policy as it does the principals (RAM-CFP-LAG): a narrowing the policy already
        # holds is waited for, never promoted past.
        wanted = frozenset(a.lower() for a in decision.actions)
        for share in shares:
            granted = self._granted_by(share.arn)
            if granted is None or not granted <= wanted:
                more = "no permission yet" if granted is None else f"{', '.join(sorted(granted - wanted))} too"
                raise PromotionNotReady(f"RAM's share made from the policy of {group_arn} grants {more}, beyond the "
                                        "allowlist's access (RAM has not caught up with the policy yet); retry later")
        try:
            for share in shares:
                self._promote(group_name, group_arn, share)
        except PromotionRefused as refusal:
            return self._not_promotable(group_name, f"RAM refused: {refusal}")
        except RamQuotaReached as quota:
            return self._quota_reached(group_name, quota)
        logger.info("Promotion started", extra={"group": group_name, "shares": [s.arn for s in shares]})
        count("SharesPromoted")
        return GroupOutcome(group_name, GroupAction.PROMOTED)

    def _promote(self, group_name: str, group_arn: str, share: ResourceShare) -> None:
        """Promote the share first: RAM matches any managed permission with exactly the policy's
        actions, AWS or customer managed. Only when none matches, promote the share's own
        permission, under one name per action set (docs/aws-behaviour.md, RAM-MATCH)."""
        # The proof that this share is modelshare's, in the ledger before anything changes: a run
        # that stops after this line leaves a record of a share that may not be promoted
        # (harmless: the share is still RAM's made from the policy), never the reverse.
        self.ledger.record_share(group_arn, share.arn)
        self._ownership.pop(group_arn, None)
        try:
            self.shares.promote_share(share.arn)
        except PermissionNotMatched:
            self._promote_with_own_permission(share)
        self._promoting[share.arn] = group_name

    def _read_cfp_principals(self, share_arns: Sequence[str]) -> None:
        """The principals of these shares made from policies, unless this run read them already."""
        missing = [arn for arn in dict.fromkeys(share_arns) if arn not in self._cfp_principals]
        if missing:
            named = self.shares.share_principals(missing)
            self._cfp_principals.update({arn: named.get(arn, ()) for arn in missing})

    def _granted_by(self, share_arn: str) -> frozenset[str] | None:
        """What a share's permission grants (lower-cased), or None when RAM shows it none or
        several (so nobody can say what promoting it would grant)."""
        found = self.shares.permissions(share_arn)
        if len(found) != 1:
            return None
        return self._actions_of(found[0].arn)

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
            try:
                resource_type = self._group_type()
                name, existing = self._permission_name_for(actions, resource_type)
            except (PermissionNameTaken, ResourceTypeUnknown) as refused:
                raise PromotionRefused(str(refused)) from None
            if name not in existing:
                self._promote_permission(permission.arn, name, resource_type, len(existing))
            return name, resource_type
        raise PromotionNotReady(f"RAM matched no managed permission to share {share.arn}, and the share has no "
                                "permission of its own to promote; retry later")

    def _group_type(self) -> str:
        """RAM's spelling of a model package group's resource type, the one every call naming a
        type passes (docs/aws-behaviour.md, RAM-TYPE); when RAM names none, says so loudly and
        raises ResourceTypeUnknown: no permission is looked up or made (fail closed)."""
        return group_type(self.shares)

    def _permission_name_for(self, actions: frozenset[str],
                             resource_type: str) -> tuple[str, dict[str, ManagedPermission]]:
        """The name of the customer managed permission for these actions (one per action set),
        and the account's customer managed permissions: the readable name, or (taken for other
        actions: by a person, an older modelshare) the digest one. Raises PermissionNameTaken
        when both are taken for other actions."""
        existing = {p.name: p for p in self.shares.customer_managed_permissions(resource_type)}
        names = dict.fromkeys((permission_name(actions), permission_name(actions, digest=True)))
        # A name in use is reused only for a permission modelshare made with these very actions:
        # one a person made first under modelshare's name is theirs, whatever it grants now.
        name = next((n for n in names if n not in existing
                     or (self._trusted(existing[n].arn) and self._actions_of(existing[n].arn) == actions)), None)
        if name is None:
            raise PermissionNameTaken(f"customer managed permissions {' and '.join(names)} exist, made by someone else "
                                      "or with other actions")
        return name, existing

    def _promote_permission(self, permission_arn: str, name: str, resource_type: str, owned: int) -> None:
        self._permission_names = None
        self.ledger.record_permission(name)  # before it exists, as for the shares
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

    def _finish_promotions(self) -> None:
        """Once RAM finishes the promotions this run started, take out at once any consumer the
        allowlist stopped allowing meanwhile (read afresh): RAM invites the share's principals as
        it finishes, and a person may accept such an invitation by hand. A share still promoting
        then is checked by RAM's events about it, and by the sweep."""
        remaining = dict(self._promoting)
        groups = dict(remaining)
        self._promoting.clear()
        if not remaining:
            return
        finished: list[ResourceShare] = []

        def attempt() -> bool | None:
            for share in self.shares.shares_by_arn(list(remaining)):
                if share.feature_set == STANDARD:
                    finished.append(share)
                    del remaining[share.arn]
            return True if not remaining else None

        self._with_backoff(attempt, self.promotion_wait, wait_first=True)
        if not finished:
            return
        allowlist = load_allowlist(self.allowlist_source, fresh=True)
        if allowlist is None:  # nothing to decide on: RAM's events and the sweep check these shares
            return
        principals = self.shares.share_principals([s.arn for s in finished])
        for share in finished:
            group_name = groups[share.arn]
            decision = allowlist.decide(self.account, group_name)
            allowed = set(decision.consumers if decision.shared else ())
            extra = sorted(p for p in principals.get(share.arn, ()) if policies.account_of(p) not in allowed)
            if extra:
                self.shares.disassociate_principals(share.arn, extra)
                logger.warning("Removed consumers the allowlist stopped allowing while RAM promoted the share",
                               extra={"group": group_name, "share": share.arn, "removed": extra})
                count("ShareConsumersChanged")

    def _with_backoff[T](self, attempt: Callable[[], T | None], waits: Sequence[float] | None = None, *,
                         wait_first: bool = False) -> T | None:
        """`attempt()` until it returns something, sleeping `waits` (`share_wait` by default)
        between tries and, with `wait_first`, before the first one too (what RAM started a
        moment ago is not done yet)."""
        delays = iter(self.share_wait if waits is None else waits)
        if wait_first and (first := next(delays, None)) is not None \
                and self.time_left() >= first + TIME_RESERVE_SECONDS:
            self.sleep(first)
        for delay in (*delays, None):
            result = attempt()
            if result is not None or delay is None or self.time_left() < delay + TIME_RESERVE_SECONDS:
                return result
            self.sleep(delay)
        return None

    def _not_promotable(self, group_name: str, reason: str) -> GroupOutcome:
        logger.warning("Group stays accessible but not discoverable",
                       extra={"group": group_name, "reason": reason})
        count("NotPromotable")
        return GroupOutcome(group_name, GroupAction.NOT_PROMOTABLE, reason)

    def _quota_reached(self, group_name: str, quota: RamQuotaReached) -> GroupOutcome:
        if quota.account_wide:
            self._quota_stop = quota
        if quota.region and (self._full_reported is not None or self.ledger.full_quota() is not None):
            # A Region quota a run reported already (here, or in any execution environment: the ledger).
            self._full_reported = self._full_reported or _REFUSED
            logger.info("RAM quota still reached: the group waits for a sweep that finds room",
                        extra={"group": group_name, "quota": quota.quota})
        else:
            if quota.region:
                self._full_reported = _REFUSED
                self.ledger.record_full_quota(_REFUSED)  # said: no run says it again while it stays full
            logger.warning("RAM quota reached: the group waits for a later run (the sweep's workers, a minute later)",
                           extra={"group": group_name, "quota": quota.quota, "reason": str(quota)})
            count("RamQuotaReached")
        return GroupOutcome(group_name, GroupAction.QUOTA_REACHED, str(quota))

    def _not_tried(self, group_name: str) -> GroupOutcome:
        """An account-wide quota stopped this run earlier: the group waits, unlogged (the quota
        was logged and counted once)."""
        return GroupOutcome(group_name, GroupAction.QUOTA_REACHED, f"not tried in this run: {self._quota_stop}")

    def _check_region_room(self, index: RamIndex, reported: str | None) -> None:
        """Report each Region quota's use (metric RamQuotaUse); when one is full, nothing that needs
        room is tried this run. Said once (log line, RamQuotaReached) while it stays full, in
        whichever execution environment: `reported` is the ledger's record of what a run said
        (read in the sweep's one scan), written when it is said and forgotten once there is room;
        RamQuotaUse says it every sweep."""
        uses = region_room.region_use(index, self.quota_limits)
        region_room.emit_use(uses)
        full = region_room.full(uses)
        if full is None:
            self._full_reported = None
            if reported is not None:
                self.ledger.forget_full_quota()
            return
        self._quota_stop = RamQuotaReached(region_room.describe(full), "no room until use falls", account_wide=True,
                                           region=True)
        # RAM's refusal of a call said so already (_REFUSED), or a run said this very quota.
        if reported not in (_REFUSED, full.quota):
            logger.warning("RAM quota reached: groups that need room wait for a sweep that finds some",
                           extra={"quota": region_room.describe(full)})
            count("RamQuotaReached")
        self._full_reported = full.quota
        if reported != full.quota:
            self.ledger.record_full_quota(full.quota)

    def _begin_run(self) -> None:
        self._quota_stop = None
        self._full_reported = None
        self._promoting.clear()
        self._ownership.clear()
        self._permission_names = None
        self._ledger_read = None
        self._cfp_principals.clear()
        self._permission_actions.clear()
        self._restrict_only = False

    # -- what is read about a group ------------------------------------------------------------
    def _ram_index(self, *, principals: bool = True, permissions: bool = False) -> RamIndex:
        """The account's shares and their associations, in a few paged listings whatever the
        number of groups; with `permissions`, the permission of each of modelshare's promoted
        shares and what it grants (one more paged listing, and one read per distinct permission:
        a handful, since shares with the same actions share a managed permission)."""
        index = RamIndex.build(self.shares.owned_shares(), self.shares.associations("RESOURCE"),
                               self.shares.associations("PRINCIPAL") if principals else ())
        if not permissions:
            return index
        owned = {arn for ownership in self._ownership.values() for arn in ownership.shares}
        ours = {arn for arn, share in index.shares.items() if share.feature_set == STANDARD and arn in owned}
        if not ours:
            return index
        listed = self._permissions_of(ours)
        held = {arn: found[0] for arn, found in listed.items() if len(found) == 1}
        distinct = sorted({p.arn for p in held.values()})
        return replace(index, permissions=held, actions={arn: self._actions_of(arn) for arn in distinct},
                       trusted=frozenset(arn for arn in distinct if self._trusted(arn)),
                       unjudged=frozenset(arn for arn in ours if len(listed.get(arn, ())) != 1))

    def _permissions_of(self, share_arns: Iterable[str], *, listing: bool = True) -> dict[str, tuple[SharePermission, ...]]:
        """Every permission of each of modelshare's STANDARD shares, whatever its resource type (a
        share with two cannot be judged). ListPermissionAssociations answers per permission
        (RAM-PERMISSION-ASSOCIATIONS): with `listing`, one call per permission the account can give
        a share, unless the shares are fewer than those; else one ListResourceSharePermissions
        per share."""
        arns = sorted(set(share_arns))
        if listing and len(candidates := self.shares.shareable_permissions()) < len(arns):
            listed = self.shares.permission_associations(candidates)
            return {arn: listed.get(arn, ()) for arn in arns}
        return {arn: tuple(self.shares.permissions(arn)) for arn in arns}

    def _trusted(self, permission_arn: str) -> bool:
        """Whether modelshare gives shares this permission: AWS managed (no account can change
        it), or a customer managed one of this account the ledger says modelshare made. A person's
        permission with the very actions wanted is not: its owner could add a wider version."""
        if self._permission_names is None:
            self._permission_names = self.ledger.permissions()
        parts = permission_arn.split(":", 5)
        if len(parts) != 6:
            # No ARN: a permission a dry run plans to create (it writes nothing): trusted when
            # recorded, as it will be once made.
            return permission_arn.rpartition("permission/")[2] in self._permission_names
        if parts[2] != "ram" or not parts[5].startswith("permission/"):
            return False
        return parts[4] == "aws" or (parts[4] == self.account and parts[5].removeprefix("permission/") in self._permission_names)

    def _actions_of(self, permission_arn: str) -> frozenset[str]:
        """What a permission grants, read once per run."""
        if permission_arn not in self._permission_actions:
            self._permission_actions[permission_arn] = self.shares.permission_actions(permission_arn)
        return self._permission_actions[permission_arn]

    def _group_snapshot(self, group_name: str, group_arn: str, *, principals: bool) -> GroupSnapshot:
        """One group's shares, read for it alone (an event's group; a status line), with what the
        ledger says of it. With `principals`, those of modelshare's promoted shares too."""
        group = self._with_ownership(self._snapshot_of(group_name, group_arn, self.shares.shares_holding(group_arn)))
        return self._with_principals([group])[0] if principals else group

    def _snapshot_of(self, group_name: str, group_arn: str, shares: Sequence[ResourceShare]) -> GroupSnapshot:
        """The group held by `shares`, with what each holds (one batched read)."""
        resources = self.shares.share_resources([s.arn for s in shares]) if shares else {}
        return GroupSnapshot(group_name, group_arn, tuple(Holding(s, resources.get(s.arn, ()), ()) for s in shares))

    def _owned(self, group_arns: Sequence[str]) -> dict[str, Ownership]:
        """What the ledger says of these groups, read once per run (the ones not read yet, in one
        batched read)."""
        missing = [arn for arn in dict.fromkeys(group_arns) if arn not in self._ownership]
        if missing:
            found = self.ledger.of_groups(missing)
            self._ownership.update({arn: found.get(arn, Ownership()) for arn in missing})
        return {arn: self._ownership[arn] for arn in group_arns}

    def _with_ownership(self, group: GroupSnapshot) -> GroupSnapshot:
        return group if group.ownership is not None else replace(group, ownership=self._owned([group.arn])[group.arn])

    def _with_principals(self, groups: Sequence[GroupSnapshot]) -> list[GroupSnapshot]:
        """The groups with the principals of modelshare's promoted shares read now, in one
        batched read for them all."""
        promoted = {h.share.arn for g in groups for h in view_of(g).promoted}
        principals = self.shares.share_principals(sorted(promoted)) if promoted else {}
        return [replace(g, holdings=tuple(replace(h, principals=principals[h.share.arn]) if h.share.arn in principals
                                          else h for h in g.holdings)) for g in groups]

    def _with_permissions(self, group: GroupSnapshot) -> GroupSnapshot:
        """The group with the permission of each of modelshare's promoted shares, and what it
        grants, read now (for one group: a status)."""
        promoted = {h.share.arn for h in view_of(group).promoted}
        return replace(group, holdings=tuple(
            self._judged(h, tuple(self.shares.permissions(h.share.arn))) if h.share.arn in promoted else h
            for h in group.holdings))

    def _judged(self, holding: Holding, permissions: Sequence[SharePermission]) -> Holding:
        """A promoted share's holding with its permission, what it grants and whether modelshare
        gives it: none or several permissions, and what the share grants cannot be judged."""
        if len(permissions) != 1:
            return replace(holding, permission=None, actions=None, permission_trusted=False)
        permission, = permissions
        return replace(holding, permission=permission, actions=self._actions_of(permission.arn),
                       permission_trusted=self._trusted(permission.arn) and permission.default_version)

    def _with_policy(self, group: GroupSnapshot) -> GroupSnapshot:
        return self._with_incarnation(replace(group, policy=self.registry.get_policy(group.name), policy_read=True))

    def read_policy(self, group: GroupSnapshot) -> GroupSnapshot:
        """The group with what the ledger says of it and its policy, read now, judged as the
        group it is (a switch of modes: modelshare.mode_switch)."""
        return self._with_policy(self._with_ownership(group))

    def _with_incarnation(self, group: GroupSnapshot) -> GroupSnapshot:
        """The group (its policy read) with its CreationTime, read after the policy: a group made
        again between the two reads is judged as the new one, whose statements are a person's.
        Read only when there is something to judge: a statement under modelshare's Sid and a
        record of one. What the ledger recorded of groups made before this one under the same
        name is forgotten: it can never be modelshare's again (modelshare.incarnation)."""
        recorded = group.owned.statements
        if group.created is not None or not recorded or \
                not any(s.get("Sid") == policies.MODELSHARE_SID for s in policies.statements(group.policy)):
            return group
        created = self.registry.created(group.name)
        if created is None:
            return group  # gone since the policy was read: nothing in it is judged modelshare's
        stamp = incarnation.stamp(created)
        if earlier := incarnation.earlier(recorded, stamp):
            self.ledger.forget_statements(group.arn, earlier)
            self._ownership.pop(group.arn, None)
        if incarnation.unstamped(recorded):
            # Recorded before stamps (an upgrade): adopted for the group judged now, as the
            # sweep's bounded adoption would, but before its turn comes (a removal from the
            # allowlist must not wait for it).
            group = replace(group, ownership=replace(
                group.owned, statements=incarnation.adopt_for(self.ledger, group.arn, recorded, stamp)))
            self._ownership.pop(group.arn, None)
        return replace(group, created=stamp)

    def _stamp_of(self, group: GroupSnapshot) -> str:
        """The CreationTime a statement modelshare is about to write is recorded with: the one
        read with the policy, else read now (raises GroupNotFound)."""
        if group.created is not None:
            return group.created
        created = self.registry.created(group.name)
        if created is None:
            raise GroupNotFound(group.name)
        return incarnation.stamp(created)

    # -- reconcile ----------------------------------------------------------------------------
    def reconcile(self) -> list[GroupOutcome]:
        """Bring every group of the account to what the allowlist says, and clean up shares of
        deleted groups. Reads in bulk: the group listing, one paged pass over RAM, and a group's
        policy only where it matters; a converged account costs no write. Reads the allowlist
        afresh: a reconcile runs because it changed, or to repair what a cached value missed. A
        group that fails does not stop the others; the run then fails with all of them named."""
        self._begin_run()
        allowlist = self._allowlist_in_force()
        if allowlist is None:
            return []
        if (by_shares := self._in_shares_mode(allowlist)) is not None:
            return by_shares
        owned = self.read_ledger()
        index = self._ram_index(permissions=True)
        self._check_region_room(index, owned.full_quota)
        outcomes: list[GroupOutcome] = self._narrow_made_shares(allowlist, index, owned)
        failures: list[str] = []
        for name, arn in self.registry.groups():
            try:
                group = GroupSnapshot(name, arn, index.holdings(arn), ownership=owned.get(arn, Ownership()))
                outcomes.append(self._reconcile_group(group, allowlist))
            except Exception as error:
                failures.append(self._failed(name, error))
                outcomes.append(GroupOutcome(name, GroupAction.FAILED, str(error)))
        outcomes.extend(self._delete_orphaned(index, owned))
        self._finish_promotions()
        notable = [f"{o.group}: {o.action}" for o in outcomes if o.action not in QUIET_ACTIONS]
        logger.info("Reconciled", extra={"groups": len(outcomes), "notable": notable})
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        return outcomes

    # -- the shares mode (modelshare.shares_sweep) ------------------------------------------------
    def _in_shares_mode(self, allowlist: Allowlist, groups: Mapping[str, str | None] | None = None, *,
                        restrict_only: bool | None = None, new_groups: bool = False) -> list[GroupOutcome] | None:
        """The run's outcomes when this owner shares in the shares mode, else None (the policy
        mode goes on); `new_groups`: ShareOnCreate's, which only adds. Imported here: that
        module builds on this one."""
        from modelshare import shares_sweep

        if not shares_sweep.in_shares_mode(self, allowlist):
            return None
        if new_groups and groups is not None:
            return shares_sweep.share_new_groups(self, allowlist, groups)
        restrict = self._restrict_only if restrict_only is None else restrict_only
        return shares_sweep.converge_shares(self, allowlist, groups, restrict_only=restrict)

    def _narrow_made_shares(self, allowlist: Allowlist, index: RamIndex, owned: LedgerContents) -> list[GroupOutcome]:
        if not owned.made_shares:
            return []  # the run's one ledger read found no share modelshare made: nothing to narrow
        from modelshare import shares_sweep

        return shares_sweep.narrow_made_shares(self, allowlist, index, owned)

    def apply_decision(self, group: GroupSnapshot, decision: ShareDecision, *, narrowing: bool = False) -> GroupOutcome:
        """Converge one group's policy and promoted shares to `decision` (the shares mode
        removing the policy mode's statement of a group live in its share); `narrowing`: only
        what takes access away (a group switching modes: modelshare.mode_switch)."""
        verdict = self._decide(group, decision)
        return self._apply(group, decision, restrict(group, verdict) if narrowing else verdict)

    def switch_index(self) -> RamIndex:
        """RAM's index with the permissions of modelshare's promoted shares, as the policy mode's
        sweep reads it (a switch of modes: modelshare.mode_switch), after the run's ledger read,
        which tells which shares are modelshare's."""
        self.read_ledger()
        return self._ram_index(permissions=True)

    def _allowlist_in_force(self) -> Allowlist | None:
        """The allowlist a sweep decides with: the current one, or when it is invalid its last
        valid version (restrict only); None when there is none (nothing is changed)."""
        in_force = load_allowlist_in_force(self.allowlist_source)
        self._restrict_only = in_force is not None and in_force.restrict_only
        return None if in_force is None else in_force.allowlist

    def _decide(self, group: GroupSnapshot, decision: ShareDecision) -> GroupDecision:
        verdict = decide(group, decision)
        return restrict(group, verdict) if self._restrict_only else verdict

    # -- the sweep, fanned out ----------------------------------------------------------------
    def sweep(self) -> list[GroupOutcome]:
        """The scheduled (or allowlist-triggered) sweep: fanned out through the work queue when
        there is one, else all groups in this run (`reconcile`)."""
        return self.reconcile() if self.work_queue is None else self.plan_sweep(self.work_queue)

    def plan_sweep(self, queue: WorkQueue) -> list[GroupOutcome]:
        """The sweep of a big account, in a few calls: list the groups and read RAM in one paged
        pass, settle every group that needs nothing more here, and hand each other one (its
        policy to read, or writes to make) to the work queue, by name: the workers
        (`reconcile_items`) read what RAM holds of it again and converge it, at the pace the
        queue's batches and the API rates allow, whatever the number of groups. Shares of deleted
        groups are deleted here."""
        self._begin_run()
        allowlist = self._allowlist_in_force()
        if allowlist is None:
            return []
        if (by_shares := self._in_shares_mode(allowlist)) is not None:
            return by_shares  # its reads and writes are batched: no fan-out needed
        owned = self.read_ledger()
        index = self._ram_index(permissions=True)
        self._check_region_room(index, owned.full_quota)
        narrowed = self._narrow_made_shares(allowlist, index, owned)
        # Work still queued (groups waiting for RAM's invitation quota, which can take hours):
        # the groups that need that quota are not handed out again, or each sweep would add a
        # copy of every one of them. The next sweep after the queue drains finds any left.
        busy = queue.waiting() > 0
        outcomes: list[GroupOutcome] = []
        items: list[dict[str, Any]] = []
        for name, arn in self.registry.groups():
            group = GroupSnapshot(name, arn, index.holdings(arn), ownership=owned.get(arn, Ownership()))
            verdict = None if policy_matters(group) else self._decide(group, allowlist.decide(self.account, name))
            if verdict is None or verdict.writes:
                if busy and self._waits_for_quota(group, allowlist):
                    outcomes.append(GroupOutcome(name, GroupAction.DEFERRED, "the sweep's earlier work is still queued"))
                    continue
                if self._quota_stop is not None and verdict is not None and not restrict(group, verdict).writes \
                        and self._waits_for_quota(group, allowlist):
                    outcomes.append(self._not_tried(name))  # a Region quota is full; nothing to take away
                    continue
                items.append(work_item(group))
                outcomes.append(GroupOutcome(name, GroupAction.QUEUED))
            else:
                outcomes.append(GroupOutcome(name, verdict.outcome, verdict.detail))
        outcomes.extend(self._delete_orphaned(index, owned))
        outcomes.extend(narrowed)
        queue.send(items)
        logger.info("Sweep planned", extra={"groups": len(outcomes), "handed_out": len(items),
                                            "deferred": sum(1 for o in outcomes if o.action == GroupAction.DEFERRED)})
        return outcomes

    def reconcile_items(self, items: Sequence[Any]) -> list[GroupOutcome]:
        """A batch of the sweep's work items: converge each group on a fresh allowlist read
        (once for the batch). An item names a group, nothing more: what RAM holds of it (its
        shares, what they hold, their principals and permissions) is read here, for the whole
        batch at once (`_current_shares`), never taken from a message. A group waiting for RAM's
        invitation quota goes back on the queue a minute later (room comes as consumers
        accept). An item asking for a shares-mode converge (modelshare.invitation_pace) converges
        every group, as the sweep. One group's failure does not stop the others; the batch then
        fails and comes back."""
        self._begin_run()
        allowlist = self._allowlist_in_force()
        if allowlist is None:
            return []
        asked = [item for item in items if invitation_pace.is_request(item)]
        work = self._valid_items([item for item in items if not invitation_pace.is_request(item)])
        named = None if asked else {g.name: g.arn for g, _ in work}
        if (by_shares := self._in_shares_mode(allowlist, named)) is not None:
            return by_shares  # work handed out before the owner switched to the shares mode
        outcomes: list[GroupOutcome] = []
        failures: list[str] = []
        waiting: list[dict[str, Any]] = []
        # What the ledger says of the batch's groups, in one read, before anything else is read:
        # which shares are modelshare's decides what is read of them.
        owned = self._owned([group.arn for group, _ in work])
        work = self._current_shares([(replace(group, ownership=owned[group.arn]), attempt) for group, attempt in work])
        for position, (group, attempt) in enumerate(work):
            if self.work_queue is not None and self.time_left() < TIME_RESERVE_SECONDS:
                # Lambda's timeout is near: the rest goes back on the queue for the next run.
                self._hand_back([work_item(g, a) for g, a in work[position:]], "Lambda's timeout is near")
                break
            if self._quota_stop is not None and self._waits_for_quota(group, allowlist):
                # RAM's account-wide quota stopped this run: reading the group would not help
                # (and it was not tried: its count of refusals stays).
                outcomes.append(self._not_tried(group.name))
                waiting.append(work_item(group, attempt))
                continue
            try:
                outcome = self._reconcile_group(group, allowlist)
            except ApiThrottled as throttled:
                if self.work_queue is None:
                    raise
                # AWS still throttles after botocore's retries: pressing on would only fail group
                # after group. This group and the rest come back later, at a pace AWS can take.
                self._hand_back([work_item(g, a) for g, a in work[position:]], str(throttled),
                                delay_seconds=THROTTLED_RETRY_DELAY_SECONDS)
                count("Throttled")
                break
            except Exception as error:
                failures.append(self._failed(group.name, error))
                continue
            outcomes.append(outcome)
            if outcome.action == GroupAction.QUOTA_REACHED and attempt < QUOTA_RETRY_ATTEMPTS:
                waiting.append(work_item(group, attempt + 1))
        self._finish_promotions()
        if waiting and self._quota_stop is not None and self._quota_stop.region:
            # Not the invitation quota (room comes as consumers accept) but one whose room comes
            # only as use falls: trying again a minute later cannot help; a sweep that finds room does.
            logger.info("Groups wait for room under a RAM quota that frees only as use falls: left to the sweep",
                        extra={"groups": [i["group"] for i in waiting], "quota": self._quota_stop.quota})
            waiting = []
        if waiting and self.work_queue is not None:
            self._send_waiting(waiting)
        if failures:
            raise ReconcileIncomplete("; ".join(failures))
        return outcomes

    def _valid_items(self, items: Sequence[Any]) -> list[tuple[GroupSnapshot, int]]:
        """The groups of this account (and attempt numbers) the work items name, each once; a
        malformed item, or one naming another account's group, can never become valid: dropped
        and counted, not retried. The attempt number is taken as written: it only bounds how
        often a group RAM's quota holds up goes back on the queue, never what is decided (facts
        and the allowlist decide), so a forged one at worst leaves a group to the next sweep."""
        valid: dict[str, tuple[GroupSnapshot, int]] = {}
        for item in items:
            try:
                group, attempt = group_of_item(item)
                if policies.group_name_of(group.arn, self.account) != group.name:
                    raise ValueError(f"malformed sweep work item: {group.arn[:300]} is not a group of this account")
            except ValueError as refusal:
                logger.warning("Work item ignored", extra={"reason": str(refusal)})
                count("EventsIgnored")
                continue
            # Named twice (a retry beside a sweep's copy): converged once, the higher attempt kept.
            if group.name not in valid or valid[group.name][1] < attempt:
                valid[group.name] = (group, attempt)
        return list(valid.values())

    def _current_shares(self, work: list[tuple[GroupSnapshot, int]]) -> list[tuple[GroupSnapshot, int]]:
        """The work with every fact the worker acts on, read now: the shares holding each group,
        what they hold, their principals and the permissions of modelshare's promoted ones. A
        work item is only where to look (anyone who may send to the queue could have written
        it), and the queue may have held it for minutes. Read in batched calls for the batch's
        groups, or in one paged pass over the account's shares when that costs no more (the
        calls the last such pass took, kept per execution environment)."""
        if not work:
            return work
        groups = [group for group, _ in work]
        if self._worker_pass_calls <= self._named_group_read_calls(len(groups)):
            index = self._ram_index(permissions=True)
            self._worker_pass_calls = self._pass_cost(index)
            read = [replace(g, holdings=index.holdings(g.arn)) for g in groups]
        else:
            read = self._read_named_groups(groups)
        return [(group, attempt) for group, (_, attempt) in zip(read, work, strict=True)]

    @staticmethod
    def _named_group_read_calls(groups: int) -> int:
        """What reading a batch's groups one by one costs at least: each group's shares (a
        listing, then the shares), and the batched reads of what they hold, of their principals
        and of the promoted shares' permissions."""
        return 2 * groups + 3

    @staticmethod
    def _pass_cost(index: RamIndex) -> int:
        """The calls a pass like this one takes: the shares and their resources, their
        principals, and (when read) the permission associations."""
        def calls(count: int) -> int:
            return max(1, -(-count // RAM_PAGE_SIZE))

        principals = calls(sum(len(v) for v in index.live_principals.values()))
        return index.pages(RAM_PAGE_SIZE) + principals + (calls(len(index.permissions)) if index.permissions else 0)

    def _read_named_groups(self, groups: Sequence[GroupSnapshot]) -> list[GroupSnapshot]:
        """The groups with their shares read for each (one listing each), what those hold and
        their principals (batched for them all), and the permission of modelshare's promoted
        ones: one read per share, or the account's listing when there are more shares than its
        pages are likely to be."""
        found = {g.arn: self.shares.shares_holding(g.arn) for g in groups}
        arns = sorted({s.arn for shares in found.values() for s in shares})
        resources = self.shares.share_resources(arns) if arns else {}
        # Principals of the shares not made from a policy (those of a share to promote are read
        # when it is promoted, RAM-CFP-LAG).
        offered = sorted({s.arn for shares in found.values() for s in shares if s.feature_set != CREATED_FROM_POLICY})
        principals = self.shares.share_principals(offered) if offered else {}
        read = [replace(g, holdings=tuple(Holding(s, resources.get(s.arn, ()), principals.get(s.arn, ()))
                                          for s in found[g.arn] if g.arn in resources.get(s.arn, ())))
                for g in groups]
        promoted = sorted({h.share.arn for g in read for h in view_of(g).promoted})
        if not promoted:
            return read
        held = self._permissions_of(promoted, listing=len(promoted) > max(1, self._worker_pass_calls // 4))

        return [replace(g, holdings=tuple(self._judged(h, held[h.share.arn]) if h.share.arn in held else h
                                          for h in g.holdings)) for g in read]

    def _hand_back(self, items: Sequence[Any], why: str, *, delay_seconds: int = 0) -> None:
        assert self.work_queue is not None
        self.work_queue.send(list(items), delay_seconds=delay_seconds)
        logger.info("Sweep work handed back", extra={"items": len(items), "reason": why, "delay_seconds": delay_seconds})

    def _waits_for_quota(self, group: GroupSnapshot, allowlist: Allowlist) -> bool:
        """Whether, as far as its snapshot tells, the group needs room under RAM's invitation
        quota: a share of it to promote, or consumers to add to modelshare's share."""
        decision = allowlist.decide(self.account, group.name)
        if not decision.shared or self._restrict_only:  # restricting adds no one: no quota needed
            return False
        if any(h.share.feature_set == CREATED_FROM_POLICY for h in group.holdings):
            return True
        return not policy_matters(group) and any(w.kind == WriteKind.ADD_CONSUMERS for w in decide(group, decision).writes)

    def _reconcile_group(self, group: GroupSnapshot, allowlist: Allowlist) -> GroupOutcome:
        decision = allowlist.decide(self.account, group.name)
        group = self._with_ownership(group)
        if policy_matters(group):
            group = self._with_policy(group)
        return self._apply(group, decision, self._decide(group, decision))

    def _apply(self, group: GroupSnapshot, decision: ShareDecision, verdict: GroupDecision, *,
               conflicts: int = 0) -> GroupOutcome:
        """Make the writes `decide` asked for, then report its outcome (`conflicts`: policy
        writes SageMaker refused so far for this group in this run)."""
        name = group.name
        self._why_not(name, decision)
        if verdict.other_shares:
            logger.info("Group is also in shares modelshare leaves alone",
                        extra={"group": name, "shares": list(verdict.other_shares)})
        try:
            for write in verdict.writes:
                if write.kind == WriteKind.PUT_POLICY and write.policy is not None:
                    record = incarnation.stamped(write.digest, self._stamp_of(group)) if write.digest else ""
                    if record:  # the proof that the statement is modelshare's (in this group), before it exists
                        self.ledger.record_statement(group.arn, record)
                        self._ownership.pop(group.arn, None)
                    self.registry.put_policy(name, write.policy)
                    self._forget_replaced(group, record)
                elif write.kind == WriteKind.DELETE_POLICY:
                    self.registry.delete_policy(name)
                    self._forget_replaced(group, "")
                elif write.kind == WriteKind.SET_ACTIONS:
                    holding = next(h for h in group.holdings if h.share.arn == write.share)
                    refused = self._set_actions(name, holding, write)
                    if refused is not None:
                        return refused
                elif write.kind == WriteKind.REMOVE_RESOURCES:
                    self.shares.disassociate_resources(write.share, list(write.accounts))
                    logger.warning("Took out of modelshare's share what the allowlist does not put there",
                                   extra={"group": name, "share": write.share, "resources": list(write.accounts)})
                    count("ShareResourcesRemoved")
                elif write.kind == WriteKind.REMOVE_CONSUMERS:
                    self.shares.disassociate_principals(write.share, list(write.accounts))
                elif write.kind == WriteKind.ADD_CONSUMERS:
                    if self._quota_stop is not None:
                        return self._not_tried(name)
                    try:
                        self.shares.associate_principals(write.share, list(write.accounts))
                    except RamQuotaReached as quota:
                        return self._quota_reached(name, quota)
                elif write.kind == WriteKind.PROMOTE:
                    shares = [h.share for h in group.holdings if h.share.arn in write.shares]
                    try:
                        return self._promote_shares(name, group.arn, shares, decision)
                    except PromotionNotReady as error:
                        return GroupOutcome(name, GroupAction.PROMOTION_PENDING, str(error))
        except GroupNotFound:
            return GroupOutcome(name, GroupAction.GONE)
        except PolicyConflict as conflict:
            return self._after_policy_conflict(group, decision, conflict, conflicts)
        outcome = GroupOutcome(name, verdict.outcome, verdict.detail)
        if outcome.action == GroupAction.SHARED:
            logger.info("Shared group", extra={"group": name, "consumers": list(decision.consumers)})
            count("GroupsShared")
        elif outcome.action == GroupAction.UNSHARED:
            logger.info("Removed modelshare's statement", extra={"group": name, "reason": outcome.reason})
            count("GroupsUnshared")
        elif outcome.action == GroupAction.CONSUMERS_CHANGED:
            logger.info("Changed consumers of promoted share", extra={"group": name, "changes": outcome.reason})
            count("ShareConsumersChanged")
        elif outcome.action == GroupAction.ACCESS_CHANGED:
            logger.info("Set the actions of promoted share", extra={"group": name, "changes": outcome.reason})
        elif outcome.action == GroupAction.RESTRICTED:
            logger.info("Applied the last valid allowlist's removals only", extra={"group": name, "changes": outcome.reason})
        elif outcome.action == GroupAction.NOT_PROMOTABLE:
            return self._not_promotable(name, outcome.reason)
        elif outcome.action == GroupAction.SID_TAKEN:
            logger.warning("Group's policy left alone: someone else wrote a statement under modelshare's Sid",
                           extra={"group": name, "reason": outcome.reason})
            count("PolicySidTaken")
        return outcome

    def _after_policy_conflict(self, group: GroupSnapshot, decision: ShareDecision, conflict: PolicyConflict,
                               conflicts: int) -> GroupOutcome:
        """Another write of the group's policy ran as modelshare's (SM-POLICY-CONFLICT), perhaps a
        person's: wait, read the policy and the ledger again and decide again (never write the
        old decision blindly), a few times; then leave the group to the next run. Only the policy
        write is made again: a policy write is the only write of a group not promoted, and a
        promotion the fresh policy asks for is the promotion path's (its put's event, the sweep)."""
        name = group.name
        wait = POLICY_CONFLICT_WAITS[conflicts] if conflicts < len(POLICY_CONFLICT_WAITS) else None
        if wait is None or self.time_left() < wait + TIME_RESERVE_SECONDS:
            logger.warning("Group's policy kept changing while modelshare wrote it: left to the next run",
                           extra={"group": name, "tries": conflicts + 1, "error": str(conflict)})
            count("PolicyWriteConflicts")
            return GroupOutcome(name, GroupAction.POLICY_CONFLICT, f"{name}: another write of its policy ran at once")
        self.sleep(wait)
        self._ownership.pop(group.arn, None)
        fresh = self._with_policy(self._with_ownership(replace(group, ownership=None, created=None)))
        verdict = self._decide(fresh, decision)
        writes = tuple(w for w in verdict.writes if w.kind in (WriteKind.PUT_POLICY, WriteKind.DELETE_POLICY))
        if len(writes) < len(verdict.writes):
            verdict = replace(verdict, outcome=GroupAction.CONVERGED, detail="")
        return self._apply(fresh, decision, replace(verdict, writes=writes), conflicts=conflicts + 1)

    def _forget_replaced(self, group: GroupSnapshot, kept: str) -> None:
        """Once modelshare's statements that were in the policy are gone from it, the ledger forgets
        them: the same words written later by a person are theirs. Only those read in the policy
        are forgotten, never what a run beside this one recorded meanwhile."""
        if group.ownership is None or group.created is None:
            return  # no statement of the policy was judged modelshare's
        owned, created = group.our_statements, group.created
        gone = sorted({incarnation.stamped(policies.statement_digest(s), created) for s in policies.statements(group.policy)
                       if policies.is_ours(s, owned)} - {kept})
        if gone:
            self.ledger.forget_statements(group.arn, gone)
            self._ownership.pop(group.arn, None)

    def _set_actions(self, group_name: str, holding: Holding, write: Write) -> GroupOutcome | None:
        """Give modelshare's promoted share the managed permission with exactly the allowlist's
        actions: one RAM already has (AWS or customer managed, matched by its actions, never by
        name), else a customer managed one modelshare creates under one name per action set.
        When that cannot be done now and the share grants more than the allowlist allows, its
        consumers are removed (fail closed): the next run sets the actions and invites them
        again. None when done."""
        wanted = frozenset(a.lower() for a in write.actions)
        try:
            permission = self._permission_granting(write.actions, self._group_type())
            if permission is not None:
                self.shares.replace_permission(write.share, permission)
                count("ShareActionsChanged")
                return None
            why = "the customer managed permission for these actions is not attachable yet"
        except RamQuotaReached as quota:
            why = str(quota)
        except (PermissionNameTaken, ResourceTypeUnknown) as refused:
            why = str(refused)
        # A person's permission could grant more at any moment: as unsafe as one that does now.
        beyond = holding.actions is None or not holding.actions <= wanted or holding.permission_trusted is False
        if beyond and holding.principals:
            self.shares.disassociate_principals(write.share, list(holding.principals))
            logger.warning("Removed the consumers of a promoted share whose actions could not be narrowed",
                           extra={"group": group_name, "share": write.share, "reason": why})
            count("ShareConsumersChanged")
            return GroupOutcome(group_name, GroupAction.CONSUMERS_CHANGED,
                                f"consumers removed until the share's actions can be narrowed: {why}")
        return GroupOutcome(group_name, GroupAction.PROMOTION_PENDING, f"share's actions not set yet: {why}")

    def _permission_granting(self, actions: Sequence[str], resource_type: str) -> str | None:
        """The ARN of an attachable managed permission granting exactly `actions`; creates the
        customer managed one when none exists, and waits a moment for it. None when it is not
        attachable yet."""
        wanted = frozenset(a.lower() for a in actions)

        def attachable() -> str | None:
            return next((p.arn for p in self.shares.managed_permissions(resource_type)
                         if p.status == ATTACHABLE and self._trusted(p.arn) and self._actions_of(p.arn) == wanted), None)

        found = attachable()
        if found is not None:
            return found
        name, existing = self._permission_name_for(wanted, resource_type)
        if name not in existing:
            self._permission_names = None  # read again: recorded now, and maybe by a run beside this one
            self.ledger.record_permission(name)  # before it exists: a person can never make it first unrecorded
            self.shares.create_permission(name, resource_type, sorted(actions))
            logger.info("Created a permission, shared by every group with these actions", extra={"permission": name})
            count("PermissionsCreated")
        return self._with_backoff(attachable)

    def _why_not(self, group_name: str, decision: ShareDecision) -> str:
        if decision.conflict:
            logger.warning("Group not shared: allowlist conflict", extra={"group": group_name, "reason": decision.conflict})
            count("AllowlistConflicts")
            return decision.conflict
        return "" if decision.consumers else "no allowlist rule matches"

    def delete_orphaned_shares(self) -> list[GroupOutcome]:
        """Delete modelshare's promoted shares that no longer hold the group they were made for
        (the group was deleted)."""
        self._begin_run()
        owned = self.read_ledger()
        return self._delete_orphaned(self._ram_index(principals=False), owned)

    def read_ledger(self) -> LedgerContents:
        """The whole ledger, in one paged read per run (the sweep's, the shares mode's and a
        switch of modes' alike), kept for the run: what the run records later is not in it (the
        shares mode says which shares it made: SharesModeResult.shares). Statements recorded
        before stamps are adopted first (modelshare.incarnation)."""
        if self._ledger_read is None:
            self._ledger_read = incarnation.adopt_unstamped(self.ledger.everything(), self.registry, self.ledger,
                                                            self.account)
            self._ownership.update(self._ledger_read)
        return self._ledger_read

    def _delete_orphaned(self, index: RamIndex, owned: dict[str, Ownership]) -> list[GroupOutcome]:
        outcomes = []
        for arn, group_arn in index.orphaned(owned):
            self.shares.delete_share(arn)
            self.ledger.forget_share(group_arn, arn)
            name = group_arn.rpartition("/")[2]
            logger.info("Deleted share of deleted group", extra={"share": arn, "group": name})
            count("SharesDeleted")
            outcomes.append(GroupOutcome(name, GroupAction.SHARE_DELETED, arn))
        return outcomes

    @staticmethod
    def _failed(group_name: str, error: Exception) -> str:
        logger.exception("Group could not be handled; the others were", extra={"group": group_name})
        return f"{group_name}: {type(error).__name__}: {error}"

    # -- state ------------------------------------------------------------------------------
    def group_state(self, group_name: str, allowlist: Allowlist, *, restrict_only: bool = False,
                    region_use: Sequence[QuotaUse] | None = None) -> GroupState | None:
        """Reads only: where the group stands and why, as `decide` sees it (`restrict_only`: as
        a sweep deciding with the last valid version of an invalid allowlist sees it), and, for
        a group that needs room, a full Region quota the sweep waits on (`region_use`: what the
        account holds, read here when not given)."""
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return None
        self._begin_run()
        group = self._with_permissions(self._with_policy(self._group_snapshot(group_name, group_arn, principals=True)))
        verdict = decide(group, allowlist.decide(self.account, group_name))
        verdict = restrict(group, verdict) if restrict_only else verdict
        reason = verdict.reason
        if verdict.writes and not restrict_only and self._waits_for_quota(group, allowlist):
            uses = list(region_use) if region_use is not None else region_room.read_region_use(self.shares, self.quota_limits)
            if (full := region_room.full(uses)) is not None:
                reason += region_room.waiting_for_room(full)
        return GroupState(group_arn, verdict.status, verdict.consumers, reason, verdict.other_shares)


def _settled(group_name: str, decision: ShareDecision, why_not: str) -> GroupOutcome:
    """Nothing to change: the group is shared as wanted, or (why_not) not shared at all."""
    if decision.shared:
        return GroupOutcome(group_name, GroupAction.CONVERGED)
    return GroupOutcome(group_name, GroupAction.CONFLICT if decision.conflict else GroupAction.NOT_SHARED, why_not)


def group_type(shares: ResourceShares) -> str:
    """RAM's spelling of a model package group's resource type (docs/aws-behaviour.md, RAM-TYPE);
    when RAM names none, says so loudly and raises ResourceTypeUnknown (fail closed)."""
    try:
        return shares.model_package_group_type()
    except ResourceTypeUnknown as unknown:
        logger.error("RAM names no resource type for model package groups: no permission is made",
                     extra={"reason": str(unknown)})
        count("ResourceTypeUnknown")
        raise


def permission_name(actions: Iterable[str], *, digest: bool = False) -> str:
    """The name of the customer managed permission for an action set: one per set, so every
    group granted the same actions shares it. Named after the allowlist's access levels when the
    actions are exactly theirs (modelshare-discover-register), else (or with `digest`) after a
    digest of the actions."""
    levels = None if digest else access_levels_for(actions)
    if levels is not None:
        return PERMISSION_NAME_PREFIX + "-".join(levels)
    actions_digest = hashlib.sha256(",".join(sorted({a.lower() for a in actions})).encode()).hexdigest()[:16]
    return f"{PERMISSION_NAME_PREFIX}{actions_digest}"
