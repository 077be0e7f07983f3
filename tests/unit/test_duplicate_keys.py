"""A key given twice in one object, at any depth, makes an allowlist invalid, named by its JSON path
(issue 19, "Strict means strict"): json keeps the last one, a person reading the document (or
another parser) may take the first, so the document said one thing and did another."""

import json

import pytest

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_parts import merge, part_name, split
from modelshare.strict_json import loads, repeated_keys
from tests.unit.fakes import CONSUMER, OTHER, OWNER, allowlist_doc

PATH = "/modelshare/allowlist"


def text(template: str) -> str:
    """`template` with $OWNER, $CONSUMER, $OTHER and $RULE filled in."""
    rule = '{"owner": "$OWNER", "groups": ["churn-*"], "consumers": ["$CONSUMER"]}'
    return template.replace("$RULE", rule).replace("$OWNER", OWNER).replace("$CONSUMER", CONSUMER) \
        .replace("$OTHER", OTHER)


RULE = text("$RULE")


def problems_of(document) -> list[tuple[str, str]]:
    with pytest.raises(AllowlistError) as caught:
        Allowlist.parse(document)
    return caught.value.problems


@pytest.mark.parametrize(("text", "paths", "times"), [
    ('{"version": 2, "version": 1, "shares": []}', ["$.version"], 2),
    (text('{"version": 1, "shares": [], "shares": [$RULE]}'), ["$.shares"], 2),
    (text('{"version": 1, "shares": [{"owner": "$OTHER", "owner": "$OWNER", "groups": ["churn-*"], '
          '"consumers": ["$CONSUMER"]}]}'), ["$.shares[0].owner"], 2),
    (text('{"version": 1, "shares": [$RULE, {"owner": "$OWNER", "groups": ["a"], "consumers": ["$OTHER"], '
          '"consumers": ["$CONSUMER"]}]}'), ["$.shares[1].consumers"], 2),
    (text('{"version": 1, "shares": [$RULE, {"owner": "$OWNER", "groups": ["a"], "consumers": ["$CONSUMER"], '
          '"access": ["deploy"], "access": ["discover"], "access": ["discover"]}]}'), ["$.shares[1].access"], 3),
])
def test_a_repeated_key_is_a_problem_at_its_json_path(text, paths, times):
    json.loads(text)  # valid JSON, last wins
    problems = problems_of(text)
    assert [p for p, _ in problems] == paths
    assert all("duplicate key" in message for _, message in problems)
    assert f"({times} times in one object)" in problems[0][1]


def test_repeated_keys_deep_inside_anything_are_named_with_the_other_problems():
    document = text('{"version": 1, "shares": [$RULE], "x": {"a": 0, "a": [{"b": 1, "b": 2}], "odd key": 1, '
                    '"odd key": 2}}')
    assert problems_of(document) == [
        ("$.x.a", "duplicate key (2 times in one object): a reader cannot tell which one counts"),
        ('$.x["odd key"]', "duplicate key (2 times in one object): a reader cannot tell which one counts"),
        ("$.x.a[0].b", "duplicate key (2 times in one object): a reader cannot tell which one counts"),
        ("$.x", "unknown key"),
    ]


def test_a_document_decoded_elsewhere_keeps_its_repeated_keys_for_the_parser():
    """The CLI reads a file once (loads) and hands the decoded document to the parser and to
    split(): both refuse it."""
    data = loads(text('{"version": 1, "shares": [{"owner": "$OWNER", "groups": ["a"], "groups": ["b"], '
                      '"consumers": ["$CONSUMER"]}]}'))
    assert repeated_keys(data) == [("$.shares[0].groups", 2)]
    assert [p for p, _ in problems_of(data)] == ["$.shares[0].groups"]
    with pytest.raises(AllowlistError):
        split(data, 4096)
    assert repeated_keys(json.loads(json.dumps(data))) == [], "a plain dict repeats nothing"


def test_a_repeated_key_deeper_than_python_recurses_is_found():
    text = '{"version": 1, "shares": [], "x": ' + "[" * 5000 + '{"a": 1, "a": 2}' + "]" * 5000 + "}"
    assert [p for p, _ in problems_of(text)] == ["$.x" + "[0]" * 5000 + ".a", "$.x"]


def test_a_part_with_a_repeated_key_is_refused_with_its_name_and_path():
    values = {part_name(1): split(allowlist_doc(json.loads(RULE)), 4096)[0]}
    twice_revision = values["part-001"].replace('"revision":', '"revision":"' + "0" * 64 + '","revision":', 1)
    with pytest.raises(AllowlistError) as caught:
        merge({"part-001": twice_revision}, PATH)
    assert [p for p, _ in caught.value.problems] == [f"{PATH}/part-001 $.revision"]

    in_a_rule = values["part-001"].replace('"owner":', text('"owner":"$OTHER","owner":'), 1)
    with pytest.raises(AllowlistError) as caught:
        merge({"part-001": in_a_rule}, PATH)
    assert [p for p, _ in caught.value.problems] == [f"{PATH}/part-001 $.shares[0].owner"]
