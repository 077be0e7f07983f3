"""An independent judge of modelshare's safety promises (issues 9 and 19), for chaos runs and random
worlds.

It is written from the docs' promises (docs/security.md, docs/allowlist.md) and reads only what AWS holds and what the calls carried,
never modelshare's code: it has its own reading of the allowlist (below), learns what each
invocation decided on from the allowlist value that invocation read from Parameter Store, and
learns who made what (localaws/harness/oracle_ledger.py) from the calls it sees, never from a Sid or a tag.

While the run goes, every write a function's call applied (whatever answer a fault gave it) is
judged against the allowlist the same invocation read last. Actions, not only accounts: whatever a
grant gives (a policy put, a share made, promoted or associated, a permission replaced, an
invitation accepted) grants each account no action beyond the allowlist's access for it.
- a policy modelshare puts grants only accounts that allowlist names for the group, only the
  actions of its access, and keeps every statement a person wrote (whatever its Sid), byte for
  byte; modelshare never deletes a policy holding one;
- a RAM share it makes, associates or promotes pairs only groups and accounts that allowlist
  allows, under a permission granting no action beyond their access;
- it changes (associates, disassociates, tags, untags, replaces the permission of, deletes) only
  shares it made or promoted itself, never one a person made;
- an invitation it accepts holds only groups of the sender that the consumer's allowlist allows,
  under a permission granting no action beyond that access;
- no grant is made by an invocation that read no allowlist;
- while an owner switches modes, no consumer both allowlists keep allowing loses discovery of a
  group it could discover (localaws/harness/oracle_access.py, scoped to switch windows).
After the run (faults off, a sweep period passed), no account can do on a group anything beyond
what the owner's final allowlist or a person's own statements and shares grant, and modelshare's
shares hold only groups and accounts that allowlist pairs, under no action beyond their access (a
violation); judged apart as convergence (`unconverged`): a group nobody else shared is
discoverable exactly by the accounts both allowlists allow, and every invocation that reached a
failure destination was followed by a successful run of the same function in the same account.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from localaws.harness.oracle_access import AccessWatch
from localaws.harness.oracle_ledger import MODELSHARE, PERSON, Ledger, as_list, live, live_groups, principals_of, statement_text
from localaws.runtime.calls import ApiCall
from localaws.runtime.cloud import LocalCloud
from localaws.services.organizations.api import is_org_principal
from localaws.services.registry_state import GROUP_ARN, Share, principal_account

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


@functools.lru_cache(maxsize=1024)  # speed only: a pure function, asked again after every call of a run
def read_allowlist(text: str) -> tuple[Rule, ...] | None:
    """The rules of an allowlist document as docs/allowlist.md specifies it, or None when it is invalid
    (then nothing may be shared or accepted). Deliberately short and strict: where it is stricter
    than modelshare, a world shows it as a group that did not converge, never as a grant let by."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except ValueError:  # not JSON, or a key given twice in one object (json would keep the last)
        return None
    if not isinstance(data, dict) or not {"version", "shares"} <= set(data) <= {"version", "shares", "modes"} \
            or data["version"] != 1 or isinstance(data["version"], bool) or not isinstance(data["shares"], list):
        return None
    # How each owner shares (issue 20) changes nothing of what may be granted: only its validity counts.
    modes = data.get("modes", {})
    if not isinstance(modes, dict) or not all(isinstance(owner, str) and _ACCOUNT.fullmatch(owner)
                                              and mode in ("policy", "shares") for owner, mode in modes.items()):
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
        if not groups or not consumers or not all(_ACCOUNT.fullmatch(c) or is_org_principal(c) for c in consumers) \
                or owner in consumers or not set(access) <= _LEVELS:
            return None
        # An organization or OU consumer only for an owner the document puts in the shares mode.
        if any(is_org_principal(c) for c in consumers) and modes.get(owner) != "shares":
            return None
        patterns = tuple(re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in g))
                         for g in groups)
        rules.append(Rule(owner, patterns, frozenset(consumers), frozenset(access) | {"discover"}))
    return tuple(rules)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("a key repeated in one object")
    return dict(pairs)


def allows(rules: tuple[Rule, ...] | None, owner: str, group: str, consumer: str,
           memberships: frozenset[str] = frozenset()) -> bool:
    """Whether the rules share `owner`'s `group` with `consumer` (an account, or an organization
    or OU principal by its ARN), or with one of `memberships` (the organization and OUs the
    account is in): rules that match it and agree on their access add up their consumers; rules
    that disagree share it with nobody."""
    if rules is None:
        return False
    matching = [r for r in rules if r.owner == owner and any(p.fullmatch(group) for p in r.patterns)]
    if len({r.access for r in matching}) != 1:
        return False
    return any(consumer in r.consumers or not memberships.isdisjoint(r.consumers) for r in matching)


# What each access level grants, as docs/allowlist.md says (written here again, not
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


# Every action an access level names: what each account's final access is judged on.
ALL_ACTIONS = tuple(sorted({a.lower() for actions in _LEVEL_ACTIONS.values() for a in actions}))
# The RAM calls that change a share (besides creating and promoting it), and where they name it.
_SHARE_CHANGES = ("AssociateResourceShare", "DisassociateResourceShare", "AssociateResourceSharePermission",
                  "DisassociateResourceSharePermission", "TagResource", "UntagResource", "DeleteResourceShare")


def _beyond(statement: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    """The actions (or patterns) an Allow statement grants beyond `allowed` (lower-cased)."""
    if "NotAction" in statement:
        return [f"everything but {as_list(statement['NotAction'])}"]
    return sorted({str(a).lower() for a in as_list(statement.get("Action"))} - allowed)


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
    # Who wrote which statement, who made which share, what people changed and granted.
    ledger: Ledger = field(default_factory=Ledger)
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
    # The stack default of each owner's sharing mode (SharingMode) where its allowlist names none.
    default_mode: str = "policy"
    # "No moment without access" while an owner switches modes (localaws/harness/oracle_access.py).
    access: AccessWatch = field(init=False)

    def __post_init__(self) -> None:
        self.access = AccessWatch(self, self.default_mode)
        self.cloud.call_observers.append(self._observe)

    # -- what people do --------------------------------------------------------------------
    def _person(self, call: ApiCall, output: dict[str, Any]) -> None:
        params = call.params
        if call.service == "sagemaker" and "ModelPackageGroupName" in params:
            self._person_wrote[(call.account, str(params["ModelPackageGroupName"]))] = self._seen
        if call.service == "ssm" and call.operation == "PutParameter" and self._readers(call):
            for account in self._readers(call):
                self._documents.setdefault(account, []).append(str(params.get("Value", "")))
                self.access.allowlist_written(account, str(params.get("Value", "")), str(call.time))
        elif call.service == "sagemaker" and call.operation == "PutModelPackageGroupPolicy":
            key = (call.account, str(params["ModelPackageGroupName"]))
            self.ledger.policy_put(key, as_list(json.loads(str(params["ResourcePolicy"])).get("Statement")), by_person=True)
        elif call.service == "sagemaker" and call.operation == "DeleteModelPackageGroupPolicy":
            self.ledger.policy_gone((call.account, str(params["ModelPackageGroupName"])))
        elif call.service == "sagemaker" and call.operation in ("DeleteModelPackageGroup", "CreateModelPackageGroup"):
            self.ledger.group_gone((call.account, str(params["ModelPackageGroupName"])))
        elif call.service == "ram":
            self._person_ram(call, output)

    def _readers(self, call: ApiCall) -> list[str]:
        """The accounts whose allowlist a PutParameter writes: its own account's by name, and the
        members of a central allowlist (docs/central-allowlist.md), which read it by its ARN."""
        name = str(call.params.get("Name", ""))
        arn = f"arn:aws:ssm:{call.region}:{call.account}:parameter{name if name.startswith('/') else '/' + name}"
        return [account for account, parameter in self.allowlist_parameters.items()
                if (account == call.account and parameter == name) or parameter == arn]

    def _person_ram(self, call: ApiCall, output: dict[str, Any]) -> None:
        share = self._share(call, output)
        if share is None:
            return
        if call.operation == "AcceptResourceShareInvitation":
            self.ledger.accepted_by_hand(share.arn, call.account)
        elif call.operation in ("CreateResourceShare", "PromoteResourceShareCreatedFromPolicy"):
            self.ledger.share_made(share.arn, PERSON)
        elif call.operation in _SHARE_CHANGES:
            named = {k: v for k, v in call.params.items() if k in ("principals", "resourceArns", "permissionArn", "tags",
                                                                    "tagKeys")}
            self.ledger.person_changed(share.arn, f"{call.operation} {json.dumps(named, default=str)}")
        if call.operation in ("CreateResourceShare", "AssociateResourceShare", "AssociateResourceSharePermission"):
            # Accounts, and organizations or OUs (what they grant is judged by membership at the end).
            accounts = [a for p in live(share.principals) if (a := principal_account(p) or
                                                              (p if is_org_principal(p) else None))]
            for group in live_groups(share):
                self.ledger.person_granted(share.account, group, accounts, self.share_actions(share))

    # -- what the functions do ---------------------------------------------------------------
    def _observe(self, call: ApiCall, output: dict[str, Any]) -> None:
        self._seen += 1
        if call.caller is None:
            self._person(call, output)
            return
        self._observe_function(call, output)
        self.access.after_call(call)

    def _observe_function(self, call: ApiCall, output: dict[str, Any]) -> None:
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
                 ("ram", "AssociateResourceSharePermission"): self._judge_permission,
                 ("ram", "DisassociateResourceShare"): self._judge_change,
                 ("ram", "DisassociateResourceSharePermission"): self._judge_change,
                 ("ram", "TagResource"): self._judge_change,
                 ("ram", "UntagResource"): self._judge_change,
                 ("ram", "DeleteResourceShare"): self._judge_change}.get((call.service, call.operation))
        if judge is not None:
            self.checked[call.operation] += 1
            judge(call, output)

    def _violation(self, call: ApiCall, text: str) -> None:
        self.violations.append(f"{call.time} [{call.account}] {call.caller} {call.operation}: {text}")

    def _rules_read(self, call: ApiCall, *, narrowing: bool = False) -> tuple[Rule, ...] | None:
        """The rules of the allowlist the invocation read. A `narrowing` write (a policy put, a
        permission) by an invocation that read an invalid one is judged by the last valid
        version in the history it read (docs/security.md, "The last valid allowlist": an invalid edit does not freeze a removal);
        anything else it grants is a violation."""
        value = self._reads.get(call.invocation or "")
        if value is None:
            self._violation(call, "granted without reading the allowlist in this invocation")
            return None
        rules = read_allowlist(value)
        if rules is None and narrowing and (call.invocation or "") in self._last_valid:
            return self._last_valid[call.invocation or ""][1]
        return rules

    def _judge_policy(self, call: ApiCall, output: dict[str, Any]) -> None:
        group = str(call.params["ModelPackageGroupName"])
        key = (call.account, group)
        statements = as_list(json.loads(str(call.params["ResourcePolicy"])).get("Statement"))
        written = {statement_text(s) for s in statements}
        for kept in self.ledger.person_statements(key):
            if kept in written:
                continue
            read = self._policy_reads.get((call.invocation or "", group), -1)
            if self._person_wrote.get(key, -1) > read:
                self.races.append(f"{call.time} [{call.account}] {call.caller} overwrote a person's put on {group} "
                                  "that landed after it read the policy (no conditional put exists)")
            else:
                self._violation(call, f"dropped or changed a person's statement on {group}: {kept}")
        theirs = [s for s in statements if not self.ledger.is_persons(key, statement_text(s))
                  and isinstance(s, dict) and s.get("Effect") == "Allow" and s.get("Principal") is not None]
        self.ledger.policy_put(key, statements, by_person=False)
        if not theirs:
            return
        rules = self._rules_read(call, narrowing=True)
        allowed = allowed_actions(rules, call.account, group)
        for statement in theirs:
            for principal in principals_of(statement):
                account = principal_account(principal)
                if account is None or not allows(rules, call.account, group, account):
                    self._violation(call, f"granted {principal} on {group}, which the allowlist it read does not allow")
            beyond = _beyond(statement, allowed)
            if beyond:
                self._violation(call, f"granted {', '.join(beyond)} on {group}, beyond the access the allowlist it "
                                      "read gives")

    def _judge_policy_deletion(self, call: ApiCall, output: dict[str, Any]) -> None:
        key = (call.account, str(call.params["ModelPackageGroupName"]))
        if self.ledger.person_statements(key):
            self._violation(call, f"deleted the policy of {key[1]}, which holds a person's statements")
        self.ledger.policy_gone(key)

    def _share(self, call: ApiCall, output: dict[str, Any]) -> Share | None:
        arn = call.params.get("resourceShareArn") or call.params.get("resourceArn") \
            or output.get("resourceShare", {}).get("resourceShareArn")
        if call.operation in ("AcceptResourceShareInvitation", "RejectResourceShareInvitation"):
            invitation = self.cloud.registry.state.invitations.get(str(call.params.get("resourceShareInvitationArn")))
            arn = invitation.share_arn if invitation is not None else None
        return self.cloud.registry.state.shares.get(str(arn))

    def share_actions(self, share: Share) -> frozenset[str]:
        """The actions (lower-cased) the share's permissions grant now."""
        permissions = self.cloud.registry.state.permissions
        return frozenset(a for arn in share.permission_arns if arn in permissions for a in permissions[arn].actions())

    def _judge_owned(self, call: ApiCall, share: Share) -> None:
        """modelshare changes only shares it made or promoted itself, never one a person made."""
        maker = self.ledger.maker(share.arn)
        if maker == MODELSHARE:
            return
        who = "a person made" if maker == PERSON else "modelshare did not make"
        tampered = self.ledger.person_changes.get(share.arn)
        self._violation(call, f"changed {share.arn} ({share.name}), a share {who}"
                              + (f"; people changed it: {'; '.join(tampered)}" if tampered else ""))

    def _judge_pairs(self, call: ApiCall, resources: Iterable[str], principals: Iterable[str],
                     actions: frozenset[str]) -> None:
        pairs = [(r, p) for r in resources for p in principals]
        if not pairs:
            return
        rules = self._rules_read(call)
        beyond_told: set[str] = set()
        for resource, principal in pairs:
            match = GROUP_ARN.fullmatch(resource)
            account = principal_account(principal) or (principal if is_org_principal(principal) else None)
            if match is None or match.group(2) != call.account:
                self._violation(call, f"shared {resource}, which is no model package group of {call.account}")
                continue
            group = match.group(3)
            if account is None or not allows(rules, call.account, group, account):
                self._violation(call, f"shared {group} with {principal}, which the allowlist it read does not allow")
            beyond = actions - allowed_actions(rules, call.account, group)
            if beyond and group not in beyond_told:
                beyond_told.add(group)
                self._violation(call, f"shared {group} granting {', '.join(sorted(beyond))}, beyond the access the "
                                      "allowlist it read gives")

    def _judge_association(self, call: ApiCall, output: dict[str, Any]) -> None:
        share = self._share(call, output)
        if share is None:
            return
        self._judge_owned(call, share)
        actions = self.share_actions(share)
        self._judge_pairs(call, live(share.resources), call.params.get("principals", []), actions)
        self._judge_pairs(call, call.params.get("resourceArns", []), live(share.principals), actions)

    def _judge_whole_share(self, call: ApiCall, output: dict[str, Any]) -> None:
        """A share the function made (CreateResourceShare) or promoted from a policy: from now on
        modelshare's, and what it grants judged whole."""
        share = self._share(call, output)
        if share is None:
            return
        self.ledger.share_made(share.arn, MODELSHARE)
        self._judge_pairs(call, live(share.resources), live(share.principals), self.share_actions(share))

    def _judge_change(self, call: ApiCall, output: dict[str, Any]) -> None:
        share = self._share(call, output)
        if share is not None:
            self._judge_owned(call, share)

    def _judge_permission(self, call: ApiCall, output: dict[str, Any]) -> None:
        """A permission attached to a share grants, on each group it holds, nothing beyond the
        actions the allowlist read gives that group; and the share is modelshare's."""
        share = self._share(call, output)
        permission = self.cloud.registry.state.permissions.get(str(call.params.get("permissionArn")))
        if share is None or permission is None:
            return
        self._judge_owned(call, share)
        rules = self._rules_read(call, narrowing=True)
        for group in live_groups(share):
            beyond = permission.actions() - allowed_actions(rules, call.account, group)
            if beyond:
                self._violation(call, f"gave the share of {group} {', '.join(sorted(beyond))}, which the "
                                      "allowlist it read does not allow")

    def _judge_acceptance(self, call: ApiCall, output: dict[str, Any]) -> None:
        state = self.cloud.registry.state
        invitation = state.invitations.get(str(call.params.get("resourceShareInvitationArn")))
        share = state.shares.get(invitation.share_arn) if invitation is not None else None
        if invitation is None or share is None:
            return
        rules = self._rules_read(call)
        actions = self.share_actions(share)
        for arn in live(share.resources):
            match = GROUP_ARN.fullmatch(arn)
            if match is None or match.group(2) != invitation.sender:
                self._violation(call, f"accepted a share from {invitation.sender} holding {arn}")
                continue
            if not allows(rules, invitation.sender, match.group(3), call.account):
                self._violation(call, f"accepted {match.group(3)} from {invitation.sender}, which the allowlist it read "
                                      "does not allow")
            beyond = actions - allowed_actions(rules, invitation.sender, match.group(3))
            if beyond:
                self._violation(call, f"accepted {match.group(3)} from {invitation.sender} granting "
                                      f"{', '.join(sorted(beyond))}, beyond the access the allowlist it read gives")

    # -- after the run -----------------------------------------------------------------------
    def final_allowlist(self, account: str) -> tuple[Rule, ...] | None:
        document = self.final_document(account)
        return read_allowlist(document) if document is not None else None

    def final_document(self, account: str) -> str | None:
        """The latest allowlist written in `account`, as written."""
        documents = self._documents.get(account, [])
        return documents[-1] if documents else None

    def final_bound(self, account: str) -> tuple[Rule, ...] | None:
        """What may be granted at the end: the final allowlist, or while it is invalid the last valid
        one (an invalid edit stops new sharing but undoes no removal an earlier valid one asked for)."""
        for document in reversed(self._documents.get(account, [])):
            rules = read_allowlist(document)
            if rules is not None:
                return rules
        return None

    def judge_final_state(self, accounts: Iterable[str], failures: list[dict[str, Any]],
                          invocations: list[Any]) -> dict[str, Any]:
        """The verdict once faults stopped and a sweep period passed (localaws/harness/oracle_final.py)."""
        from localaws.harness import oracle_final  # it reads this module's allowlist rules

        return oracle_final.judge_final_state(self, accounts, failures, invocations)
