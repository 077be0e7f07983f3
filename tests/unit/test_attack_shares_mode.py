"""Adversarial review of issue 20's shares mode (make-before-break, moves in place, the order of
a run's writes): each test states a moment at which modelshare would grant an account more than
the allowlist gives it (before or after the edit), or take away what a person made."""

from __future__ import annotations

import contextlib
from typing import Any

from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot
from tests.unit.fakes import CONSUMER, OTHER, OWNER, FakeShares, allowlist_doc, group_arn
from tests.unit.test_shares_mode_availability import owner_with, reachable

REGISTER = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"] + ACCESS_ACTIONS["register"])


def shares_doc(*rules: dict[str, Any]) -> dict[str, Any]:
    return {**allowlist_doc(*rules), "modes": {OWNER: "shares"}}


def grants_at_each_write(shares: FakeShares) -> list[set[tuple[str, str, frozenset[str]]]]:
    """After every RAM write: (consumer, group, actions) that some share grants (any status)."""
    seen: list[set[tuple[str, str, frozenset[str]]]] = []

    def snapshot() -> set[tuple[str, str, frozenset[str]]]:
        grants = set()
        for arn in shares.shares:
            actions = frozenset().union(*(shares.permission_action_sets.get(p.arn, frozenset())
                                          | _customer_actions(shares, p.arn) for p in shares.share_permissions.get(arn, [])))
            for consumer in shares.principals.get(arn, []):
                for group in shares.resources.get(arn, []):
                    grants.add((consumer, group, actions))
        return grants

    for method in ("disassociate_principals", "associate_principals", "replace_permission", "delete_share",
                   "disassociate_resources", "associate_resources", "create_share", "disassociate_permission"):
        real = getattr(shares, method)

        def recorded(*args: Any, _real: Any = real) -> Any:
            result = _real(*args)
            seen.append(snapshot())
            return result

        setattr(shares, method, recorded)
    return seen


def _customer_actions(shares: FakeShares, permission_arn: str) -> frozenset[str]:
    return next((a for p, a in shares.customer_permissions.values() if p.arn == permission_arn), frozenset())


def test_a_share_moved_in_place_never_widens_while_it_still_holds_a_group_leaving_it() -> None:
    """FINDING 1. churn-a and churn-b share one made share (CONSUMER, discover). The edit gives
    churn-a discover+register to CONSUMER and churn-b to OTHER only. The share moves whole to
    churn-a's new bucket (churn-b's consumers do not overlap it, so it is no destination), and the
    run widens its permission in the loop, while churn-b is taken out only after every put-in:
    meanwhile CONSUMER holds register on churn-b, which no version of the allowlist ever gave."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, shares_doc(
        {"owner": OWNER, "groups": ["churn-a", "churn-b"], "consumers": [CONSUMER]}))
    shares.managed_action_sets.append(REGISTER)
    owner.reconcile()
    seen = grants_at_each_write(shares)
    source.edit(shares_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": [CONSUMER],
                            "access": ["discover", "register"]},
                           {"owner": OWNER, "groups": ["churn-b"], "consumers": [OTHER]}))
    owner.reconcile()
    assert (CONSUMER, group_arn("churn-a"), REGISTER) in seen[-1], "the edit itself is applied"
    assert not any((CONSUMER, group_arn("churn-b"), REGISTER) in grants for grants in seen), \
        "CONSUMER was granted register on churn-b, which no allowlist gives it"


def test_a_run_that_fails_after_widening_a_moved_share_leaves_no_group_it_was_leaving_in_it() -> None:
    """FINDING 1, lasting: the same edit, and RAM throttles the making of churn-b's new share
    (sorted after the moved one). The run fails between widening the moved share and taking
    churn-b out of it, so CONSUMER keeps register on churn-b until a later run succeeds."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, shares_doc(
        {"owner": OWNER, "groups": ["churn-a", "churn-b"], "consumers": [CONSUMER]}))
    shares.managed_action_sets.append(REGISTER)
    owner.reconcile()
    real = shares.create_share

    def throttled(*args: Any) -> Any:
        raise RuntimeError("ThrottlingException: Rate exceeded")

    shares.create_share = throttled  # type: ignore[method-assign,assignment]
    source.edit(shares_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": [CONSUMER],
                            "access": ["discover", "register"]},
                           {"owner": OWNER, "groups": ["churn-b"], "consumers": [OTHER]}))
    with contextlib.suppress(RuntimeError):  # the sweep fails; the next scheduled one retries
        owner.reconcile()
    shares.create_share = real  # type: ignore[method-assign]
    granted = grants_at_each_write(shares)
    shares.disassociate_principals(next(iter(shares.shares)), [])  # a no-op write: one snapshot of RAM now
    assert (CONSUMER, group_arn("churn-b"), REGISTER) not in granted[-1], \
        "after the failed run CONSUMER holds register on churn-b"


def test_a_worker_never_invites_a_consumer_to_a_share_still_holding_a_group_a_person_put_in() -> None:
    """FINDING 2. A work item (the sweep's, ShareOnCreate's hand-over, or anyone's who may send to
    the queue) converges only the groups it names (`partial`): strays are not taken out, yet the
    bucket's missing consumers are invited. A person removes OTHER from modelshare's share and
    puts secret-x in; the worker re-invites OTHER to a share holding secret-x, which the allowlist
    gives no one (shares_mode's docstring: a consumer new to a share never sees a group a person
    put in)."""
    owner, shares, _ = owner_with({"churn-a", "churn-b", "secret-x"}, shares_doc(
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, OTHER]}))
    owner.reconcile()
    made, = shares.ledger.made
    shares.disassociate_principals(made, [OTHER])  # the person's DisassociateResourceShare
    shares.resources[made].append(group_arn("secret-x"))  # the person's AssociateResourceShare
    offered: list[set[str]] = []
    real = shares.associate_principals

    def watched(share_arn: str, principals: list[str]) -> None:
        real(share_arn, principals)
        if OTHER in principals:
            offered.append(set(shares.resources[share_arn]))

    shares.associate_principals = watched  # type: ignore[method-assign]
    owner.reconcile_items([work_item(GroupSnapshot("churn-a", group_arn("churn-a")))])
    assert not any(group_arn("secret-x") in held for held in offered), \
        "OTHER was invited to modelshare's share while it held secret-x"


def test_a_rule_split_in_two_keeps_the_share_in_place_for_one_side() -> None:
    """FINDING 3 (availability). churn-a and churn-b share one made share (CONSUMER and OTHER).
    The edit gives churn-a to CONSUMER only and churn-b to OTHER only: two destinations, so the
    share does not move, neither is within the old share (it names both consumers), both leave
    at once, the share is deleted, and both consumers lose their group until they accept a new
    invitation. Moving the share in place to one side (removing the other consumer first, a
    narrowing) would keep that side's access with no invitation, as a whole move does."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, shares_doc(
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, OTHER]}))
    owner.reconcile()
    shares.invitations_wait = True
    source.edit(shares_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": [CONSUMER]},
                           {"owner": OWNER, "groups": ["churn-b"], "consumers": [OTHER]}))
    owner.reconcile()
    assert reachable(shares, "churn-a", CONSUMER) or reachable(shares, "churn-b", OTHER), \
        "both consumers lost their group until they accept a new invitation"


def test_a_worker_takes_a_persons_subnet_out_before_judging_the_shares_permissions() -> None:
    """FINDING 2b (same root): a person associates a subnet and attaches a permission for subnets
    to modelshare's share. The sweep takes the subnet out, then the permission off, and the share
    keeps its consumers (RAM-PERMISSION-OFF). A worker converging one named group (`partial`)
    takes no stray out, so RAM refuses taking the permission off and the run removes every
    consumer: they need a new invitation, though the allowlist never changed."""
    from tests.unit.test_made_share_permissions import SUBNET_PERMISSION
    owner, shares, _ = owner_with({"churn-a", "churn-b"}, shares_doc(
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, OTHER]}))
    owner.reconcile()
    made, = shares.ledger.made
    shares.resources[made].append(f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0abc")  # the person's
    shares.share_permissions[made].append(SUBNET_PERMISSION)
    owner.reconcile_items([work_item(GroupSnapshot("churn-a", group_arn("churn-a")))])
    assert sorted(shares.principals[made]) == [CONSUMER, OTHER], "the consumers were taken off modelshare's share"


def test_a_rule_split_that_widens_both_sides_keeps_both_groups_in_the_share_until_handed_over() -> None:
    """The move of FINDING 3 is made only when it keeps every group the share would keep: here
    each side adds a consumer, the share (CONSUMER) is within both, so it stays and keeps both
    groups for CONSUMER until the new shares are accepted (a move to one side would take the other
    group out at once, its bucket not giving the moved share's new consumer)."""
    owner, shares, source = owner_with({"churn-a", "churn-b"}, shares_doc(
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}))
    owner.reconcile()
    shares.invitations_wait = True
    third = "222233334444"
    source.edit(shares_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": [CONSUMER, OTHER]},
                           {"owner": OWNER, "groups": ["churn-b"], "consumers": [CONSUMER, third]}))
    owner.reconcile()
    assert reachable(shares, "churn-a", CONSUMER) and reachable(shares, "churn-b", CONSUMER)
