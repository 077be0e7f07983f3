"""A group changing buckets in the shares mode leaves its old share only once its new share is
accepted (issue 20, availability; make-before-break, never beyond the allowlist), and a group a
person associates into modelshare's share never decides where the share's own groups go."""

from __future__ import annotations

from typing import Any

from modelshare.share_layout import Bucket, moved_whole, share_name
from tests.unit.fakes import CONSUMER, OTHER, OWNER, FakeShares, allowlist_doc, group_arn
from tests.unit.test_shares_mode import DISCOVER
from tests.unit.test_shares_mode_availability import THIRD, owner_with, reachable


def split_doc(churn_a: list[str], churn_b: list[str] | None = None) -> dict[str, Any]:
    return {**allowlist_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": churn_a},
                            {"owner": OWNER, "groups": ["churn-b"], "consumers": churn_b or [CONSUMER]}),
            "modes": {OWNER: "shares"}}


def share_of(shares: FakeShares, consumers: list[str]) -> str:
    digest = Bucket.of(consumers, DISCOVER).digest
    arn, = (a for a, name in shares.ledger.made.items() if name == share_name(digest, 1))
    return arn


def test_a_group_whose_rule_splits_stays_in_its_share_until_its_consumers_accepted_its_new_one() -> None:
    owner, shares, source = owner_with({"churn-a", "churn-b"}, split_doc([CONSUMER]))
    owner.reconcile()
    old, = shares.ledger.made
    shares.invitations_wait = True
    source.edit(split_doc([CONSUMER, OTHER]))
    owner.reconcile()
    new = share_of(shares, [CONSUMER, OTHER])
    assert shares.resources[new] == [group_arn("churn-a")] and sorted(shares.principals[new]) == [CONSUMER, OTHER]
    assert sorted(shares.resources[old]) == [group_arn("churn-a"), group_arn("churn-b")], "CONSUMER has not accepted"
    assert shares.principals[old] == [CONSUMER], "the old share grants no one the allowlist does not give churn-a"
    assert reachable(shares, "churn-a", CONSUMER)

    shares.associating.discard((new, OTHER))  # OTHER accepts: CONSUMER, who had it, still has not
    owner.reconcile()
    assert group_arn("churn-a") in shares.resources[old] and reachable(shares, "churn-a", CONSUMER)

    shares.accept_all()
    owner.reconcile()
    assert shares.resources[old] == [group_arn("churn-b")], "every consumer it kept accepted: it leaves"
    assert reachable(shares, "churn-a", CONSUMER) and reachable(shares, "churn-a", OTHER)
    assert set(shares.ledger.made) == {old, new}


def test_a_group_whose_rule_splits_to_other_consumers_leaves_its_share_at_once() -> None:
    """Narrowing: CONSUMER is no longer given churn-a, so the old share cannot keep it for anyone."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, split_doc([CONSUMER]))
    owner.reconcile()
    old, = shares.ledger.made
    shares.invitations_wait = True
    source.edit(split_doc([OTHER]))
    owner.reconcile()
    assert shares.resources[old] == [group_arn("churn-b")]
    assert not reachable(shares, "churn-a", CONSUMER)


def test_a_group_whose_new_share_a_quota_keeps_empty_stays_where_it_is() -> None:
    owner, shares, source = owner_with({"churn-a", "churn-b"}, split_doc([CONSUMER]))
    owner.reconcile()
    old, = shares.ledger.made
    shares.resource_quota_left = 0  # RAM's Region quota of resource associations: the group is in one share
    source.edit(split_doc([CONSUMER, OTHER]))
    owner.reconcile()
    assert sorted(shares.resources[old]) == [group_arn("churn-a"), group_arn("churn-b")]
    assert reachable(shares, "churn-a", CONSUMER)
    shares.resource_quota_left = None
    owner.reconcile()  # room: it joins its new share (accepted at once here), then leaves the old
    owner.reconcile()
    assert shares.resources[old] == [group_arn("churn-b")] and reachable(shares, "churn-a", CONSUMER)


# -- a group a person puts into modelshare's share before modelshare placed it anywhere ----------
def churn_doc(churn: list[str], other: list[str]) -> dict[str, Any]:
    return {**allowlist_doc({"owner": OWNER, "groups": ["churn-*"], "consumers": churn},
                            {"owner": OWNER, "groups": ["other-*"], "consumers": other}), "modes": {OWNER: "shares"}}


def test_a_group_a_person_put_in_before_modelshare_placed_it_does_not_stop_an_in_place_move() -> None:
    owner, shares, source = owner_with({"churn-a", "churn-b"}, churn_doc([CONSUMER], [OTHER]))
    owner.reconcile()
    churn_share, = shares.ledger.made
    owner.registry.names.add("other-x")  # allowlisted, not yet in any of modelshare's shares
    shares.invitations_wait = True
    source.edit(churn_doc([CONSUMER, OTHER], [OTHER]))
    shares.resources[churn_share].append(group_arn("other-x"))  # the person's AssociateResourceShare
    owner.reconcile()
    assert reachable(shares, "churn-a", CONSUMER) and reachable(shares, "churn-b", CONSUMER), "no new invitation"
    assert shares.deleted_shares == [] and shares.ledger.made[churn_share] == \
        share_name(Bucket.of([CONSUMER, OTHER], DISCOVER).digest, 1), "changed bucket in place"
    assert sorted(shares.resources[churn_share]) == [group_arn("churn-a"), group_arn("churn-b")]
    assert shares.resources[share_of(shares, [OTHER])] == [group_arn("other-x")]


def test_a_group_a_person_put_in_that_the_consumers_may_see_never_costs_them_access() -> None:
    """Whose group it is cannot be told from RAM: a group the share's consumers are given, of
    another bucket, keeps the share from moving, and then each group leaves it only once its new
    share is accepted."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, churn_doc([CONSUMER], [CONSUMER, THIRD]))
    owner.reconcile()
    churn_share, = shares.ledger.made
    owner.registry.names.add("other-x")
    shares.invitations_wait = True
    source.edit(churn_doc([CONSUMER, OTHER], [CONSUMER, THIRD]))
    shares.resources[churn_share].append(group_arn("other-x"))
    for _ in range(2):
        owner.reconcile()
        assert all(reachable(shares, g, CONSUMER) for g in ("churn-a", "churn-b", "other-x"))
        assert shares.principals[churn_share] == [CONSUMER]
    shares.accept_all()
    owner.reconcile()
    assert churn_share in shares.deleted_shares and all(reachable(shares, g, CONSUMER) for g in ("churn-a", "churn-b"))


def test_a_group_no_consumer_of_the_share_may_see_is_no_destination() -> None:
    a, b, x = "g/churn-a", "g/churn-b", "g/other-x"
    old, new, other = "a" * 12, "b" * 12, "c" * 12
    wanted = {a: new, b: new, x: other}
    current = {share_name(old, 1): (a, b, x)}
    consumers = {new: (CONSUMER, OTHER), other: (OTHER,)}
    principals = {share_name(old, 1): (CONSUMER,)}
    assert moved_whole(wanted, current, principals, consumers) == {share_name(old, 1): share_name(new, 1)}
    seen = {**consumers, other: (CONSUMER, THIRD)}
    assert moved_whole(wanted, current, principals, seen) == {}, "two destinations its consumers keep"
    assert moved_whole(wanted, current, {share_name(old, 1): ()}, consumers) == {}, "no consumer: nothing to keep"
