"""Model package group resource policies: modelshare's own statement, merging, promotability.

`PutModelPackageGroupPolicy` replaces the whole policy, so modelshare rewrites only its own
statement and keeps every statement someone else wrote. Its statement carries a fixed Sid, but a
Sid is only a name anyone can type: a statement is modelshare's when its digest is one the
ownership ledger recorded for the group (ports.OwnershipLedger, docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable
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


def statement_digest(statement: dict[str, Any]) -> str:
    """What the ledger records of a statement modelshare writes: a digest of its meaning, the same
    however SageMaker hands the policy back (lists in any order or as a single string, an account
    as its ID or its root ARN, actions in any case: IAM compares them case-insensitively)."""
    def values(value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return sorted(set(value))
        return value

    normal = {key: values(value) for key, value in statement.items()}
    if isinstance(statement.get("Action"), (str, list)):
        normal["Action"] = sorted({a.lower() for a in values(statement["Action"]) if isinstance(a, str)})
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        normal["Principal"] = {key: sorted({account_of(p) or p for p in values(v)}) if isinstance(values(v), list) else v
                               for key, v in principal.items()}
    text = json.dumps(normal, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def is_ours(statement: dict[str, Any], owned: Collection[str]) -> bool:
    """Whether modelshare wrote this statement: its Sid, and a digest the ledger recorded."""
    return statement.get("Sid") == MODELSHARE_SID and statement_digest(statement) in owned


def sid_taken(policy: dict[str, Any] | None, owned: Collection[str]) -> bool:
    """Whether someone else wrote a statement with modelshare's Sid: modelshare then leaves the
    policy alone (it can neither change that statement nor add its own beside it)."""
    return any(s.get("Sid") == MODELSHARE_SID and not is_ours(s, owned) for s in statements(policy))


def merge(existing: dict[str, Any] | None, ours: dict[str, Any] | None,
          owned: Collection[str]) -> dict[str, Any] | None:
    """`existing` with modelshare's statement (one whose digest is in `owned`) replaced by `ours`
    (or removed when None); every other statement is kept as it is.

    Returns None when no statement would remain: the policy should then be deleted.
    """
    others = [s for s in statements(existing) if not is_ours(s, owned)]
    merged = others + ([ours] if ours is not None else [])
    if not merged:
        return None
    version = (existing or {}).get("Version", POLICY_VERSION)
    return {"Version": version, "Statement": merged}


def statement_accounts(statements: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({a for s in statements for p in principals_of(s) if (a := account_of(p))})


def statement_actions(statements: Iterable[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for statement in statements:
        action = statement.get("Action", [])
        found.extend([action] if isinstance(action, str) else [a for a in action if isinstance(a, str)])
    return found


def grants(statements: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(account, action) pairs the Allow statements grant."""
    return {(account, action.lower()) for s in statements if s.get("Effect") == "Allow"
            for account in statement_accounts([s]) for action in statement_actions([s])}


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


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class PolicyAssessment:
    """Whether a policy can be promoted to a discoverable RAM share, and if not, why."""

    accounts: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def promotable(self) -> bool:
        return not self.problems


def assess(policy: dict[str, Any] | None, allowed_consumers: Iterable[str],
           allowed_actions: Iterable[str]) -> PolicyAssessment:
    """Check the rules RAM applies to promotion (docs/aws-behaviour.md, RAM-PROMOTABLE: one statement,
    account principals, explicit actions, no conditions) and that every principal is allowlisted
    for the group and every action is one the allowlist's access gives (promotion would hand the
    consumers exactly the statement's actions)."""
    allowed = set(allowed_consumers)
    permitted = {a.lower() for a in allowed_actions}
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
            if not isinstance(action, str):
                problems.append(f"statement {sid} has an action that is not a string: {action!r}")
            elif "*" in action:
                problems.append(f"statement {sid} has wildcard action {action!r}; RAM needs explicit actions")
            elif action.lower() not in permitted:
                problems.append(f"statement {sid} grants {action!r}, beyond the allowlist's access for this group")
        for principal in principals_of(statement):
            account = account_of(principal)
            if account is None:
                problems.append(f"principal {principal!r} is not an account; RAM promotes account principals only")
            elif account not in allowed:
                problems.append(f"principal account {account} is not allowlisted for this group")
            else:
                accounts.add(account)
    return PolicyAssessment(tuple(sorted(accounts)), tuple(dict.fromkeys(problems)))
