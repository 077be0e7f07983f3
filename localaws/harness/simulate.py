"""`modelshare simulate`: a scenario run end to end on the local multi-account AWS.

Builds the accounts, installs the stack (Role=both) and the allowlist in each, creates the
groups, runs events and the clock until only far-off timers are left; then puts the scenario's
policies as a person would, runs to quiescence again, and reports what each account sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws.harness import insider
from localaws.harness.deployment import TEMPLATE_PATH, Deployment
from localaws.harness.oracle import SafetyOracle
from localaws.harness.scenario import DEFAULT_FAULT_SECONDS, PersonShare, Scenario, ScenarioError, Step
from localaws.runtime.chaos import Chaos
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import Invocation
from localaws.runtime.lambdas import rate_seconds
from localaws.services.ram import quotas as ram_quotas
from localaws.services.registry_state import AWS_MANAGED_GROUP_PERMISSIONS
from modelshare import wiring
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.owner.outcome import QUIET_ACTIONS
from modelshare.ports import PENDING

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
    items = event.get("items")  # a batch of sweep work items (modelshare/aws/work_queue.py)
    if isinstance(items, list) and items and all(isinstance(i, dict) and isinstance(i.get("group"), str) for i in items):
        return "work items for " + ", ".join(str(i["group"]) for i in items)
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
    # A last step on the finished world and its report (the demo's access report, which the CLI
    # hands in: the local AWS imports no CLI code).
    last_step: Callable[[Simulation, dict[str, Any]], dict[str, Any]] | None = None
    # The account whose central stack holds the one allowlist (scenario.organization.central_allowlist).
    central: str | None = None

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
                lambda account, service: cloud.harness_session(account, scenario.region, person=True).client(service),  # type: ignore[call-overload]
                self._person, self._say, self._queue_name, scenario.person_share_names)
            for plan in scenario.accounts:
                cloud.add_account(plan.account)
            organization = scenario.organization
            if organization is not None:
                cloud.registry.state.organization = organization.build()
            members = self._install_central() if organization is not None and organization.central_allowlist else {}
            for plan in scenario.accounts:
                # A member's stack knows its true OU path (the consumer's re-check of OU grants).
                path = organization.path(plan.account) if organization is not None else None
                self.deployment.install(plan.account, {**members, **({"OrganizationPath": path} if path else {})} or None)
            self.oracle = SafetyOracle(cloud, scenario.region, {  # what each account's functions read
                plan.account: members.get("ExistingAllowlistParameter") or self.deployment.allowlist_parameter(plan.account)
                for plan in scenario.accounts})
            for plan in scenario.accounts:
                if self.central is None:
                    self.deployment.put_allowlist(plan.account, plan.allowlist_document)
                self.effective_allowlists[plan.account] = plan.allowlist
                self.groups[plan.account] = list(plan.groups)
            if self.central is not None:
                self.deployment.put_allowlist(self.central, scenario.accounts[0].allowlist_document)
            self.narrate(f"Installed modelshare (Role=both) and the allowlist in {len(scenario.accounts)} accounts"
                         + (f", which read it by ARN from the central stack of {self.central}." if self.central else "."))
            # The stacks' first runs (the allowlist just written) are set-up, not the scenario's cost.
            self.deployment.settle()
            self._calls_from = len(cloud.calls)
            if scenario.timed:
                self._run_timed()
            else:
                self._run_in_phases()
            for number, document in enumerate(scenario.edits, start=1):
                self._edit(number, document)
            report = self.report()
            return self.last_step(self, report) if self.last_step is not None else report

    @staticmethod
    def check(scenario: Scenario) -> None:
        """ScenarioError when the accounts cannot be installed as the scenario says: with a central
        allowlist, an account with an allowlist of its own."""
        if scenario.organization is not None and scenario.organization.central_allowlist \
                and len({plan.allowlist_document for plan in scenario.accounts}) > 1:
            raise ScenarioError("scenario.organization.central_allowlist: every account reads the one central "
                                "allowlist; no account may have an allowlist of its own")

    def _install_central(self) -> dict[str, str]:
        """The organization's central allowlist stack (docs/central-allowlist.md) in its management
        account; the parameters that make every scenario account's stack a member of it."""
        organization, region = self.scenario.organization, self.scenario.region
        assert organization is not None
        self.check(self.scenario)
        self.central = organization.management_account
        self.cloud.add_account(self.central)
        stack = self.deployment.install(self.central, organization.central_stack_parameters())
        return {"ExistingAllowlistParameter": organization.central_parameter_arn(region),
                "CentralAllowlistTopic": str(stack.resolve({"Ref": "AllowlistChangesTopic"}))}

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
        client = self.cloud.harness_session(account, self.scenario.region, person=True).client(service)  # type: ignore[call-overload]
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
        if self.central is not None:
            what = what.replace("to every account", f"to the central allowlist (account {self.central})")
        try:
            allowlist: Allowlist | None = Allowlist.parse(document)
            problems: list[str] = []
        except AllowlistError as error:
            allowlist, problems = None, [f"{path}: {message}" for path, message in error.problems]
        self.edit_results.append({"edit": number or len(self.edit_results) + 1, "valid": allowlist is not None,
                                  "problems": problems})
        for plan in self.scenario.accounts:
            if self.central is None:
                self.deployment.put_allowlist(plan.account, document)
            if allowlist is not None:
                self.effective_allowlists[plan.account] = allowlist
        if self.central is not None:
            self.deployment.put_allowlist(self.central, document)
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
            services = wiring.account_services(self.cloud.session(plan.account, region), allowlist, account=plan.account)
            owner = services.owner
            discoverable[plan.account] = owner.registry.cross_account_group_arns()
            pending[plan.account] = sorted(
                ({"sender": i.sender, "resourceShareArn": i.share_arn}
                 for i in services.consumer.shares.invitations() if i.status == PENDING),
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


