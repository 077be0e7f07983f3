"""A `modelshare simulate` scenario: the JSON file read and checked (every key known, every value
of its kind), as the steps, accounts and chaos settings a Simulation runs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.harness import insider
from localaws.harness.simulate_org import OrganizationPlan, parse_organization
from localaws.runtime.chaos import ChaosSettings
from localaws.services.registry_state import RamQuotas
from modelshare.allowlist import Allowlist, AllowlistError

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


# Every quota the local AWS models may be set (localaws.services.registry_state.RamQuotas).
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
    # An insider's step (localaws/harness/insider.py): what it names, as written.
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
    # The AWS Organization some accounts are in (localaws/harness/simulate_org.py); None: none.
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


def load_scenario(path: Path) -> Scenario:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise ScenarioError(f"{path} is not valid JSON: {error}") from None
    return Scenario.parse(data)
