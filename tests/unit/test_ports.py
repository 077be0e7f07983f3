"""Every implementation of a port satisfies it: the boto3 adapters, the dry-run wrappers and the
test fakes. mypy checks this module (`make lint`): each function below returns its argument as
the port, which type-checks only when the class has every member of the Protocol with a
compatible signature. The test runs the same conversions and compares the members at run time,
so the module cannot rot unimported. PlannedShareReads passes the reads it does not change to
the adapter it wraps (mypy sees those as Any): the run-time check is what proves them here."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from modelshare.aws.allowlist_store import SsmAllowlistPathSource, SsmAllowlistSource, StaticAllowlistSource
from modelshare.aws.ledger import DynamoDbLedger
from modelshare.aws.ram_consumer import RamConsumerShares
from modelshare.aws.ram_owner import RamOwnerShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.aws.version_bus import EventBridgeBusPolicy, EventBridgeVersionBus, SageMakerVersions
from modelshare.aws.work_queue import SqsWorkQueue
from modelshare.dry_run import (
    DryRunBusPolicyWrites,
    DryRunConsumerWrites,
    DryRunLedger,
    DryRunRegistryWrites,
    DryRunShareWrites,
    DryRunVersionBus,
    Plan,
    PlannedShareReads,
)
from modelshare.ports import (
    AllowlistSource,
    LedgerReads,
    LedgerWrites,
    ModelRegistry,
    OwnershipLedger,
    RegistryReads,
    RegistryWrites,
    WorkQueue,
)
from modelshare.ram_ports import (
    ConsumerShareReads,
    ConsumerShares,
    ConsumerShareWrites,
    OrganizationReads,
    OwnerShareReads,
    OwnerShares,
    OwnerShareWrites,
)
from modelshare.version_ports import BusPolicy, BusPolicyReads, BusPolicyWrites, ModelVersions, VersionBus
from tests.unit.fakes import FakeLedger, FakeQueue, FakeRegistry, FakeShares, FixedAllowlist, StaleCacheAllowlist
from tests.unit.version_fakes import FakeBusPolicy, FakeModelVersions, FakeVersionBus


def _ram_owner(shares: RamOwnerShares) -> OwnerShares:
    return shares


def _ram_consumer(shares: RamConsumerShares) -> ConsumerShares:
    return shares


def _fake_owner_shares(shares: FakeShares) -> OwnerShares:
    return shares


def _fake_consumer_shares(shares: FakeShares) -> ConsumerShares:
    return shares


def _planned_share_reads(shares: PlannedShareReads) -> OwnerShareReads:
    return shares


def _dry_run_share_writes(shares: DryRunShareWrites) -> OwnerShareWrites:
    return shares


def _dry_run_consumer_writes(shares: DryRunConsumerWrites) -> ConsumerShareWrites:
    return shares


def _sagemaker_registry(registry: SageMakerRegistry) -> ModelRegistry:
    return registry


def _dry_run_registry_writes(registry: DryRunRegistryWrites) -> RegistryWrites:
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


def _sagemaker_versions(versions: SageMakerVersions) -> ModelVersions:
    return versions


def _fake_versions(versions: FakeModelVersions) -> ModelVersions:
    return versions


def _eventbridge_version_bus(bus: EventBridgeVersionBus) -> VersionBus:
    return bus


def _dry_run_version_bus(bus: DryRunVersionBus) -> VersionBus:
    return bus


def _fake_version_bus(bus: FakeVersionBus) -> VersionBus:
    return bus


def _eventbridge_bus_policy(policy: EventBridgeBusPolicy) -> BusPolicy:
    return policy


def _dry_run_bus_policy_writes(writes: DryRunBusPolicyWrites) -> BusPolicyWrites:
    return writes


def _fake_bus_policy(policy: FakeBusPolicy) -> BusPolicy:
    return policy


def _planned_reads_of_a_fake() -> PlannedShareReads:
    return PlannedShareReads(FakeShares(), DryRunShareWrites(Plan()))


# (port, implementation, the conversion mypy checks, how to make one: None for no __init__,
# since the adapters' would build boto3 clients)
IMPLEMENTATIONS: list[tuple[type, type, Callable[..., object], Callable[[], object] | None]] = [
    (OwnerShares, RamOwnerShares, _ram_owner, None),
    (ConsumerShares, RamConsumerShares, _ram_consumer, None),
    (OwnerShares, FakeShares, _fake_owner_shares, None),
    (ConsumerShares, FakeShares, _fake_consumer_shares, None),
    (OwnerShareReads, PlannedShareReads, _planned_share_reads, _planned_reads_of_a_fake),
    (OwnerShareWrites, DryRunShareWrites, _dry_run_share_writes, None),
    (ConsumerShareWrites, DryRunConsumerWrites, _dry_run_consumer_writes, None),
    (ModelRegistry, SageMakerRegistry, _sagemaker_registry, None),
    (RegistryWrites, DryRunRegistryWrites, _dry_run_registry_writes, None),
    (ModelRegistry, FakeRegistry, _fake_registry, None),
    (AllowlistSource, SsmAllowlistSource, _ssm_allowlist, None),
    (AllowlistSource, SsmAllowlistPathSource, _ssm_allowlist_parts, None),
    (AllowlistSource, StaticAllowlistSource, _static_allowlist, None),
    (AllowlistSource, FixedAllowlist, _fixed_allowlist, None),
    (AllowlistSource, StaleCacheAllowlist, _stale_cache_allowlist, None),
    (OwnershipLedger, DynamoDbLedger, _dynamodb_ledger, None),
    (OwnershipLedger, DryRunLedger, _dry_run_ledger, None),
    (OwnershipLedger, FakeLedger, _fake_ledger, None),
    (WorkQueue, SqsWorkQueue, _sqs_queue, None),
    (WorkQueue, FakeQueue, _fake_queue, None),
    (ModelVersions, SageMakerVersions, _sagemaker_versions, None),
    (ModelVersions, FakeModelVersions, _fake_versions, None),
    (VersionBus, EventBridgeVersionBus, _eventbridge_version_bus, None),
    (VersionBus, DryRunVersionBus, _dry_run_version_bus, None),
    (VersionBus, FakeVersionBus, _fake_version_bus, None),
    (BusPolicy, EventBridgeBusPolicy, _eventbridge_bus_policy, None),
    (BusPolicyWrites, DryRunBusPolicyWrites, _dry_run_bus_policy_writes, None),
    (BusPolicy, FakeBusPolicy, _fake_bus_policy, None),
]


def _members(port: type) -> list[str]:
    """The port's methods, those of the ports it joins included."""
    return [name for name in dir(port) if not name.startswith("_") and callable(getattr(port, name))]


@pytest.mark.parametrize(("port", "implementation", "conversion", "make"), IMPLEMENTATIONS,
                         ids=[f"{i.__name__}-{p.__name__}" for p, i, _, _ in IMPLEMENTATIONS])
def test_the_implementation_has_every_member_of_its_port_with_the_same_parameters(
        port: type, implementation: type, conversion: Callable[..., object], make: Callable[[], object] | None) -> None:
    instance: object = object.__new__(implementation) if make is None else make()
    assert conversion(instance) is instance
    assert _members(port), port
    for name in _members(port):
        wanted = list(inspect.signature(getattr(port, name)).parameters)[1:]  # less self
        found = inspect.signature(getattr(instance, name))  # bound: self is not a parameter
        assert list(found.parameters) == wanted, f"{implementation.__name__}.{name}"


@pytest.mark.parametrize(("whole", "halves"), [
    (OwnerShares, (OwnerShareReads, OwnerShareWrites)),
    (ConsumerShares, (ConsumerShareReads, ConsumerShareWrites)),
    (ModelRegistry, (RegistryReads, RegistryWrites)),
    (OwnershipLedger, (LedgerReads, LedgerWrites)),
    (BusPolicy, (BusPolicyReads, BusPolicyWrites)),
])
def test_what_a_side_reads_and_what_it_writes_are_apart(whole: type, halves: tuple[type, type]) -> None:
    reads, writes = (set(_members(half)) for half in halves)
    assert reads and writes and not reads & writes
    assert reads | writes == set(_members(whole)), "the whole port is its reads and its writes, nothing more"


def test_the_dry_runs_reads_never_pass_a_write_through() -> None:
    fake = FakeShares()
    reads = _planned_reads_of_a_fake()
    assert set(_members(OrganizationReads)) <= set(_members(OwnerShareReads))
    for name in _members(OwnerShareWrites):
        assert hasattr(fake, name)
        with pytest.raises(AttributeError):
            getattr(reads, name)
