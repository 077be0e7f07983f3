"""The last valid allowlist, found in Parameter Store's history: pure functions, no AWS call.

When the current document is invalid (or, in path mode, half written), the owner side still
applies what an earlier valid version took away (modelshare.allowlist_loading). That version
comes from the history AWS keeps of each parameter (docs/aws-behaviour.md, SSM-HISTORY: the 100
most recent versions; deleting a parameter deletes its history), never from what a run
remembers: a valid version may have been written and replaced before any run read it.

One parameter: its newest version that validates. Path mode: every part has its own history;
the last valid document is the newest revision (by the version of its part-001, which every
write writes first) all of whose parts are in the parts' histories and that validates as a whole
(modelshare.allowlist_parts.merge: one revision, every part, the digest adds up).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_parts import PART_NAME, merge, part_name
from modelshare.port_values import LastValidAllowlist


@dataclass(frozen=True)
class StoredVersion:
    """One version of a parameter, from its history."""

    version: int
    value: str


def last_valid_of_parameter(name: str, versions: Iterable[StoredVersion]) -> LastValidAllowlist | None:
    """The newest version of the parameter `name` that is a valid allowlist, or None."""
    for stored in sorted(versions, key=lambda v: v.version, reverse=True):
        try:
            allowlist = Allowlist.parse(stored.value)
        except AllowlistError:
            continue
        return LastValidAllowlist(allowlist, f"version {stored.version} of {name}")
    return None


def last_valid_of_parts(path: str, histories: Mapping[str, Iterable[StoredVersion]]) -> LastValidAllowlist | None:
    """The newest revision whose parts (`histories`: name relative to the path -> its versions)
    are all found and merge into a valid document, or None."""
    # (revision, number of parts) -> part number -> the versions of that part holding it
    found: dict[tuple[str, int], dict[int, list[StoredVersion]]] = {}
    for name, versions in histories.items():
        matched = PART_NAME.fullmatch(name)
        number = int(matched.group(1)) if matched else 0
        if number == 0:
            continue  # not a part: no revision is made of it
        for stored in versions:
            marks = _marks(stored.value)
            if marks is not None and 1 <= number <= marks[1]:
                found.setdefault(marks, {}).setdefault(number, []).append(stored)
    newest_first = sorted((key for key, parts in found.items() if 1 in parts),
                          key=lambda key: max(v.version for v in found[key][1]), reverse=True)
    for revision, count in newest_first:
        parts = found[(revision, count)]
        if any(number not in parts for number in range(1, count + 1)):
            continue  # a part of it was overwritten more than 100 times since, or deleted
        values = {part_name(n): max(parts[n], key=lambda v: v.version).value for n in range(1, count + 1)}
        try:
            merged = merge(values, path)
        except AllowlistError:
            continue
        plural = "" if count == 1 else "s"
        return LastValidAllowlist(merged.allowlist, f"revision {revision[:12]} ({count} part{plural} under {path})")
    return None


def _marks(value: str) -> tuple[str, int] | None:
    """The revision and number of parts a part's value names, when it names them."""
    try:
        fragment = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(fragment, dict):
        return None
    revision, parts = fragment.get("revision"), fragment.get("parts")
    if not isinstance(revision, str) or type(parts) is not int:
        return None
    return revision, parts
