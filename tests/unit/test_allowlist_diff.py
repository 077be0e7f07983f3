"""allowlist_diff: rule-by-rule changes between two allowlist documents, in words."""

from modelshare.allowlist import Allowlist
from modelshare.allowlist_diff import ADDED, CHANGED, REMOVED, describe, diff

OWNER = "111122223333"
OTHER_OWNER = "222233334444"
A, B, C = "444455556666", "555566667777", "666677778888"


def doc(*rules):
    return Allowlist.parse({"version": 1, "shares": list(rules)})


def rule(consumers, groups=("churn-*",), owner=OWNER, access=None):
    entry = {"owner": owner, "groups": list(groups), "consumers": list(consumers)}
    if access is not None:
        entry["access"] = access
    return entry


def test_equal_documents_have_no_changes_even_reordered():
    old = doc(rule([A, B], groups=["churn-*", "fraud"]), rule([C], owner=OTHER_OWNER))
    new = doc(rule([C], owner=OTHER_OWNER), rule([B, A], groups=["fraud", "churn-*"], access=["discover"]))
    assert diff(old, new) == []
    assert describe([]) == ["no changes"]


def test_consumers_gained_and_lost():
    change, = diff(doc(rule([A, B])), doc(rule([B, C])))
    assert change.kind == CHANGED
    assert change.consumers_gained == (C,)
    assert change.consumers_lost == (A,)
    assert change.lines() == [
        f"~ changed rule $.shares[0] (owner {OWNER}, groups churn-*)",
        f"    + consumer {C}",
        f"    - consumer {A}",
    ]


def test_access_change_is_reported_in_documented_order():
    change, = diff(doc(rule([A])), doc(rule([A], access=["deploy", "register"])))
    assert change.access_gained == ("register", "deploy")
    assert change.access_lost == ()
    assert change.lines()[-1] == "    access: discover -> discover, register, deploy"


def test_implied_discover_is_not_a_change():
    assert diff(doc(rule([A], access=["register"])), doc(rule([A], access=["discover", "register"]))) == []


def test_changed_groups_read_as_removed_and_added():
    changes = diff(doc(rule([A], groups=["churn-*"])), doc(rule([A], groups=["churn-*", "fraud"])))
    assert [(c.kind, c.groups) for c in changes] == [(ADDED, ("churn-*", "fraud")), (REMOVED, ("churn-*",))]
    lines = describe(changes)
    assert lines[0] == f"+ added rule $.shares[0] (owner {OWNER}, groups churn-*, fraud)"
    assert f"    consumers: {A}" in lines
    assert f"- removed rule $.shares[0] (owner {OWNER}, groups churn-*)" in lines
    assert f"    consumers lost: {A}" in lines


def test_from_nothing_every_rule_is_added_and_to_nothing_removed():
    new = doc(rule([A]), rule([B], owner=OTHER_OWNER))
    assert [c.kind for c in diff(None, new)] == [ADDED, ADDED]
    assert [c.kind for c in diff(new, None)] == [REMOVED, REMOVED]


def test_rules_with_the_same_key_pair_in_order():
    old = doc(rule([A]), rule([B]))
    new = doc(rule([A]), rule([B]), rule([C]))
    change, = diff(old, new)
    assert (change.kind, change.new.consumers) == (ADDED, (C,))
    change, = diff(new, old)
    assert (change.kind, change.old.consumers) == (REMOVED, (C,))
