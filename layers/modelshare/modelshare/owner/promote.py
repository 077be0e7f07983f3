"""The promotion job (PromoteFunction): on RAM's wake-ups and policy puts, promote the shares
RAM made from groups' policies, so consumers can discover the groups, and bring modelshare's
promoted shares RAM's events name to what the allowlist says now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from modelshare import policy as policies
from modelshare.allowlist import Allowlist
from modelshare.allowlist_loading import load_allowlist
from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot, Holding, RamIndex, Rule, policy_matters, view_of
from modelshare.decision.paths import Path, decide_on
from modelshare.observability import logger
from modelshare.outcomes import GroupAction, WriteKind
from modelshare.owner.apply import reconcile_group
from modelshare.owner.outcome import GroupOutcome, ReconcileIncomplete, failed, not_promotable
from modelshare.owner.promotion import finish_promotions, promote_shares, read_cfp_principals
from modelshare.owner.quota import QUOTA_RETRY_DELAY_SECONDS, not_tried, send_waiting
from modelshare.owner.reads import (
    owned,
    ram_index,
    snapshot_of,
    with_ownership,
    with_permissions,
    with_policy,
    with_principals,
)
from modelshare.owner.run import Run
from modelshare.ports import ARNS_PER_CALL, CREATED_FROM_POLICY, RAM_PAGE_SIZE, PromotionNotReady


def promote_group(run: Run, group_name: str) -> GroupOutcome:
    """Promote the share RAM made from the group's policy, when it is safe and possible.
    Raises PromotionNotReady when RAM is not there yet, so the invocation is retried.
    Promotion is a grant: decided on a fresh read of the allowlist."""
    allowlist = load_allowlist(run.owner.allowlist_source, fresh=True)
    if allowlist is None:
        return GroupOutcome(group_name, GroupAction.SKIPPED, "allowlist invalid")
    outcome = _promote_group(run, group_name, allowlist)
    finish_promotions(run)
    return outcome


def promote_pending_shares(run: Run, *, groups: Mapping[str, str | None] | None = None,
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
    owner = run.owner
    named_groups = dict(groups or {})
    wanted = list(dict.fromkeys([*(share_arns or ()), *failed_share_arns]))
    index = None
    if share_arns is None or owner.pass_calls <= _named_read_calls(len(wanted), len(named_groups)):
        index = ram_index(run, principals=False)
        owner.pass_calls = index.pages(RAM_PAGE_SIZE)
    in_shares = _groups_in_shares(run, None if share_arns is None else wanted, index)
    allowlist: Allowlist | None = None  # read fresh once, when there is something to decide
    outcomes: list[GroupOutcome] = []
    not_ready: list[str] = []
    failures: list[str] = []
    failing = set(failed_share_arns)
    # RAM could not invite these groups' consumers: its quota is full now.
    waiting = [g for g in in_shares.values() if any(h.share.arn in failing for h in g.holdings)]
    candidates: dict[str, tuple[str | None, tuple[Holding, ...] | None]] = {
        name: (arn, index.holdings(arn) if index is not None and arn else None) for name, arn in named_groups.items()}
    candidates.update({name: (group.arn, group.holdings) for name, group in in_shares.items()
                       if any(h.share.feature_set == CREATED_FROM_POLICY for h in group.holdings)})
    # What the ledger says of every group named, in one read.
    owned(run, [arn for arn, _ in candidates.values() if arn] + [g.arn for g in in_shares.values()])
    # modelshare's promoted shares the events named: RAM finished promoting them, or changed
    # their principals. Each is brought to what the allowlist says now: a consumer the allowlist
    # stopped allowing while RAM promoted its share leaves at once, not at the next sweep.
    # (Not those a failure named: RAM's invitation quota is full, the sweep's workers go on later.)
    promoted = [with_ownership(run, g) for g in in_shares.values() if g not in waiting]
    promoted = [g for g in promoted if view_of(g).promoted]
    if promoted:
        allowlist = load_allowlist(owner.allowlist_source, fresh=True)
        if allowlist is None:
            return [GroupOutcome(g.name, GroupAction.SKIPPED, "allowlist invalid") for g in promoted]
        for group in with_principals(run, promoted):
            try:  # with what RAM gave it as it finished promoting: a person's permission is replaced
                outcomes.append(reconcile_group(run, with_permissions(run, group), allowlist))
            except Exception as error:  # one group's failure must not stop the others
                failures.append(failed(group.name, error))
    to_promote: list[GroupSnapshot] = []
    for name, (arn, holdings) in candidates.items():
        try:
            pending = _pending_promotion(run, name, arn, holdings)
            if isinstance(pending, GroupOutcome):  # decided without the allowlist
                outcomes.append(pending)
            else:
                to_promote.append(pending)
        except Exception as error:  # one group's failure must not stop the others
            failures.append(failed(name, error))
    if to_promote and run.quota_stop is None:
        # What the shares made from policies name, for all the groups at once (RAM-CFP-LAG).
        read_cfp_principals(run, [h.share.arn for g in to_promote if policy_matters(g) for h in view_of(g).from_policy])
    for pending in to_promote:
        try:
            allowlist = allowlist or load_allowlist(owner.allowlist_source, fresh=True)
            if allowlist is None:
                return [GroupOutcome(pending.name, GroupAction.SKIPPED, "allowlist invalid")]
            outcomes.append(_promote_group(run, pending.name, allowlist, pending, waiting=waiting))
        except PromotionNotReady as error:  # finish the others first, then ask for a retry
            not_ready.append(str(error))
        except Exception as error:  # one group's failure must not stop the others
            failures.append(failed(pending.name, error))
    finish_promotions(run)
    _retry_later(run, waiting)
    if failures:
        raise ReconcileIncomplete("; ".join(failures))
    if not_ready:
        raise PromotionNotReady("; ".join(not_ready))
    return outcomes


def _named_read_calls(shares: int, groups: int) -> int:
    """Calls reading what a batch named costs: its shares and their resources (batched), and
    each named group's shares."""
    return 2 * -(-shares // ARNS_PER_CALL) + 2 * groups


def _groups_in_shares(run: Run, share_arns: Sequence[str] | None, index: RamIndex | None) -> dict[str, GroupSnapshot]:
    """This account's groups held by the shares named (every share: None), with those shares:
    created-from-policy ones (to promote), and promoted ones of a single group (named by a
    failure: the sweep's workers decide later, on what they read then, whether the share is
    modelshare's). From `index` when there is one, else read in batched calls."""
    if index is not None:
        shares = [s for arn, s in index.shares.items() if share_arns is None or arn in share_arns]
        resources = index.live_resources
    else:
        shares = run.owner.shares.shares_by_arn(share_arns or ())
        resources = run.owner.shares.share_resources([s.arn for s in shares]) if shares else {}
    found: dict[str, GroupSnapshot] = {}
    for share in shares:
        held = resources.get(share.arn, ())
        if share.feature_set == CREATED_FROM_POLICY and len(held) != 1:
            continue  # RAM makes a share from a policy holding that group alone: promote no other
        for resource in held:
            name = policies.group_name_of(resource, run.account)
            if name is not None:
                group = found.get(name, GroupSnapshot(name, resource))
                found[name] = replace(group, holdings=(*group.holdings, Holding(share, held, ())))
    return found


def _pending_promotion(run: Run, group_name: str, group_arn: str | None,
                       holdings: tuple[Holding, ...] | None) -> GroupSnapshot | GroupOutcome:
    """The group with what RAM holds of it and what the ledger says of it, to decide on (GONE:
    no such group). A group RAM holds no share made from a policy of costs no read of what its
    shares hold: nothing on this path turns on it (they hold the group, and are modelshare's
    or not: the usual late duplicate of an event finds modelshare's promoted)."""
    group_arn = group_arn or run.owner.registry.group_arn(group_name)
    if group_arn is None:
        return GroupOutcome(group_name, GroupAction.GONE)
    ownership = owned(run, [group_arn])[group_arn]
    if holdings is None:
        found = run.owner.shares.shares_holding(group_arn)
        group = snapshot_of(run, group_name, group_arn, found) \
            if any(s.feature_set == CREATED_FROM_POLICY for s in found) else \
            GroupSnapshot(group_name, group_arn, tuple(Holding(s, (group_arn,), ()) for s in found))
    else:
        group = GroupSnapshot(group_name, group_arn, holdings)
    return replace(group, ownership=ownership)


def _promote_group(run: Run, group_name: str, allowlist: Allowlist, group: GroupSnapshot | None = None, *,
                   waiting: list[GroupSnapshot] | None = None) -> GroupOutcome:
    """The wake-up's part of `decide` for the group (decision.paths, Path.WAKE_UP): promote the
    shares RAM made from its policy when the decision says to. The shares are those in `group`
    (read by the caller), else looked for now; a promotable policy whose share RAM has not made
    yet is waited for (PromotionNotReady when it has not). A group RAM's invitation quota
    stops goes on `waiting`, with the shares it is to promote."""
    if group is None:
        pending = _pending_promotion(run, group_name, None, None)
        if isinstance(pending, GroupOutcome):
            return pending
        group = pending
    decision = allowlist.decide(run.account, group_name)
    if policy_matters(group):
        if run.quota_stop is not None:  # nothing to gain from reading: the promotion would wait
            if waiting is not None:
                waiting.append(group)
            return not_tried(run, group_name)
        group = with_policy(run, group)
    verdict = decide_on(Path.WAKE_UP, group, decision)
    if verdict.rule == Rule.AWAITING_SHARE:
        # A new policy: RAM makes its share asynchronously (docs/aws-behaviour.md, RAM-ASYNC).
        group_arn = group.arn
        shares = run.owner.shares
        made = run.with_backoff(lambda: [s for s in shares.shares_holding(group_arn)
                                         if s.feature_set == CREATED_FROM_POLICY] or None, wait_first=True)
        if made is None:
            raise PromotionNotReady(f"RAM has not created the share for {group_arn} after "
                                    f"{sum(run.owner.share_wait):g} s; retry later")
        read = snapshot_of(run, group_name, group_arn, [*(h.share for h in group.holdings), *made])
        group = replace(group, holdings=read.holdings)
        verdict = decide_on(Path.WAKE_UP, group, decision)
        if verdict.rule == Rule.AWAITING_SHARE:  # RAM made shares of the policy, none of which decide promotes
            return not_promotable(group_name, "RAM's share made from the policy holds other resources too")
    if verdict.outcome == GroupAction.NOT_PROMOTABLE:  # logged and counted
        return not_promotable(group_name, verdict.detail)
    promotions = [w for w in verdict.writes if w.kind == WriteKind.PROMOTE]
    if not promotions:
        return GroupOutcome(group_name, verdict.outcome, verdict.detail)
    named = {arn for w in promotions for arn in w.shares}
    outcome = promote_shares(run, group_name, group.arn, [h.share for h in group.holdings if h.share.arn in named],
                             decision)
    if outcome.action == GroupAction.QUOTA_REACHED and waiting is not None:
        waiting.append(group)
    return outcome


def _retry_later(run: Run, groups: Sequence[GroupSnapshot]) -> None:
    """Groups waiting for room under RAM's pending-invitation quota: to the sweep's work queue,
    a minute later (its workers converge them, and send them back while the quota is full)."""
    if groups and run.owner.work_queue is not None:
        send_waiting(run, [work_item(g) for g in groups])
        logger.info("Groups waiting for RAM's invitation quota handed to the sweep",
                    extra={"groups": [g.name for g in groups], "delay_seconds": QUOTA_RETRY_DELAY_SECONDS})
