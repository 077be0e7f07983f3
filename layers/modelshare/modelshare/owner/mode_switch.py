"""Switching an owner between the modes (issue 20; docs/sharing-modes.md, "Switching modes"): no consumer the
allowlist keeps is ever without access, and nothing beyond the allowlist is kept meanwhile.

The old mode's access goes only once the new mode's is live for every consumer who had the old:
its share holds the group and each such consumer has accepted it (RAM's principal association is
ASSOCIATED, not an invitation still pending, ASSOCIATING). Until then the old mode's access is
narrowed only (a consumer or action the allowlist no longer gives is taken away; nothing added).

- policy -> shares: a group modelshare still holds a statement or a promoted share for (its
  ledger says so) waits in both: once live in its made share, modelshare's statement is removed
  (a person's statements stay), then modelshare's promoted share of the group is deleted and
  forgotten. A share the ledger does not record as modelshare's is never touched.
- shares -> policy: the policy mode writes the statement and promotes as for any group; the group
  leaves modelshare's made share only once its promoted share is live; a made share emptied is
  deleted and forgotten (modelshare.shares_mode).

Every step is read afresh from RAM and the ledger at each run, and each is safe to repeat, so a
run that stops anywhere leaves a state the next run continues from. Reads: the ledger and one paged
pass over RAM (what the policy mode's sweep reads), whose associations of every status say which
are still ASSOCIATING: that is not asked again (a second listing, read later than the pass,
could take an association the pass read pending for accepted, or miss one made in between).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from modelshare import policy as policies
from modelshare.allowlist import Allowlist, ShareDecision
from modelshare.convergence import GroupSnapshot, RamIndex, policy_matters
from modelshare.decision.switch import SwitchStep, old_access, switch_step, waiting_for
from modelshare.observability import count, logger
from modelshare.outcomes import GroupAction
from modelshare.owner.apply import apply_decision
from modelshare.owner.outcome import GroupOutcome
from modelshare.owner.reads import read_ledger, read_policy, switch_index
from modelshare.owner.run import Run
from modelshare.ports import STANDARD, Ownership

SWITCHING, SWITCHED = GroupAction.SWITCHING, GroupAction.SWITCHED


@dataclass(frozen=True)
class Reach:
    """Which consumers have accepted which shares, from one read of RAM: live associations
    (the index) less those still ASSOCIATING in that same read (an invitation not yet accepted,
    a resource RAM is still associating)."""

    index: RamIndex
    pending: frozenset[tuple[str, str]]  # (share ARN, principal or resource) still ASSOCIATING

    @classmethod
    def of(cls, index: RamIndex) -> Reach:
        pending = {(arn, entity) for found in (index.pending_principals, index.pending_resources)
                   for arn, entities in found.items() for entity in entities}
        return cls(index, frozenset(pending))

    def accepted(self, group_arn: str, share_arns: Iterable[str]) -> frozenset[str]:
        """The accounts that can reach the group now through one of these shares (ACTIVE,
        STANDARD, the group's association and the account's both ASSOCIATED)."""
        found: set[str] = set()
        for arn in share_arns:
            share = self.index.shares.get(arn)
            if share is None or share.feature_set != STANDARD or share.status != "ACTIVE" \
                    or group_arn not in self.index.live_resources.get(arn, ()) or (arn, group_arn) in self.pending:
                continue
            found.update(a for p in self.index.live_principals.get(arn, ())
                         if (arn, p) not in self.pending and (a := policies.account_of(p)))
        return frozenset(found)

    def offered(self, group_arn: str, share_arns: Iterable[str]) -> frozenset[str]:
        """The accounts with a live association (accepted or invited) on one of these shares that
        holds the group."""
        return frozenset(a for arn in share_arns if group_arn in self.index.live_resources.get(arn, ())
                         for p in self.index.live_principals.get(arn, ()) if (a := policies.account_of(p)))


# -- policy -> shares ------------------------------------------------------------------------------
def retire_policy_mode(run: Run, allowlist: Allowlist, listed: Sequence[tuple[str, str]],
                       live: frozenset[str], made: frozenset[str]) -> list[GroupOutcome]:
    """Groups of a shares-mode owner that still hold something of the policy mode's (modelshare's
    statement, its promoted share): removed once the group is live in its made share for every
    consumer who had access the old way; narrowed to the allowlist until then. `live`: the groups
    in their bucket's share with its permission, `made`: modelshare's shares, after the run
    converged them (SharesModeResult.live, .shares)."""
    # The run's one ledger read (modelshare.owner.reads.read_ledger), from before the shares mode converged:
    # that changed only the records of made shares (`made` is what it left), never a group's,
    # which only the switch changes (below, once per group).
    owned = read_ledger(run)
    switching = [(name, arn) for name, arn in listed if _holds_policy_mode(owned.get(arn))]
    if not switching:
        return []
    index = switch_index(run)
    reach = Reach.of(index)
    outcomes = []
    for name, arn in switching:
        ownership = owned.get(arn, Ownership())
        decision = allowlist.decide(run.account, name)
        holdings = index.holdings(arn)
        unpromoted = bool(ownership.statements) and not any(
            h.share.arn in ownership.shares and h.share.feature_set == STANDARD for h in holdings)
        old = old_access(decision, reach.offered(arn, ownership.shares), statement_unpromoted=unpromoted)
        waiting = waiting_for(decision.consumers if decision.shared else (), old, reach.accepted(arn, made))
        try:
            if switch_step(decision, live=arn in live, waiting=waiting) == SwitchStep.RETIRE:
                outcomes.append(_retire(run, name, arn, ownership, index))
            else:
                outcomes.append(_narrow(run, GroupSnapshot(name, arn, holdings, ownership=ownership), decision, waiting))
        except Exception as error:  # one group's failure does not stop the others (the next run retries)
            logger.exception("Mode switch of a group failed; the next run continues", extra={"group": name})
            outcomes.append(GroupOutcome(name, GroupAction.FAILED, f"{type(error).__name__}: {error}"))
    return outcomes


def _holds_policy_mode(ownership: Ownership | None) -> bool:
    return ownership is not None and bool(ownership.statements or ownership.shares)


def _retire(run: Run, name: str, arn: str, ownership: Ownership, index: RamIndex) -> GroupOutcome:
    """The group is live in its made share for everyone who had it: modelshare's statement goes
    (a person's stay), then modelshare's promoted shares of it. Each step is repeatable."""
    done: list[str] = []
    if ownership.statements:
        snapshot = read_policy(run, GroupSnapshot(name, arn, ownership=ownership))
        outcome = apply_decision(run, snapshot, ShareDecision(run.account, name, (), (), ()))
        if outcome.action == GroupAction.UNSHARED:
            done.append("modelshare's statement removed")
    for share_arn in sorted(ownership.shares):
        share = index.shares.get(share_arn)  # this account's ACTIVE shares
        if share is None:
            run.owner.ledger.forget_share(arn, share_arn)  # gone (RAM retired it with the statement): forgotten
        elif share.feature_set == STANDARD:
            run.owner.share_writes.delete_share(share_arn)
            run.owner.ledger.forget_share(arn, share_arn)  # after: a crash between leaves a record of nothing
            done.append(f"modelshare's promoted share {share_arn} deleted")
            count("SharesDeleted")
        # else made from the policy (RAM retires it with the statement) or being promoted: the next run
    if done:
        logger.info("Mode switch: the policy mode's access removed, the group being live in its share",
                    extra={"group": name, "done": done})
        count("GroupsSwitched")
    return GroupOutcome(name, SWITCHED, "; ".join(done) or "the policy mode's access is going")


def _narrow(run: Run, group: GroupSnapshot, decision: ShareDecision, waiting: list[str]) -> GroupOutcome:
    """Not live for everyone yet: the policy mode's access stays, narrowed to the allowlist."""
    if policy_matters(group):
        group = read_policy(run, group)
    outcome = apply_decision(run, group, decision, narrowing=True)
    if outcome.action in (GroupAction.FAILED, GroupAction.GONE):
        return outcome
    why = f"waiting for {', '.join(waiting)} to accept modelshare's share before the policy mode's access goes" \
        if waiting else "not yet live in its share: the policy mode's access stays"
    changed = "" if outcome.action in (GroupAction.CONVERGED, GroupAction.NOT_SHARED) else f" ({outcome.reason})"
    return GroupOutcome(group.name, SWITCHING, why + changed)


# -- shares -> policy ------------------------------------------------------------------------------
def live_in_policy_mode(run: Run, allowlist: Allowlist, index: RamIndex,
                        owned: Mapping[str, Ownership], made: Iterable[str]) -> dict[str, str]:
    """The groups in modelshare's made shares whose policy-mode access is live for every
    consumer who has them through a made share: they may leave it. Group ARN -> what is left
    waiting for, for the others ("" for those that may leave)."""
    reach = Reach.of(index)
    made = frozenset(made)
    found: dict[str, str] = {}
    for group_arn in sorted({g for arn in made for g in index.live_resources.get(arn, ())}):
        name = group_arn.rpartition("/")[2]
        decision = allowlist.decide(run.account, name)
        if not decision.shared:
            continue  # no longer shared at all: narrowing takes it out
        promoted = owned.get(group_arn, Ownership()).shares
        waiting = waiting_for(decision.consumers, reach.offered(group_arn, made), reach.accepted(group_arn, promoted))
        found[group_arn] = "" if not waiting else \
            f"waiting for {', '.join(waiting)} to accept its promoted share before it leaves modelshare's share"
    return found
