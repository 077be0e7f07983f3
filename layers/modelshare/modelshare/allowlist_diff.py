"""What changes between two allowlist documents, rule by rule, in words.

A rule is identified by its owner and its set of group patterns (order and position in `shares`
do not matter). Changing a rule's groups therefore reads as one rule removed and another added.
Pure: no AWS, no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from modelshare.allowlist import ACCESS_ACTIONS, Allowlist, ShareRule

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"

RuleKey = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class RuleChange:
    """One rule added, removed, or changed (consumers or access)."""

    kind: str  # added | removed | changed
    owner: str
    groups: tuple[str, ...]
    old: ShareRule | None
    new: ShareRule | None
    consumers_gained: tuple[str, ...] = ()
    consumers_lost: tuple[str, ...] = ()
    access_gained: tuple[str, ...] = ()
    access_lost: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        where = self.new.path if self.new is not None else self.old.path if self.old is not None else "$"
        return f"rule {where} (owner {self.owner}, groups {', '.join(self.groups)})"

    def lines(self) -> list[str]:
        """A heading and one indented line per change."""
        if self.kind == ADDED:
            assert self.new is not None
            return [f"+ added {self.title}",
                    f"    consumers: {', '.join(self.new.consumers)}",
                    f"    access: {', '.join(access_levels(self.new.access))}"]
        if self.kind == REMOVED:
            assert self.old is not None
            return [f"- removed {self.title}",
                    f"    consumers lost: {', '.join(self.old.consumers)}",
                    f"    access was: {', '.join(access_levels(self.old.access))}"]
        assert self.old is not None and self.new is not None
        lines = [f"~ changed {self.title}"]
        lines += [f"    + consumer {c}" for c in self.consumers_gained]
        lines += [f"    - consumer {c}" for c in self.consumers_lost]
        if self.access_gained or self.access_lost:
            lines.append(f"    access: {', '.join(access_levels(self.old.access))} -> "
                         f"{', '.join(access_levels(self.new.access))}")
        return lines


def access_levels(access: Iterable[str]) -> list[str]:
    """Access levels in their documented order (discover, register, deploy)."""
    levels = set(access)
    return [level for level in ACCESS_ACTIONS if level in levels]


def rule_key(rule: ShareRule) -> RuleKey:
    return rule.owner, tuple(sorted(set(rule.groups)))


def diff(old: Allowlist | None, new: Allowlist | None) -> list[RuleChange]:
    """The changes that turn `old` into `new` (None: no document, or an invalid one: no rules).

    Rules that share a key (same owner and groups) are paired in document order; the extras are
    added or removed. Changes come in the order of `new`, then the rules only `old` had."""
    old_rules = _by_key(old.rules if old is not None else ())
    new_rules = _by_key(new.rules if new is not None else ())
    changes: list[RuleChange] = []
    for rule in new.rules if new is not None else ():
        key = rule_key(rule)
        position = new_rules[key].index(rule)
        before = old_rules.get(key, [])
        if position >= len(before):
            changes.append(RuleChange(ADDED, rule.owner, rule.groups, None, rule))
            continue
        change = _compare(before[position], rule)
        if change is not None:
            changes.append(change)
    for rule in old.rules if old is not None else ():
        key = rule_key(rule)
        if old_rules[key].index(rule) >= len(new_rules.get(key, [])):
            changes.append(RuleChange(REMOVED, rule.owner, rule.groups, rule, None))
    return changes


# A diff longer than this many lines leads with its count: the reader of a 15,000-line diff
# learns its size before it scrolls past.
SUMMARY_AFTER_LINES = 20


def describe(changes: list[RuleChange]) -> list[str]:
    """Every change as readable lines; ["no changes"] when there are none. A long diff leads with
    a count of its changes by kind."""
    if not changes:
        return ["no changes"]
    lines = [line for change in changes for line in change.lines()]
    return [summary(changes), *lines] if len(lines) > SUMMARY_AFTER_LINES else lines


def summary(changes: list[RuleChange]) -> str:
    """"17 rule changes: 15 added, 1 removed, 1 changed" (kinds with none left out)."""
    counts = [(sum(1 for change in changes if change.kind == kind), kind) for kind in (ADDED, REMOVED, CHANGED)]
    noun = "rule change" if len(changes) == 1 else "rule changes"
    return f"{len(changes)} {noun}: " + ", ".join(f"{count} {kind}" for count, kind in counts if count)


def _compare(old: ShareRule, new: ShareRule) -> RuleChange | None:
    gained = tuple(c for c in new.consumers if c not in old.consumers)
    lost = tuple(c for c in old.consumers if c not in new.consumers)
    access_gained = tuple(access_levels(new.access - old.access))
    access_lost = tuple(access_levels(old.access - new.access))
    if not (gained or lost or access_gained or access_lost):
        return None
    return RuleChange(CHANGED, new.owner, new.groups, old, new, gained, lost, access_gained, access_lost)


def _by_key(rules: Iterable[ShareRule]) -> dict[RuleKey, list[ShareRule]]:
    found: dict[RuleKey, list[ShareRule]] = defaultdict(list)
    for rule in rules:
        found[rule_key(rule)].append(rule)
    return found
