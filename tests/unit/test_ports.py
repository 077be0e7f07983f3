"""Every implementation of a port satisfies it: the boto3 adapters, the dry-run wrappers and the
test fakes. mypy checks this module (`make lint`): each function below returns its argument as
the port, which type-checks only when the class has every member of the Protocol with a
compatible signature. The test runs the same conversions and compares the members at run time,
so the module cannot rot unimported."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from modelshare.aws.allowlist_store import SsmAllowlistPathSource, SsmAllowlistSource, StaticAllowlistSource
from modelshare.aws.ledger import DynamoDbLedger
from modelshare.aws.ram import RamShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.aws.work_queue import SqsWorkQueue
from modelshare.dry_run import DryRunLedger, DryRunRegistry, DryRunShares
from modelshare.ports import AllowlistSource, ModelRegistry, OwnershipLedger, ResourceShares, WorkQueue
from tests.unit.fakes import FakeLedger, FakeQueue, FakeRegistry, FakeShares, FixedAllowlist, StaleCacheAllowlist


def _ram_shares(shares: RamShares) -> ResourceShares:
    return shares


def _dry_run_shares(shares: DryRunShares) -> ResourceShares:
    return shares


def _fake_shares(shares: FakeShares) -> ResourceShares:
    return shares


def _sagemaker_registry(registry: SageMakerRegistry) -> ModelRegistry:
    return registry


def _dry_run_registry(registry: DryRunRegistry) -> ModelRegistry:
    return registry


def _fake_registry(registry: FakeRegistry) -> ModelRegistry:
    return registry


def _ssm_allowlist(source: SsmAllowlistSource) -> AllowlistSource:
    return source


def _ssm_allowlist_parts(source: SsmAllowlistPathSource) -> AllowlistSource:
    return source


def _static_allowlist(source: StaticAllowlistSource) -> AllowlistSource:
    return source


def _fixed_allowlist(source: FixedAllowlist) -> AllowlistSource:
    return source


def _stale_cache_allowlist(source: StaleCacheAllowlist) -> AllowlistSource:
    return source


def _dynamodb_ledger(ledger: DynamoDbLedger) -> OwnershipLedger:
    return ledger


def _dry_run_ledger(ledger: DryRunLedger) -> OwnershipLedger:
    return ledger


def _fake_ledger(ledger: FakeLedger) -> OwnershipLedger:
    return ledger


def _sqs_queue(queue: SqsWorkQueue) -> WorkQueue:
    return queue


def _fake_queue(queue: FakeQueue) -> WorkQueue:
    return queue


# (port, implementation, the conversion mypy checks)
IMPLEMENTATIONS: list[tuple[type, type, Callable[..., object]]] = [
    (ResourceShares, RamShares, _ram_shares),
    (ResourceShares, DryRunShares, _dry_run_shares),
    (ResourceShares, FakeShares, _fake_shares),
    (ModelRegistry, SageMakerRegistry, _sagemaker_registry),
    (ModelRegistry, DryRunRegistry, _dry_run_registry),
    (ModelRegistry, FakeRegistry, _fake_registry),
    (AllowlistSource, SsmAllowlistSource, _ssm_allowlist),
    (AllowlistSource, SsmAllowlistPathSource, _ssm_allowlist_parts),
    (AllowlistSource, StaticAllowlistSource, _static_allowlist),
    (AllowlistSource, FixedAllowlist, _fixed_allowlist),
    (AllowlistSource, StaleCacheAllowlist, _stale_cache_allowlist),
    (OwnershipLedger, DynamoDbLedger, _dynamodb_ledger),
    (OwnershipLedger, DryRunLedger, _dry_run_ledger),
    (OwnershipLedger, FakeLedger, _fake_ledger),
    (WorkQueue, SqsWorkQueue, _sqs_queue),
    (WorkQueue, FakeQueue, _fake_queue),
]


def _members(port: type) -> list[str]:
    return [name for name, value in vars(port).items() if not name.startswith("_") and callable(value)]


@pytest.mark.parametrize(("port", "implementation", "conversion"), IMPLEMENTATIONS,
                         ids=[f"{i.__name__}-{p.__name__}" for p, i, _ in IMPLEMENTATIONS])
def test_the_implementation_has_every_member_of_its_port_with_the_same_parameters(
        port: type, implementation: type, conversion: Callable[..., object]) -> None:
    instance: object = object.__new__(implementation)  # no __init__: the adapters' would build boto3 clients
    assert conversion(instance) is instance
    for name in _members(port):
        wanted = inspect.signature(getattr(port, name))
        found = inspect.signature(getattr(implementation, name))
        assert list(found.parameters) == list(wanted.parameters), f"{implementation.__name__}.{name}"
