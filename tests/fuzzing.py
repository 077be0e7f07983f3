"""Hypothesis strategies for malformed input (issue 9): odd strings, random JSON values and texts,
random bytes, and mutations of valid documents (keys deleted, values replaced or wrapped, keys
added or repeated). The example counts come from the profile in tests/conftest.py."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

# Strings a parser may trip on: empty, control characters, lone surrogates (a JSON "\udcff"
# escape decodes to one, and UTF-8 cannot carry it), other scripts, wildcards, path tricks, huge.
ODD_STRINGS = ["", " ", "\x00", "\n", "\r\n", "\t", "\udcff", "\ud800", "é", "Ω", "😀", "\u202e", "\ufeff", "*", "?",
               "../..", "%s", "{}", "null", "true", "NaN", "-1", "0", "1", "1.0"]
# Made when drawn, not listed: Hypothesis would print every one in a strategy's description.
HUGE_STRINGS = st.builds(lambda text, times: text * times, st.sampled_from(["x", "😀", "a-", "\udcff"]),
                         st.sampled_from([1_000, 10_000, 100_000]))

# Any character, surrogates included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=30)
TEXT = st.one_of(ANY_TEXT, st.sampled_from(ODD_STRINGS), HUGE_STRINGS)
NUMBERS = st.one_of(
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -0.0, 1, 1.0, True, False, 2**63, -(2**63) - 1, 10**300, 111122223333]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)


def json_values(keys: st.SearchStrategy[str] = TEXT, *, max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON value (numbers as Python reads them: huge ints, NaN and infinities included),
    with object keys drawn from `keys`."""
    return st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(keys, inner, max_size=4)),
                        max_leaves=max_leaves)


def locations(value: Any) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, as the keys and indices leading to it (without recursion:
    Hypothesis' own drawing uses much of the stack)."""
    pending: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while pending:
        where, inner = pending.pop()
        yield where
        items = inner.items() if isinstance(inner, dict) else enumerate(inner) if isinstance(inner, list) else ()
        pending.extend(reversed([((*where, key), item) for key, item in items]))


MUTATIONS = ("delete", "replace", "replace", "tweak", "tweak", "wrap", "add-key", "empty")
# What one field of an ARN becomes when it is tweaked: another partition, service, region or account.
ARN_FIELDS = {1: ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", "awsx", "AWS", ""],
              2: ["sagemaker", "ram", "ssm", "iam", "s3", ""],
              3: ["eu-west-1", "us-east-1", "cn-north-1", "EU-WEST-1", ""],
              4: ["111122223333", "444455556666", "777788889999", "000000000000", "11112222333", "1111222233334", ""]}


@st.composite
def mutated(draw: st.DrawFn, document: Any, replacements: st.SearchStrategy[Any], *, max_changes: int = 4,
            changes: tuple[str, ...] = MUTATIONS) -> Any:
    """`document` after 1 to `max_changes` random changes, each at a random place: the key or
    item deleted, the value replaced (by one of `replacements`), tweaked (one field of an ARN
    changed, a string edited or swapped for another of the document, a number or a list
    changed a little), wrapped in a list or an object, emptied, or a key added to an object."""
    value = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_changes))):
        places = list(locations(value))
        # Half the time near the top, where the fields that decide are (an event's source, account, detail).
        near_top = [where for where in places if len(where) <= 2]
        where = draw(st.sampled_from(near_top if draw(st.booleans()) else places))
        change = draw(st.sampled_from(changes))
        if not where:  # the whole document
            value = _changed(draw, value, change, replacements, value)
            continue
        *outer, last = where
        parent = value
        for step in outer:
            parent = parent[step]
        if change == "delete":
            del parent[last]
        else:
            parent[last] = _changed(draw, parent[last], change, replacements, value)
    return value


def _changed(draw: st.DrawFn, value: Any, change: str, replacements: st.SearchStrategy[Any], document: Any) -> Any:
    if change == "wrap":
        return draw(st.sampled_from([[value], {"value": value}, [value, copy.deepcopy(value)]]))
    if change == "empty":
        return type(value)() if isinstance(value, (dict, list, str)) else None
    if change == "add-key" and isinstance(value, dict):
        return {**value, draw(TEXT): _fresh(draw, replacements)}
    if change == "tweak":
        return _tweaked(draw, value, document, replacements)
    return _fresh(draw, replacements)


def _fresh(draw: st.DrawFn, replacements: st.SearchStrategy[Any]) -> Any:
    # A copy: sampled_from hands out the same list or object every time, and the document is
    # changed in place (the same object twice in it, it could end up inside itself).
    return copy.deepcopy(draw(replacements))


def _tweaked(draw: st.DrawFn, value: Any, document: Any, replacements: st.SearchStrategy[Any]) -> Any:
    if isinstance(value, str) and value.startswith("arn:") and value.count(":") >= 5:
        fields = value.split(":", 5)
        which = draw(st.integers(1, 5))
        if which < 5:
            fields[which] = draw(st.sampled_from(ARN_FIELDS[which]))
        else:  # the resource: another type, or its name edited
            kind, _, name = fields[5].partition("/")
            fields[5] = draw(st.sampled_from([f"{kind}/{name}-x", f"{kind}/{name.upper()}", f"{kind}/{name}/x",
                                              f"model-package/{name}", f"{kind}/", f"{kind}/{name}*", name]))
        return ":".join(fields)
    if isinstance(value, str):
        others = [s for s in _strings(document) if s != value]
        return draw(st.sampled_from([value.upper(), value.lower(), value + "-x", value + " ", " " + value, value[1:],
                                     value[:-1], value * 2, value + "\x00", value + "\udcff", value + "/x",
                                     value + "*", *others[:20]]))
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return draw(st.sampled_from([value + 1, value - 1, -value, value * 10**20, str(value)[:100], 0.5]))
    if isinstance(value, list) and value:
        return draw(st.sampled_from([value[::-1], value + value, value[1:], [*value, _fresh(draw, replacements)]]))
    return _fresh(draw, replacements)


def _strings(document: Any) -> list[str]:
    """The strings in a JSON value, keys included."""
    found: list[str] = []
    for where in locations(document):
        found.extend(step for step in where[-1:] if isinstance(step, str))
        value = document
        for step in where:
            value = value[step]
        if isinstance(value, str):
            found.append(value)
    return found


@st.composite
def json_texts(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> str:
    """A JSON text of one of `values`, or one a parser may choke on: a key repeated (the last
    wins), NaN and Infinity literals, numbers too large for a float or too long for an int,
    nesting deeper than the parser's recursion limit, a byte-order mark, or not JSON at all."""
    value = draw(values)
    text = json.dumps(value)
    kind = draw(st.sampled_from(["plain", "plain", "repeated-key", "literal", "deep", "bom", "broken"]))
    if kind == "repeated-key" and isinstance(value, dict):
        extra = json.dumps({draw(st.sampled_from([*value, "version"])): draw(values)})[1:-1]
        # Before the key's own place, or after it (the last wins).
        before, after = "{" + extra + ", " + text[1:], text[:-1] + ", " + extra + "}"
        text = "{" + extra + "}" if not value else before if draw(st.booleans()) else after
    elif kind == "literal":
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0", "9999999999999999999999",
                                        '"\\udcff"', '"\\u0000"', "LONG-INT"])).replace("LONG-INT", "9" * 5_000)
        text = json.dumps({"version": 1, "shares": []})[:-1] + ', "version": ' + literal + "}" \
            if draw(st.booleans()) else literal
    elif kind == "deep":
        depth = draw(st.sampled_from([500, 5_000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"shares":', "}"), ('{"version":1,"shares":[', "]}")]))
        text = opener * depth + (closer * depth if draw(st.booleans()) else "")
    elif kind == "bom":
        text = "\ufeff" + text
    elif kind == "broken":
        cut = draw(st.integers(0, max(0, len(text) - 1)))
        text = text[:cut] + draw(st.sampled_from(["", ",", "}", "'", "//", "\x00", "\udcff"])) + text[cut + 1:]
    return text


@st.composite
def raw_bytes(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> bytes:
    """Random bytes, or a JSON text encoded oddly: UTF-16 or -32, UTF-8 with a BOM, or with bytes
    that are not UTF-8 spliced in."""
    kind = draw(st.sampled_from(["random", "utf-8", "utf-16", "utf-32", "utf-8-sig", "spliced"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    text = draw(texts)
    if kind == "spliced":
        data = text.encode("utf-8", "surrogatepass")
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xb3\xbf", b"\x80\x80", b"\x00"])) + data[cut:]
    return text.encode(kind, "surrogatepass")


@st.composite
def decoded(draw: st.DrawFn, data: bytes) -> str:
    """`data` read as text the ways a reader might: invalid UTF-8 as lone surrogates
    (surrogateescape) or replacement characters, or as Latin-1."""
    how = draw(st.sampled_from([("utf-8", "surrogateescape"), ("utf-8", "replace"), ("latin-1", "strict")]))
    return data.decode(*how)
