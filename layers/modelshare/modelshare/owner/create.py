"""The creation job (ShareOnCreate): a new group gets the statement the allowlist asks for. Only
adds or updates (decision.paths, Path.CREATION): removing is the sweep's job, promoting the
promotion job's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from modelshare import policy as policies
from modelshare.allowlist import Allowlist
from modelshare.allowlist_loading import load_allowlist
from modelshare.convergence import GroupSnapshot, policy_matters
from modelshare.decision.paths import Path, decide_on, decide_unread
from modelshare.outcomes import GroupAction
from modelshare.owner import shares_sweep
from modelshare.owner.apply import apply
from modelshare.owner.outcome import GroupOutcome, ReconcileIncomplete, failed, tell_conflict
from modelshare.owner.reads import group_snapshot, with_incarnation, with_ownership
from modelshare.owner.run import Run
from modelshare.ports import Ownership


def share_groups(run: Run, groups: Mapping[str, str | None]) -> list[GroupOutcome]:
    """New groups (a batch of creation events): write the statement the allowlist asks for.
    Sharing is a grant, so the allowlist is read afresh, once for the batch; late or
    repeated events converge the same way. `groups`: name -> ARN when the event said it (else
    the group is described). One group's failure does not stop the others; the run then fails
    with all of them named."""
    allowlist = load_allowlist(run.owner.allowlist_source, fresh=True)
    if allowlist is None:
        return [GroupOutcome(name, GroupAction.SKIPPED, "allowlist invalid") for name in groups]
    if (by_shares := shares_sweep.if_shares_mode(run, allowlist, groups, new_groups=True)) is not None:
        return by_shares
    outcomes: list[GroupOutcome] = []
    failures: list[str] = []
    for name, arn in groups.items():
        try:
            outcomes.append(_share_group(run, name, allowlist, arn))
        except Exception as error:
            failures.append(failed(name, error))
    if failures:
        raise ReconcileIncomplete("; ".join(failures))
    return outcomes


def _share_group(run: Run, group_name: str, allowlist: Allowlist, group_arn: str | None = None) -> GroupOutcome:
    decision = allowlist.decide(run.account, group_name)
    if (unread := decide_unread(Path.CREATION, group_name, decision)) is not None:
        tell_conflict(group_name, decision)  # decided without a call: a group no rule shares costs nothing
        return GroupOutcome(group_name, unread.outcome, unread.detail)
    group_arn = group_arn or run.owner.registry.group_arn(group_name)
    if group_arn is None:
        return GroupOutcome(group_name, GroupAction.GONE)
    current = run.owner.registry.get_policy(group_name)
    # Shares (and the ledger) are looked at only when the group has a policy: modelshare
    # promotes only shares RAM made from one, and a statement can only be modelshare's when
    # there is one (a person who deletes the policy of a promoted group gets a new share from
    # the next statement, promoted in turn).
    group = GroupSnapshot(group_name, group_arn, ownership=Ownership()) if not policies.statements(current) else \
        with_ownership(run, group_snapshot(run, group_name, group_arn, principals=False))
    group = replace(group, policy=current, policy_read=True)
    if policy_matters(group):  # its statements are judged: which group they were written into
        group = with_incarnation(run, group)
    verdict = decide_on(Path.CREATION, group, decision)
    if not verdict.writes:
        return GroupOutcome(group_name, verdict.outcome, verdict.detail)
    return apply(run, group, decision, verdict)
