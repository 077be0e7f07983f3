"""Builds the domain services from the adapters: the composition root. The functions, the
admin commands and the local AWS's reports get their services here and nowhere else."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import boto3

from modelshare.allowlist import Allowlist
from modelshare.aws import account_id
from modelshare.aws.allowlist_store import StaticAllowlistSource, allowlist_source
from modelshare.settings import DEFAULT_LEDGER_TABLE, LEDGER_TABLE_ENV, Settings, SettingsError

# A function imports only the side it runs, and the dry run only when on: each import is
# milliseconds of every cold start (`make bench`, cold start). Types alone are imported here.
if TYPE_CHECKING:
    from modelshare.aws.ram_owner import RamOwnerShares
    from modelshare.consumer import ConsumerService
    from modelshare.deadline import Deadline
    from modelshare.dry_run import Plan
    from modelshare.owner.service import OwnerService
    from modelshare.ports import AllowlistSource, ModelRegistry, OwnershipLedger
    from modelshare.quota_budget import QuotaLimits
    from modelshare.ram_ports import ConsumerShares, OwnerShares
    from modelshare.version_forwarding import VersionForwarder


# The owner jobs a function may run (modelshare.owner.service imports each where it is asked for).
type OwnerJob = Literal["create", "promote", "sweep", "sweep_work", "cleanup"]


def dry_run_plan(settings: Settings) -> Plan | None:
    """A plan to hold back every write when the stack runs in dry-run mode, else None."""
    if not settings.dry_run:
        return None
    from modelshare.dry_run import Plan

    return Plan()


class InvocationContext(Protocol):
    # Read-only, as Lambda's context (and Powertools' LambdaContext) has it.
    @property
    def invoked_function_arn(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


def remaining_time(context: InvocationContext) -> Deadline:
    """The invocation's deadline, handed to the run it starts: the owner's stops waiting for
    RAM, the consumer's stops taking on invitations, before Lambda's timeout would cut it off."""
    return lambda: context.get_remaining_time_in_millis() / 1000


class PerEnvironment[T: (OwnerService, ConsumerService)]:
    """A function's services, built at its first invocation with the account its context names,
    then kept for the execution environment: importing a handler makes no AWS call. They keep
    no invocation's state: each invocation hands its deadline (`remaining_time`) to the job it
    asks for."""

    def __init__(self, build: Callable[[str], T]) -> None:
        self._build: Callable[[str], T] = build
        self._built: T | None = None

    def __call__(self, context: InvocationContext) -> T:
        if self._built is None:
            self._built = self._build(context.invoked_function_arn.split(":")[4])
        return self._built


# -- the functions ------------------------------------------------------------------------------
def owner_services(settings: Settings, plan: Plan | None, *, jobs: Iterable[OwnerJob]) -> PerEnvironment[OwnerService]:
    """An owner-side function's services, built on its first invocation (the settings are
    checked now, at cold start). `jobs`: the owner jobs the function runs (modelshare.owner.<job>),
    imported now: its cold start loads its own jobs' modules, never another function's."""
    if settings.ledger_table is None:
        raise SettingsError(f"{LEDGER_TABLE_ENV} is not set: the owner side needs its ownership ledger (the stack's "
                            "OwnershipTable)")
    asked = tuple(jobs)
    for job in asked:
        importlib.import_module(f"modelshare.owner.{job}")
    # The creation job touches the ledger only for a group the allowlist shares (a group no rule
    # names costs no call): its client is made then. The promotion and the sweep read the ledger
    # on every run, so theirs is made with the other clients.
    ledger_at_first_use = set(asked) == {"create"}
    return PerEnvironment(lambda account: owner_service(boto3.session.Session(), settings, plan, account=account,
                                                        ledger_at_first_use=ledger_at_first_use))


def consumer_services(settings: Settings, plan: Plan | None) -> PerEnvironment[ConsumerService]:
    """The consumer-side function's services, built on its first invocation."""
    return PerEnvironment(lambda account: consumer_service(boto3.session.Session(), settings, plan, account=account))


def owner_service(session: boto3.session.Session, settings: Settings, plan: Plan | None = None, *,
                  account: str | None = None, ledger_at_first_use: bool = False) -> OwnerService:
    """With a `plan`, every write is recorded there instead of made (dry run). The allowlist is
    where the settings say; without `account`, STS says which it is. `ledger_at_first_use`: the
    ledger's client is made at its first call (DynamoDbLedger)."""
    from modelshare.aws.ledger import DynamoDbLedger
    from modelshare.aws.ram_owner import RamOwnerShares
    from modelshare.aws.sagemaker import SageMakerRegistry
    from modelshare.aws.work_queue import SqsWorkQueue

    return owner_from(account or account_id(session), SageMakerRegistry(session), RamOwnerShares(session),
                      allowlist_source(session, settings.allowlist),
                      DynamoDbLedger(session, settings.ledger_table or DEFAULT_LEDGER_TABLE,
                                     client_at_first_use=ledger_at_first_use), plan,
                      work_queue=SqsWorkQueue(session, settings.sweep_queue_url) if settings.sweep_queue_url else None,
                      quota_limits=settings.ram_quotas, sharing_mode=settings.sharing_mode)


def consumer_service(session: boto3.session.Session, settings: Settings, plan: Plan | None = None, *,
                     account: str | None = None) -> ConsumerService:
    from modelshare.aws.ram_consumer import RamConsumerShares

    return consumer_from(account or account_id(session), RamConsumerShares(session),
                         allowlist_source(session, settings.allowlist), plan, organization_path=settings.organization_path)


# -- the adapters in hand: every builder above, and the tests' fakes ---------------------------
def owner_from(account: str, registry: ModelRegistry, shares: OwnerShares, source: AllowlistSource,
               ledger: OwnershipLedger, plan: Plan | None = None, **options: Any) -> OwnerService:
    """The owner side on these adapters, each reading and writing; with a `plan`, its writes
    are recorded there instead of made (dry run): it reads AWS, and reads back what it planned.
    `options`: the OwnerService's settings (sleep, work_queue, quota_limits, ...)."""
    from modelshare.owner.service import OwnerService

    if plan is None:
        return OwnerService(account, registry, shares, source, ledger, registry_writes=registry, share_writes=shares,
                            **options)
    from modelshare.dry_run import DryRunLedger, DryRunRegistryWrites, DryRunShareWrites, PlannedShareReads

    share_writes = DryRunShareWrites(plan)
    return OwnerService(account, registry, PlannedShareReads(shares, share_writes), source, DryRunLedger(ledger, plan),
                        registry_writes=DryRunRegistryWrites(plan), share_writes=share_writes, **options)


def consumer_from(account: str, shares: ConsumerShares, source: AllowlistSource, plan: Plan | None = None,
                  **options: Any) -> ConsumerService:
    """The consumer side on this RAM adapter; with a `plan`, what it accepts is recorded there
    instead (dry run). `options`: the ConsumerService's settings (organization_path)."""
    from modelshare.consumer import ConsumerService

    if plan is None:
        return ConsumerService(account, shares, source, share_writes=shares, **options)
    from modelshare.dry_run import DryRunConsumerWrites

    return ConsumerService(account, shares, source, share_writes=DryRunConsumerWrites(plan), **options)


# -- an allowlist in hand: the admin commands, the local AWS's reports --------------------------
# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class AccountServices:
    """Both sides of one account, deciding with one allowlist document given (no work queue: a
    sweep converges every group in its run)."""

    owner: OwnerService
    consumer: ConsumerService
    # The owner's RAM adapter itself, unwrapped even in a dry run: for reads beyond the port
    # (quota usage).
    ram: RamOwnerShares

    @property
    def account(self) -> str:
        return self.owner.account


def account_services(session: boto3.session.Session, allowlist: Allowlist, plan: Plan | None = None, *,
                     account: str | None = None, ledger_table: str = DEFAULT_LEDGER_TABLE,
                     quota_limits: QuotaLimits | None = None, sharing_mode: str = "policy") -> AccountServices:
    """With a `plan`, every write is recorded there instead of made (dry run). Without
    `account`, STS says which it is. `ledger_table`: the stack's ownership ledger;
    `quota_limits`: the account's RAM quotas (RAM's defaults unless given); `sharing_mode`: the
    stack's SharingMode, for owners the allowlist's `modes` does not name."""
    from modelshare.aws.ledger import DynamoDbLedger
    from modelshare.aws.ram_consumer import RamConsumerShares
    from modelshare.aws.ram_owner import RamOwnerShares
    from modelshare.aws.sagemaker import SageMakerRegistry
    from modelshare.quota_budget import QuotaLimits

    ram = RamOwnerShares(session)
    source = StaticAllowlistSource(allowlist)
    account = account or account_id(session)
    return AccountServices(owner=owner_from(account, SageMakerRegistry(session), ram, source,
                                            DynamoDbLedger(session, ledger_table), plan,
                                            quota_limits=quota_limits or QuotaLimits(), sharing_mode=sharing_mode),
                           consumer=consumer_from(account, RamConsumerShares(session), source, plan), ram=ram)


# -- version events (issue 22 part 2; docs/version-events.md) -----------------------------------
def version_forwarder(settings: Settings, plan: Plan | None) -> Callable[[InvocationContext], VersionForwarder]:
    """The owner's forwarder of approved versions to the consumers' buses (named by
    MODELSHARE_VERSION_BUS, checked now); in a dry run it sends nothing and its plan says what
    it would have sent."""
    from modelshare.aws.version_bus import EventBridgeVersionBus, SageMakerVersions
    from modelshare.version_forwarding import VersionForwarder, version_bus_name
    from modelshare.version_ports import VersionBus

    bus_name = version_bus_name()

    def build(account: str) -> VersionForwarder:
        session = boto3.session.Session()
        bus: VersionBus
        if plan is not None:
            from modelshare.dry_run import DryRunVersionBus

            bus = DryRunVersionBus(plan)
        else:
            bus = EventBridgeVersionBus(session.client("events"), session.region_name or "", bus_name)
        return VersionForwarder(account, SageMakerVersions(session.client("sagemaker")), bus,
                                allowlist_source(session, settings.allowlist))

    built: list[VersionForwarder] = []  # built at the first invocation (the account its context names), then kept

    def forwarder(context: InvocationContext) -> VersionForwarder:
        if not built:
            built.append(build(context.invoked_function_arn.split(":")[4]))
        return built[0]

    return forwarder


def version_bus_keeper(settings: Settings, plan: Plan | None) -> Callable[[InvocationContext], dict[str, list[str]]]:
    """The consumer's upkeep of its version event bus policy (the bus name checked now); in a
    dry run the policy is read and the changes it would make are planned."""
    from modelshare.version_forwarding import version_bus_name

    bus_name = version_bus_name()

    def keep(context: InvocationContext) -> dict[str, list[str]]:
        from modelshare.aws.version_bus import EventBridgeBusPolicy
        from modelshare.version_events import bus_arn
        from modelshare.version_forwarding import keep_bus_policy
        from modelshare.version_ports import BusPolicyWrites

        session = boto3.session.Session()
        policy = EventBridgeBusPolicy(session.client("events"), bus_name)
        changes: BusPolicyWrites = policy
        if plan is not None:
            from modelshare.dry_run import DryRunBusPolicyWrites

            changes = DryRunBusPolicyWrites(plan)
        _, partition, _, region, account, *_ = context.invoked_function_arn.split(":")
        return keep_bus_policy(bus_arn(account, region, bus_name, partition), policy, changes,
                               allowlist_source(session, settings.allowlist))

    return keep
