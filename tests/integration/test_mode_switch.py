"""Switching an owner between the modes (issue 20) end to end on the local AWS, from template.yaml:
several groups shared with two consumers move from the policy mode to the shares mode and back,
under the chaos settings of the suite (20 % of the functions' calls fail, half of the 5xx after
AWS applied them; 10 % of events lost, 20 % duplicated). The safety oracle judges every call:
no grant beyond the allowlist, and (localaws/harness/oracle_access.py) no moment at which a consumer
both allowlists allow loses discovery of a group; and a switch stopped midway is finished by
the next run."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from localaws.harness.oracle import SafetyOracle
from localaws.harness.oracle_final import judge_final_state
from localaws.runtime.chaos import Chaos, ChaosSettings
from modelshare.aws.ledger import DynamoDbLedger
from tests.integration.conftest import CONSUMER, OWNER, REGION, STRANGER, World, group_arn
from tests.integration.test_chaos import CHAOS

GROUPS = ["churn-a", "churn-b", "churn-c", "fraud-1", "fraud-2"]
EVERYTHING = sorted(group_arn(n) for n in GROUPS)


def allowlist(mode: str) -> dict[str, Any]:
    return {"version": 1, "modes": {OWNER: mode}, "shares": [
        {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, STRANGER]},
        {"owner": OWNER, "groups": ["fraud-*"], "consumers": [CONSUMER, STRANGER], "access": ["discover", "register"]}]}


def ledger(world: World) -> DynamoDbLedger:
    return DynamoDbLedger(world.cloud.session(OWNER, REGION), world.deployment.ledger_table(OWNER))


def chaos_on(world: World, seed: int) -> Chaos:
    chaos = world.cloud.chaos = Chaos(ChaosSettings(seed=seed, **CHAOS))
    world.lambdas.delivery_policy = lambda function, event: chaos.copies()
    return chaos


def chaos_off(world: World) -> None:
    assert world.cloud.chaos is not None
    world.cloud.chaos.on = False
    world.lambdas.delivery_policy = lambda function, event: 1


def in_policy_mode(world: World) -> World:
    oracle = SafetyOracle(world.cloud, REGION, dict.fromkeys((OWNER, CONSUMER, STRANGER), "/modelshare/allowlist"))
    world.oracle = oracle  # type: ignore[attr-defined]
    world.install(OWNER, CONSUMER, STRANGER, allowlist=allowlist("policy"))
    for name in GROUPS:
        world.create_group(OWNER, name)
    world.settle()
    world.run_for(hours=2)
    assert sorted(world.discoverable(CONSUMER)) == EVERYTHING and sorted(world.discoverable(STRANGER)) == EVERYTHING
    assert ledger(world).made_shares() == {}
    return world


def promoted_shares(world: World) -> set[str]:
    return {arn for ownership in ledger(world).everything().values() for arn in ownership.shares}


def statements(world: World, name: str) -> list[Any]:
    try:
        return list(world.policy(OWNER, name).get("Statement", []))
    except ClientError as error:
        assert "Cannot find resource policy" in str(error)
        return []


def judged(world: World) -> SafetyOracle:
    oracle: SafetyOracle = world.oracle  # type: ignore[attr-defined]
    judge_final_state(oracle, [OWNER, CONSUMER, STRANGER], world.lambdas.failures, world.lambdas.invocations)
    return oracle


def test_switching_both_ways_under_chaos_loses_no_access_and_grants_nothing_beyond(world: World) -> None:
    in_policy_mode(world)
    oracle: SafetyOracle = world.oracle  # type: ignore[attr-defined]
    old = promoted_shares(world)
    assert len(old) == len(GROUPS)

    chaos = chaos_on(world, 20)
    world.edit_allowlist(allowlist("shares"))
    assert OWNER in oracle.access.windows
    world.run_for(hours=3)
    chaos_off(world)
    world.run_for(hours=1)
    made = ledger(world).made_shares()
    assert len(made) == 2, made  # one per bucket: churn-* and fraud-* differ in access
    assert promoted_shares(world) == set(), "modelshare's promoted shares are deleted and forgotten"
    live = {s.arn for s in world.shares(OWNER).owned_shares()}
    assert not old & live
    assert sorted(world.discoverable(CONSUMER)) == EVERYTHING and sorted(world.discoverable(STRANGER)) == EVERYTHING
    assert oracle.checked["access after a call"] > 0

    chaos_on(world, 21)
    world.edit_allowlist(allowlist("policy"))
    world.run_for(hours=3)
    chaos_off(world)
    world.run_for(hours=1)
    assert ledger(world).made_shares() == {}, "the made shares are emptied, deleted and forgotten"
    assert not set(made) & {s.arn for s in world.shares(OWNER).owned_shares()}
    assert len(promoted_shares(world)) == len(GROUPS)
    assert sorted(world.discoverable(CONSUMER)) == EVERYTHING and sorted(world.discoverable(STRANGER)) == EVERYTHING
    assert sum(n for kind, n in chaos.injected.items() if not kind.startswith("event")) > 0, "faults were thrown"
    assert oracle.access.gaps == [], oracle.access.gaps
    assert judged(world).violations == [], oracle.violations


def test_a_switch_stopped_midway_is_finished_by_the_next_run(world: World) -> None:
    in_policy_mode(world)
    oracle: SafetyOracle = world.oracle  # type: ignore[attr-defined]
    world.inject_error("DeleteResourceShare", "ServiceUnavailableException", "stopped here")
    world.edit_allowlist(allowlist("shares"))
    world.run_for(minutes=30)
    assert len(ledger(world).made_shares()) == 2
    assert len(promoted_shares(world)) == len(GROUPS), "every run stopped before deleting a promoted share"
    assert sorted(world.discoverable(CONSUMER)) == EVERYTHING
    world.cloud.registry.faults.pop()
    world.run_for(hours=1)
    assert promoted_shares(world) == set()
    assert all(statements(world, name) == [] for name in GROUPS), "modelshare's statements are gone"
    assert sorted(world.discoverable(CONSUMER)) == EVERYTHING and sorted(world.discoverable(STRANGER)) == EVERYTHING
    assert oracle.access.gaps == [] and judged(world).violations == [], oracle.violations
