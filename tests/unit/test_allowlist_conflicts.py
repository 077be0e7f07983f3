"""Rules that conflict (same owner, different access, patterns that can match one group name) are
found before any group exists, with a group name both match (issue 19, "Strict means strict")."""

import functools
import itertools
import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from modelshare.allowlist import Allowlist, _pattern_regex
from modelshare.allowlist_conflicts import MAX_NAME_LENGTH, common_group_name, conflicts
from tests.unit.fakes import CONSUMER, OTHER, OWNER, allowlist_doc

GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
# Brute force on a small alphabet: patterns of up to 3 characters over a, b, '-', '*', '?' and every
# name of up to 7 characters over a, b, c (a letter no pattern names) and '-'. A shortest common
# name of two such patterns is at most 7 long (pinned below), so the names cover every answer.
SMALL_NAMES = [name for n in range(1, 8) for name in map("".join, itertools.product("abc-", repeat=n))
               if GROUP_NAME.fullmatch(name)]
SMALL_PATTERNS = st.text(alphabet="ab-*?", min_size=1, max_size=3)


def matches(pattern: str, name: str) -> bool:
    return _pattern_regex(pattern).fullmatch(name) is not None  # the matcher Allowlist.decide uses


def is_group_name(name: str) -> bool:
    return 1 <= len(name) <= MAX_NAME_LENGTH and GROUP_NAME.fullmatch(name) is not None


@functools.cache
def small_names_matching(pattern: str) -> int:
    """Bit i set: SMALL_NAMES[i] matches `pattern` (names shortest first)."""
    regex = _pattern_regex(pattern)
    return int("".join("1" if regex.fullmatch(name) else "0" for name in reversed(SMALL_NAMES)), 2)


@settings(max_examples=500, deadline=None)
@given(a=SMALL_PATTERNS, b=SMALL_PATTERNS)
def test_two_patterns_overlap_exactly_when_brute_force_finds_a_name_both_match(a, b):
    both = small_names_matching(a) & small_names_matching(b)
    found = common_group_name(a, b)
    if not both:
        assert found is None, (a, b, found)
        return
    shortest = SMALL_NAMES[(both & -both).bit_length() - 1]
    assert found is not None, (a, b, shortest)
    assert matches(a, found) and matches(b, found) and is_group_name(found)
    assert len(found) == len(shortest), "a shortest name"
    assert common_group_name(b, a) is not None


def test_small_patterns_need_names_of_at_most_seven_characters():
    """What the brute force above relies on (every pair of small patterns, each way)."""
    patterns = ["".join(p) for n in range(1, 4) for p in itertools.product("ab-*?", repeat=n)]
    longest = max(len(name) for a in patterns for b in patterns if (name := common_group_name(a, b)) is not None)
    assert longest <= 7


@settings(max_examples=200, deadline=None)
@given(a=st.text(alphabet="aZ9-*?", min_size=1, max_size=63), b=st.text(alphabet="aZ9-*?", min_size=1, max_size=63))
def test_a_name_found_for_long_patterns_matches_both_and_is_a_group_name(a, b):
    found = common_group_name(a, b)
    if found is not None:
        assert matches(a, found) and matches(b, found) and is_group_name(found), (a, b, found)


def test_names_are_bounded_by_what_sagemaker_takes():
    assert common_group_name("a" * 30 + "*", "*" + "b" * 30) == "a" * 30 + "b" * 30
    assert common_group_name("a" * 32 + "*", "*" + "b" * 32) is None, "65 characters: no group has that name"
    assert common_group_name("?" * 63, "*") == "a" * 63
    assert common_group_name("?" * 63, "*-") is None
    assert common_group_name("-*", "*") is None, "a name never starts with a hyphen"
    assert common_group_name("*-", "a*") is None, "nor ends with one"
    assert common_group_name("a-*", "*-b") == "a-b"
    assert common_group_name("a*-*b", "a--b") == "a--b"
    assert common_group_name("churn-*", "*-xgb") == "churn-xgb"
    assert common_group_name("churn-*", "fraud-*") is None
    assert common_group_name("Churn-*", "churn-*") is None, "patterns are case-sensitive"


def test_many_stars_decide_at_once():
    started = time.monotonic()
    found = common_group_name("*a" * 31 + "*", "*b" * 31 + "*-*")
    assert found is not None and sorted(found) == sorted("a" * 31 + "b" * 31 + "-") and is_group_name(found)
    assert common_group_name("*a" * 32 + "*", "*b" * 32 + "*") is None, "64 characters at least"
    assert time.monotonic() - started < 2


RULE = {"owner": OWNER, "groups": ["fraud-*", "churn-*"], "consumers": [CONSUMER]}


def test_rules_of_one_owner_with_different_access_and_a_common_group_conflict():
    allowlist = Allowlist.parse(allowlist_doc(
        RULE,
        {**RULE, "groups": ["*-xgb"], "consumers": [OTHER], "access": ["deploy"]},
        {**RULE, "groups": ["promo"], "access": ["register"]},  # no group in common with the others
        {**RULE, "groups": ["churn-lr"], "access": ["discover"]},  # the same access as the first
    ))
    [conflict] = conflicts(allowlist)
    assert (conflict.first_path, conflict.second_path, conflict.example) == (
        "$.shares[0].groups[0]", "$.shares[1].groups[0]", "fraud-xgb")
    assert conflict.describe() == (
        f'$.shares[0].groups[0] "fraud-*" (access discover) and $.shares[1].groups[0] "*-xgb" (access discover, '
        f'deploy) of owner {OWNER} both match group "fraud-xgb": a group both match is shared with nobody')
    decision = allowlist.decide(OWNER, conflict.example)
    assert not decision.shared and decision.conflict is not None, "what decide does with that group"


def test_other_owners_and_equal_access_are_no_conflict():
    assert conflicts(Allowlist.parse(allowlist_doc(
        RULE, {**RULE, "owner": OTHER, "consumers": [CONSUMER], "access": ["deploy"]},
        {**RULE, "groups": ["*"], "consumers": [OTHER], "access": ["discover"]}))) == []
