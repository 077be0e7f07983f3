"""Rules that conflict: the same owner, group patterns that can match one group name, and
different access. The functions share a group both match with nobody (Allowlist.decide) and log
it when they meet such a group; `modelshare allowlist validate` and `set` report each pair before
any group exists, with a group name both match.

Whether two patterns can match one name is decided exactly. A pattern (`*`: any run of
characters, none too; `?`: one character; anything else itself) is an automaton whose state is how
much of the pattern is matched. A model package group name is 1-63 of [a-zA-Z0-9-], starting and
ending with a letter or digit (SageMaker's `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`). The product of the
two automata and of what a name needs (started; last character a letter or digit, or a hyphen) is
walked breadth first, visiting each state once: at most 3·(len(a)+1)·(len(b)+1) states, whatever
the stars, and the first accepting state found ends a shortest common name.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass

from modelshare.allowlist import ACCESS_ACTIONS, Allowlist, ShareRule

MAX_NAME_LENGTH = 63
_ALNUM = frozenset(string.ascii_letters + string.digits)
# What the name read so far ends with.
_EMPTY, _ALNUM_END, _HYPHEN_END = 0, 1, 2
type _State = tuple[int, int, int]


@dataclass(frozen=True)
class RuleConflict:
    """Two rules of one owner with different access, whose patterns (named by their JSON paths)
    both match `example`, a group name."""

    owner: str
    first: ShareRule
    first_pattern: int
    second: ShareRule
    second_pattern: int
    example: str

    @property
    def first_path(self) -> str:
        return f"{self.first.path}.groups[{self.first_pattern}]"

    @property
    def second_path(self) -> str:
        return f"{self.second.path}.groups[{self.second_pattern}]"

    def describe(self) -> str:
        return (f"{self.first_path} {_quoted(self.first.groups[self.first_pattern])} ({_access(self.first)}) and "
                f"{self.second_path} {_quoted(self.second.groups[self.second_pattern])} ({_access(self.second)}) "
                f"of owner {self.owner} both match group {_quoted(self.example)}: a group both match is shared "
                "with nobody")


def conflicts(allowlist: Allowlist) -> list[RuleConflict]:
    """Each pair of rules that conflict, in document order, with the first pair of their patterns
    that can match one group name."""
    found: list[RuleConflict] = []
    for index, first in enumerate(allowlist.rules):
        for second in allowlist.rules[index + 1:]:
            if first.owner != second.owner or first.access == second.access:
                continue
            overlap = next(((i, j, name) for i, a in enumerate(first.groups) for j, b in enumerate(second.groups)
                            if (name := common_group_name(a, b)) is not None), None)
            if overlap is not None:
                found.append(RuleConflict(first.owner, first, overlap[0], second, overlap[1], overlap[2]))
    return found


@functools.lru_cache(maxsize=4096)
def common_group_name(a: str, b: str) -> str | None:
    """A shortest model package group name both patterns match, or None when there is none."""
    start: _State = (0, 0, _EMPTY)
    came_from: dict[_State, tuple[_State, str]] = {}
    seen = {start}
    level = [start]
    for length in range(MAX_NAME_LENGTH + 1):
        following: list[_State] = []
        for state in level:
            i, j, shape = state
            if shape == _ALNUM_END and _can_end(a, i) and _can_end(b, j):
                return _spelled(came_from, state)
            if length == MAX_NAME_LENGTH:
                continue
            for char in _characters(a, i, b, j, shape):
                after = _ALNUM_END if char in _ALNUM else _HYPHEN_END
                for next_i in _steps(a, i, char):
                    for next_j in _steps(b, j, char):
                        reached = (next_i, next_j, after)
                        if reached not in seen:
                            seen.add(reached)
                            came_from[reached] = (state, char)
                            following.append(reached)
        level = following
    return None


def _closure(pattern: str, i: int) -> range:
    """The positions reachable from `i` reading nothing: past each `*` (which may match nothing)."""
    end = i
    while end < len(pattern) and pattern[end] == "*":
        end += 1
    return range(i, end + 1)


def _can_end(pattern: str, i: int) -> bool:
    return len(pattern) in _closure(pattern, i)


def _steps(pattern: str, i: int, char: str) -> set[int]:
    """The positions reading `char` from `i` leads to."""
    found: set[int] = set()
    for k in _closure(pattern, i):
        if k == len(pattern):
            continue
        if pattern[k] == "*":
            found.add(k)
        elif pattern[k] in ("?", char):
            found.add(k + 1)
    return found


def _characters(a: str, i: int, b: str, j: int, shape: int) -> list[str]:
    """The characters worth trying next: those either pattern names here, a hyphen (not first), and
    one letter neither names (any other letter or digit leads where it does)."""
    named = {p[k] for p, at in ((a, i), (b, j)) for k in _closure(p, at) if k < len(p) and p[k] not in "*?"}
    other = next(c for c in "abc" if c not in named)
    hyphen = ["-"] if shape != _EMPTY else []
    return sorted({*(c for c in named if c in _ALNUM), other}) + hyphen


def _spelled(came_from: dict[_State, tuple[_State, str]], state: _State) -> str:
    chars: list[str] = []
    while state in came_from:
        state, char = came_from[state]
        chars.append(char)
    return "".join(reversed(chars))


def _access(rule: ShareRule) -> str:
    return "access " + ", ".join(level for level in ACCESS_ACTIONS if level in rule.access)


def _quoted(text: str) -> str:
    return f'"{text}"'
