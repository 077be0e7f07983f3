"""An independent judge of modelshare's safety promises (issue 9), for chaos runs and random worlds.

It is written from the README's promises and reads only what AWS holds and what the calls carried,
never modelshare's code: it has its own reading of the allowlist (below), and learns what each
invocation decided on from the allowlist value that invocation read from Parameter Store.

While the run goes, every write a function's call applied (whatever answer a fault gave it) is
judged against the allowlist the same invocation read last:
- a policy modelshare puts grants only accounts that allowlist names for the group, and keeps every
  statement a person wrote, byte for byte; modelshare never deletes a policy holding one;
- a RAM share it associates or promotes pairs only groups and accounts that allowlist allows;
- an invitation it accepts holds only groups of the sender that the consumer's allowlist allows;
- no grant is made by an invocation that read no allowlist.
After the run (faults off, a sweep period passed), no account can use a group beyond what the
owner's final allowlist or a person's own statements grant (a violation), and, judged apart as
convergence (`unconverged`): a group nobody else shared is discoverable exactly by the accounts
both allowlists allow, and every invocation that reached a failure destination was followed by a
successful run of the same function in the same account.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from localaws.cloud import ApiCall, LocalCloud
from localaws.registry_state import GROUP_ARN, principal_account

# The Sid of modelshare's statement, as the README documents it: every other statement is a person's.
MODELSHARE_SID = "ModelshareCrossAccountShare"
_LEVELS = frozenset({"discover", "register", "deploy"})
_RULE_KEYS = frozenset({"owner", "groups", "consumers", "access"})
_ACCOUNT = re.compile(r"[0-9]{12}")  # ASCII digits: the digit class takes any Unicode digit
_LIVE_ASSOCIATION = ("ASSOCIATING", "ASSOCIATED")


@dataclass(frozen=True)
class Rule:
    owner: str
    patterns: tuple[re.Pattern[str], ...]
    consumers: frozenset[str]
    access: frozenset[str]


def read_allowlist(text: str) -> tuple[Rule, ...] | None:
    """The rules of an allowlist document as the README specifies it, or None when it is invalid
    (then nothing may be shared or accepted). Deliberately short and strict: where it is stricter
    than modelshare, a world shows it as a group that did not converge, never as a grant let by."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except ValueError:  # not JSON, or a key given twice in one object (json would keep the last)
        return None
    if not isinstance(data, dict) or set(data) != {"version", "shares"} or data["version"] != 1 \
            or isinstance(data["version"], bool) or not isinstance(data["shares"], list):
        return None
    rules = []
    for entry in data["shares"]:
        if not isinstance(entry, dict) or not {"owner", "groups", "consumers"} <= set(entry) <= _RULE_KEYS:
            return None
        owner, groups, consumers = entry["owner"], entry["groups"], entry["consumers"]
        access = entry.get("access", ["discover"])
        if not (isinstance(owner, str) and _ACCOUNT.fullmatch(owner)):
            return None
        for values in (groups, consumers, access):
            if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values) \
                    or len(set(values)) != len(values):
                return None
        if not groups or not consumers or not all(_ACCOUNT.fullmatch(c) for c in consumers) or owner in consumers \
                or not set(access) <= _LEVELS:
            return None
        patterns = tuple(re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in g))
                         for g in groups)
        rules.append(Rule(owner, patterns, frozenset(consumers), frozenset(access) | {"discover"}))
    return tuple(rules)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("a key repeated in one object")
    return dict(pairs)


def allows(rules: tuple[Rule, ...] | None, owner: str, group: str, consumer: str) -> bool:
    """Whether the rules share `owner`'s `group` with `consumer`: rules that match it and agree on
    their access add up their consumers; rules that disagree share it with nobody."""
    if rules is None:
        return False
    matching = [r for r in rules if r.owner == owner and any(p.fullmatch(group) for p in r.patterns)]
    if len({r.access for r in matching}) != 1:
        return False
    return any(consumer in r.consumers for r in matching)


# What each access level grants, as the README's allowlist section says (written here again, not
# imported: the oracle is independent of the domain code).
_LEVEL_ACTIONS = {
    "discover": ("sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"),
    "register": ("sagemaker:CreateModelPackage",),
    "deploy": ("sagemaker:UpdateModelPackage", "sagemaker:CreateModel"),
}


def allowed_actions(rules: tuple[Rule, ...] | None, owner: str, group: str) -> frozenset[str]:
    """The actions (lower-cased) the rules let `owner`'s `group` be shared with: none when no rule
    or rules that disagree match it."""
    if rules is None:
        return frozenset()
    matching = {r.access for r in rules if r.owner == owner and any(p.fullmatch(group) for p in r.patterns)}
    if len(matching) != 1:
        return frozenset()
    return frozenset(a.lower() for level in next(iter(matching)) for a in _LEVEL_ACTIONS[level])


def _live_groups(share: Any) -> list[str]:
    """The names of the model package groups a share holds now."""
    return [match.group(3) for arn, association in share.resources.items()
            if association.status in _LIVE_ASSOCIATION and (match := GROUP_ARN.fullmatch(arn))]


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return [str(p) for key, value in principal.items()
                for p in (value if isinstance(value, list) else [value]) if key == "AWS"] + \
               [f"{key}:{value}" for key, value in principal.items() if key != "AWS"]
    return [str(principal)]


@dataclass
class SafetyOracle:
    cloud: LocalCloud
    region: str
    # account -> the name of the parameter its stack reads the allowlist from
    allowlist_parameters: dict[str, str]
    violations: list[str] = field(default_factory=list)
    # What did not converge (judged after the run): not a grant beyond the allowlist, but a
    # promise broken all the same once faults stopped and a sweep period passed.
    unconverged: list[str] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    _reads: dict[str, str] = field(default_factory=dict)  # invocation -> allowlist value it read last
    _documents: dict[str, list[str]] = field(default_factory=dict)  # account -> values written, in order
    _person_statements: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _person_grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # accounts, or "*"
    # Ordering of what was observed: when a person last wrote a group's policy, and when each
    # invocation last read it. SageMaker has no conditional put, so a person's put that lands
    # between a function's read and its write is lost to that write: a race no caller can close
    # (noted, not a violation). A statement dropped that the function had read is a violation.
    _seen: int = 0
    _person_wrote: dict[tuple[str, str], int] = field(default_factory=dict)
    _policy_reads: dict[tuple[str, str], int] = field(default_factory=dict)  # (invocation, group)
    # invocation -> (version, rules) of the newest valid version the history it read holds: an
    # invocation that read an invalid allowlist may narrow to that version, never grant more.
    _last_valid: dict[str, tuple[int, tuple[Rule, ...]]] = field(default_factory=dict)
    races: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cloud.call_observers.append(self._observe)

    # -- what people do --------------------------------------------------------------------
    def _person(self, call: ApiCall) -> None:
        params = call.params
        if call.service == "sagemaker" and "ModelPackageGroupName" in params:
            self._person_wrote[(call.account, str(params["ModelPackageGroupName"]))] = self._seen
        if call.service == "ssm" and call.operation == "PutParameter" \
                and params.get("Name") == self.allowlist_parameters.get(call.account):
            self._documents.setdefault(call.account, []).append(str(params.get("Value", "")))
        elif call.service == "sagemaker" and call.operation == "PutModelPackageGroupPolicy":
            key = (call.account, str(params["ModelPackageGroupName"]))
            statements = json.loads(str(params["ResourcePolicy"])).get("Statement", [])
            mine = [s for s in statements if s.get("Sid") != MODELSHARE_SID]
            self._person_statements[key] = [json.dumps(s) for s in mine]
            grants = self._person_grants.setdefault(key, set())
            for statement in mine:
                for principal in _principals(statement):
                    grants.add("*" if principal == "*" else principal_account(principal) or "")
        elif call.service == "sagemaker" and call.operation in ("DeleteModelPackageGroupPolicy", "DeleteModelPackageGroup"):
            key = (call.account, str(params["ModelPackageGroupName"]))
            self._person_statements.pop(key, None)
            if call.operation == "DeleteModelPackageGroup":  # a group made again later is another group
                self._person_grants.pop(key, None)
        elif call.service == "ram" and call.operation == "CreateResourceShare":
            for arn in params.get("resourceArns", []):
                match = GROUP_ARN.fullmatch(arn)
                if match:
                    grants = self._person_grants.setdefault((match.group(2), match.group(3)), set())
                    grants.update(principal_account(p) or "" for p in params.get("principals", []))

    # -- what the functions do ---------------------------------------------------------------
    def _observe(self, call: ApiCall, output: dict[str, Any]) -> None:
        self._seen += 1
        if call.caller is None:
            self._person(call)
            return
        invocation = call.invocation or ""
        if call.service == "ssm" and call.operation == "GetParameter" \
                and call.params.get("Name") == self.allowlist_parameters.get(call.account):
            self._reads[invocation] = str(output.get("Parameter", {}).get("Value", ""))
            return
        if call.service == "ssm" and call.operation == "GetParameterHistory" \
                and call.params.get("Name") == self.allowlist_parameters.get(call.account):
            for version in output.get("Parameters", []):
                rules = read_allowlist(str(version.get("Value", "")))
                number = int(version.get("Version", 0))
                if rules is not None and number > self._last_valid.get(invocation, (0, ()))[0]:
                    self._last_valid[invocation] = (number, rules)
            return
        if call.service == "sagemaker" and call.operation == "GetModelPackageGroupPolicy":
            self._policy_reads[(invocation, str(call.params["ModelPackageGroupName"]))] = self._seen
            return
        judge = {("sagemaker", "PutModelPackageGroupPolicy"): self._judge_policy,
                 ("sagemaker", "DeleteModelPackageGroupPolicy"): self._judge_policy_deletion,
                 ("ram", "AssociateResourceShare"): self._judge_association,
                 ("ram", "CreateResourceShare"): self._judge_whole_share,
                 ("ram", "PromoteResourceShareCreatedFromPolicy"): self._judge_whole_share,
                 ("ram", "AcceptResourceShareInvitation"): self._judge_acceptance,
                 ("ram", "AssociateResourceSharePermission"): self._judge_permission}.get((call.service, call.operation))
        if judge is not None:
            self.checked[call.operation] += 1
            judge(call)

    def _violation(self, call: ApiCall, text: str) -> None:
        self.violations.append(f"{call.time} [{call.account}] {call.caller} {call.operation}: {text}")

    def _rules_read(self, call: ApiCall, *, narrowing: bool = False) -> tuple[Rule, ...] | None:
        """The rules of the allowlist the invocation read. A `narrowing` write (a policy put, a
        permission) by an invocation that read an invalid one is judged by the last valid
        version in the history it read (README: an invalid edit does not freeze a removal);
        anything else it grants is a violation."""
        value = self._reads.get(call.invocation or "")
        if value is None:
            self._violation(call, "granted without reading the allowlist in this invocation")
            return None
        rules = read_allowlist(value)
        if rules is None and narrowing and (call.invocation or "") in self._last_valid:
            return self._last_valid[call.invocation or ""][1]
        return rules

    def _judge_policy(self, call: ApiCall) -> None:
        group = str(call.params["ModelPackageGroupName"])
        statements = json.loads(str(call.params["ResourcePolicy"])).get("Statement", [])
        written = [json.dumps(s) for s in statements]
        for kept in self._person_statements.get((call.account, group), []):
            if kept in written:
                continue
            read = self._policy_reads.get((call.invocation or "", group), -1)
            if self._person_wrote.get((call.account, group), -1) > read:
                self.races.append(f"{call.time} [{call.account}] {call.caller} overwrote a person's put on {group} "
                                  "that landed after it read the policy (no conditional put exists)")
            else:
                self._violation(call, f"dropped or changed a person's statement on {group}: {kept}")
        theirs = set(self._person_statements.get((call.account, group), []))
        granted = [p for s, text in zip(statements, written, strict=True) if text not in theirs for p in _principals(s)]
        if not granted:
            return
        rules = self._rules_read(call, narrowing=True)
        for principal in granted:
            account = principal_account(principal)
            if account is None or not allows(rules, call.account, group, account):
                self._violation(call, f"granted {principal} on {group}, which the allowlist it read does not allow")

    def _judge_policy_deletion(self, call: ApiCall) -> None:
        group = str(call.params["ModelPackageGroupName"])
        if self._person_statements.get((call.account, group)):
            self._violation(call, f"deleted the policy of {group}, which holds a person's statements")

    def _share(self, call: ApiCall) -> Any:
        arn = call.params.get("resourceShareArn")
        if arn is None:  # CreateResourceShare: the share it made is the newest of the account's
            mine = [s for s in self.cloud.registry.state.shares.values() if s.account == call.account]
            return max(mine, key=lambda s: s.creation_time, default=None)
        return self.cloud.registry.state.shares.get(str(arn))

    def _judge_pairs(self, call: ApiCall, resources: Iterable[str], principals: Iterable[str]) -> None:
        pairs = [(r, p) for r in resources for p in principals]
        if not pairs:
            return
        rules = self._rules_read(call)
        for resource, principal in pairs:
            match = GROUP_ARN.fullmatch(resource)
            account = principal_account(principal)
            if match is None or match.group(2) != call.account:
                self._violation(call, f"shared {resource}, which is no model package group of {call.account}")
            elif account is None or not allows(rules, call.account, match.group(3), account):
                self._violation(call, f"shared {match.group(3)} with {principal}, which the allowlist it read does not allow")

    def _judge_association(self, call: ApiCall) -> None:
        share = self._share(call)
        if share is None:
            return
        live_resources = [a for a, x in share.resources.items() if x.status in _LIVE_ASSOCIATION]
        live_principals = [p for p, x in share.principals.items() if x.status in _LIVE_ASSOCIATION]
        self._judge_pairs(call, live_resources, call.params.get("principals", []))
        self._judge_pairs(call, call.params.get("resourceArns", []), live_principals)

    def _judge_whole_share(self, call: ApiCall) -> None:
        share = self._share(call)
        if share is None:
            return
        self._judge_pairs(call, [a for a, x in share.resources.items() if x.status in _LIVE_ASSOCIATION],
                          [p for p, x in share.principals.items() if x.status in _LIVE_ASSOCIATION])

    def _judge_permission(self, call: ApiCall) -> None:
        """A permission attached to a share grants, on each group it holds, nothing beyond the
        actions the allowlist read gives that group."""
        share = self._share(call)
        permission = self.cloud.registry.state.permissions.get(str(call.params.get("permissionArn")))
        if share is None or permission is None:
            return
        rules = self._rules_read(call, narrowing=True)
        for group in _live_groups(share):
            beyond = permission.actions() - allowed_actions(rules, call.account, group)
            if beyond:
                self._violation(call, f"gave the share of {group} {', '.join(sorted(beyond))}, which the "
                                      "allowlist it read does not allow")

    def _judge_acceptance(self, call: ApiCall) -> None:
        state = self.cloud.registry.state
        invitation = state.invitations.get(str(call.params.get("resourceShareInvitationArn")))
        share = state.shares.get(invitation.share_arn) if invitation is not None else None
        if invitation is None or share is None:
            return
        rules = self._rules_read(call)
        for arn, association in share.resources.items():
            if association.status not in _LIVE_ASSOCIATION:
                continue
            match = GROUP_ARN.fullmatch(arn)
            if match is None or match.group(2) != invitation.sender:
                self._violation(call, f"accepted a share from {invitation.sender} holding {arn}")
            elif not allows(rules, invitation.sender, match.group(3), call.account):
                self._violation(call, f"accepted {match.group(3)} from {invitation.sender}, which the allowlist it read "
                                      "does not allow")

    # -- after the run -----------------------------------------------------------------------
    def final_allowlist(self, account: str) -> tuple[Rule, ...] | None:
        documents = self._documents.get(account, [])
        return read_allowlist(documents[-1]) if documents else None

    def judge_final_state(self, accounts: Iterable[str], failures: list[dict[str, Any]],
                          invocations: list[Any]) -> dict[str, Any]:
        """The verdict once faults stopped and a sweep period passed (people's calls, unfaulted)."""
        accounts = sorted(accounts)
        notes = []
        for account in accounts:
            if self.final_allowlist(account) is None:
                notes.append(f"the final allowlist of {account} is invalid: its groups' convergence is not judged")
        visible = {x: set(self._discoverable(x)) for x in accounts}
        for owner in accounts:
            owner_rules = self.final_allowlist(owner)
            for name, group in sorted(self.cloud.registry.state.groups_in(owner, self.region).items()):
                self.checked["final group"] += 1
                grants = self._person_grants.get((owner, name), set())
                for consumer in (x for x in accounts if x != owner):
                    consumer_rules = self.final_allowlist(consumer)
                    owner_allows = allows(owner_rules, owner, name, consumer)
                    if owner_rules is not None and not owner_allows and not grants & {"*", consumer} \
                            and self._can_use(consumer, group.arn):
                        self.violations.append(f"final: {consumer} can still use {owner}'s {name}, which the final "
                                               "allowlist does not allow")
                    discoverable = group.arn in visible[consumer]
                    if owner_rules is None or consumer_rules is None:
                        continue
                    expected = owner_allows and allows(consumer_rules, owner, name, consumer)
                    if discoverable and not expected:
                        self.violations.append(f"final: {consumer} discovers {owner}'s {name}, which the final "
                                               "allowlists do not allow")
                    elif expected and not discoverable and not grants:
                        self.unconverged.append(f"final: {owner}'s {name} is not discoverable by {consumer} though the "
                                               "final allowlists allow it (not converged)")
        self._judge_final_actions(accounts)
        for failure in failures:
            at = datetime.fromisoformat(str(failure.get("timestamp") or failure.get("time")))
            if not any(i.ok and i.function == failure["function"] and i.account == failure["account"]
                       and datetime.fromisoformat(i.started) > at for i in invocations):
                self.unconverged.append(f"final: {failure['function']} in {failure['account']} reached its failure "
                                       f"destination at {at.isoformat()} and never ran successfully again")
        return {"violations": list(self.violations), "unconverged": list(self.unconverged),
                "checked": dict(sorted(self.checked.items())), "notes": notes + self.races}

    def _judge_final_actions(self, accounts: list[str]) -> None:
        """modelshare's shares (tagged) with consumers grant no action beyond the final allowlist's."""
        state = self.cloud.registry.state
        for share in state.shares.values():
            if share.account not in accounts or share.status != "ACTIVE" or share.tags.get("modelshare:managed") != "true" \
                    or not any(x.status in _LIVE_ASSOCIATION for x in share.principals.values()):
                continue
            rules = self.final_allowlist(share.account)
            if rules is None:
                continue
            granted = frozenset(a for arn in share.permission_arns for a in state.permissions[arn].actions())
            for group in _live_groups(share):
                self.checked["final share actions"] += 1
                beyond = granted - allowed_actions(rules, share.account, group)
                if beyond:
                    self.violations.append(f"final: {share.account}'s share of {group} grants "
                                           f"{', '.join(sorted(beyond))}, which the final allowlist does not allow")

    def _discoverable(self, account: str) -> list[str]:
        sagemaker = self.cloud.session(account, self.region).client("sagemaker")
        arns: list[str] = []
        for page in sagemaker.get_paginator("list_model_package_groups").paginate(CrossAccountFilterOption="CrossAccount"):
            arns.extend(g["ModelPackageGroupArn"] for g in page["ModelPackageGroupSummaryList"])
        return arns

    def _can_use(self, account: str, group_arn: str) -> bool:
        sagemaker = self.cloud.session(account, self.region).client("sagemaker")
        try:
            sagemaker.describe_model_package_group(ModelPackageGroupName=group_arn)
        except ClientError:
            return False
        return True
