"""`modelshare simulate`: a scenario run end to end on the local multi-account AWS.

Builds the accounts, installs the stack (Role=both) and the allowlist in each, creates the
groups, runs events and the clock until only far-off timers are left; then puts the scenario's
policies as a person would, runs to quiescence again, and reports what each account sees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws import insider, ram_quotas
from localaws.chaos import Chaos, ChaosSettings
from localaws.cloud import LocalCloud
from localaws.deployment import TEMPLATE_PATH, Deployment
from localaws.lambdas import Invocation, rate_seconds
from localaws.oracle import SafetyOracle
from localaws.registry_state import AWS_MANAGED_GROUP_PERMISSIONS, RamQuotas
from localaws.simulate_org import OrganizationPlan, parse_organization
from modelshare import wiring
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.owner.outcome import QUIET_ACTIONS
from modelshare.ports import PENDING

_GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_SCENARIO_KEYS = {"region", "allowlist", "accounts", "ram_share_delay_seconds", "edits", "ram_quotas",
                  "aws_managed_permissions", "chaos", "timeline", "organization"}
_CHAOS_KEYS = {"seed", "api_fault_rate", "lost_event_rate", "duplicate_event_rate", "policy_conflict_rate",
               "faults_stop_after_seconds"}
_STEP_KEYS = {"create_group": {"account", "group"}, "delete_group": {"account", "group"},
              "put_policy": {"account", "group", "policy"}, "delete_policy": {"account", "group"},
              "edit_allowlist": {"allowlist"}}
# Faults stop this long after the last timeline step (or the start) unless the scenario says when.
DEFAULT_FAULT_SECONDS = 1800.0
_ACCOUNT_KEYS = {"groups", "policies", "allowlist", "resource_shares"}
_SHARE_KEYS = {"name", "groups", "principals"}
# Every quota the local AWS models may be set (localaws/registry_state.RamQuotas).
_QUOTA_KEYS = frozenset(RamQuotas.__dataclass_fields__)


class ScenarioError(ValueError):
    """The scenario (or an allowlist in it) is invalid; the message says where and why."""


@dataclass(frozen=True)
class Step:
    """What a person does at `at` seconds into a timed scenario (timeline), mid-flight: nothing
    waits for the functions to finish first."""

    at: float
    do: str
    account: str = ""
    group: str = ""
    policy: dict[str, Any] | None = None
    # edit_allowlist: the document every account gets, as written (it may be invalid)
    allowlist: str = ""
    # An insider's step (localaws/insider.py): what it names, as written.
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChaosPlan:
    settings: ChaosSettings
    faults_stop_after_seconds: float | None = None


@dataclass(frozen=True)
class PersonShare:
    """A share a person makes directly in RAM (CreateResourceShare, the default permission)."""

    name: str
    groups: tuple[str, ...]
    principals: tuple[str, ...]


@dataclass(frozen=True)
class AccountPlan:
    account: str
    groups: tuple[str, ...]
    policies: dict[str, dict[str, Any]]
    allowlist: Allowlist
    allowlist_document: str
    resource_shares: tuple[PersonShare, ...] = ()


@dataclass(frozen=True)
class Scenario:
    region: str
    ram_share_delay_seconds: float
    accounts: tuple[AccountPlan, ...]
    # Allowlist documents an admin writes to every account's parameter, in order. They are not
    # validated here: an invalid one is written all the same, as a console user could.
    edits: tuple[str, ...] = ()
    ram_quotas: RamQuotas = field(default_factory=RamQuotas)
    # False: no AWS managed permission for model package groups, so every action set needs a
    # customer managed one (their action lists are UNVERIFIED; this is the costlier case).
    aws_managed_permissions: bool = True
    # A timed scenario (either set): faults while the timeline runs, then one sweep period.
    chaos: ChaosPlan | None = None
    timeline: tuple[Step, ...] = ()
    # The AWS Organization some accounts are in (localaws/simulate_org.py); None: none.
    organization: OrganizationPlan | None = None

    @property
    def timed(self) -> bool:
        return self.chaos is not None or bool(self.timeline)

    @property
    def person_share_names(self) -> set[str]:
        """The names of the shares the scenario's people make in RAM."""
        return {s.name for plan in self.accounts for s in plan.resource_shares} | \
            {str(step.details["name"]) for step in self.timeline if step.do == "create_share"}

    @classmethod
    def parse(cls, data: Any) -> Scenario:
        if not isinstance(data, dict):
            raise ScenarioError("scenario: must be a JSON object")
        unknown = sorted(set(data) - _SCENARIO_KEYS)
        if unknown:
            raise ScenarioError(f"scenario: unknown key(s) {unknown}")
        region = data.get("region", "eu-west-1")
        if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", region):
            raise ScenarioError(f"scenario.region: not an AWS region: {region!r}")
        delay = data.get("ram_share_delay_seconds", 20)
        _number(delay, "scenario.ram_share_delay_seconds")
        if "allowlist" not in data:
            raise ScenarioError("scenario.allowlist: is required")
        shared = _allowlist(data["allowlist"], "scenario.allowlist")
        accounts = data.get("accounts")
        if not isinstance(accounts, dict) or not accounts:
            raise ScenarioError("scenario.accounts: must be a non-empty object keyed by account ID")
        plans = []
        for account, spec in accounts.items():
            where = f"scenario.accounts.{account}"
            if not _ACCOUNT.fullmatch(account):
                raise ScenarioError(f"{where}: account IDs are 12 digits")
            if not isinstance(spec, dict):
                raise ScenarioError(f"{where}: must be an object")
            unknown = sorted(set(spec) - _ACCOUNT_KEYS)
            if unknown:
                raise ScenarioError(f"{where}: unknown key(s) {unknown}")
            groups = spec.get("groups", [])
            if not isinstance(groups, list) or not all(isinstance(g, str) and _GROUP_NAME.fullmatch(g) for g in groups):
                raise ScenarioError(f"{where}.groups: must be a list of model package group names")
            if len(set(groups)) != len(groups):
                raise ScenarioError(f"{where}.groups: names must be unique")
            policies = spec.get("policies", {})
            if not isinstance(policies, dict):
                raise ScenarioError(f"{where}.policies: must be an object mapping group name to policy")
            for group, policy in policies.items():
                if group not in groups:
                    raise ScenarioError(f"{where}.policies.{group}: not one of this account's groups")
                if not isinstance(policy, dict):
                    raise ScenarioError(f"{where}.policies.{group}: must be a policy object")
            allowlist, document = shared
            if "allowlist" in spec:
                allowlist, document = _allowlist(spec["allowlist"], f"{where}.allowlist")
            people = tuple(_person_share(item, groups, f"{where}.resource_shares[{i}]")
                           for i, item in enumerate(_list(spec.get("resource_shares", []), f"{where}.resource_shares")))
            plans.append(AccountPlan(account, tuple(groups), dict(policies), allowlist, document, people))
        edits = data.get("edits", [])
        if not isinstance(edits, list):
            raise ScenarioError("scenario.edits: must be a list of allowlist documents")
        documents = tuple(edit if isinstance(edit, str) else json.dumps(edit, indent=2) for edit in edits)
        managed = data.get("aws_managed_permissions", True)
        if not isinstance(managed, bool):
            raise ScenarioError("scenario.aws_managed_permissions: must be true or false")
        known = {plan.account for plan in plans}
        timeline = tuple(_step(item, known, f"scenario.timeline[{i}]")
                         for i, item in enumerate(_list(data.get("timeline", []), "scenario.timeline")))
        chaos = _chaos(data["chaos"]) if "chaos" in data else None
        organization = parse_organization(data["organization"], known, ScenarioError) if "organization" in data else None
        return cls(region, float(delay), tuple(plans), documents, _quotas(data.get("ram_quotas", {})), managed,
                   chaos, tuple(sorted(timeline, key=lambda step: step.at)), organization)


def _number(value: Any, where: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low \
            or (high is not None and value > high):
        raise ScenarioError(f"{where}: must be a number from {low:g}" + (f" to {high:g}" if high is not None else "")
                            if low or high is not None else f"{where}: must be a non-negative number")
    return float(value)


def _chaos(data: Any) -> ChaosPlan:
    if not isinstance(data, dict) or set(data) - _CHAOS_KEYS:
        raise ScenarioError(f"scenario.chaos: must be an object with some of {sorted(_CHAOS_KEYS)}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError("scenario.chaos.seed: must be an integer")
    rates = {key: _number(data.get(key, 0), f"scenario.chaos.{key}", high=1.0)
             for key in ("api_fault_rate", "lost_event_rate", "duplicate_event_rate", "policy_conflict_rate")}
    try:
        settings = ChaosSettings(seed, **rates)
    except ValueError as error:  # what the rates must add up to
        raise ScenarioError(f"scenario.chaos: {error}") from None
    stop = data.get("faults_stop_after_seconds")
    return ChaosPlan(settings, None if stop is None else _number(stop, "scenario.chaos.faults_stop_after_seconds"))


def _step(item: Any, accounts: set[str], where: str) -> Step:
    if not isinstance(item, dict) or item.get("do") not in {*_STEP_KEYS, *insider.STEPS}:
        raise ScenarioError(f"{where}: must be an object whose \"do\" is one of {sorted({*_STEP_KEYS, *insider.STEPS})}")
    do = item["do"]
    if do in insider.STEPS:
        details = insider.check_step(do, item, where, ScenarioError)
        if item["account"] not in accounts:
            raise ScenarioError(f"{where}.account: not one of the scenario's accounts")
        return Step(_number(item.get("at", 0), f"{where}.at"), do, item["account"], details.get("group", ""),
                    details=details)
    unknown = sorted(set(item) - _STEP_KEYS[do] - {"at", "do"})
    missing = sorted(_STEP_KEYS[do] - set(item))
    if unknown or missing:
        raise ScenarioError(f"{where}: {do} takes {sorted(_STEP_KEYS[do] | {'at'})}"
                            + (f"; unknown {unknown}" if unknown else "") + (f"; missing {missing}" if missing else ""))
    at = _number(item.get("at", 0), f"{where}.at")
    if "account" in item and item["account"] not in accounts:
        raise ScenarioError(f"{where}.account: not one of the scenario's accounts")
    if "group" in item and not (isinstance(item["group"], str) and _GROUP_NAME.fullmatch(item["group"])):
        raise ScenarioError(f"{where}.group: not a model package group name")
    if "policy" in item and not isinstance(item["policy"], dict):
        raise ScenarioError(f"{where}.policy: must be a policy object")
    document = item.get("allowlist", "")
    return Step(at, do, item.get("account", ""), item.get("group", ""), item.get("policy"),
                document if isinstance(document, str) else json.dumps(document, indent=2))


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: must be a list")
    return value


def _person_share(item: Any, groups: list[str], where: str) -> PersonShare:
    if not isinstance(item, dict) or set(item) - _SHARE_KEYS or not {"name", "groups"} <= set(item):
        raise ScenarioError(f"{where}: must be an object with name, groups and optional principals")
    shared = _list(item["groups"], f"{where}.groups")
    if not shared or any(g not in groups for g in shared):
        raise ScenarioError(f"{where}.groups: must be a non-empty list of this account's groups")
    principals = _list(item.get("principals", []), f"{where}.principals")
    if not all(isinstance(p, str) and _ACCOUNT.fullmatch(p) for p in principals):
        raise ScenarioError(f"{where}.principals: must be account IDs")
    if not isinstance(item["name"], str) or not item["name"]:
        raise ScenarioError(f"{where}.name: must be a non-empty string")
    return PersonShare(item["name"], tuple(shared), tuple(principals))


def _quotas(data: Any) -> RamQuotas:
    if not isinstance(data, dict) or set(data) - _QUOTA_KEYS:
        raise ScenarioError(f"scenario.ram_quotas: must be an object with some of {sorted(_QUOTA_KEYS)}")
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScenarioError(f"scenario.ram_quotas.{key}: must be a positive integer")
    return RamQuotas(**data)


def _allowlist(document: Any, where: str) -> tuple[Allowlist, str]:
    try:
        return Allowlist.parse(document), json.dumps(document, indent=2)
    except AllowlistError as error:
        raise ScenarioError(f"{where} is invalid: {error}") from None


Narrator = Callable[[str], None]
NOTHING_TO_DO = "nothing to do"


def trigger_words(events: list[dict[str, Any]]) -> str:
    """What triggered an invocation, for the story: each event's name or type, or the group of a
    sweep work item (which has neither), once each; never "None"."""
    words = dict.fromkeys(_trigger_word(event) for event in events)
    return ", ".join(words) or "an event of no known type"


def _trigger_word(event: dict[str, Any]) -> str:
    detail = event.get("detail")
    name = (detail.get("eventName") if isinstance(detail, dict) else None) or event.get("detail-type")
    if isinstance(name, str) and name:
        return name
    if isinstance(event.get("group"), str):
        return f"work item for {event['group']}"
    return "an event of no known type"


@dataclass
class Simulation:
    scenario: Scenario
    narrate: Narrator = lambda line: None
    # Another template (an admin's change, tried before deploying it); code comes from the project.
    template_path: Path = TEMPLATE_PATH
    cloud: LocalCloud = field(init=False)
    deployment: Deployment = field(init=False)
    edit_results: list[dict[str, Any]] = field(default_factory=list)
    _calls_before_report: list[Any] = field(default_factory=list)
    _calls_from: int = 0  # the first call the scenario made once the stacks were installed
    # The last valid allowlist each account holds: what the functions act on.
    effective_allowlists: dict[str, Allowlist] = field(default_factory=dict)
    # The groups each account holds (made and not deleted by the scenario's people).
    groups: dict[str, list[str]] = field(default_factory=dict)
    oracle: SafetyOracle = field(init=False)
    chaos: Chaos | None = None
    insider: insider.Insider = field(init=False)

    def run(self) -> dict[str, Any]:
        scenario = self.scenario
        seed = scenario.chaos.settings.seed if scenario.chaos is not None else 0
        with LocalCloud(ram_share_delay_seconds=scenario.ram_share_delay_seconds, ram_quotas=scenario.ram_quotas,
                        aws_managed_permissions=AWS_MANAGED_GROUP_PERMISSIONS if scenario.aws_managed_permissions else (),
                        seed=seed) as cloud:
            self.cloud = cloud
            self.deployment = Deployment(cloud, scenario.region, self.template_path)
            self.deployment.lambdas.observers.append(self._tell_invocation)
            # The insider acts with the keys of the account's Person, governed by the ordinary-rights
            # policy (docs/security.md), never an administrator's.
            self.insider = insider.Insider(
                scenario.region,
                lambda account, service: cloud.session(account, scenario.region, person=True).client(service),  # type: ignore[call-overload]
                self._person, self._say, self._queue_name, scenario.person_share_names)
            for plan in scenario.accounts:
                cloud.add_account(plan.account)
            organization = scenario.organization
            if organization is not None:
                cloud.registry.state.organization = organization.build()
            for plan in scenario.accounts:
                # A member's stack knows its true OU path (the consumer's re-check of OU grants).
                path = organization.path(plan.account) if organization is not None else None
                self.deployment.install(plan.account, {"OrganizationPath": path} if path else None)
            self.oracle = SafetyOracle(cloud, scenario.region, {
                plan.account: self.deployment.allowlist_parameter(plan.account) for plan in scenario.accounts})
            for plan in scenario.accounts:
                self.deployment.put_allowlist(plan.account, plan.allowlist_document)
                self.effective_allowlists[plan.account] = plan.allowlist
                self.groups[plan.account] = list(plan.groups)
            self.narrate(f"Installed modelshare (Role=both) and the allowlist in {len(scenario.accounts)} accounts.")
            # The stacks' first runs (the allowlist just written) are set-up, not the scenario's cost.
            self.deployment.settle()
            self._calls_from = len(cloud.calls)
            if scenario.timed:
                self._run_timed()
            else:
                self._run_in_phases()
            for number, document in enumerate(scenario.edits, start=1):
                self._edit(number, document)
            return self.report()

    def _run_in_phases(self) -> None:
        """Groups, then people's RAM shares, then their policies, each phase left to settle."""
        for plan in self.scenario.accounts:
            for group in plan.groups:
                self._create_group(plan.account, group)
        self._settle()
        for plan in self.scenario.accounts:
            for person_share in plan.resource_shares:
                self._person_share(plan.account, person_share)
        self._settle()
        for plan in self.scenario.accounts:
            for group, policy in plan.policies.items():
                self._put_policy(plan.account, group, policy)
        self._settle()

    def _run_timed(self) -> None:
        """Everything the accounts hold is made at once, then the timeline's steps happen at their
        times, mid-flight, while chaos (if any) throws faults at the functions. Faults stop; one
        sweep period later (and once the system is quiet) the report judges the result."""
        scenario, clock, lambdas = self.scenario, self.cloud.clock, self.deployment.lambdas
        start = clock.now()
        if scenario.chaos is not None:
            chaos = self.chaos = Chaos(scenario.chaos.settings)
            self.cloud.chaos = chaos
            lambdas.delivery_policy = lambda function, event: chaos.copies()
            settings = chaos.settings
            self._say(f"chaos on (seed {settings.seed}): {settings.api_fault_rate:.0%} of the functions' calls fail, "
                      f"{settings.lost_event_rate:.0%} of events are lost, {settings.duplicate_event_rate:.0%} duplicated")
        for plan in scenario.accounts:
            for group in plan.groups:
                self._create_group(plan.account, group)
            for person_share in plan.resource_shares:
                self._person_share(plan.account, person_share)
            for group, policy in plan.policies.items():
                self._put_policy(plan.account, group, policy)
        for step in scenario.timeline:
            clock.run_until(start + timedelta(seconds=step.at))
            self._do(step)
        last = scenario.timeline[-1].at if scenario.timeline else 0.0
        stop = scenario.chaos.faults_stop_after_seconds if scenario.chaos is not None else None
        clock.run_until(start + timedelta(seconds=stop if stop is not None else last + DEFAULT_FAULT_SECONDS))
        if self.chaos is not None:
            self.chaos.on = False
            lambdas.delivery_policy = lambda function, event: 1
            self._say("chaos off: no more faults")
        period = self._sweep_period()
        clock.run_until(clock.now() + timedelta(seconds=period + 60))
        self._say(f"one sweep period ({period:.0f} s) later")
        self._settle()

    def _sweep_period(self) -> float:
        """The longest schedule of the deployed functions: by then every sweep has run once."""
        return max((rate_seconds(expression) for functions in self.deployment.lambdas.functions.values()
                    for function in functions for _, expression in function.spec.schedules), default=0.0)

    def _do(self, step: Step) -> None:
        if step.do == "create_group":
            self._create_group(step.account, step.group)
        elif step.do == "delete_group":
            self._person(step.account, "sagemaker", "delete_model_package_group", f"deletes group {step.group!r}",
                         ModelPackageGroupName=step.group)
            if step.group in self.groups.get(step.account, []):
                self.groups[step.account].remove(step.group)
        elif step.do == "put_policy":
            self._put_policy(step.account, step.group, step.policy or {})
        elif step.do == "delete_policy":
            self._person(step.account, "sagemaker", "delete_model_package_group_policy",
                         f"deletes the resource policy of {step.group!r}", ModelPackageGroupName=step.group)
        elif step.do in insider.STEPS:
            self.insider.do(step.do, step.account, step.details)
        else:
            self._write_allowlist(step.allowlist, "an admin writes an allowlist edit to every account")

    def _person(self, account: str, service: str, method: str, what: str, **params: Any) -> bool:
        """A person's call, with the keys of the account's Person (governed by the ordinary-rights
        policy); in a timed scenario AWS may refuse it (a group deleted meanwhile, or what the
        policy does not allow a person)."""
        client = self.cloud.session(account, self.scenario.region, person=True).client(service)  # type: ignore[call-overload]
        try:
            getattr(client, method)(**params)
        except ClientError as error:
            if not self.scenario.timed:
                raise
            self._say(f"[{account}] a person {what}: refused, {error.response['Error']['Code']}")
            return False
        self._say(f"[{account}] a person {what}")
        return True

    def _queue_name(self, account: str, logical_id: str) -> str | None:
        """The physical name of a queue of the account's stack, by its logical ID."""
        stack = self.deployment.stacks.get(account)
        if stack is None or stack.resources.get(logical_id, {}).get("Type") != "AWS::SQS::Queue":
            return None
        return stack.physical_name(logical_id)

    def _create_group(self, account: str, group: str) -> None:
        if self._person(account, "sagemaker", "create_model_package_group", f"creates model package group {group!r}",
                        ModelPackageGroupName=group) and group not in self.groups.setdefault(account, []):
            self.groups[account].append(group)

    def _put_policy(self, account: str, group: str, policy: dict[str, Any]) -> None:
        self._person(account, "sagemaker", "put_model_package_group_policy",
                     f"puts their own resource policy on {group!r}",
                     ModelPackageGroupName=group, ResourcePolicy=json.dumps(policy))

    def _person_share(self, account: str, person_share: PersonShare) -> None:
        arns = [f"arn:aws:sagemaker:{self.scenario.region}:{account}:model-package-group/{g}"
                for g in person_share.groups]
        self._person(account, "ram", "create_resource_share",
                     f"shares {', '.join(person_share.groups)} directly in RAM with "
                     f"{', '.join(person_share.principals) or 'nobody'} ({person_share.name!r})",
                     name=person_share.name, resourceArns=arns, principals=list(person_share.principals))

    def _edit(self, number: int, document: str) -> None:
        self._write_allowlist(document, f"an admin writes allowlist edit #{number} to every account", number)
        self._settle()

    def _write_allowlist(self, document: str, what: str, number: int | None = None) -> None:
        try:
            allowlist: Allowlist | None = Allowlist.parse(document)
            problems: list[str] = []
        except AllowlistError as error:
            allowlist, problems = None, [f"{path}: {message}" for path, message in error.problems]
        self.edit_results.append({"edit": number or len(self.edit_results) + 1, "valid": allowlist is not None,
                                  "problems": problems})
        for plan in self.scenario.accounts:
            self.deployment.put_allowlist(plan.account, document)
            if allowlist is not None:
                self.effective_allowlists[plan.account] = allowlist
        verdict = "valid" if allowlist is not None else "INVALID, so nothing may change: " + "; ".join(problems)
        self._say(f"{what} ({verdict})")

    def _settle(self) -> None:
        ran = self.deployment.settle()
        if ran:
            self._say(f"... quiet after {ran} scheduled steps")

    def _say(self, text: str) -> None:
        self.narrate(f"{self._elapsed()}  {text}")

    def _elapsed(self) -> str:
        seconds = int((self.cloud.clock.now() - self.cloud.start).total_seconds())
        return f"t+{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def _tell_invocation(self, invocation: Invocation) -> None:
        head = f"[{invocation.account}] {invocation.function} (attempt {invocation.attempt}) on {trigger_words(invocation.events)}"
        if not invocation.ok:
            self._say(f"{head}: FAILED {invocation.error}; Lambda will retry or give up")
            return
        for line in describe_result(invocation.result):
            if line != NOTHING_TO_DO:
                self._say(f"{head}: {line}")

    # -- report -----------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        region = self.scenario.region
        self._calls_before_report = self.cloud.calls[self._calls_from:]
        discoverable: dict[str, list[str]] = {}
        pending: dict[str, list[dict[str, str]]] = {}
        groups: dict[str, dict[str, Any]] = {}
        for plan in self.scenario.accounts:
            allowlist = self.effective_allowlists[plan.account]
            owner = wiring.account_services(self.cloud.session(plan.account, region), allowlist, account=plan.account).owner
            discoverable[plan.account] = owner.registry.cross_account_group_arns()
            pending[plan.account] = sorted(
                ({"sender": i.sender, "resourceShareArn": i.share_arn}
                 for i in owner.shares.invitations() if i.status == PENDING),
                key=lambda item: (item["sender"], item["resourceShareArn"]))
            for group in self.groups.get(plan.account, []):
                state = owner.group_state(group, allowlist)
                if state is not None:
                    groups[state.arn] = {"status": state.status, "consumers": list(state.consumers),
                                         "reason": state.reason, "other_shares": list(state.other_shares)}
        return {
            "discoverable": discoverable,
            "pending_invitations": pending,
            "groups": dict(sorted(groups.items())),
            "failed_invocations": [
                {"account": f["account"], "function": f["function"],
                 "error": f"{f['responsePayload']['errorType']}: {f['responsePayload']['errorMessage']}"}
                for f in self.deployment.lambdas.failures
            ],
            "edits": self.edit_results,
            "api_calls": self._api_calls(),
            "ram_usage": {plan.account: self.cloud.registry.ram.usage(plan.account, region)
                          for plan in self.scenario.accounts},
            "ram_quotas": {plan.account: ram_quotas.as_report(ram_quotas.quota_use(
                self.cloud.registry.state, plan.account, region, self.cloud.registry.ram.usage(plan.account, region)))
                for plan in self.scenario.accounts},
            "simulated_seconds": (self.cloud.clock.now() - self.cloud.start).total_seconds(),
            **({"chaos": {"seed": self.chaos.settings.seed, "injected": dict(sorted(self.chaos.injected.items()))}}
               if self.chaos is not None else {}),
            # Convergence is promised one sweep period after faults stop: only a timed scenario waits that long.
            "safety": {"convergence_judged": self.scenario.timed, **self.oracle.judge_final_state(
                [plan.account for plan in self.scenario.accounts], self.deployment.lambdas.failures,
                self.deployment.lambdas.invocations)},
        }

    def _api_calls(self) -> dict[str, dict[str, dict[str, int]]]:
        """account -> function (or "-" for people) -> operation -> count: what the scenario cost
        once the stacks were installed (their first runs and the report itself excluded), as
        `make bench` counts it."""
        counted: dict[str, dict[str, dict[str, int]]] = {}
        for call in self._calls_before_report:
            by_caller = counted.setdefault(call.account, {}).setdefault(call.caller or "-", {})
            by_caller[call.operation] = by_caller.get(call.operation, 0) + 1
        return {account: {caller: dict(sorted(ops.items())) for caller, ops in sorted(callers.items())}
                for account, callers in sorted(counted.items())}


def describe_result(result: Any) -> list[str]:
    """One line per group or invitation outcome a function returned that changed something (or
    explains why not); a dry run's held-back writes too."""
    if not isinstance(result, dict):
        return [str(result)]
    outcomes = [o for o in result.get("outcomes", [result]) if o.get("action") not in QUIET_ACTIONS]
    lines = [f"dry run, would: {write}" for write in result.get("dry_run_plan", [])]
    if not outcomes and not lines:
        return [NOTHING_TO_DO]
    for outcome in outcomes:
        subject = outcome.get("group") or outcome.get("invitation_arn") or ""
        reason = f" ({outcome['reason']})" if outcome.get("reason") else ""
        lines.append(f"{subject} -> {outcome.get('action')}{reason}".strip())
    return lines


def load_scenario(path: Path) -> Scenario:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise ScenarioError(f"{path} is not valid JSON: {error}") from None
    return Scenario.parse(data)
