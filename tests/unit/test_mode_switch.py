"""Switching an owner between the modes (issue 20) with in-memory fakes: the old mode's access
goes only once the new mode's is live (accepted) for every consumer who had it; meanwhile the old
one is narrowed to the allowlist only; a person's statements and shares are never touched; a run
that stops anywhere is continued by the next."""

from __future__ import annotations

from typing import Any

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.outcomes import GroupAction
from modelshare.owner.outcome import GroupOutcome
from modelshare.owner.service import OwnerService
from modelshare.ports import STANDARD
from modelshare.wiring import owner_from
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
    modelshare_wrote,
)

DISCOVER = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])
RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, OTHER]}
PROMOTED = "arn:aws:ram:eu-west-1:111122223333:resource-share/promoted-a"
PERSONS_SHARE = "arn:aws:ram:eu-west-1:111122223333:resource-share/persons"
PERSONS_STATEMENT = {"Sid": "TeamReads", "Effect": "Allow", "Principal": {"AWS": OTHER},
                     "Action": ["sagemaker:DescribeModelPackageGroup"], "Resource": group_arn("churn-a")}


def document(mode: str, rule: dict[str, Any] = RULE) -> dict[str, Any]:
    return {**allowlist_doc(rule), "modes": {OWNER: mode}}


def owner_with(mode: str) -> tuple[OwnerService, FakeRegistry, FakeShares, FixedAllowlist]:
    registry = FakeRegistry(names={"churn-a"})
    shares = FakeShares(managed_action_sets=[DISCOVER])
    source = FixedAllowlist(document(mode))
    return owner_from(OWNER, registry, shares, source, shares.ledger, sleep=lambda s: None), registry, shares, source


def shared_the_policy_way(registry: FakeRegistry, shares: FakeShares) -> dict[str, Any]:
    """What the policy mode left: modelshare's statement beside a person's, its promoted share
    (recorded in the ledger) with both consumers accepted, and a person's own share of the group."""
    ours = policies.modelshare_statement(group_arn("churn-a"), [CONSUMER, OTHER], ACCESS_ACTIONS["discover"])
    modelshare_wrote(registry, shares.ledger, "churn-a", ours, PERSONS_STATEMENT)
    shares.add_policy_share(group_arn("churn-a"), PROMOTED, feature_set=STANDARD, actions=DISCOVER)
    shares.principals[PROMOTED] = [CONSUMER, OTHER]
    shares.add_policy_share(group_arn("churn-a"), PERSONS_SHARE, feature_set=STANDARD, actions=DISCOVER, owned=False)
    shares.principals[PERSONS_SHARE] = [OTHER]
    return ours


def outcome_of(outcomes: list[GroupOutcome], action: str) -> GroupOutcome:
    return next(o for o in outcomes if o.group == "churn-a" and o.action == action)


def made_share(shares: FakeShares) -> str:
    arn, = shares.ledger.made
    return arn


def test_policy_to_shares_keeps_the_statement_and_promoted_share_until_every_consumer_accepted_the_made_share() -> None:
    owner, registry, shares, source = owner_with("policy")
    ours = shared_the_policy_way(registry, shares)
    source.edit(document("shares"))
    shares.invitations_wait = True

    waiting = outcome_of(owner.reconcile(), GroupAction.SWITCHING)
    made = made_share(shares)
    assert shares.resources[made] == [group_arn("churn-a")] and sorted(shares.principals[made]) == [CONSUMER, OTHER]
    assert ours in registry.policies["churn-a"]["Statement"], "the statement stays while invitations are pending"
    assert PROMOTED in shares.shares and shares.principals[PROMOTED] == [CONSUMER, OTHER]
    assert CONSUMER in waiting.reason and OTHER in waiting.reason

    shares.associating.discard((made, CONSUMER))  # one consumer accepted: still waiting for the other
    owner.reconcile()
    assert PROMOTED in shares.shares and ours in registry.policies["churn-a"]["Statement"]

    shares.accept_all()
    switched = outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert registry.policies["churn-a"]["Statement"] == [PERSONS_STATEMENT], "a person's statement stays"
    assert PROMOTED in shares.deleted_shares and not shares.ledger.shares.get(group_arn("churn-a"))
    assert not shares.ledger.statements.get(group_arn("churn-a"))
    assert PERSONS_SHARE in shares.shares and shares.principals[PERSONS_SHARE] == [OTHER], "a person's share stays"
    assert "deleted" in switched.reason
    # Done: the next run finds nothing to switch and changes nothing.
    writes = list(shares.ledger.writes)
    assert not [o for o in owner.reconcile() if o.action in (GroupAction.SWITCHING, GroupAction.SWITCHED)]
    assert shares.ledger.writes == writes


def test_a_switch_that_stopped_after_removing_the_statement_is_finished_by_the_next_run() -> None:
    owner, registry, shares, source = owner_with("policy")
    shared_the_policy_way(registry, shares)
    source.edit(document("shares"))
    deletes = 0

    def crash_once(share_arn: str) -> None:
        nonlocal deletes
        deletes += 1
        if deletes == 1:
            raise RuntimeError("the run stopped here")
        FakeShares.delete_share(shares, share_arn)

    shares.delete_share = crash_once  # type: ignore[method-assign]
    assert outcome_of(owner.reconcile(), GroupAction.FAILED)
    assert registry.policies["churn-a"]["Statement"] == [PERSONS_STATEMENT] and PROMOTED in shares.shares
    outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert PROMOTED not in shares.shares and not shares.ledger.shares.get(group_arn("churn-a"))


def test_while_a_switch_waits_the_old_access_is_narrowed_to_the_allowlist_and_nothing_is_added() -> None:
    owner, registry, shares, source = owner_with("policy")
    shared_the_policy_way(registry, shares)
    shares.invitations_wait = True
    source.edit(document("shares"))
    owner.reconcile()
    source.edit(document("shares", {**RULE, "consumers": [CONSUMER]}))  # OTHER is no longer allowed
    owner.reconcile()
    assert shares.principals[PROMOTED] == [CONSUMER], "the consumer the allowlist dropped leaves the old share"
    assert PROMOTED in shares.shares, "the one it keeps still waits for its new share"
    source.edit(document("shares", {**RULE, "groups": ["nothing-*"]}))  # the group is no longer shared at all
    owner.reconcile()
    assert PROMOTED not in shares.shares and registry.policies["churn-a"]["Statement"] == [PERSONS_STATEMENT]


def test_shares_to_policy_leaves_the_made_share_only_once_the_promoted_share_is_accepted_and_deletes_it_emptied() -> None:
    owner, registry, shares, source = owner_with("shares")
    owner.reconcile()
    made = made_share(shares)
    source.edit(document("policy"))

    first = owner.reconcile()
    assert policies.statements(registry.policies.get("churn-a")), "the policy mode writes its statement"
    assert shares.resources[made] == [group_arn("churn-a")], "the group stays in the made share meanwhile"
    assert outcome_of(first, GroupAction.SWITCHING)

    # RAM made the share from the policy and modelshare promoted it; its invitations are pending.
    shares.add_policy_share(group_arn("churn-a"), PROMOTED, feature_set=STANDARD, actions=DISCOVER)
    shares.principals[PROMOTED] = [CONSUMER, OTHER]
    shares.associating |= {(PROMOTED, CONSUMER), (PROMOTED, OTHER)}
    owner.reconcile()
    assert shares.resources[made] == [group_arn("churn-a")] and made in shares.shares

    shares.accept_all()
    outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert made in shares.deleted_shares and shares.ledger.made == {}, "the emptied made share is deleted and forgotten"
    assert shares.principals[PROMOTED] == [CONSUMER, OTHER]


def test_a_consumer_whose_invitation_to_the_made_share_lapsed_does_not_hold_up_the_switch_but_a_pending_one_does() -> None:
    owner, _, shares, source = owner_with("shares")
    shares.invitations_wait = True
    owner.reconcile()
    made = made_share(shares)
    shares.associating.discard((made, CONSUMER))  # OTHER has not accepted the made share (yet)
    source.edit(document("policy"))
    owner.reconcile()
    shares.add_policy_share(group_arn("churn-a"), PROMOTED, feature_set=STANDARD, actions=DISCOVER)
    shares.principals[PROMOTED] = [CONSUMER, OTHER]
    shares.associating |= {(PROMOTED, OTHER)}  # nor this one
    # OTHER could still accept the made share's invitation any moment: the group waits.
    assert OTHER in outcome_of(owner.reconcile(), GroupAction.SWITCHING).reason
    shares.principals[made].remove(OTHER)  # the invitation expired: RAM disassociated OTHER
    outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert made in shares.deleted_shares


def test_plan_says_which_groups_switch_now_and_which_wait_for_whom() -> None:
    from modelshare_cli.switch_summary import switch_lines

    owner, registry, shares, source = owner_with("policy")
    shared_the_policy_way(registry, shares)
    source.edit(document("shares"))
    shares.invitations_wait = True
    assert switch_lines(owner.reconcile())[1] == (
        f"  waits: churn-a: waiting for {CONSUMER}, {OTHER} to accept modelshare's share before the policy mode's "
        "access goes")
    shares.accept_all()
    assert switch_lines(owner.reconcile())[1] == "  now: the old mode's access goes for 1 group(s): churn-a"
    assert switch_lines(owner.reconcile()) == []


def pending_reads_per_run(shares: FakeShares) -> list[str]:
    """The kinds of the ASSOCIATING listings (RAM's pending associations) a run asks for, in order."""
    asked: list[str] = []
    listing = shares.associations

    def counted(kind: Any, *, status: Any = None) -> Any:
        if status == "ASSOCIATING":
            asked.append(kind)
        return listing(kind, status=status)

    shares.associations = counted  # type: ignore[method-assign]
    return asked


def test_a_run_switching_to_the_shares_mode_reads_each_kind_of_pending_association_once_at_most() -> None:
    """The shares mode's hand-over and room for invitations and the switch's reach each want to
    know which associations are pending: one run lists each kind once, however many ask."""
    owner, registry, shares, source = owner_with("policy")
    shared_the_policy_way(registry, shares)
    source.edit(document("shares"))
    shares.invitations_wait = True
    asked = pending_reads_per_run(shares)

    assert outcome_of(owner.reconcile(), GroupAction.SWITCHING)
    assert asked.count("PRINCIPAL") <= 1 and asked.count("RESOURCE") <= 1, asked
    asked.clear()
    shares.accept_all()
    assert outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert asked.count("PRINCIPAL") <= 1 and asked.count("RESOURCE") <= 1, asked


def test_a_run_switching_back_to_the_policy_mode_takes_pending_associations_from_its_index() -> None:
    """The policy mode's sweep read every association of the account's shares, pending or not:
    which of them are pending is known from that read, not asked again."""
    owner, _, shares, source = owner_with("shares")
    owner.reconcile()
    source.edit(document("policy"))
    owner.reconcile()
    shares.add_policy_share(group_arn("churn-a"), PROMOTED, feature_set=STANDARD, actions=DISCOVER)
    shares.principals[PROMOTED] = [CONSUMER, OTHER]
    shares.associating |= {(PROMOTED, OTHER)}
    asked = pending_reads_per_run(shares)

    assert OTHER in outcome_of(owner.reconcile(), GroupAction.SWITCHING).reason
    assert asked == [], "read with the index"
    asked.clear()
    shares.accept_all()
    assert outcome_of(owner.reconcile(), GroupAction.SWITCHED)
    assert asked == [], "read with the index"


def test_the_switch_takes_for_accepted_only_what_the_same_read_shows_associated() -> None:
    """RAM-ACCEPTED: a consumer reaches a group through a share once its principal association
    and the group's resource association are both ASSOCIATED in the pass the run read."""
    from modelshare.convergence import RamIndex
    from modelshare.owner.mode_switch import Reach
    from modelshare.ports import Association, ResourceShare

    made = "arn:aws:ram:eu-west-1:111122223333:resource-share/made-1"
    group = group_arn("churn-a")

    def reach(principal: str, resource: str) -> Reach:
        return Reach.of(RamIndex.build([ResourceShare(made, "modelshare-x-1", STANDARD, "ACTIVE")],
                                       [Association(made, group, resource)],
                                       [Association(made, CONSUMER, "ASSOCIATED"), Association(made, OTHER, principal)]))

    assert reach("ASSOCIATED", "ASSOCIATED").accepted(group, [made]) == {CONSUMER, OTHER}
    assert reach("ASSOCIATING", "ASSOCIATED").accepted(group, [made]) == {CONSUMER}
    assert reach("ASSOCIATED", "ASSOCIATING").accepted(group, [made]) == set(), "the group is not there yet"
    assert reach("ASSOCIATING", "ASSOCIATING").offered(group, [made]) == {CONSUMER, OTHER}
