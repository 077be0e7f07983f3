"""One allowlist document spread over the parameters under one path (path mode).

A document too large for one parameter is split, rule by rule, into parts named `part-001`,
`part-002`, ... under the path. Each part is a fragment of the same schema (`version`, `shares`)
that also carries what ties it to the others:

    {"version": 1, "revision": "<sha256 of the whole document>", "part": 2, "parts": 3, "shares": [...]}

The document's `modes` (which owners share in which mode) go into the first part when written; a
reader takes them from any part, but an owner named in two parts is refused (even with the same
mode: the writer never does that, so it is the sign of a hand edit or a botched merge).

A reader accepts the parts only as a whole: every part from 1 to `parts` present, no other
parameter under the path, one revision throughout, and the merged document hashing to it. Anything
else (a write half done, a part edited by hand, a stray parameter) makes the document invalid:
nothing is shared or accepted (fail closed), and each problem names the part and the JSON path.
The merged document is then validated as one (`$.shares[i]` counts across parts), and a rule
repeated in two places is refused as well: in path mode it is the sign of a botched merge.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelshare import strict_json
from modelshare.allowlist import Allowlist, AllowlistError, repeated_key_problems
from modelshare.strict_json import key_path

PART_NAME = re.compile(r"part-([0-9]{3})")  # ASCII digits: int() reads any Unicode digit
MAX_PARTS = 999
# Value limits per Parameter Store tier, in characters (docs/aws-behaviour.md, SSM-TIER).
TIER_LIMITS: Mapping[str, int] = {"Standard": 4096, "Advanced": 8192}
_MARKER_KEYS = ("revision", "part", "parts")
_REVISION = re.compile(r"[0-9a-f]{64}")


def part_name(number: int) -> str:
    return f"part-{number:03d}"


def revision_of(data: Mapping[str, Any]) -> str:
    """The digest naming one content of the whole document (version, shares and, when it has
    them, modes; key order and spacing ignored). A document without modes keeps the digest it
    had before modes existed."""
    whole = {"version": data.get("version"), "shares": data.get("shares")}
    if "modes" in data:
        whole["modes"] = data["modes"]
    return hashlib.sha256(_compact(whole, sort_keys=True).encode()).hexdigest()


class AllowlistIncomplete(AllowlistError):
    """The parts under the path are well formed but not one write's: parts of two revisions, too
    few or too many. A write in progress looks so until its last call, an interrupted one until
    the document is written again; either way nothing is shared or accepted."""


@dataclass(frozen=True)
class MergedDocument:
    """The whole document the parts under a path hold, valid and checked."""

    allowlist: Allowlist
    data: dict[str, Any]
    revision: str
    parts: int


def split(data: Mapping[str, Any], limit: int) -> list[str]:
    """The part values (in order, each at most `limit` characters) holding the valid document
    `data`; raises AllowlistError when it is invalid, when a rule is repeated, or when one rule
    alone does not fit a part."""
    _check_no_repeated_rule(Allowlist.parse(data))
    revision = revision_of(data)
    modes = data.get("modes")
    if modes is not None and len(_part_value(data["version"], revision, 999, 999, [], modes)) > limit:
        raise AllowlistError([("$.modes", f"too large for one parameter: a part holding only the modes exceeds the "
                                          f"tier's {limit} characters")])
    shares: list[Any] = list(data["shares"])
    groups: list[list[Any]] = [[]]
    for index, rule in enumerate(shares):
        if len(_part_value(data["version"], revision, 999, 999, [rule])) > limit:
            raise AllowlistError([(f"$.shares[{index}]", f"too large for one parameter: a part holding only this rule "
                                   f"exceeds the tier's {limit} characters")])
        candidate = [*groups[-1], rule]
        if len(_part_value(data["version"], revision, 999, 999, candidate, modes if len(groups) == 1 else None)) > limit:
            groups.append([rule])
        else:
            groups[-1] = candidate
    if len(groups) > MAX_PARTS:
        raise AllowlistError([("$.shares", f"needs {len(groups)} parts; at most {MAX_PARTS} fit under one path")])
    return [_part_value(data["version"], revision, number, len(groups), group, modes if number == 1 else None)
            for number, group in enumerate(groups, start=1)]


def merge(values: Mapping[str, Any], path: str) -> MergedDocument:
    """The document the parameters under `path` hold (`values`: name relative to the path ->
    value); raises AllowlistError naming each problem as `<parameter> $.json.path` or, for the
    merged document, `$.shares[i]`."""
    if not values:
        raise AllowlistError([("$", f"no allowlist parts under {path} (expected {path}/{part_name(1)} onwards)")])
    problems: list[tuple[str, str]] = []
    fragments: dict[int, dict[str, Any]] = {}
    for name in sorted(values):
        where = f"{path}/{name}"
        found = PART_NAME.fullmatch(name)
        if found is None or int(found.group(1)) == 0:
            problems.append((where, f"is not an allowlist part (only {part_name(1)} to {part_name(MAX_PARTS)} "
                                    f"may be under {path})"))
            continue
        fragment = _fragment(values[name], int(found.group(1)), where, problems)
        if fragment is not None:
            fragments[int(found.group(1))] = fragment
    if problems:
        raise AllowlistError(problems)
    revisions = {number: fragment["revision"] for number, fragment in fragments.items()}
    counts = {number: fragment["parts"] for number, fragment in fragments.items()}
    if len(set(revisions.values())) > 1:
        listed = ", ".join(f"{part_name(n)}: {r[:12]}" for n, r in sorted(revisions.items()))
        raise AllowlistIncomplete([(path, f"parts of different revisions ({listed}): a write in progress or "
                                     "interrupted, or a part edited by hand; write the whole document again "
                                     "with 'modelshare allowlist set'")])
    if len(set(counts.values())) > 1:
        raise AllowlistIncomplete([(path, f"parts disagree on how many parts there are "
                                     f"({', '.join(f'{part_name(n)}: {c}' for n, c in sorted(counts.items()))})")])
    expected = next(iter(counts.values()))
    missing = [part_name(n) for n in range(1, expected + 1) if n not in fragments]
    extra = [part_name(n) for n in sorted(fragments) if n > expected]
    if missing or extra:
        described = "; ".join(filter(None, [f"missing {', '.join(missing)}" if missing else "",
                                            f"unexpected {', '.join(extra)}" if extra else ""]))
        raise AllowlistIncomplete([(path, f"revision {next(iter(revisions.values()))[:12]} has {expected} "
                                     f"parts: {described}; a write in progress or interrupted")])
    versions = {json.dumps(fragment["version"]) for fragment in fragments.values()}
    if len(versions) > 1:
        raise AllowlistError([(path, f"parts disagree on $.version ({', '.join(sorted(versions))})")])
    shares = [rule for number in sorted(fragments) for rule in fragments[number]["shares"]]
    data: dict[str, Any] = {"version": fragments[1]["version"], "shares": shares}
    if any("modes" in fragment for fragment in fragments.values()):
        data["modes"] = _merged_modes(fragments, path)
    revision = revisions[1]
    if revision_of(data) != revision:
        raise AllowlistError([(path, f"the parts do not add up to their revision {revision[:12]}: a part was edited by "
                                     "hand; write the whole document with 'modelshare allowlist set'")])
    allowlist = Allowlist.parse(data)
    _check_no_repeated_rule(allowlist)
    return MergedDocument(allowlist, data, revision, expected)


def _merged_modes(fragments: Mapping[int, Mapping[str, Any]], path: str) -> dict[str, Any]:
    """The parts' modes as one object; an owner named in two parts is refused (fail closed),
    named at the later part. The values are validated with the whole document."""
    merged: dict[str, Any] = {}
    named_in: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for number in sorted(fragments):
        for owner, mode in fragments[number].get("modes", {}).items():
            if owner in named_in:
                first = named_in[owner]
                problems.append((f"{path}/{part_name(number)} {key_path('$.modes', owner)}",
                                 f"is also named in {part_name(first)} (as {json.dumps(merged[owner])}, here "
                                 f"{json.dumps(mode)}): an owner's mode is named once"))
            else:
                named_in[owner], merged[owner] = number, mode
    if problems:
        raise AllowlistError(problems)
    return merged


def _fragment(value: Any, number: int, where: str, problems: list[tuple[str, str]]) -> dict[str, Any] | None:
    try:
        fragment = strict_json.loads(value) if isinstance(value, str) else None
    except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than json decodes
        problems.append((f"{where} $", f"not valid JSON: {error}"))
        return None
    before = len(problems)
    problems.extend((f"{where} {path}", message) for path, message in repeated_key_problems(fragment))
    if not isinstance(fragment, dict):
        problems.append((f"{where} $", "must be a JSON object"))
        return None
    for key in ("version", "shares", *_MARKER_KEYS):
        if key not in fragment:
            problems.append((f"{where} $.{key}", "is required in every part"))
    for key in sorted(set(fragment) - {"version", "shares", "modes", *_MARKER_KEYS}):
        problems.append((f"{where} {key_path('$', key)}", "unknown key"))
    if "revision" in fragment and not (isinstance(fragment["revision"], str) and _REVISION.fullmatch(fragment["revision"])):
        problems.append((f"{where} $.revision", "must be the document's sha256 digest (64 lowercase hex digits)"))
    if "part" in fragment and fragment["part"] != number:
        problems.append((f"{where} $.part", f"must be {number}, the number in the parameter's name, "
                                            f"not {json.dumps(fragment['part'])}"))
    parts = fragment.get("parts")
    if "parts" in fragment and not (type(parts) is int and 1 <= parts <= MAX_PARTS):
        problems.append((f"{where} $.parts", f"must be a number from 1 to {MAX_PARTS}, not {json.dumps(parts)}"))
    if "shares" in fragment and not isinstance(fragment["shares"], list):
        problems.append((f"{where} $.shares", "must be a list"))
    if "modes" in fragment and not isinstance(fragment["modes"], dict):
        problems.append((f"{where} $.modes", "must be an object of account ID to sharing mode"))
    return fragment if len(problems) == before else None


def _check_no_repeated_rule(allowlist: Allowlist) -> None:
    """The same grant twice (lists compared as sets) is refused in path mode."""
    first: dict[tuple[str, frozenset[str], frozenset[str], frozenset[str]], int] = {}
    problems: list[tuple[str, str]] = []
    for rule in allowlist.rules:
        key = (rule.owner, frozenset(rule.groups), frozenset(rule.consumers), rule.access)
        if key in first:
            problems.append((rule.path, f"repeats $.shares[{first[key]}]"))
        else:
            first[key] = rule.index
    if problems:
        raise AllowlistError(problems)


def _part_value(version: Any, revision: str, number: int, parts: int, shares: list[Any], modes: Any = None) -> str:
    value = {"version": version, "revision": revision, "part": number, "parts": parts, "shares": shares}
    return _compact(value if modes is None else {**value, "modes": modes})


def _compact(value: Any, *, sort_keys: bool = False) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)
