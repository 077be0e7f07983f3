"""What an insider with ordinary rights does in a timed scenario (issue 19): the timeline steps a
person takes in an owner or consumer account, with that account's own clients, beside allowlist
edits and faults. Each is a call anyone in the account may make; AWS (or a queue policy) may
refuse it, which the scenario tells and goes on.

Steps (each with `at` and an `account`):
- `tag_share` {share, tags}: tags a share of the account (RAM TagResource);
- `tag_group` {group, tags}: tags a model package group (SageMaker AddTags);
- `create_share` {name, groups, principals, permission?}: a share made directly in RAM; `permission`
  lists access levels (["deploy"]): the managed permission granting exactly those actions, found by
  listing the account's permissions (else the one granting most that covers them), never by name;
  without it, RAM's default;
- `associate_share` {share, groups?, principals?}: adds groups of the account, or principals (accounts,
  IAM roles, the organization or an OU by ARN: RAM refuses what it does not take), to a share;
- `add_statement` {group, statement}: reads the group's policy and puts it back with `statement`
  added (replacing a statement with the same Sid, as an editor would);
- `accept_invitations` {}: accepts by hand every pending invitation of the account;
- `send_message` {queue, body}: sends `body` (JSON) to a queue of the account's stack, by logical ID.
A `share` is `own:<name>` (the account's active share of that name) or `promoted:<group>` (an
active STANDARD share of the account holding the group that no person of the scenario named:
modelshare's, the one it promoted in the policy mode or made in the shares mode). Inside tag
values and message bodies, `{share:<selector>}` stands for that share's ARN. A selector that finds nothing skips the step, told.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from localaws.harness.oracle_ledger import as_list
from localaws.services.organizations.api import is_org_principal

# key -> (required keys, optional keys) besides "at", "do" and "account"
STEPS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "tag_share": (frozenset({"share", "tags"}), frozenset()),
    "tag_group": (frozenset({"group", "tags"}), frozenset()),
    "create_share": (frozenset({"name", "groups"}), frozenset({"principals", "permission"})),
    "associate_share": (frozenset({"share"}), frozenset({"groups", "principals"})),
    "add_statement": (frozenset({"group", "statement"}), frozenset()),
    "accept_invitations": (frozenset(), frozenset()),
    "send_message": (frozenset({"queue", "body"}), frozenset()),
    # Give a share a permission: `permission` is access levels (the managed permission for model
    # package groups granting them, found by listing), or "another-type" (a managed permission for
    # some other resource type); `replace` as AssociateResourceSharePermission takes it.
    "associate_permission": (frozenset({"share", "permission"}), frozenset({"replace"})),
}
_SELECTOR = re.compile(r"(own|promoted):(.+)")
_PLACEHOLDER = re.compile(r"\{share:((?:own|promoted):[^}]+)\}")
_GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_ROLE = re.compile(r"arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_-]{1,64}")
_LEVELS = ("discover", "register", "deploy")
# What each access level grants, as docs/allowlist.md says.
_LEVEL_ACTIONS = {
    "discover": ("sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"),
    "register": ("sagemaker:CreateModelPackage",),
    "deploy": ("sagemaker:UpdateModelPackage", "sagemaker:CreateModel"),
}


def check_step(do: str, item: dict[str, Any], where: str, fail: Callable[[str], Exception]) -> dict[str, Any]:
    """The insider step's details (everything but at/do/account), or `fail`'s error saying why not."""
    required, optional = STEPS[do]
    details = {k: v for k, v in item.items() if k not in ("at", "do", "account")}
    unknown, missing = sorted(set(details) - required - optional), sorted(required - set(details))
    if unknown or missing or "account" not in item:
        raise fail(f"{where}: {do} takes account, at, {sorted(required | optional)}"
                   + (f"; unknown {unknown}" if unknown else "") + (f"; missing {missing}" if missing else ""))
    for key in ("tags",):
        if key in details and not (isinstance(details[key], dict)
                                   and all(isinstance(v, str) for v in details[key].values())):
            raise fail(f"{where}.{key}: must be an object of strings")
    if "share" in details and not (isinstance(details["share"], str) and _SELECTOR.fullmatch(details["share"])):
        raise fail(f"{where}.share: must be own:<name> or promoted:<group>")
    if "group" in details and not (isinstance(details["group"], str) and _GROUP_NAME.fullmatch(details["group"])):
        raise fail(f"{where}.group: not a model package group name")
    for key, fits in (("groups", _GROUP_NAME.fullmatch), ("principals", _principal)):
        values = details.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and fits(v) for v in values):
            raise fail(f"{where}.{key}: must be a list of " + (
                "group names" if key == "groups" else "account IDs, IAM role ARNs or organization/OU ARNs"))
    if do == "create_share" and not (isinstance(details["name"], str) and details["name"] and details["groups"]):
        raise fail(f"{where}: create_share needs a name and at least one group")
    if do == "associate_share" and not (details.get("groups") or details.get("principals")):
        raise fail(f"{where}: associate_share needs groups or principals")
    permission = details.get("permission", [])
    if not (do == "associate_permission" and permission == "another-type") \
            and (not isinstance(permission, list) or not set(permission) <= set(_LEVELS)):
        raise fail(f"{where}.permission: must be a list of access levels {list(_LEVELS)}"
                   + (' or "another-type"' if do == "associate_permission" else ""))
    if "replace" in details and not isinstance(details["replace"], bool):
        raise fail(f"{where}.replace: must be true or false")
    if "statement" in details and not isinstance(details["statement"], dict):
        raise fail(f"{where}.statement: must be a policy statement object")
    if "queue" in details and not isinstance(details["queue"], str):
        raise fail(f"{where}.queue: must be a queue's logical ID in the template")
    return details


def _principal(value: str) -> bool:
    """An account ID, an IAM role's ARN, or an organization's or OU's ARN."""
    return bool(_ACCOUNT.fullmatch(value) or _ROLE.fullmatch(value) or is_org_principal(value))


class Insider:
    """Carries out insider steps through a person's clients. `person` makes one call and tells
    it (False when AWS refused it); `say` tells anything else."""

    def __init__(self, region: str, client: Callable[[str, str], Any], person: Callable[..., bool],
                 say: Callable[[str], None], queue_name: Callable[[str, str], str | None],
                 person_share_names: set[str]) -> None:
        self.region = region
        self.client = client
        self.person = person
        self.say = say
        self.queue_name = queue_name
        self.person_share_names = person_share_names

    def group_arn(self, account: str, group: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{account}:model-package-group/{group}"

    def do(self, do: str, account: str, details: dict[str, Any]) -> None:
        try:
            resolved = self._resolve(account, details)
        except LookupError as missing:
            self.say(f"[{account}] a person looks for {missing} and finds none: skips {do}")
            return
        getattr(self, f"_{do}")(account, resolved)

    # -- selectors -------------------------------------------------------------------------
    def _resolve(self, account: str, details: dict[str, Any]) -> dict[str, Any]:
        """The step's details with its `share` selector, and every `{share:...}` in a string, made ARNs."""
        def placeholders(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: placeholders(v) for k, v in value.items()}
            if isinstance(value, list):
                return [placeholders(v) for v in value]
            if isinstance(value, str):
                return _PLACEHOLDER.sub(lambda m: self.find_share(account, m.group(1)), value)
            return value

        resolved: dict[str, Any] = placeholders(details)
        if "share" in details:
            resolved["share"] = self.find_share(account, details["share"])
        return resolved

    def find_share(self, account: str, selector: str) -> str:
        """The ARN a selector names, found as a person would, through RAM's listings."""
        match = _SELECTOR.fullmatch(selector)
        if match is None:
            raise LookupError(selector)
        ram = self.client(account, "ram")
        kind, name = match.groups()
        try:
            if kind == "own":
                shares = [s for page in ram.get_paginator("get_resource_shares").paginate(
                    resourceOwner="SELF", name=name, resourceShareStatus="ACTIVE") for s in page["resourceShares"]]
            else:
                held = {a["resourceShareArn"] for page in ram.get_paginator("get_resource_share_associations").paginate(
                    associationType="RESOURCE", resourceArn=self.group_arn(account, name), associationStatus="ASSOCIATED")
                    for a in page["resourceShareAssociations"]}
                shares = [s for page in ram.get_paginator("get_resource_shares").paginate(
                    resourceOwner="SELF", resourceShareStatus="ACTIVE") for s in page["resourceShares"]
                    if s["resourceShareArn"] in held and s["featureSet"] == "STANDARD"
                    and s["name"] not in self.person_share_names]
        except ClientError:
            shares = []
        if not shares:
            raise LookupError(f"share {selector}")
        return str(min(shares, key=lambda s: (s["creationTime"], s["resourceShareArn"]))["resourceShareArn"])

    # -- the steps -------------------------------------------------------------------------
    def _tag_share(self, account: str, details: dict[str, Any]) -> None:
        self.person(account, "ram", "tag_resource", f"tags share {details['share']} {details['tags']}",
                    resourceShareArn=details["share"], tags=[{"key": k, "value": v} for k, v in details["tags"].items()])

    def _tag_group(self, account: str, details: dict[str, Any]) -> None:
        self.person(account, "sagemaker", "add_tags", f"tags group {details['group']!r} {details['tags']}",
                    ResourceArn=self.group_arn(account, details["group"]),
                    Tags=[{"Key": k, "Value": v} for k, v in details["tags"].items()])

    def _create_share(self, account: str, details: dict[str, Any]) -> None:
        params: dict[str, Any] = {"name": details["name"], "principals": details.get("principals", []),
                                  "resourceArns": [self.group_arn(account, g) for g in details["groups"]]}
        told = "RAM's default permission"
        if details.get("permission"):
            found = self._permission(account, details["permission"])
            if found is None:
                self.say(f"[{account}] a person finds no managed permission granting {details['permission']}: "
                         f"skips creating share {details['name']!r}")
                return
            params["permissionArns"], told = [found[0]], f"a permission granting {sorted(found[1])}"
        self.person(account, "ram", "create_resource_share",
                    f"shares {', '.join(details['groups'])} in RAM with {', '.join(params['principals']) or 'nobody'} "
                    f"under {told} ({details['name']!r})", **params)

    def _permission(self, account: str, levels: list[str]) -> tuple[str, frozenset[str]] | None:
        """The listed managed permission for model package groups granting exactly the levels'
        actions, else the narrowest one granting all of them."""
        wanted = frozenset(a.lower() for level in ("discover", *levels) for a in _LEVEL_ACTIONS[level])
        ram = self.client(account, "ram")
        found: list[tuple[str, frozenset[str]]] = []
        try:
            listed: list[dict[str, Any]] = []
            token = None
            while True:  # ListPermissions has no botocore paginator
                page = ram.list_permissions(**({"nextToken": token} if token else {}))
                listed += page["permissions"]
                token = page.get("nextToken")
                if not token:
                    break
            for permission in listed:
                if not str(permission.get("resourceType", "")).lower().endswith("modelpackagegroup") \
                        or permission.get("status") not in (None, "ATTACHABLE"):
                    continue
                document = json.loads(ram.get_permission(permissionArn=permission["arn"])["permission"]["permission"])
                statements = document.get("Statement", [document]) if isinstance(document, dict) else []
                actions = frozenset(str(a).lower() for s in as_list(statements) if isinstance(s, dict)
                                    for a in as_list(s.get("Action")))
                found.append((str(permission["arn"]), actions))
        except ClientError:
            return None
        covering = sorted((p for p in found if p[1] >= wanted), key=lambda p: (len(p[1]), p[0]))
        exact = [p for p in covering if p[1] == wanted]
        return (exact or covering)[0] if covering else None

    def _associate_permission(self, account: str, details: dict[str, Any]) -> None:
        wanted = details["permission"]
        arn = self._other_type_permission(account) if wanted == "another-type" else \
            (found[0] if (found := self._permission(account, list(wanted))) else None)
        if arn is None:
            self.say(f"[{account}] a person finds no permission {wanted!r}: associates nothing")
            return
        self.person(account, "ram", "associate_resource_share_permission",
                    f"gives share {details['share']} permission {arn}"
                    + (" in place of the one it has" if details.get("replace") else ""),
                    resourceShareArn=details["share"], permissionArn=arn, replace=bool(details.get("replace", False)))

    def _other_type_permission(self, account: str) -> str | None:
        """An AWS managed permission for a resource type that is no model package group."""
        try:
            listed = self.client(account, "ram").list_permissions(permissionType="AWS_MANAGED")["permissions"]
        except ClientError:
            return None
        return next((str(p["arn"]) for p in listed
                     if not str(p.get("resourceType", "")).lower().endswith("modelpackagegroup")), None)

    def _associate_share(self, account: str, details: dict[str, Any]) -> None:
        params: dict[str, Any] = {"resourceShareArn": details["share"]}
        if details.get("groups"):
            params["resourceArns"] = [self.group_arn(account, g) for g in details["groups"]]
        if details.get("principals"):
            params["principals"] = details["principals"]
        self.person(account, "ram", "associate_resource_share",
                    f"adds {', '.join(details.get('groups', []) + details.get('principals', []))} to share {details['share']}",
                    **params)

    def _add_statement(self, account: str, details: dict[str, Any]) -> None:
        sagemaker = self.client(account, "sagemaker")
        try:
            policy = json.loads(sagemaker.get_model_package_group_policy(
                ModelPackageGroupName=details["group"])["ResourcePolicy"])
        except ClientError:
            policy = {"Version": "2012-10-17", "Statement": []}
        statement = details["statement"]
        kept = [s for s in policy.get("Statement", []) if "Sid" not in statement or s.get("Sid") != statement["Sid"]]
        policy["Statement"] = [*kept, statement]
        self.person(account, "sagemaker", "put_model_package_group_policy",
                    f"adds statement {statement.get('Sid', '(no Sid)')!r} to the policy of {details['group']!r}",
                    ModelPackageGroupName=details["group"], ResourcePolicy=json.dumps(policy))

    def _accept_invitations(self, account: str, details: dict[str, Any]) -> None:
        ram = self.client(account, "ram")
        try:
            pending = [i for page in ram.get_paginator("get_resource_share_invitations").paginate()
                       for i in page["resourceShareInvitations"] if i["status"] == "PENDING"]
        except ClientError as error:
            self.say(f"[{account}] a person cannot list invitations: {error.response['Error']['Code']}")
            return
        if not pending:
            self.say(f"[{account}] a person finds no pending invitation to accept")
        for invitation in pending:
            self.person(account, "ram", "accept_resource_share_invitation",
                        f"accepts by hand the invitation from {invitation['senderAccountId']} "
                        f"to {invitation['resourceShareArn']}",
                        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])

    def _send_message(self, account: str, details: dict[str, Any]) -> None:
        name = self.queue_name(account, details["queue"])
        if name is None:
            self.say(f"[{account}] a person finds no queue {details['queue']!r} in the stack: sends nothing")
            return
        sqs = self.client(account, "sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            self.say(f"[{account}] a person cannot find queue {name}: {error.response['Error']['Code']}")
            return
        # Refused (AccessDenied) once a queue policy lets only the stack's roles send: the expected outcome.
        self.person(account, "sqs", "send_message", f"sends a forged message to {details['queue']}",
                    QueueUrl=url, MessageBody=json.dumps(details["body"]))
