"""Builds the domain services from boto3 adapters: the composition root every function uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

import boto3

from modelshare.aws import account_id
from modelshare.aws.allowlist_store import allowlist_source as allowlist_in_environment
from modelshare.aws.ram import RamShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.aws.work_queue import SqsWorkQueue
from modelshare.consumer import ConsumerService
from modelshare.dry_run import DryRunRegistry, DryRunShares, Plan
from modelshare.owner import OwnerService
from modelshare.ports import AllowlistSource

DRY_RUN_ENV = "MODELSHARE_DRY_RUN"
SWEEP_QUEUE_ENV = "MODELSHARE_SWEEP_QUEUE_URL"


def dry_run_plan() -> Plan | None:
    """A plan to hold back every write when the stack runs in dry-run mode, else None."""
    return Plan() if os.environ.get(DRY_RUN_ENV, "false").strip().lower() == "true" else None


class InvocationContext(Protocol):
    invoked_function_arn: str

    def get_remaining_time_in_millis(self) -> int: ...


class PerEnvironment[T: (OwnerService, ConsumerService)]:
    """A function's services, built at its first invocation with the account its context names,
    then kept for the execution environment: importing a handler makes no AWS call. Each
    invocation gives the owner's its remaining time, so it stops waiting for RAM before Lambda's
    timeout would cut it off."""

    def __init__(self, build: Callable[[str], T]) -> None:
        self._build = build
        self._built: T | None = None

    def __call__(self, context: InvocationContext) -> T:
        if self._built is None:
            self._built = self._build(context.invoked_function_arn.split(":")[4])
        if isinstance(self._built, OwnerService):  # the only one that waits (for RAM)
            self._built.time_left = lambda: context.get_remaining_time_in_millis() / 1000
        return self._built


def owner_service(session: boto3.session.Session, plan: Plan | None = None, *, account: str | None = None,
                  allowlist_source: AllowlistSource | None = None) -> OwnerService:
    """With a `plan`, every write is recorded there instead of made (dry run). The allowlist
    comes from where the environment says (one parameter, or the parts under a path) unless `allowlist_source` is given. Without
    `account`, STS says which it is."""
    registry = SageMakerRegistry(session)
    shares = RamShares(session)
    return OwnerService(
        account=account or account_id(session),
        registry=registry if plan is None else DryRunRegistry(registry, plan),
        shares=shares if plan is None else DryRunShares(shares, plan),
        allowlist_source=allowlist_source or allowlist_in_environment(session),
        work_queue=SqsWorkQueue(session, queue_url) if (queue_url := os.environ.get(SWEEP_QUEUE_ENV)) else None,
    )


def consumer_service(session: boto3.session.Session, plan: Plan | None = None, *, account: str | None = None,
                     allowlist_source: AllowlistSource | None = None) -> ConsumerService:
    shares = RamShares(session)
    return ConsumerService(
        account=account or account_id(session),
        shares=shares if plan is None else DryRunShares(shares, plan),
        allowlist_source=allowlist_source or allowlist_in_environment(session),
    )
