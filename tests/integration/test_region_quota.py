"""The policy mode at RAM's Region principal-association quota (docs/aws-behaviour.md,
RAM-QUOTA-REGION): RAM leaves the new share's associations FAILED or refuses the call; modelshare
says so once (one log line naming the quota, one RamQuotaReached), does not try again every
minute, and shares the group once room comes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localaws.runtime.cloud import LocalCloud
from localaws.services.registry_state import RamQuotas
from tests.integration.conftest import CONSUMER, OWNER, STRANGER, World, group_arn

# Two consumers: each group costs two principal associations; the quota takes two groups.
QUOTA = 4
ALLOWLIST = {"version": 1, "shares": [
    {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, STRANGER], "access": ["discover"]}]}
GRANTING = ("AssociateResourceShare", "PromoteResourceShareCreatedFromPolicy", "CreateResourceShare")


@pytest.fixture
def world() -> Iterator[World]:
    with LocalCloud(ram_share_delay_seconds=20, ram_quotas=RamQuotas(principal_associations_per_region=QUOTA)) as cloud:
        world = World(cloud)
        world.install(OWNER, CONSUMER, STRANGER, allowlist=ALLOWLIST,
                      parameters={"RamQuotas": f"principal_associations={QUOTA}"})
        yield world


def cold_starts(world: World) -> None:
    """Lambda reclaims every idle execution environment: the next invocations start cold."""
    for function in world.lambdas.functions.get(OWNER, []):
        function.environments[:] = [e for e in function.environments if e.busy]


def quota_lines(world: World) -> list[dict]:
    return [r for r in world.logs(OWNER, "WARNING") if r.get("message", "").startswith("RAM quota reached")]


def test_the_policy_mode_at_the_region_principal_association_quota_says_so_once_and_waits_for_room(world):
    for name in ("churn-0", "churn-1"):
        world.create_group(OWNER, name)
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("churn-0"), group_arn("churn-1")]
    world.create_group(OWNER, "churn-2")
    world.settle()
    # RAM could not associate the new group's consumers: the documented exception or FAILED.
    refused = [c for c in world.cloud.calls if c.operation in GRANTING and c.error_code == "ResourceShareLimitExceededException"]
    failed = [a for s in world.cloud.registry.state.shares.values() if s.account == OWNER
              for a in s.principals.values() if a.status == "FAILED"]
    assert refused or failed
    assert group_arn("churn-2") not in world.discoverable(CONSUMER)
    # `status` (the group's state) says what it waits for; a group shared already waits for nothing.
    assert f"RAM's quota of principal associations per Region ({QUOTA} of {QUOTA}) is full" in world.state(OWNER, "churn-2").reason
    assert "waits for room" not in world.state(OWNER, "churn-0").reason
    # Several sweep periods (the sweep is hourly; its workers would retry a minute apart), each
    # in new execution environments (Lambda reclaims idle ones): said once all the same.
    before = len([c for c in world.cloud.calls if c.operation in GRANTING])
    for _ in range(4):
        cold_starts(world)
        world.run_for(hours=1)
    after = len([c for c in world.cloud.calls if c.operation in GRANTING])
    assert after == before, "nothing is tried while the quota is full"
    lines = quota_lines(world)
    assert len(lines) == 1 and "principal associations" in lines[0]["quota"]
    assert world.metric_total("RamQuotaReached", OWNER) == 1
    assert world.lambdas.failures == []
    # Room comes (an edit takes a group out): the waiting group is shared by the next sweep.
    world.edit_allowlist({"version": 1, "shares": [
        {"owner": OWNER, "groups": ["churn-1", "churn-2"], "consumers": [CONSUMER, STRANGER], "access": ["discover"]}]})
    world.run_for(hours=1)
    assert world.discoverable(CONSUMER) == [group_arn("churn-1"), group_arn("churn-2")]
    assert world.discoverable(STRANGER) == [group_arn("churn-1"), group_arn("churn-2")]
    assert world.metric_total("RamQuotaReached", OWNER) == 1
