import json
import time

import pytest

from modelshare.allowlist import ACCESS_ACTIONS, Allowlist, AllowlistError, actions_for
from modelshare.allowlist_parts import merge
from modelshare.strict_json import key_path
from tests.unit.fakes import CONSUMER, OTHER, OWNER, allowlist_doc

RULE = {"owner": OWNER, "groups": ["churn-*", "fraud-detector"], "consumers": [CONSUMER], "access": ["discover"]}


def problems_of(document) -> list[tuple[str, str]]:
    with pytest.raises(AllowlistError) as caught:
        Allowlist.parse(document)
    return caught.value.problems


def paths_of(document) -> list[str]:
    return [path for path, _ in problems_of(document)]


def test_issue_example_parses_and_decides():
    allowlist = Allowlist.parse(json.dumps(allowlist_doc(RULE)))
    decision = allowlist.decide(OWNER, "churn-xgb")
    assert decision.shared and decision.consumers == (CONSUMER,)
    assert decision.actions == ACCESS_ACTIONS["discover"]
    assert allowlist.decide(OWNER, "fraud-detector").shared
    assert not allowlist.decide(OWNER, "fraud-detector-v2").shared
    assert not allowlist.decide(OWNER, "Churn-xgb").shared, "patterns are case-sensitive"
    assert not allowlist.decide(CONSUMER, "churn-xgb").shared, "only the owner's rules apply to its groups"


def test_question_mark_matches_one_character_and_brackets_are_literal():
    allowlist = Allowlist.parse(allowlist_doc({**RULE, "groups": ["m?del"]}))
    assert allowlist.decide(OWNER, "model").shared
    assert not allowlist.decide(OWNER, "mdel").shared
    assert paths_of(allowlist_doc({**RULE, "groups": ["m[o]del"]})) == ["$.shares[0].groups[0]"]


def test_access_defaults_to_discover_and_discover_is_always_implied():
    no_access = {k: v for k, v in RULE.items() if k != "access"}
    assert Allowlist.parse(allowlist_doc(no_access)).decide(OWNER, "churn-a").actions == ACCESS_ACTIONS["discover"]
    deploy = Allowlist.parse(allowlist_doc({**RULE, "access": ["deploy"]})).decide(OWNER, "churn-a")
    assert set(deploy.actions) == set(ACCESS_ACTIONS["discover"]) | set(ACCESS_ACTIONS["deploy"])
    assert set(actions_for(["register"])) == set(ACCESS_ACTIONS["discover"]) | {"sagemaker:CreateModelPackage"}


def test_rules_with_same_access_union_their_consumers():
    allowlist = Allowlist.parse(allowlist_doc(RULE, {**RULE, "groups": ["churn-xgb"], "consumers": [OTHER]}))
    assert allowlist.decide(OWNER, "churn-xgb").consumers == tuple(sorted([CONSUMER, OTHER]))
    assert allowlist.decide(OWNER, "churn-lr").consumers == (CONSUMER,)


def test_rules_with_different_access_are_a_conflict_and_share_nothing():
    allowlist = Allowlist.parse(allowlist_doc(RULE, {**RULE, "groups": ["churn-xgb"], "access": ["deploy"]}))
    decision = allowlist.decide(OWNER, "churn-xgb")
    assert not decision.shared and decision.consumers == ()
    assert "$.shares[0]" in decision.conflict and "$.shares[1]" in decision.conflict
    assert allowlist.decide(OWNER, "churn-lr").shared, "only the doubly matched group conflicts"


@pytest.mark.parametrize(
    ("document", "expected_paths"),
    [
        ("not json", ["$"]),
        ([], ["$"]),
        ({"shares": []}, ["$.version"]),
        ({"version": 2, "shares": []}, ["$.version"]),
        ({"version": "1", "shares": []}, ["$.version"]),
        ({"version": True, "shares": []}, ["$.version"]),
        ({"version": 1}, ["$.shares"]),
        ({"version": 1, "shares": {}}, ["$.shares"]),
        ({"version": 1, "shares": [], "extra": 1}, ["$.extra"]),
        (allowlist_doc({**RULE, "owner": "1111"}), ["$.shares[0].owner"]),
        (allowlist_doc({**RULE, "owner": 111122223333}), ["$.shares[0].owner"]),
        (allowlist_doc({**RULE, "consumers": ["44445555666a"]}), ["$.shares[0].consumers[0]"]),
        (allowlist_doc({**RULE, "consumers": [CONSUMER, OWNER]}), ["$.shares[0].consumers[1]"]),
        (allowlist_doc({**RULE, "consumers": []}), ["$.shares[0].consumers"]),
        (allowlist_doc({**RULE, "consumers": [CONSUMER, CONSUMER]}), ["$.shares[0].consumers[1]"]),
        (allowlist_doc({**RULE, "groups": []}), ["$.shares[0].groups"]),
        (allowlist_doc({**RULE, "groups": "churn-*"}), ["$.shares[0].groups"]),
        (allowlist_doc({**RULE, "groups": ["churn_*"]}), ["$.shares[0].groups[0]"]),
        (allowlist_doc({**RULE, "access": ["admin"]}), ["$.shares[0].access[0]"]),
        (allowlist_doc({**RULE, "access": "discover"}), ["$.shares[0].access"]),
        (allowlist_doc({**RULE, "Consumers": [CONSUMER]}), ["$.shares[0].Consumers"]),
        (allowlist_doc({k: v for k, v in RULE.items() if k != "owner"}), ["$.shares[0].owner"]),
        (allowlist_doc(RULE, "rule"), ["$.shares[1]"]),
    ],
)
def test_invalid_documents_name_the_json_path(document, expected_paths):
    assert paths_of(document) == expected_paths


def test_every_problem_is_reported_not_just_the_first():
    document = {"version": 3, "shares": [{**RULE, "owner": "x", "consumers": ["y"]}], "z": 0}
    assert paths_of(document) == ["$.z", "$.version", "$.shares[0].owner", "$.shares[0].consumers[0]"]
    assert "$.shares[0].owner: must be a 12-digit account ID" in str(AllowlistError(problems_of(document)))


def test_owners_sharing_with_a_consumer():
    allowlist = Allowlist.parse(allowlist_doc(RULE, {"owner": OTHER, "groups": ["*"], "consumers": [OWNER]}))
    assert allowlist.owners_sharing_with(CONSUMER) == {OWNER}
    assert allowlist.owners_sharing_with(OWNER) == {OTHER}
    assert allowlist.owners_sharing_with(OTHER) == set()


# -- regressions found by the malformed-input tests (issue 9) --------------------------------
def test_json_nested_deeper_than_json_decodes_is_invalid_not_a_crash():
    """json.loads raises RecursionError, not ValueError, on such a text: it escaped the parser,
    and a handler reading that parameter failed (retried) instead of sharing nothing."""
    for text in ("[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"version": 1, "shares": ' + "[" * 100_000):
        assert [path for path, _ in problems_of(text)] == ["$"]
    with pytest.raises(AllowlistError) as refused:
        merge({"part-001": "[" * 100_000}, "/modelshare/allowlist")
    assert [path for path, _ in refused.value.problems] == ["/modelshare/allowlist/part-001 $"]


def test_objects_json_never_makes_are_refused_with_json_paths_too():
    """A message showed the value as JSON, and json.dumps raised ValueError on an int too long to
    print and RecursionError on nesting deeper than it writes. json.loads makes neither, but
    Allowlist.parse takes any object."""
    too_deep: list = []
    for _ in range(100_000):
        too_deep = [too_deep]
    assert problems_of({"version": 10**5000, "shares": []}) == [("$.version", "must be 1, not a number")]
    assert problems_of({"version": too_deep, "shares": []}) == [("$.version", "must be 1, not a list")]
    assert problems_of(allowlist_doc({**RULE, "owner": 10**5000})) == [
        ("$.shares[0].owner", "must be a 12-digit account ID string, not a number")]


def test_odd_keys_are_named_by_json_paths_that_stay_on_one_line():
    """An unknown key went into its path as it was: a newline in it split the problem over two
    lines (the second could pass for another problem), and a lone surrogate kept it from being
    printed or logged as UTF-8."""
    document = {"version": 1, "shares": [{**RULE, "x\n$.shares[0].owner": 1, "\udcff": 2, "ok_key": 3}], "a.b": 4}
    assert paths_of(document) == [
        '$["a.b"]', "$.shares[0].ok_key", '$.shares[0]["x\\n$.shares[0].owner"]', '$.shares[0]["\\udcff"]']


@pytest.mark.parametrize("pattern", ["*" * 30 + "b", "*a" * 20 + "b", "*-*-*-*-*-*-*-*-*-*-x", "**?*?*?*?*?*?*?*?*?*?c"])
def test_a_pattern_of_many_stars_decides_at_once(pattern):
    """Patterns were regular expressions with one `.*` per star, which backtrack through every
    split of the name: nine stars against a 40-character name took seconds, a few more hours, in
    every invocation deciding about the group. Matching is unchanged (tests/unit/
    test_malformed_allowlist.py compares it with fnmatch)."""
    allowlist = Allowlist.parse(allowlist_doc({**RULE, "groups": [pattern]}))
    started = time.monotonic()
    for name in ("a" * 63, "a-" * 31 + "a"):
        assert not allowlist.decide(OWNER, name).shared
    assert allowlist.decide(OWNER, pattern.replace("*", "a").replace("?", "b")).shared
    assert time.monotonic() - started < 1


# -- sharing modes (issue 20): which way each owner shares ----------------------------------------
def test_an_owner_named_in_modes_shares_that_way_and_the_others_take_the_stack_default():
    allowlist = Allowlist.parse({**allowlist_doc(RULE), "modes": {OWNER: "shares", OTHER: "policy"}})
    assert allowlist.mode_for(OWNER, default="policy") == "shares"
    assert allowlist.mode_for(OTHER, default="shares") == "policy"
    assert allowlist.mode_for(CONSUMER, default="shares") == "shares"
    assert Allowlist.parse(allowlist_doc(RULE)).mode_for(OWNER, default="policy") == "policy"


@pytest.mark.parametrize(("modes", "expected_paths"), [
    ([], ["$.modes"]),
    ("shares", ["$.modes"]),
    ({OWNER: "share"}, [key_path("$.modes", OWNER)]),
    ({OWNER: "Shares"}, [key_path("$.modes", OWNER)]),
    ({OWNER: None}, [key_path("$.modes", OWNER)]),
    ({"1111": "shares"}, [key_path("$.modes", "1111")]),
    ({"１１１１２２２２３３３３": "shares"}, [key_path("$.modes", "１１１１２２２２３３３３")]),
    ({OWNER: "policy", "owner": "shares"}, ["$.modes.owner"]),
])
def test_an_unknown_mode_or_a_key_that_is_no_account_makes_the_allowlist_invalid(modes, expected_paths):
    assert paths_of({**allowlist_doc(RULE), "modes": modes}) == expected_paths


def test_a_mode_named_twice_for_one_owner_is_invalid():
    text = f'{{"version": 1, "shares": [], "modes": {{"{OWNER}": "policy", "{OWNER}": "shares"}}}}'
    assert paths_of(text) == [key_path("$.modes", OWNER)]


def test_a_group_is_decided_once_per_allowlist_read(monkeypatch):
    """The consumer judges each group of a share of thousands twice (what it holds, then what it
    may grant) and the owner's sweep decides again what it laid out: an allowlist, read once per
    run and never changed, matches each group against its rules once."""
    from modelshare.allowlist import ShareRule

    matched: list[str] = []
    match = ShareRule.matches
    monkeypatch.setattr(ShareRule, "matches", lambda rule, name: matched.append(name) or match(rule, name))
    allowlist = Allowlist.parse(json.dumps(allowlist_doc(RULE, {**RULE, "groups": ["scratch-*"]})))
    first = allowlist.decide(OWNER, "churn-xgb")
    assert allowlist.decide(OWNER, "churn-xgb") is first and matched == ["churn-xgb"] * 2, "two rules, once each"
    assert allowlist.decide(OTHER, "churn-xgb").consumers == (), "per owner"
    assert not allowlist.decide(OWNER, "fraud").shared
    assert Allowlist.parse(json.dumps(allowlist_doc(RULE))).decide(OWNER, "churn-xgb") == first, "a new read decides anew"
    assert Allowlist.parse(json.dumps(allowlist_doc(RULE))) == Allowlist.parse(json.dumps(allowlist_doc(RULE)))
