"""The seed flow through modelshare's own domain code and adapters, against an AWS: the local one
inside `make test`, a real one (two sandbox accounts) with `make aws-smoke`.

Create a uniquely named group in the owner account, share it through its policy, promote the
share RAM makes, accept the invitation in the consumer account, and check the consumer discovers
the group. Along the way, record what AWS answered for each UNVERIFIED behaviour the flow can
observe (docs/aws-behaviour.md). Everything created is removed, even when a step fails.

Real AWS: set MODELSHARE_SMOKE_OWNER_PROFILE and MODELSHARE_SMOKE_CONSUMER_PROFILE (and
optionally MODELSHARE_SMOKE_REGION, default eu-west-1). The observations land in
.aws-smoke/<backend>.json.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from modelshare.allowlist import Allowlist
from modelshare.aws import account_id
from modelshare.aws.allowlist_store import StaticAllowlistSource
from modelshare.aws.ram_consumer import RamConsumerShares
from modelshare.aws.ram_owner import RamOwnerShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE, PENDING, STANDARD, PromotionNotReady
from modelshare.wiring import consumer_from, owner_from
from tests.unit.fakes import FakeLedger

ROOT = Path(__file__).resolve().parents[2]
OWNER_PROFILE = "MODELSHARE_SMOKE_OWNER_PROFILE"
CONSUMER_PROFILE = "MODELSHARE_SMOKE_CONSUMER_PROFILE"
REGION = os.environ.get("MODELSHARE_SMOKE_REGION", "eu-west-1")


@dataclass
class Backend:
    """Two accounts of one AWS, and how time passes there."""

    name: str
    owner: boto3.session.Session
    consumer: boto3.session.Session
    sleep: Callable[[float], None]
    now: Callable[[], float]
    # How long the flow waits for each asynchronous step of AWS, in all.
    patience_seconds: float


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "aws":
        owner, consumer = os.environ.get(OWNER_PROFILE), os.environ.get(CONSUMER_PROFILE)
        if not owner or not consumer:
            pytest.skip(f"real AWS: set {OWNER_PROFILE} and {CONSUMER_PROFILE} to two sandbox accounts (make aws-smoke)")
        yield Backend("aws", boto3.session.Session(profile_name=owner, region_name=REGION),
                      boto3.session.Session(profile_name=consumer, region_name=REGION),
                      time.sleep, time.monotonic, patience_seconds=900)
        return
    from localaws.runtime.cloud import LocalCloud

    with LocalCloud() as cloud:
        for account in ("111122223333", "444455556666"):
            cloud.add_account(account)
        yield Backend("local", cloud.session("111122223333", REGION), cloud.session("444455556666", REGION),
                      cloud.clock.sleep, lambda: cloud.clock.now().timestamp(), patience_seconds=900)


@dataclass
class Cleanup:
    """What the run created, removed in reverse order; every step is tried, failures reported."""

    steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, what: str, undo: Callable[[], None]) -> None:
        self.steps.append((what, undo))

    def run(self) -> None:
        for what, undo in reversed(self.steps):
            try:
                undo()
            except ClientError as error:
                self.problems.append(f"{what}: {error}")


def wait_for[T](backend: Backend, what: str, attempt: Callable[[], T | None]) -> tuple[T, float]:
    """`attempt()` until it returns something; (result, seconds it took). Fails after patience."""
    started, delay = backend.now(), 1.0
    while True:
        result = attempt()
        if result is not None:
            return result, backend.now() - started
        if backend.now() - started > backend.patience_seconds:
            raise AssertionError(f"{what}: nothing after {backend.patience_seconds:g} s")
        backend.sleep(delay)
        delay = min(delay * 2, 30)


@contextmanager
def created_group(backend: Backend, cleanup: Cleanup) -> Iterator[str]:
    name = f"modelshare-smoke-{uuid.uuid4().hex[:8]}"
    sagemaker = backend.owner.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=name,
                                         ModelPackageGroupDescription="modelshare smoke test; safe to delete")
    cleanup.add(f"delete group {name}", lambda: sagemaker.delete_model_package_group(ModelPackageGroupName=name))
    yield name


def test_the_seed_flow_makes_a_group_discoverable_and_leaves_nothing_behind(backend):
    owner_account, consumer_account = account_id(backend.owner), account_id(backend.consumer)
    cleanup = Cleanup()
    observed: dict[str, Any] = {"backend": backend.name, "region": REGION}
    permissions_before = {p["name"] for p in _customer_managed(backend.owner.client("ram"))}
    try:
        with created_group(backend, cleanup) as name:
            observed.update(_run_flow(backend, cleanup, name, owner_account, consumer_account))
    finally:
        _undo_promotion(backend, cleanup, permissions_before)
        cleanup.run()
        _write(observed)
    assert cleanup.problems == []
    if backend.name == "local":
        _assert_nothing_left(backend, owner_account)


def _taggable(backend: Backend, share_arn: str) -> bool | str:
    try:
        backend.owner.client("ram").tag_resource(resourceShareArn=share_arn, tags=[{"key": "modelshare:probe", "value": "1"}])
    except ClientError as error:
        return str(error.response.get("Error", {}).get("Code"))
    return True


def _run_flow(backend: Backend, cleanup: Cleanup, name: str, owner_account: str, consumer_account: str) -> dict[str, Any]:
    observed: dict[str, Any] = {}
    # register+deploy: an action set no AWS managed permission is expected to hold, so the flow
    # also promotes (and afterwards deletes) a customer managed permission of its own.
    document = {"version": 1, "shares": [{"owner": owner_account, "groups": [name], "consumers": [consumer_account],
                                          "access": ["register", "deploy"]}]}
    source = StaticAllowlistSource(Allowlist.parse(document))
    registry, shares = SageMakerRegistry(backend.owner), RamOwnerShares(backend.owner)
    # The ownership ledger is the stack's table; this flow runs modelshare's code without a stack.
    owner = owner_from(owner_account, registry, shares, source, FakeLedger(), sleep=backend.sleep)
    group_arn = registry.group_arn(name)
    assert group_arn is not None

    assert owner.share_group(name).action == "shared"
    cleanup.add(f"delete the policy of {name}", lambda: registry.delete_policy(name))
    share, observed["seconds_until_ram_made_the_share"] = wait_for(
        backend, "the share RAM makes from the policy", lambda: next(iter(shares.shares_holding(group_arn)), None))
    observed["share_name_from_policy"] = share.name
    observed["share_feature_set_before"] = share.feature_set
    observed["permissions_before"] = [
        {"name": p.name, "feature_set": p.feature_set, "resource_type": p.resource_type} for p in shares.permissions(share.arn)]
    # Can a share made from a policy be tagged before promotion? (RAM-TAG-CFP: modelshare no longer
    # depends on it, and the tag stays, harmless, until the share is deleted.)
    observed["share_from_policy_taggable"] = _taggable(backend, share.arn)

    def promoted() -> str | None:
        try:
            return owner.promote_group(name).action
        except PromotionNotReady:
            return None

    outcome, observed["seconds_promoting"] = wait_for(backend, "promotion (and the tag after it)", promoted)
    assert outcome == "promoted", outcome
    standard, observed["seconds_until_share_standard"] = wait_for(
        backend, "the share to become STANDARD",
        lambda: next((s for s in shares.shares_holding(group_arn) if s.feature_set == STANDARD), None))
    observed["permissions_after"] = [
        {"name": p.name, "feature_set": p.feature_set, "resource_type": p.resource_type} for p in shares.permissions(standard.arn)]

    consumer_shares = RamConsumerShares(backend.consumer)

    def discoverable() -> bool:
        return group_arn in SageMakerRegistry(backend.consumer).cross_account_group_arns()

    def invitation_or_access() -> Any:
        # Inside one organization with RAM sharing enabled, access comes without an invitation.
        pending = next((i for i in consumer_shares.invitations() if i.status == PENDING and i.share_arn == standard.arn),
                       None)
        return pending or ("no invitation" if discoverable() else None)

    pending, observed["seconds_until_invitation"] = wait_for(backend, "the invitation", invitation_or_access)
    if pending == "no invitation":
        observed["invitation"] = "none: the group was discoverable without one (same organization)"
    else:
        resources = consumer_shares.pending_invitation_resources(pending.arn)
        observed["resource_types_in_invitation"] = sorted({r.type for r in resources})
        observed["resource_type_is_the_expected_string"] = all(r.type == MODEL_PACKAGE_GROUP_TYPE for r in resources)
        consumer = consumer_from(consumer_account, consumer_shares, source)
        outcomes = consumer.accept_allowed_invitations()
        assert [o.action for o in outcomes if o.invitation_arn == pending.arn] == ["accepted"], outcomes

    discovered, observed["seconds_until_discoverable"] = wait_for(
        backend, "the group in the consumer's CrossAccount listing", lambda: group_arn if discoverable() else None)
    assert discovered == group_arn
    return observed


def _undo_promotion(backend: Backend, cleanup: Cleanup, permissions_before: set[str]) -> None:
    """Shares promoted in this run are deleted; customer managed permissions this run created are
    deleted once no share uses them (never one that existed before: a deployment may use it)."""
    ram = backend.owner.client("ram")
    for share in _all(ram.get_paginator("get_resource_shares").paginate(resourceOwner="SELF",
                                                                         resourceShareStatus="ACTIVE"), "resourceShares"):
        holds = _all(ram.get_paginator("get_resource_share_associations").paginate(
            associationType="RESOURCE", resourceShareArns=[share["resourceShareArn"]]), "resourceShareAssociations")
        if share["featureSet"] != "CREATED_FROM_POLICY" and any(
                "model-package-group/modelshare-smoke-" in a["associatedEntity"] for a in holds):
            cleanup.add(f"delete share {share['resourceShareArn']}",
                        lambda arn=share["resourceShareArn"]: ram.delete_resource_share(resourceShareArn=arn))
    for permission in _customer_managed(ram):
        if permission["name"] not in permissions_before:
            # Runs last (cleanup runs in reverse order), once RAM has finished deleting the share.
            cleanup.steps.insert(0, (f"delete permission {permission['name']}",
                                     lambda arn=permission["arn"]: _delete_permission(backend, ram, arn)))


def _delete_permission(backend: Backend, ram: Any, arn: str) -> None:
    """Deleting a share is asynchronous: the permission stays in use for a while."""
    def attempt() -> bool | None:
        try:
            ram.delete_permission(permissionArn=arn)
        except ram.exceptions.OperationNotPermittedException:
            return None
        return True

    wait_for(backend, f"permission {arn} to be free to delete", attempt)


def _all(pages: Any, key: str) -> list[dict[str, Any]]:
    return [item for page in pages for item in page[key]]


def _customer_managed(ram: Any) -> list[dict[str, Any]]:
    found, token = [], None
    while True:
        page = ram.list_permissions(permissionType="CUSTOMER_MANAGED", **({"nextToken": token} if token else {}))
        found.extend(page["permissions"])
        token = page.get("nextToken")
        if not token:
            return found


def _write(observed: dict[str, Any]) -> None:
    folder = ROOT / ".aws-smoke"
    folder.mkdir(exist_ok=True)
    (folder / f"{observed['backend']}.json").write_text(json.dumps(observed, indent=2, default=str) + "\n")
    print(json.dumps(observed, indent=2, default=str))


def _assert_nothing_left(backend: Backend, owner_account: str) -> None:
    sagemaker, ram = backend.owner.client("sagemaker"), backend.owner.client("ram")
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="ACTIVE")["resourceShares"] == []
    assert _customer_managed(ram) == []
