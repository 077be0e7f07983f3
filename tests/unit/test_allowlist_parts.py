"""Path mode: one document over the parts under a path, accepted only as a whole (fail closed)."""

import json

import boto3
import pytest

from modelshare.allowlist import AllowlistError
from modelshare.allowlist_parts import TIER_LIMITS, AllowlistIncomplete, merge, part_name, revision_of, split
from modelshare.aws.allowlist_store import SsmAllowlistPathSource, SsmAllowlistSource, allowlist_source
from modelshare.settings import Settings
from tests.unit.fakes import CONSUMER, OTHER, OWNER, allowlist_doc

PATH = "/modelshare/allowlist"
STANDARD = TIER_LIMITS["Standard"]


def rules(count: int) -> list[dict]:
    return [{"owner": OWNER, "groups": [f"team-{i:03d}-*", f"model-{i:03d}"], "consumers": [CONSUMER, OTHER],
             "access": ["discover", "register"]} for i in range(count)]


def stored(document: dict, limit: int = STANDARD) -> dict[str, str]:
    return {part_name(n): value for n, value in enumerate(split(document, limit), start=1)}


def problems_of(values: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(AllowlistError) as caught:
        merge(values, PATH)
    return caught.value.problems


def test_three_hundred_rules_split_into_parts_that_fit_and_merge_back():
    document = allowlist_doc(*rules(300))
    values = stored(document)
    assert 10 < len(values) < 20
    assert all(len(value) <= STANDARD for value in values.values())
    merged = merge(values, PATH)
    assert merged.data == document and merged.parts == len(values)
    assert merged.revision == revision_of(document)
    assert len(merged.allowlist.rules) == 300
    assert merged.allowlist.decide(OWNER, "model-299").consumers == tuple(sorted([CONSUMER, OTHER]))
    advanced = stored(document, TIER_LIMITS["Advanced"])
    assert len(advanced) <= 9, "an advanced tier holds 300 such rules in at most 9 parts: one read"


def test_a_small_document_is_one_part_and_the_revision_ignores_spacing_and_key_order():
    document = allowlist_doc(*rules(2))
    assert list(stored(document)) == ["part-001"]
    reordered = json.loads(json.dumps(document, sort_keys=True, indent=4))
    assert revision_of(reordered) == revision_of(document)
    assert revision_of(allowlist_doc(*rules(1))) != revision_of(document)


def test_parts_of_two_revisions_are_refused_whole():
    old = stored(allowlist_doc(*rules(100)))
    new = stored(allowlist_doc(*rules(101)))
    half_written = {**old, "part-001": new["part-001"]}
    (where, message), = problems_of(half_written)
    assert where == PATH and "different revisions" in message and "part-001" in message


def test_a_missing_part_or_one_left_over_is_refused():
    values = stored(allowlist_doc(*rules(100)))
    last = max(values)
    (where, message), = problems_of({k: v for k, v in values.items() if k != "part-002"})
    assert where == PATH and "missing part-002" in message
    (_, message), = problems_of({k: v for k, v in values.items() if k != last})
    assert f"missing {last}" in message
    fewer = stored(allowlist_doc(*rules(1)))
    assert "unexpected" not in message
    mixed = problems_of({**values, **fewer})
    assert "different revisions" in mixed[0][1]


def test_nothing_under_the_path_is_no_allowlist():
    (where, message), = problems_of({})
    assert where == "$" and PATH in message


def test_a_part_edited_by_hand_no_longer_adds_up_to_its_revision():
    values = stored(allowlist_doc(*rules(100)))
    fragment = json.loads(values["part-002"])
    fragment["shares"][0]["consumers"] = [OTHER]
    (where, message), = problems_of({**values, "part-002": json.dumps(fragment)})
    assert where == PATH and "do not add up" in message


def test_a_rule_repeated_across_parts_is_refused_at_its_place_in_the_whole_document():
    shares = rules(100)
    repeated = allowlist_doc(*shares, {**shares[3], "consumers": list(reversed(shares[3]["consumers"]))})
    with pytest.raises(AllowlistError) as caught:
        split(repeated, STANDARD)
    assert caught.value.problems == [("$.shares[100]", "repeats $.shares[3]")]
    # Written by hand with a correct revision, the reader refuses it too.
    values = _written_by_hand(repeated, {1: repeated["shares"][:60], 2: repeated["shares"][60:]})
    assert problems_of(values) == [("$.shares[100]", "repeats $.shares[3]")]


def test_invalid_rules_are_named_by_their_place_in_the_whole_document():
    document = allowlist_doc(*rules(60))
    document["shares"][45]["owner"] = "12"
    values = _written_by_hand(document, {1: document["shares"][:30], 2: document["shares"][30:]})
    assert [where for where, _ in problems_of(values)] == ["$.shares[45].owner"]


def test_a_rule_too_large_for_one_part_is_refused_before_anything_is_written():
    huge = {"owner": OWNER, "groups": [f"g{i:05d}-*" for i in range(400)], "consumers": [CONSUMER]}
    with pytest.raises(AllowlistError) as caught:
        split(allowlist_doc(*rules(3), huge), STANDARD)
    (where, message), = caught.value.problems
    assert where == "$.shares[3]" and "too large" in message and "4096" in message
    assert len(split(allowlist_doc(*rules(3), huge), TIER_LIMITS["Advanced"])) == 1


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("notes", None, f"{PATH}/notes"),
    ("part-000", None, f"{PATH}/part-000"),
    ("part-001", "not json", f"{PATH}/part-001 $"),
    ("part-001", "[]", f"{PATH}/part-001 $"),
    ("part-001", {"drop": "revision"}, f"{PATH}/part-001 $.revision"),
    ("part-001", {"set": ("revision", "abc")}, f"{PATH}/part-001 $.revision"),
    ("part-001", {"set": ("part", 2)}, f"{PATH}/part-001 $.part"),
    ("part-001", {"set": ("parts", 0)}, f"{PATH}/part-001 $.parts"),
    ("part-001", {"set": ("comment", "x")}, f"{PATH}/part-001 $.comment"),
    ("part-001", {"set": ("shares", {})}, f"{PATH}/part-001 $.shares"),
])
def test_each_malformed_part_is_named_with_its_json_path(name, value, expected):
    values = stored(allowlist_doc(*rules(2)))
    fragment = json.loads(values["part-001"])
    if isinstance(value, dict) and "drop" in value:
        del fragment[value["drop"]]
    elif isinstance(value, dict):
        key, new = value["set"]
        fragment[key] = new
    values[name] = value if isinstance(value, str) else json.dumps(fragment) if value else values["part-001"]
    assert expected in [where for where, _ in problems_of(values)]


def _written_by_hand(document: dict, parts: dict[int, list]) -> dict[str, str]:
    revision = revision_of(document)
    return {part_name(n): json.dumps({"version": 1, "revision": revision, "part": n, "parts": len(parts), "shares": s})
            for n, s in parts.items()}


def test_only_a_mix_of_writes_is_incomplete_a_hand_edit_is_invalid():
    """Both fail closed; an incomplete document is counted apart, since every write over several
    parts looks so until its last call."""
    values = stored(allowlist_doc(*rules(100)))
    newer = stored(allowlist_doc(*rules(101)))
    for half_written in ({**values, "part-001": newer["part-001"]}, {k: v for k, v in values.items() if k != "part-002"}):
        with pytest.raises(AllowlistIncomplete):
            merge(half_written, PATH)
    fragment = json.loads(values["part-002"])
    fragment["shares"].pop()
    with pytest.raises(AllowlistError) as caught:
        merge({**values, "part-002": json.dumps(fragment)}, PATH)
    assert not isinstance(caught.value, AllowlistIncomplete)


def test_parts_disagreeing_on_the_version_are_refused_even_with_odd_values():
    document = allowlist_doc(*rules(60))
    values = _written_by_hand(document, {1: document["shares"][:30], 2: document["shares"][30:]})
    fragment = json.loads(values["part-002"])
    fragment["version"] = {"major": 1}
    (where, message), = problems_of({**values, "part-002": json.dumps(fragment)})
    assert where == PATH and "disagree on $.version" in message


def test_the_settings_name_one_parameter_or_one_path_and_the_source_reads_that():
    session = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    in_path_mode = Settings.from_environment({"MODELSHARE_ALLOWLIST_PARAMETER": "", "MODELSHARE_ALLOWLIST_PATH": PATH + "/"})
    source = allowlist_source(session, in_path_mode.allowlist)
    assert isinstance(source, SsmAllowlistPathSource) and source.path == PATH
    one_parameter = Settings.from_environment({"MODELSHARE_ALLOWLIST_PATH": "", "MODELSHARE_ALLOWLIST_PARAMETER": PATH})
    assert isinstance(allowlist_source(session, one_parameter.allowlist), SsmAllowlistSource)


# -- `modes` (issue 20) in path mode ------------------------------------------------------------------
def with_modes(document: dict, modes: dict) -> dict:
    return {**document, "modes": modes}


def test_modes_are_written_with_the_parts_and_merge_back_and_count_in_the_revision():
    document = with_modes(allowlist_doc(*rules(100)), {OWNER: "shares", OTHER: "policy"})
    values = stored(document)
    assert len(values) > 1
    merged = merge(values, PATH)
    assert merged.data == document and merged.allowlist.modes == {OWNER: "shares", OTHER: "policy"}
    assert merged.allowlist.mode_for(OWNER, default="policy") == "shares"
    assert revision_of(document) != revision_of(allowlist_doc(*rules(100))), "a mode edit is a new revision"
    assert revision_of(with_modes(allowlist_doc(*rules(100)), {OWNER: "policy", OTHER: "policy"})) != revision_of(document)
    # A document without modes keeps the revision it always had (parts already stored stay valid).
    assert revision_of(allowlist_doc(*rules(2))) == revision_of({"shares": rules(2), "version": 1})


def test_modes_spread_over_parts_merge_and_one_owner_named_in_two_parts_is_refused():
    document = with_modes(allowlist_doc(*rules(60)), {OWNER: "shares", OTHER: "policy"})
    revision = revision_of(document)

    def part(n: int, shares: list, modes: dict) -> str:
        return json.dumps({"version": 1, "revision": revision, "part": n, "parts": 2, "shares": shares, "modes": modes})

    spread = {"part-001": part(1, document["shares"][:30], {OWNER: "shares"}),
              "part-002": part(2, document["shares"][30:], {OTHER: "policy"})}
    assert merge(spread, PATH).allowlist.modes == {OWNER: "shares", OTHER: "policy"}
    conflicting = {**spread, "part-002": part(2, document["shares"][30:], {OTHER: "policy", OWNER: "policy"})}
    (where, message), = problems_of(conflicting)
    assert where == f'{PATH}/part-002 $.modes["{OWNER}"]' and "part-001" in message and "shares" in message
    repeated = {**spread, "part-002": part(2, document["shares"][30:], {OTHER: "policy", OWNER: "shares"})}
    (where, _), = problems_of(repeated)
    assert where == f'{PATH}/part-002 $.modes["{OWNER}"]'


@pytest.mark.parametrize(("modes", "expected"), [
    ([OWNER], "$.modes"),
    ({OWNER: "fast"}, f'$.modes["{OWNER}"]'),
    ({"12": "shares"}, '$.modes["12"]'),
])
def test_an_invalid_mode_in_a_part_makes_the_whole_document_invalid(modes, expected):
    document = allowlist_doc(*rules(2))
    fragment = json.loads(stored(document)["part-001"])
    fragment["modes"] = modes
    fragment["revision"] = revision_of({**document, "modes": modes})
    wheres = [where for where, _ in problems_of({"part-001": json.dumps(fragment)})]
    assert wheres and all(expected in where for where in wheres), wheres


def test_modes_too_large_for_one_part_are_refused_before_anything_is_written():
    owners = {f"{n:012d}": "shares" for n in range(100000000000, 100000000400)}
    with pytest.raises(AllowlistError) as caught:
        split(with_modes(allowlist_doc(*rules(1)), owners), STANDARD)
    assert [where for where, _ in caught.value.problems] == ["$.modes"]
