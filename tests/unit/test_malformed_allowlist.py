"""Random bytes, random JSON and mutations of valid documents for the allowlist parser, one
parameter's or the parts' under a path (issue 9, malformed input): a document is parsed, or
refused with an AllowlistError whose problems are (JSON path, message) pairs, each printable on
one line; never any other exception. What a parsed document decides comes quickly, whatever its
patterns."""

from __future__ import annotations

import fnmatch
import json
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from modelshare.allowlist import Allowlist, AllowlistError, ShareRule
from modelshare.allowlist_parts import MAX_PARTS, TIER_LIMITS, merge, part_name, split
from tests.fuzzing import TEXT, decoded, json_texts, json_values, mutated, raw_bytes
from tests.unit.fakes import CONSUMER, OTHER, OWNER, allowlist_doc

PATH = "/modelshare/allowlist"
RULE = {"owner": OWNER, "groups": ["churn-*", "fraud-detector"], "consumers": [CONSUMER], "access": ["discover"]}
# Valid documents, as the tests of the parser and of the CLI use them.
VALID = [
    allowlist_doc(),
    allowlist_doc(RULE),
    allowlist_doc({"owner": OWNER, "groups": ["churn-*", "fraud-detector", "promo-*"], "consumers": [CONSUMER]},
                  {"owner": CONSUMER, "groups": ["their-*"], "consumers": [OWNER]}),
    allowlist_doc(RULE, {**RULE, "groups": ["m?del", "*"], "consumers": [OTHER, CONSUMER], "access": ["register", "deploy"]}),
]
KEYS = st.one_of(st.sampled_from(["version", "shares", "owner", "groups", "consumers", "access", "revision", "part",
                                  "parts", "Version", "shares ", ""]), TEXT)
# What a mutation puts in a document: values one step off the valid ones, or anything.
REPLACEMENTS = st.one_of(
    st.sampled_from([1, 1.0, True, "1", 2, 0, -1, None, OWNER, CONSUMER, int(OWNER), "11112222333", f" {OWNER}",
                     "churn-*", "*", "?", "", "a" * 63, "a" * 64, "bad name!", "m[o]del", "churn-\n", "discover", "deploy",
                     "admin", "DISCOVER", [OWNER], [OWNER, OWNER], [], {}, 10**400, float("nan"), float("inf")]),
    json_values(KEYS),
)
DOCUMENTS = st.one_of(st.sampled_from(VALID), st.sampled_from(VALID).flatmap(lambda d: mutated(d, REPLACEMENTS)),
                      json_values(KEYS))
TEXTS = json_texts(DOCUMENTS)
def assert_problems(error: AllowlistError, *roots: str) -> None:
    """Problems name where: a JSON path from `$` (or one of `roots`), and what, each on one line
    that UTF-8 can carry (it is printed, and logged: a lone surrogate would lose the line)."""
    assert error.problems and isinstance(error.problems, list)
    for path, message in error.problems:
        assert isinstance(path, str) and path.startswith(("$", *roots)), path
        assert isinstance(message, str) and message, message
        line = f"{path}: {message}"
        assert "\n" not in line and "\r" not in line, line
        line.encode("utf-8")
    assert str(error)


def parsed(document: Any) -> Allowlist | None:
    try:
        allowlist = Allowlist.parse(document)
    except AllowlistError as error:
        assert_problems(error)
        return None
    assert isinstance(allowlist, Allowlist)
    return allowlist


def decides_quickly(allowlist: Allowlist) -> None:
    """Every rule's owner, for names its patterns match or nearly match, and a long one."""
    started = time.monotonic()
    for rule in allowlist.rules:
        for name in {"a" * 63, "churn-xgb", *(p.replace("*", "a" * 30).replace("?", "b") for p in rule.groups)}:
            allowlist.decide(rule.owner, name)
            allowlist.decide(rule.owner, name + "-")
    assert time.monotonic() - started < 2, "deciding must not backtrack through the patterns"


@given(data=raw_bytes(TEXTS))
def test_random_bytes_are_parsed_or_refused_with_json_paths(data):
    parsed(data)


@given(data=raw_bytes(TEXTS), how=st.data())
def test_random_bytes_read_as_text_any_way_are_parsed_or_refused_with_json_paths(data, how):
    parsed(how.draw(decoded(data)))


@given(text=TEXTS)
def test_random_json_texts_are_parsed_or_refused_with_json_paths(text):
    allowlist = parsed(text)
    if allowlist is not None:
        decides_quickly(allowlist)


@given(document=DOCUMENTS)
def test_random_json_values_are_parsed_or_refused_with_json_paths(document):
    allowlist = parsed(document)
    if allowlist is not None:
        decides_quickly(allowlist)
        assert allowlist == Allowlist.parse(json.dumps(document)), "the text of a document says the same"


# -- path mode: the parts under a path ---------------------------------------------------------
def parts_of(document: dict[str, Any], tier: str = "Standard") -> dict[str, str]:
    return {part_name(n): value for n, value in enumerate(split(document, TIER_LIMITS[tier]), start=1)}


# Large enough to take several parts.
SPLIT = allowlist_doc(*({"owner": OWNER, "groups": [f"team-{i:03d}-*"], "consumers": [CONSUMER, OTHER]}
                        for i in range(120)))
# Parameter Store allows only these characters in a name.
PART_NAMES = st.one_of(st.sampled_from(["part-001", "part-002", "part-000", "part-999", "part-1000", "part-01",
                                        "Part-001", "part-001/x", "other", ""]),
                       st.text("abcpart-0123456789_./", max_size=12))


@st.composite
def mutated_parts(draw: st.DrawFn) -> dict[str, Any]:
    """The parts of a valid document, one of them changed (its JSON mutated, or its text), some
    renamed, dropped or added."""
    written = parts_of(draw(st.sampled_from([SPLIT, *VALID])))
    values: dict[str, Any] = dict(written)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(values))) if values else part_name(1)
        change = draw(st.sampled_from(["json", "json", "text", "value", "rename", "drop", "add"]))
        if change == "json" and name in written:  # the part as written (a changed one may be nested too deep to copy)
            values[name] = json.dumps(draw(mutated(json.loads(written[name]), REPLACEMENTS)))
        elif change == "text":
            values[name] = draw(json_texts(st.just(json.loads(written.get(name, "{}")))))
        elif change == "value":
            values[name] = draw(st.one_of(json_values(KEYS), TEXT))
        elif change == "rename" and name in values:
            values[draw(PART_NAMES)] = values.pop(name)
        elif change == "drop":
            values.pop(name, None)
        else:
            values[draw(PART_NAMES)] = draw(st.sampled_from(list(values.values()) or ["{}"]))
    return values


@given(values=mutated_parts())
def test_parts_are_merged_or_refused_with_the_part_and_json_path(values):
    try:
        merged = merge(values, PATH)
    except AllowlistError as error:
        assert_problems(error, PATH)
        return
    assert merged.allowlist == Allowlist.parse(merged.data)
    assert 1 <= merged.parts <= MAX_PARTS


@given(document=DOCUMENTS, tier=st.sampled_from(sorted(TIER_LIMITS)))
def test_documents_are_split_into_parts_that_merge_back_or_refused_with_json_paths(document, tier):
    try:
        values = parts_of(document, tier)
    except AllowlistError as error:
        assert_problems(error)
        return
    assert all(len(value) <= TIER_LIMITS[tier] for value in values.values())
    assert merge(values, PATH).allowlist == Allowlist.parse(document)


# -- group patterns ------------------------------------------------------------------------
@given(pattern=st.text("ab-*?", min_size=1, max_size=8), name=st.text("ab-", max_size=10))
def test_a_group_pattern_matches_as_fnmatch_with_only_star_and_question_mark(pattern, name):
    rule = ShareRule(0, OWNER, (pattern,), (CONSUMER,), frozenset({"discover"}))
    assert rule.matches(name) == fnmatch.fnmatchcase(name, pattern)
