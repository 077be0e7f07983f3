"""The shares mode keeps a consumer the allowlist keeps (issue 20, availability), and never grants
beyond the allowlist meanwhile: an edit that changes consumers during a shares -> policy switch,
a group a person associates into modelshare's share, and the order of a run's writes."""

from __future__ import annotations

from typing import Any

from modelshare.outcomes import GroupAction
from modelshare.owner.service import OwnerService
from modelshare.ports import STANDARD
from modelshare.share_layout import Bucket, kept_in_place, moved_whole, share_name
from modelshare.wiring import owner_from
from tests.unit.fakes import CONSUMER, OTHER, OWNER, FakeRegistry, FakeShares, FixedAllowlist, allowlist_doc, group_arn
from tests.unit.test_shares_mode import DISCOVER, calls_in_order

THIRD = "999900001111"
PROMOTED = "arn:aws:ram:eu-west-1:111122223333:resource-share/promoted-a"


def owner_with(names: set[str], doc: dict[str, Any]) -> tuple[OwnerService, FakeShares, FixedAllowlist]:
    shares = FakeShares(managed_action_sets=[DISCOVER])
    source = FixedAllowlist(doc)
    return owner_from(OWNER, FakeRegistry(names=names), shares, source, shares.ledger, sleep=lambda s: None), shares, source


def reachable(shares: FakeShares, group: str, consumer: str) -> bool:
    """The consumer reaches the group through an accepted association on some share."""
    return any(group_arn(group) in shares.resources.get(arn, []) and consumer in shares.principals.get(arn, [])
               and (arn, consumer) not in shares.associating for arn in shares.shares)


def reached_by(shares: FakeShares, consumer: str) -> set[str]:
    """Every resource the consumer can see through a share it is associated with (pending or not)."""
    return {r for arn in shares.shares if consumer in shares.principals.get(arn, []) for r in shares.resources.get(arn, [])}


# -- (a) shares -> policy, and in the same edit a group's consumers widen ----------------------
def switch_doc(mode: str, churn_a: list[str]) -> dict[str, Any]:
    return {**allowlist_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": churn_a},
                            {"owner": OWNER, "groups": ["churn-b"], "consumers": [CONSUMER, OTHER]}),
            "modes": {OWNER: mode}}


def test_a_group_widened_during_a_switch_to_the_policy_mode_stays_in_its_made_share_until_promoted() -> None:
    owner, shares, source = owner_with({"churn-a", "churn-b"}, switch_doc("shares", [CONSUMER, OTHER]))
    owner.reconcile()
    made, = shares.ledger.made
    source.edit(switch_doc("policy", [CONSUMER, OTHER, THIRD]))
    owner.reconcile()
    assert group_arn("churn-a") in shares.resources[made], "its promoted share is not accepted yet"
    assert sorted(shares.principals[made]) == [CONSUMER, OTHER], "THIRD never gets the made share"

    shares.add_policy_share(group_arn("churn-a"), PROMOTED, feature_set=STANDARD, actions=DISCOVER)
    shares.principals[PROMOTED] = [CONSUMER, OTHER, THIRD]
    shares.associating |= {(PROMOTED, CONSUMER), (PROMOTED, OTHER), (PROMOTED, THIRD)}
    owner.reconcile()
    assert group_arn("churn-a") in shares.resources[made], "still pending: CONSUMER and OTHER keep it meanwhile"
    assert reachable(shares, "churn-a", CONSUMER) and reachable(shares, "churn-a", OTHER)

    shares.accept_all()
    owner.reconcile()
    assert shares.resources[made] == [group_arn("churn-b")], "accepted: churn-a leaves the made share"


def test_a_group_narrowed_during_a_switch_still_leaves_its_made_share_at_once() -> None:
    """Only taking away: a consumer the allowlist no longer gives the group never keeps it."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, switch_doc("shares", [CONSUMER, OTHER]))
    owner.reconcile()
    made, = shares.ledger.made
    source.edit(switch_doc("policy", [CONSUMER]))
    owner.reconcile()
    assert group_arn("churn-a") not in shares.resources[made]
    assert sorted(shares.principals[made]) == [CONSUMER, OTHER]


def test_a_widening_the_sweep_meets_only_as_the_last_valid_allowlist_takes_nothing_away() -> None:
    """An edit widens churn-a and the next makes the allowlist invalid before a sweep ran: the
    last valid version only takes away, so churn-a keeps the share it is in (each of its
    consumers is still allowed) and no one is added."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, switch_doc("shares", [CONSUMER, OTHER]))
    owner.reconcile()
    made, = shares.ledger.made
    source.edit(switch_doc("shares", [CONSUMER, OTHER, THIRD]))
    source.edit({**switch_doc("shares", [CONSUMER, OTHER, THIRD]), "shares": "not a list"})
    owner.reconcile()
    assert sorted(shares.resources[made]) == sorted([group_arn("churn-a"), group_arn("churn-b")])
    assert sorted(shares.principals[made]) == [CONSUMER, OTHER] and list(shares.ledger.made) == [made]


# -- (b) a person associates a group of another bucket into modelshare's share --------------------
def churn_doc(churn: list[str]) -> dict[str, Any]:
    return {**allowlist_doc({"owner": OWNER, "groups": ["churn-*"], "consumers": churn},
                            {"owner": OWNER, "groups": ["other-*"], "consumers": [OTHER]}), "modes": {OWNER: "shares"}}


def test_a_group_a_person_put_into_a_share_does_not_stop_it_changing_bucket_in_place() -> None:
    owner, shares, source = owner_with({"churn-a", "churn-b", "other-x"}, churn_doc([CONSUMER]))
    owner.reconcile()
    churn_share = next(a for a in shares.ledger.made if group_arn("churn-a") in shares.resources[a])
    other_share = next(a for a in shares.ledger.made if a != churn_share)
    shares.invitations_wait = True
    source.edit(churn_doc([CONSUMER, OTHER]))
    shares.resources[churn_share].append(group_arn("other-x"))  # the person's AssociateResourceShare
    owner.reconcile()
    assert reachable(shares, "churn-a", CONSUMER) and reachable(shares, "churn-b", CONSUMER), "no new invitation"
    assert sorted(shares.resources[churn_share]) == sorted([group_arn("churn-a"), group_arn("churn-b")]), \
        "the person's group is taken out"
    assert shares.resources[other_share] == [group_arn("other-x")]
    assert set(shares.ledger.made) == {churn_share, other_share} and shares.deleted_shares == []
    assert shares.ledger.made[churn_share] == share_name(Bucket.of([CONSUMER, OTHER], DISCOVER).digest, 1)


def test_a_group_held_by_a_share_of_its_own_bucket_is_no_destination_of_another() -> None:
    a, b, x = "g/churn-a", "g/churn-b", "g/other-x"
    old, new, other = "a" * 12, "b" * 12, "c" * 12
    wanted = {a: new, b: new, x: other}
    current = {share_name(old, 1): (a, b, x), share_name(other, 1): (x,)}
    principals = {share_name(old, 1): (CONSUMER,)}
    consumers = {new: (CONSUMER, OTHER), other: (CONSUMER,)}  # the share's consumer is given x too
    assert moved_whole(wanted, current, principals, consumers) == {share_name(old, 1): share_name(new, 1)}
    assert moved_whole(wanted, {share_name(old, 1): (a, b, x)}, principals, consumers) == {}, "no home: a mover, two ways"


def test_only_taking_away_keeps_a_group_where_it_is_while_that_share_is_within_its_bucket() -> None:
    a, b, c, x = "g/a", "g/b", "g/c", "g/x"
    old, wider, narrower = "a" * 12, "b" * 12, "c" * 12
    current = {share_name(old, 1): (a, b, c, x), share_name(narrower, 1): (c,)}
    wanted = {a: wider, b: narrower, c: narrower, x: old}
    asked: list[tuple[str, str]] = []

    def within(name: str, bucket: str) -> bool:
        asked.append((name, bucket))
        return bucket == wider

    assert kept_in_place(wanted, current, within) == {**wanted, a: old}
    assert set(asked) == {(share_name(old, 1), narrower), (share_name(old, 1), wider)}, "c has its home"


# -- (c) what leaves a share leaves it before anyone new is invited to it -------------------------
def test_a_group_no_longer_shared_leaves_a_moved_share_before_its_new_consumer_is_added() -> None:
    doc = {**allowlist_doc({"owner": OWNER, "groups": ["churn-a", "churn-b"], "consumers": [CONSUMER]}),
           "modes": {OWNER: "shares"}}
    owner, shares, source = owner_with({"churn-a", "churn-b"}, doc)
    owner.reconcile()
    made, = shares.ledger.made
    order = calls_in_order(shares)
    source.edit({**allowlist_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": [CONSUMER, OTHER]}),
                 "modes": {OWNER: "shares"}})
    seen_by_other: list[set[str]] = []
    real = shares.associate_principals

    def watched(share_arn: str, principals: list[str]) -> None:
        real(share_arn, principals)
        seen_by_other.append(reached_by(shares, OTHER))

    shares.associate_principals = watched  # type: ignore[method-assign]
    owner.reconcile()
    assert seen_by_other == [{group_arn("churn-a")}], "OTHER was never offered churn-b"
    assert order.index(("disassociate_resources", made)) < order.index(("associate_principals", made)), order
    assert shares.resources[made] == [group_arn("churn-a")] and list(shares.ledger.made) == [made]


def test_a_group_a_person_put_into_a_share_leaves_it_before_a_consumer_is_added() -> None:
    owner, shares, source = owner_with({"churn-a", "churn-b", "secret-x"}, churn_doc([CONSUMER]))
    owner.reconcile()
    made = next(a for a in shares.ledger.made if group_arn("churn-a") in shares.resources[a])
    shares.resources[made].append(group_arn("secret-x"))  # allowlisted for no one
    order = calls_in_order(shares)
    source.edit(churn_doc([CONSUMER, OTHER]))
    outcomes = {o.group: o.action for o in owner.reconcile()}
    assert order.index(("disassociate_resources", made)) < order.index(("associate_principals", made)), order
    assert group_arn("secret-x") not in reached_by(shares, OTHER)
    assert outcomes["churn-a"] == GroupAction.CONVERGED
