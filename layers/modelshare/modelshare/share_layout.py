"""Which of modelshare's own shares holds which group, in the shares mode (issue 20): pure, no
AWS call.

Every group the allowlist shares goes to its bucket, the pair (consumer accounts, actions): all
groups of a bucket are granted the same thing to the same accounts, so one share (one permission,
one principal list) can hold them all. A bucket has shares named `modelshare-<digest>-<n>`, each
holding at most `groups_per_share` groups (RAM allows 5,000 resources a share; the default stays
below). The assignment is stable: a group already in a share of its bucket stays there (moving it
would take it out of one share and put it in another for nothing), new groups fill the
lowest-numbered share with room, and a new share opens when all are full. A share whose groups
all go to one other bucket (its consumers or actions changed) moves there whole, in place
(`moved_whole`): its consumers keep the groups without a new invitation. A group held by a share
of its own bucket (a person put it into another) counts for no other share's move.

A share's name only says which bucket modelshare made it for, as recorded in its ledger when it
was made; whether a share is modelshare's is the ledger's to say, never the name's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

# Below RAM's 5,000 resources per share (docs/aws-behaviour.md, RAM-QUOTAS): room for what a
# person adds before a sweep takes it out, and for a quota RAM might enforce a little early.
GROUPS_PER_SHARE = 4_000
SHARE_NAME_PREFIX = "modelshare-"
_DIGEST_LENGTH = 12
_SHARE_NAME = re.compile(rf"{SHARE_NAME_PREFIX}([0-9a-f]{{{_DIGEST_LENGTH}}})-([1-9][0-9]{{0,5}})")


@dataclass(frozen=True, order=True)
class Bucket:
    """What a share grants: these actions (lower-cased, sorted) to these accounts (sorted)."""

    consumers: tuple[str, ...]
    actions: tuple[str, ...]

    @classmethod
    def of(cls, consumers: Iterable[str], actions: Iterable[str]) -> Bucket:
        return cls(tuple(sorted(set(consumers))), tuple(sorted({a.lower() for a in actions})))

    @property
    def digest(self) -> str:
        key = json.dumps([list(self.consumers), list(self.actions)], separators=(",", ":"))
        return hashlib.sha256(key.encode()).hexdigest()[:_DIGEST_LENGTH]


def share_name(bucket: str, number: int) -> str:
    """The name of the `number`th share (from 1) of the bucket whose digest is `bucket`."""
    return f"{SHARE_NAME_PREFIX}{bucket}-{number}"


def parse_share_name(name: str) -> tuple[str, int] | None:
    """(bucket digest, number) of a name `share_name` made, else None."""
    match = _SHARE_NAME.fullmatch(name)
    return None if match is None else (match.group(1), int(match.group(2)))


def lay_out(wanted: Mapping[str, str], current: Mapping[str, Sequence[str]], *,
            groups_per_share: int = GROUPS_PER_SHARE) -> dict[str, tuple[str, ...]]:
    """Which groups each share should hold: `wanted` maps every group to share to its bucket's
    digest; `current` maps each of modelshare's shares (by the name it was made under) to the
    groups it holds now. The answer names every share of `current` (with no groups: it is to be
    emptied) and any new one to make, each with its groups sorted."""
    if groups_per_share < 1:
        raise ValueError(f"groups_per_share must be at least 1, not {groups_per_share}")
    layout: dict[str, list[str]] = {name: [] for name in current}
    numbers: dict[str, set[int]] = {}
    placed: set[str] = set()
    for name in sorted(current, key=_share_order):
        parsed = parse_share_name(name)
        if parsed is None:
            continue  # not a name modelshare gives: emptied
        bucket, number = parsed
        numbers.setdefault(bucket, set()).add(number)
        staying = sorted(g for g in set(current[name]) if wanted.get(g) == bucket and g not in placed)
        layout[name] = staying[:groups_per_share]
        placed.update(layout[name])
    for bucket, group in sorted((b, g) for g, b in wanted.items() if g not in placed):
        taken = numbers.setdefault(bucket, set())
        room = next((n for n in sorted(taken) if len(layout[share_name(bucket, n)]) < groups_per_share), None)
        if room is None:
            room = next(n for n in range(1, len(taken) + 2) if n not in taken)
            taken.add(room)
            layout[share_name(bucket, room)] = []
        layout[share_name(bucket, room)].append(group)
    return {name: tuple(sorted(groups)) for name, groups in layout.items()}


def moved_whole(wanted: Mapping[str, str], current: Mapping[str, Sequence[str]],
                principals: Mapping[str, Sequence[str]], consumers: Mapping[str, Sequence[str]],
                may_split: Callable[[str, str, frozenset[str]], bool] = lambda *_: False) -> dict[str, str]:
    """The shares whose groups all go to one other bucket now (its consumers or actions changed):
    old name -> the name it takes in that bucket (the lowest number free there). Such a share
    changes in place, so that its consumers keep every group they are still allowed, with no new
    invitation to accept; making a new share and deleting the old would leave them without the
    groups until they accepted it. `wanted` and `current` as `lay_out` takes them, `principals`
    each share's (by name), `consumers` each bucket's (by digest); a share with no group still
    wanted is not moved. One whose groups go to several buckets (a rule split) moves to the one
    keeping most of its consumers that `may_split(share name, that bucket, the others)` allows
    (the caller: when every group leaving it that it would keep until handed over it still
    keeps); the others' groups leave it as any group changing buckets does.

    Only the groups a consumer on the share is still given count (their bucket names one of the
    share's principals): a move keeps access, and a group no one on the share may see has none to
    keep. So a group of another bucket that a person associates into the share (RAM cannot say
    who put it in) decides nothing unless the share's own consumers are given it; then the share
    stays and each group moves to a new share, leaving this one once that is accepted."""
    taken: dict[str, set[int]] = {}
    for name in current:
        if (parsed := parse_share_name(name)) is not None:
            taken.setdefault(parsed[0], set()).add(parsed[1])
    homed = _homed(wanted, current)
    moved: dict[str, str] = {}
    for name in sorted(current, key=_share_order):
        parsed = parse_share_name(name)
        # A group held by a share of its own bucket stays there and leaves this one (a person
        # put it in): it is no destination, or one group would take a whole share's consumers'
        # access away (they would wait for a new invitation).
        own, on_share = parsed[0] if parsed else None, set(principals.get(name, ()))
        destinations = {wanted[g] for g in current[name] if g in wanted and (wanted[g] == own or (
            g not in homed and on_share & set(consumers.get(wanted[g], ()))))}
        if parsed is None or not destinations or parsed[0] in destinations:
            continue
        ranked = sorted(destinations, key=lambda d: (-len(on_share & set(consumers.get(d, ()))), d))
        destination = next((d for d in ranked if len(ranked) == 1
                            or may_split(name, d, frozenset(destinations - {d}))), None)
        if destination is None:
            continue
        numbers = taken.setdefault(destination, set())
        number = next(n for n in range(1, len(numbers) + 2) if n not in numbers)
        numbers.add(number)
        moved[name] = share_name(destination, number)
    return moved


def kept_in_place(wanted: Mapping[str, str], current: Mapping[str, Sequence[str]],
                  within: Callable[[str, str], bool]) -> dict[str, str]:
    """`wanted` with each group that only taking away keeps where it is: a group leaving a
    share for another bucket (whose share is not made while only taking away) stays in it when
    `within(share name, the group's bucket)` (what the share grants is within what the allowlist
    gives the group), so its consumers keep it until what replaces it is accepted. A group held
    by a share of its own bucket stays there only."""
    homed = _homed(wanted, current)
    kept: dict[str, str] = {}
    for name in sorted(current, key=_share_order):
        if (parsed := parse_share_name(name)) is None:
            continue
        for group in sorted(set(current[name])):
            bucket = wanted.get(group)
            if bucket is not None and bucket != parsed[0] and group not in homed and group not in kept \
                    and within(name, bucket):
                kept[group] = parsed[0]
    return {**wanted, **kept}


def _homed(wanted: Mapping[str, str], current: Mapping[str, Sequence[str]]) -> set[str]:
    """The groups a share of their own bucket holds."""
    return {g for name, groups in current.items() if (parsed := parse_share_name(name)) is not None
            for g in groups if wanted.get(g) == parsed[0]}


def _share_order(name: str) -> tuple[str, int, str]:
    parsed = parse_share_name(name)
    return ("", 0, name) if parsed is None else (parsed[0], parsed[1], name)
