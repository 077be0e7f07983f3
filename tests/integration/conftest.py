"""End-to-end tests: the real handlers, deployed from template.yaml on the local multi-account AWS."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from localaws.core.errors import AwsError
from localaws.harness.deployment import Deployment
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import Invocation
from localaws.runtime.template import StackTemplate
from modelshare.allowlist import Allowlist
from modelshare.aws.ledger import DynamoDbLedger
from modelshare.aws.ram_consumer import RamConsumerShares
from modelshare.aws.ram_owner import RamOwnerShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.owner.status import GroupState
from modelshare.ports import PENDING
from modelshare.quota_budget import QuotaLimits
from modelshare.wiring import owner_from

REGION = "eu-west-1"
WRITE_PREFIXES = ("Put", "Delete", "Create", "Promote", "Associate", "Disassociate", "Accept", "Reject", "Tag", "Untag", "Add")
OWNER = "111122223333"
CONSUMER = "444455556666"
STRANGER = "777788889999"
ROGUE_OWNER = "999988887777"
SEED_ALLOWLIST = {"version": 1, "shares": [
    {"owner": OWNER, "groups": ["churn-*", "fraud-detector"], "consumers": [CONSUMER], "access": ["discover"]}]}


def group_arn(name: str, account: str = OWNER) -> str:
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package-group/{name}"


class World:
    """A LocalCloud with modelshare installed in some accounts, and what a test asks of it."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.deployment = Deployment(cloud, REGION)
        self.allowlists: dict[str, dict[str, Any]] = {}

    def install(self, *accounts: str, allowlist: dict[str, Any] = SEED_ALLOWLIST,
                parameters: dict[str, str] | None = None) -> None:
        for account in accounts:  # each consumer stack trusts the accounts installed with it
            if account not in self.cloud.accounts:
                self.cloud.add_account(account)
        for account in accounts:
            self.deployment.install(account, parameters)
            self.set_allowlist(account, allowlist)

    def edit_allowlist(self, document: dict[str, Any] | str) -> None:
        """An admin writes the same document in every account, then things settle."""
        for account in self.deployment.stacks:
            self.set_allowlist(account, document)
        self.settle()

    def run_for(self, **duration: float) -> None:
        """Let time pass (schedules fire), then settle."""
        self.cloud.clock.run_until(self.cloud.clock.now() + timedelta(**duration))
        self.settle()

    def writes(self) -> list[Any]:
        """Successful calls that change SageMaker or RAM state, in order."""
        return [c for c in self.cloud.calls if c.error_code is None and c.service in ("sagemaker", "ram")
                and c.operation.startswith(WRITE_PREFIXES)]

    def set_allowlist(self, account: str, document: dict[str, Any] | str) -> None:
        self.allowlists[account] = document
        self.deployment.put_allowlist(account, document if isinstance(document, str) else json.dumps(document))

    def client(self, account: str, service: str) -> Any:
        return self.deployment.client(account, service)

    def create_group(self, account: str, name: str) -> None:
        self.client(account, "sagemaker").create_model_package_group(ModelPackageGroupName=name)

    def put_policy(self, account: str, name: str, policy: dict[str, Any]) -> None:
        self.client(account, "sagemaker").put_model_package_group_policy(
            ModelPackageGroupName=name, ResourcePolicy=json.dumps(policy))

    def policy(self, account: str, name: str) -> dict[str, Any]:
        return json.loads(self.client(account, "sagemaker").get_model_package_group_policy(
            ModelPackageGroupName=name)["ResourcePolicy"])

    def inject_error(self, operation: str, code: str, message: str) -> None:
        """From now on, every `operation` call fails with AWS error `code`."""
        def fault(account: str, called: str) -> None:
            if called == operation:
                raise AwsError(code, message)

        self.cloud.registry.faults.append(fault)

    def settle(self) -> int:
        return self.deployment.settle()

    def discoverable(self, account: str) -> list[str]:
        return SageMakerRegistry(self.cloud.session(account, REGION)).cross_account_group_arns()

    def shares(self, account: str) -> RamOwnerShares:
        return RamOwnerShares(self.cloud.session(account, REGION))

    def pending(self, account: str) -> list[Any]:
        return [i for i in RamConsumerShares(self.cloud.session(account, REGION)).invitations() if i.status == PENDING]

    def invitations(self, account: str) -> list[Any]:
        return list(RamConsumerShares(self.cloud.session(account, REGION)).invitations())

    def state(self, account: str, group: str) -> GroupState | None:
        session = self.cloud.session(account, REGION)
        allowlist = Allowlist.parse(self.allowlists[account])
        service = owner_from(account, SageMakerRegistry(session), RamOwnerShares(session), source=None,  # type: ignore[arg-type]
                             ledger=DynamoDbLedger(session, self.deployment.ledger_table(account)),
                             quota_limits=QuotaLimits.parse(self.deployment.stacks[account].parameters.get("RamQuotas", "")))
        return service.group_state(group, allowlist)

    @property
    def lambdas(self):
        return self.deployment.lambdas

    def invocations_of(self, function: str, account: str | None = None) -> list[Invocation]:
        return [i for i in self.lambdas.invocations
                if i.function == function and (account is None or i.account == account)]

    def logs(self, account: str | None = None, level: str | None = None) -> list[dict[str, Any]]:
        return [record for i in self.lambdas.invocations if account is None or i.account == account
                for record in i.log_records if level is None or record.get("level") == level]

    def metric_total(self, name: str, account: str | None = None) -> float:
        return sum(i.metrics().get(name, 0) for i in self.lambdas.invocations if account is None or i.account == account)

    def calls(self, operation: str, account: str | None = None, ok: bool | None = True) -> list[Any]:
        return [c for c in self.cloud.calls if c.operation == operation
                and (account is None or c.account == account)
                and (ok is None or (c.error_code is None) == ok)]


@pytest.fixture
def world() -> Iterator[World]:
    with LocalCloud(ram_share_delay_seconds=20) as cloud:
        yield World(cloud)


def policy_put_window() -> float:
    """The batching window of the queue that brings PromoteFunction the policies' CloudTrail events."""
    stack = StackTemplate(Path(__file__).resolve().parents[2] / "template.yaml").render(OWNER, REGION, {})
    promote = next(f for f in stack.functions() if f.logical_id == "PromoteFunction")
    return next(s.window_seconds for s in promote.queue_sources if s.queue_arn.endswith(":modelshare-PolicyPutQueue"))


@pytest.fixture
def world_with_ram_delay() -> Iterator[Callable[[float], World]]:
    """A world whose RAM creates a share from a policy the given number of seconds after the
    policy's CloudTrail event (its lag pinned at 30 s here) has waited out PolicyPutQueue's
    batching window: after PromoteFunction first looks."""
    lag, window = 30.0, policy_put_window()
    with ExitStack() as stack:
        yield lambda seconds: World(stack.enter_context(LocalCloud(
            ram_share_delay_seconds=lag + window + seconds, cloudtrail_lag_seconds=(lag, lag))))
