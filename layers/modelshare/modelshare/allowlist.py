"""The allowlist document: strict parsing and the sharing decisions derived from it.

One JSON document, the same in every account. An owner account applies the rules whose `owner` is
itself; a consumer applies the rules that name it among `consumers`. Anything malformed makes the
whole document invalid (fail closed): nothing is shared or accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelshare import strict_json
from modelshare.account_ids import ACCOUNT_ID, is_account_id
from modelshare.org_principals import ORG_PRINCIPAL, ORG_PRINCIPAL_MESSAGE, parse_org_principal
from modelshare.strict_json import key_path

SUPPORTED_VERSION = 1

# Actions per access level (AWS SageMaker guide, model-registry-ram pages). `discover` is always
# implied: a consumer that may register or deploy must also see the group.
ACCESS_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "discover": (
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    ),
    "register": ("sagemaker:CreateModelPackage",),
    "deploy": ("sagemaker:UpdateModelPackage", "sagemaker:CreateModel"),
}
DEFAULT_ACCESS = ("discover",)
# How an owner shares (issue 20; docs/sharing-modes.md): `policy`, a statement in each group's
# policy and the share RAM makes of it, promoted; `shares`, a few shares modelshare makes itself,
# each holding many groups. An owner the allowlist's `modes` does not name takes the stack's
# SharingMode.
SHARING_MODES = ("policy", "shares")
# A version's approval statuses (SageMaker's ModelApprovalStatus) whose changes a rule's consumers
# are told of on their version event bus (`versions`; docs/version-events.md): approved only,
# unless the rule asks for more.
VERSION_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
DEFAULT_VERSION_STATUSES = ("Approved",)

# A consumer: an account (ASCII digits only, modelshare.account_ids) or, in the shares mode only,
# an organization or OU ARN (modelshare.org_principals).
_CONSUMER = re.compile(rf"{ACCOUNT_ID}|{ORG_PRINCIPAL}")
# A group pattern is a model package group name in which `*` and `?` may stand for characters.
_GROUP_PATTERN = re.compile(r"[a-zA-Z0-9*?-]{1,63}")
_VERSION_STATUS = re.compile("|".join(VERSION_STATUSES))
_RULE_KEYS = {"owner", "groups", "consumers", "access", "versions"}
_TOP_KEYS = {"version", "shares", "modes"}


class AllowlistError(ValueError):
    """The document is invalid. `problems` holds (JSON path, message) pairs, in document order."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


class AllowlistUnreadable(AllowlistError):
    """Parameter Store refuses to let this account read the allowlist parameter (a central one no
    longer shared, its KMS key refused): treated as an invalid document, fail closed."""


@dataclass(frozen=True)
class ShareRule:
    """One entry of `shares`: `owner` shares groups matching `groups` with `consumers`."""

    index: int
    owner: str
    groups: tuple[str, ...]
    consumers: tuple[str, ...]
    access: frozenset[str]
    versions: frozenset[str] = frozenset(DEFAULT_VERSION_STATUSES)

    def matches(self, group_name: str) -> bool:
        return any(_pattern_regex(pattern).fullmatch(group_name) for pattern in self.groups)

    @property
    def path(self) -> str:
        return f"$.shares[{self.index}]"


@dataclass(frozen=True)
class ShareDecision:
    """What the allowlist says about one group of one owner.

    `consumers` is empty when no rule matches; `conflict` explains why a group matched by rules
    that disagree on access is not shared at all.
    """

    owner: str
    group_name: str
    consumers: tuple[str, ...]
    actions: tuple[str, ...]
    rules: tuple[ShareRule, ...]
    conflict: str | None = None

    @property
    def shared(self) -> bool:
        return bool(self.consumers) and self.conflict is None

    def allows(self, consumer: str, memberships: frozenset[str] = frozenset()) -> bool:
        """Whether the group is shared with account `consumer`: by its ID, or through one of
        `memberships` (the organization and OU ARNs the account belongs to)."""
        return self.shared and (consumer in self.consumers or not memberships.isdisjoint(self.consumers))

    def versions_told(self, consumer: str) -> frozenset[str]:
        """The approval statuses of the group's versions account `consumer` is told of: those of
        every rule naming it (they add up; none when the group is not shared with it)."""
        if not self.shared:
            return frozenset()
        return frozenset(s for r in self.rules if consumer in r.consumers for s in r.versions)


@dataclass(frozen=True)
class Allowlist:
    """The allowlist document, validated (`parse`): its rules and the owners' sharing modes."""

    version: int
    rules: tuple[ShareRule, ...]
    # owner account -> sharing mode, for the owners the document names in `modes`.
    modes: Mapping[str, str] = field(default_factory=dict)
    # (owner, group name) -> its decision: an allowlist never changes once read, and a run decides
    # the groups of a share of thousands more than once (the consumer: what it holds, then what it
    # may grant).
    _decisions: dict[tuple[str, str], ShareDecision] = field(default_factory=dict, init=False, repr=False,
                                                             compare=False)

    @classmethod
    def parse(cls, document: str | bytes | Mapping[str, Any]) -> Allowlist:
        """Parse and validate; raises AllowlistError naming the JSON path of every problem. A
        key repeated in one object is one, in a text and in a document `strict_json.loads` read."""
        if isinstance(document, (str, bytes)):
            try:
                data = strict_json.loads(document)
            except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than json decodes
                raise AllowlistError([("$", f"not valid JSON: {error}")]) from None
        else:
            data = document
        return _parse(data)

    def decide(self, owner: str, group_name: str) -> ShareDecision:
        """Consumers and actions for `owner`'s group `group_name`, or why it is not shared."""
        decision = self._decisions.get((owner, group_name))
        if decision is None:
            decision = self._decisions[owner, group_name] = self._decide(owner, group_name)
        return decision

    def _decide(self, owner: str, group_name: str) -> ShareDecision:
        rules = tuple(r for r in self.rules if r.owner == owner and r.matches(group_name))
        if not rules:
            return ShareDecision(owner, group_name, (), (), ())
        accesses = {r.access for r in rules}
        if len(accesses) > 1:
            described = ", ".join(f"{r.path} grants {sorted(r.access)}" for r in rules)
            return ShareDecision(
                owner, group_name, (), (), rules,
                conflict=f"group {group_name!r} is matched by rules with different access: {described}",
            )
        consumers = tuple(sorted({c for r in rules for c in r.consumers}))
        return ShareDecision(owner, group_name, consumers, actions_for(next(iter(accesses))), rules)

    def mode_for(self, owner: str, *, default: str) -> str:
        """How `owner` shares: as `modes` names it, else `default` (the stack's SharingMode)."""
        return self.modes.get(owner, default)

    def rules_for_owner(self, owner: str) -> tuple[ShareRule, ...]:
        return tuple(r for r in self.rules if r.owner == owner)

    def owners_sharing_with(self, consumer: str, memberships: frozenset[str] = frozenset()) -> frozenset[str]:
        """The owners with a rule naming account `consumer`, or one of `memberships` (its
        organization and OUs)."""
        return frozenset(r.owner for r in self.rules
                         if consumer in r.consumers or not memberships.isdisjoint(r.consumers))

    def owners_naming(self, consumer: str) -> frozenset[str]:
        """The owners with a rule naming account `consumer` or any organization or OU (which
        may hold it, whatever it can read of its own organization): whose shares its re-check
        judges."""
        return frozenset(r.owner for r in self.rules
                         if consumer in r.consumers or any(parse_org_principal(c) for c in r.consumers))


def actions_for(access: Iterable[str]) -> tuple[str, ...]:
    levels = set(access) | set(DEFAULT_ACCESS)
    return tuple(action for level in ACCESS_ACTIONS if level in levels for action in ACCESS_ACTIONS[level])


def access_levels_for(actions: Iterable[str]) -> tuple[str, ...] | None:
    """The access levels that grant exactly `actions` (IAM actions compare case-insensitively),
    in ACCESS_ACTIONS order, or None when no combination does."""
    wanted = {a.lower() for a in actions}
    optional = [level for level in ACCESS_ACTIONS if level not in DEFAULT_ACCESS]
    for mask in range(1 << len(optional)):
        levels = (*DEFAULT_ACCESS, *(level for i, level in enumerate(optional) if mask >> i & 1))
        if {a.lower() for a in actions_for(levels)} == wanted:
            return tuple(level for level in ACCESS_ACTIONS if level in levels)
    return None


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Only `*` and `?` are special (fnmatch would also treat `[...]`); case-sensitive. A star
    # followed by more of the pattern takes the shortest run up to the next literal part, and
    # atomically (as fnmatch does): one `.*` per star backtracked through every split of the
    # name, seconds for nine stars against a long name, hours for a few more.
    parts = [_literal(part) for part in pattern.split("*")]
    if len(parts) == 1:
        return re.compile(parts[0])
    head, *middle, tail = parts
    return re.compile(head + "".join(f"(?>.*?{part})" for part in middle) + ".*" + tail)


def _literal(part: str) -> str:
    return "".join("." if c == "?" else re.escape(c) for c in part)


def _parse(data: Any) -> Allowlist:
    problems = repeated_key_problems(data)
    if not isinstance(data, dict):
        raise AllowlistError([*problems, ("$", f"must be an object, not {_type_name(data)}")])
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append((key_path("$", key), "unknown key"))
    version = data.get("version")
    if "version" not in data:
        problems.append(("$.version", "is required"))
    elif type(version) is not int or version != SUPPORTED_VERSION:
        problems.append(("$.version", f"must be {SUPPORTED_VERSION}, not {_json(version)}"))
    shares = data.get("shares")
    rules: list[ShareRule] = []
    if "shares" not in data:
        problems.append(("$.shares", "is required"))
    elif not isinstance(shares, list):
        problems.append(("$.shares", f"must be a list, not {_type_name(shares)}"))
    else:
        for index, entry in enumerate(shares):
            rule = _parse_rule(index, entry, problems)
            if rule is not None:
                rules.append(rule)
    modes = _parse_modes(data["modes"], problems) if "modes" in data else {}
    _check_org_consumers(rules, modes, problems)
    if problems:
        raise AllowlistError(problems)
    return Allowlist(SUPPORTED_VERSION, tuple(rules), modes)


def _parse_modes(value: Any, problems: list[tuple[str, str]]) -> dict[str, str]:
    """`modes`: an object from owner account IDs to a sharing mode. Strict: a key that is no
    account ID or a mode not known makes the document invalid (fail closed)."""
    if not isinstance(value, dict):
        problems.append(("$.modes", f"must be an object of account ID to one of {list(SHARING_MODES)}, "
                                    f"not {_type_name(value)}"))
        return {}
    modes: dict[str, str] = {}
    for owner, mode in value.items():
        if not _is_account(owner):
            problems.append((key_path("$.modes", owner), "must be a 12-digit account ID"))
        elif not isinstance(mode, str) or mode not in SHARING_MODES:
            problems.append((key_path("$.modes", owner), f"must be one of {list(SHARING_MODES)}, not {_json(mode)}"))
        else:
            modes[owner] = mode
    return modes


def _check_org_consumers(rules: list[ShareRule], modes: Mapping[str, str], problems: list[tuple[str, str]]) -> None:
    """An organization or OU consumer is served by the shares mode only (promotion takes account
    principals only): its owner must be named `shares` in `modes`, whatever a stack's SharingMode
    says, so the document means the same in every account. One organization is named with one
    management account throughout."""
    management: dict[str, tuple[str, str]] = {}
    for rule in rules:
        for i, consumer in enumerate(rule.consumers):
            principal = parse_org_principal(consumer)
            if principal is None:
                continue
            path = f"{rule.path}.consumers[{i}]"
            if modes.get(rule.owner) != "shares":
                problems.append((path, f"an organization or OU consumer is shared in the shares mode only: "
                                       f"name owner {rule.owner} \"shares\" in $.modes"))
            first = management.setdefault(principal.organization_id, (principal.management_account, path))
            if first[0] != principal.management_account:
                problems.append((path, f"organization {principal.organization_id} has management account {first[0]} "
                                       f"at {first[1]}, not {principal.management_account}"))


def _parse_rule(index: int, entry: Any, problems: list[tuple[str, str]]) -> ShareRule | None:
    path = f"$.shares[{index}]"
    if not isinstance(entry, dict):
        problems.append((path, f"must be an object, not {_type_name(entry)}"))
        return None
    before = len(problems)
    for key in sorted(set(entry) - _RULE_KEYS):
        problems.append((key_path(path, key), "unknown key"))
    for key in ("owner", "groups", "consumers"):
        if key not in entry:
            problems.append((f"{path}.{key}", "is required"))
    owner = entry.get("owner")
    if "owner" in entry and not _is_account(owner):
        problems.append((f"{path}.owner", f"must be a 12-digit account ID string, not {_json(owner)}"))
    groups = _string_list(entry, "groups", path, problems, _GROUP_PATTERN,
                          "must be a model package group name pattern (letters, digits, '-', '*', '?'; 1-63 characters)")
    consumers = _string_list(entry, "consumers", path, problems, _CONSUMER, ORG_PRINCIPAL_MESSAGE)
    if _is_account(owner) and owner in consumers:
        problems.append((f"{path}.consumers[{consumers.index(owner)}]", "the owner cannot be its own consumer"))
    access: list[str] = list(DEFAULT_ACCESS)
    if "access" in entry:
        access = _string_list(entry, "access", path, problems, None, "")
        for i, level in enumerate(access):
            if level not in ACCESS_ACTIONS:
                problems.append((f"{path}.access[{i}]", f"must be one of {sorted(ACCESS_ACTIONS)}, not {json.dumps(level)}"))
    versions = list(DEFAULT_VERSION_STATUSES)
    if "versions" in entry:
        versions = _string_list(entry, "versions", path, problems, _VERSION_STATUS,
                                f"must be one of {list(VERSION_STATUSES)}")
    if len(problems) > before or not isinstance(owner, str):  # no problem: the owner is an account ID
        return None
    return ShareRule(index, owner, tuple(groups), tuple(consumers), frozenset(access) | frozenset(DEFAULT_ACCESS),
                     frozenset(versions))


def _string_list(entry: dict[str, Any], key: str, path: str, problems: list[tuple[str, str]],
                 pattern: re.Pattern[str] | None, pattern_message: str) -> list[str]:
    if key not in entry:
        return []
    value = entry[key]
    if not isinstance(value, list):
        problems.append((f"{path}.{key}", f"must be a list, not {_type_name(value)}"))
        return []
    if not value:
        problems.append((f"{path}.{key}", "must not be empty"))
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, str):
            problems.append((f"{path}.{key}[{i}]", f"must be a string, not {_type_name(item)}"))
        elif pattern is not None and not pattern.fullmatch(item):
            problems.append((f"{path}.{key}[{i}]", f"{pattern_message}: {json.dumps(item)}"))
        elif item in seen:
            problems.append((f"{path}.{key}[{i}]", f"duplicate {json.dumps(item)}"))
        else:
            seen.add(item)
    return [item for item in value if isinstance(item, str)]


def repeated_key_problems(data: Any, root: str = "$") -> list[tuple[str, str]]:
    """A problem for each key an object of `data` repeats (json keeps the last: a reader, or
    another parser, may take the first)."""
    return [(path, f"duplicate key ({times} times in one object): a reader cannot tell which one counts")
            for path, times in strict_json.repeated_keys(data, root)]


def _is_account(value: Any) -> bool:
    return is_account_id(value)


def _json(value: Any) -> str:
    """`value` in a message, as JSON; an object json.loads never makes (an int too long to print,
    nesting deeper than json writes), which a caller may still pass, by its type."""
    try:
        return json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        return f"a {_type_name(value)}"


def _type_name(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)
