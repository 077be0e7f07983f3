"""Model package group resource policies: modelshare's own statement, merging, promotability.

`PutModelPackageGroupPolicy` replaces the whole policy, so modelshare rewrites only its own
statement (fixed Sid) and keeps every statement someone else wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelshare.account_ids import ACCOUNT_ID, is_account_id

MODELSHARE_SID = "ModelshareCrossAccountShare"
POLICY_VERSION = "2012-10-17"

_ACCOUNT_ID = re.compile(ACCOUNT_ID)
_ACCOUNT_ROOT = re.compile(rf"arn:aws[a-z-]*:iam::({ACCOUNT_ID}):root")
_GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def group_resources(group_arn: str) -> list[str]:
    """The group and every model package (version) in it."""
    prefix, _, group_name = group_arn.rpartition(":model-package-group/")
    return [group_arn, f"{prefix}:model-package/{group_name}/*"]


def group_name_of(arn: str, owner: str) -> str | None:
    """The group name when `arn` is a model package group ARN of `owner` (an account ID), else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1].startswith("aws") or parts[2] != "sagemaker" \
            or parts[4] != owner or not is_account_id(owner):
        return None
    kind, _, name = parts[5].partition("/")
    return name if kind == "model-package-group" and _GROUP_NAME.fullmatch(name) else None


def modelshare_statement(group_arn: str, consumers: Iterable[str], actions: Iterable[str]) -> dict[str, Any]:
    """One statement: account principals only, explicit actions, no conditions (promotable)."""
    principals = sorted(set(consumers))
    return {
        "Sid": MODELSHARE_SID,
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in principals]},
        "Action": sorted(set(actions)),
        "Resource": group_resources(group_arn),
    }


def merge(existing: dict[str, Any] | None, ours: dict[str, Any] | None) -> dict[str, Any] | None:
    """`existing` with modelshare's statement replaced by `ours` (or removed when None).

    Returns None when no statement would remain: the policy should then be deleted.
    """
    others = [s for s in statements(existing) if s.get("Sid") != MODELSHARE_SID]
    merged = others + ([ours] if ours is not None else [])
    if not merged:
        return None
    version = (existing or {}).get("Version", POLICY_VERSION)
    return {"Version": version, "Statement": merged}


def same_policy(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    return canonical(a) == canonical(b)


def canonical(policy: dict[str, Any] | None) -> str:
    return json.dumps(policy, sort_keys=True, separators=(",", ":"))


def statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def principals_of(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    values: list[str] = []
    for value in principal.values():
        values.extend([value] if isinstance(value, str) else list(value))
    return values


def account_of(principal: str) -> str | None:
    """The account ID when `principal` names a whole account (ID or `:root` ARN), else None."""
    if _ACCOUNT_ID.fullmatch(principal):
        return principal
    match = _ACCOUNT_ROOT.fullmatch(principal)
    return match.group(1) if match else None


@dataclass(frozen=True)
class PolicyAssessment:
    """Whether a policy can be promoted to a discoverable RAM share, and if not, why."""

    accounts: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def promotable(self) -> bool:
        return not self.problems


def assess(policy: dict[str, Any] | None, allowed_consumers: Iterable[str]) -> PolicyAssessment:
    """Check the rules RAM applies to promotion (docs/aws-behaviour.md, RAM-PROMOTABLE: one statement,
    account principals, explicit actions, no conditions) and that every principal is allowlisted
    for the group."""
    allowed = set(allowed_consumers)
    problems: list[str] = []
    found = statements(policy)
    if not found:
        problems.append("the policy has no statement")
    if len(found) > 1:
        problems.append(f"the policy has {len(found)} statements; RAM promotes only a single statement")
    accounts: set[str] = set()
    for statement in found:
        sid = statement.get("Sid", "(no Sid)")
        for key in ("Condition", "NotAction", "NotPrincipal", "NotResource"):
            if key in statement:
                problems.append(f"statement {sid} has {key}, which a promoted permission cannot hold")
        if statement.get("Effect") != "Allow":
            problems.append(f"statement {sid} is not an Allow statement")
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action:
                problems.append(f"statement {sid} has wildcard action {action!r}; RAM needs explicit actions")
        for principal in principals_of(statement):
            account = account_of(principal)
            if account is None:
                problems.append(f"principal {principal!r} is not an account; RAM promotes account principals only")
            elif account not in allowed:
                problems.append(f"principal account {account} is not allowlisted for this group")
            else:
                accounts.add(account)
    return PolicyAssessment(tuple(sorted(accounts)), tuple(dict.fromkeys(problems)))
