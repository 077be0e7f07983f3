"""Promotion as RAM documents it, at the scale where its quotas bite: one customer managed
permission per action set, partial promotions finished on retry, a burst under the pending-
invitation quota, and shares people made in RAM left alone."""

from __future__ import annotations

import json
from typing import Any

from localaws.core.errors import AwsError
from localaws.harness.scenario import Scenario
from localaws.harness.simulate import Simulation
from tests.integration.conftest import CONSUMER, OWNER, SEED_ALLOWLIST, STRANGER, group_arn


def simulate(scenario: dict[str, Any]) -> tuple[Simulation, dict[str, Any]]:
    simulation = Simulation(Scenario.parse(scenario))
    return simulation, simulation.run()


def rule(pattern: str, *access: str) -> dict[str, Any]:
    return {"owner": OWNER, "groups": [pattern], "consumers": [CONSUMER], "access": list(access) or ["discover"]}


def metric(simulation: Simulation, name: str) -> float:
    return sum(i.metrics().get(name, 0) for i in simulation.deployment.lambdas.invocations)


def test_thirty_groups_with_one_access_share_one_customer_managed_permission():
    groups = [f"churn-{i:02d}" for i in range(30)]
    scenario = {"allowlist": {"version": 1, "shares": [rule("churn-*")]},
                "accounts": {OWNER: {"groups": groups}, CONSUMER: {}}, "aws_managed_permissions": False}
    _, report = simulate(scenario)
    assert report["discoverable"][CONSUMER] == sorted(group_arn(g) for g in groups)
    assert report["ram_usage"][OWNER]["customer_managed_permissions"] == 1
    assert report["ram_usage"][OWNER]["resource_shares"] == 30
    assert report["failed_invocations"] == []
    promoted = report["api_calls"][OWNER]["PromoteFunction"]
    assert promoted["PromotePermissionCreatedFromPolicy"] == 1
    assert promoted["PromoteResourceShareCreatedFromPolicy"] >= 30


def test_three_access_sets_need_three_permissions_and_aws_managed_ones_need_none():
    groups = [f"{prefix}-{i}" for prefix in ("read", "reg", "all") for i in range(4)]
    shares = [rule("read-*"), rule("reg-*", "register"), rule("all-*", "register", "deploy")]
    scenario = {"allowlist": {"version": 1, "shares": shares}, "accounts": {OWNER: {"groups": groups}, CONSUMER: {}},
                "aws_managed_permissions": False}
    simulation, report = simulate(scenario)
    assert len(report["discoverable"][CONSUMER]) == 12
    assert report["ram_usage"][OWNER]["customer_managed_permissions"] == 3
    names = {p.name for p in simulation.cloud.registry.state.permissions.values()
             if p.permission_type == "CUSTOMER_MANAGED" and p.feature_set == "STANDARD"}
    assert names == {"modelshare-discover", "modelshare-discover-register", "modelshare-discover-register-deploy"}
    # With RAM's AWS managed permissions, the sets they hold need no permission of ours.
    _, report = simulate({**scenario, "aws_managed_permissions": True})
    assert len(report["discoverable"][CONSUMER]) == 12
    assert report["ram_usage"][OWNER]["customer_managed_permissions"] == 1  # discover+register+deploy


def test_a_partial_promotion_finishes_on_the_retry(world):
    """RAM keeps the original CREATED_FROM_POLICY permission after promoting it. The share's
    promotion then fails for longer than botocore retries, so the invocation fails; Lambda's
    retry promotes the share against the permission promoted before, without promoting the
    permission again."""
    world.install(OWNER, CONSUMER, parameters={})
    world.edit_allowlist({"version": 1, "shares": [rule("churn-*", "register", "deploy")]})
    unavailable = {"left": 0}

    def share_promotion_fails_after_the_permission(account: str, operation: str) -> None:
        if operation == "PromotePermissionCreatedFromPolicy":
            unavailable["left"] = 6  # the first attempt and botocore's 5 retries (max_attempts=5): all fail
        elif operation == "PromoteResourceShareCreatedFromPolicy" and unavailable["left"]:
            unavailable["left"] -= 1
            raise AwsError("ServiceUnavailableException", "try again", 503)

    world.cloud.registry.faults.append(share_promotion_fails_after_the_permission)
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    promote_runs = world.invocations_of("PromoteFunction", OWNER)
    assert any("ServiceUnavailableException" in (i.error or "") for i in promote_runs), "the first run failed"
    assert promote_runs[-1].ok
    assert len(world.calls("PromotePermissionCreatedFromPolicy")) == 1, "the retry reused the permission"
    assert world.calls("PromotePermissionCreatedFromPolicy", ok=False) == []
    assert world.lambdas.failures == []


def test_fifty_groups_for_one_consumer_get_through_the_pending_invitation_quota():
    groups = [f"churn-{i:02d}" for i in range(50)]
    # CloudTrail spreads the fifty creations over minutes and the consumer accepts as they come:
    # a quota of 3 pending invitations (RAM's is 20) makes sure it bites.
    scenario = {"allowlist": {"version": 1, "shares": [rule("churn-*")]},
                "accounts": {OWNER: {"groups": groups}, CONSUMER: {}},
                "ram_quotas": {"pending_invitations_per_account": 3}}
    simulation, report = simulate(scenario)
    assert report["discoverable"][CONSUMER] == sorted(group_arn(g) for g in groups)
    assert report["failed_invocations"] == [], "the quota is waited out, not retried into the failure queue"
    assert report["pending_invitations"][CONSUMER] == []
    # The quota did bite: RAM left some invitations FAILED, or refused promotions, and modelshare
    # said so and came back.
    state = simulation.cloud.registry.state
    quota_hits = metric(simulation, "RamQuotaReached")
    failed_then_repaired = [s for s in state.shares.values() if s.account == OWNER
                            and any(a.status_message for a in s.principals.values())]
    assert quota_hits or failed_then_repaired
    invocations = simulation.deployment.lambdas.invocations
    assert not [i for i in invocations if "LimitExceeded" in (i.error or "") or "Quota" in (i.error or "")], \
        "a quota is an answer, not an invocation error"


def test_a_share_a_person_made_with_an_allowlisted_and_another_group_is_left_alone():
    scenario = {"allowlist": SEED_ALLOWLIST,
                "accounts": {OWNER: {"groups": ["churn-xgb", "scratch"],
                                     "resource_shares": [{"name": "by-hand", "groups": ["churn-xgb", "scratch"],
                                                          "principals": [CONSUMER]}]},
                             CONSUMER: {}},
                "edits": [{"version": 1, "shares": [{**SEED_ALLOWLIST["shares"][0], "consumers": [CONSUMER, "777788889999"]}]}]}
    simulation, report = simulate(scenario)
    state = simulation.cloud.registry.state
    by_hand = next(s for s in state.shares.values() if s.name == "by-hand")
    assert set(by_hand.principals) == {CONSUMER}, "no principal was added to the person's share"
    assert not by_hand.tags
    # The allowlisted group reaches its consumer through its own share; the person's share waits.
    assert report["discoverable"][CONSUMER] == [group_arn("churn-xgb")]
    [pending] = report["pending_invitations"][CONSUMER]
    assert pending["resourceShareArn"] == by_hand.arn
    churn = report["groups"][group_arn("churn-xgb")]
    assert churn["other_shares"] == [by_hand.arn] and "modelshare leaves alone" in churn["reason"]
    refusals = [record for invocation in simulation.deployment.lambdas.invocations
                if invocation.function == "AcceptInvitationsFunction" for record in invocation.log_records
                if record.get("message") == "Invitation left pending" and record.get("share") == by_hand.arn]
    assert refusals and all("'scratch' of 111122223333 is not allowlisted" in r["reason"] for r in refusals)


def test_a_single_group_share_a_person_made_is_never_taken_over(world):
    """A person shares a group directly in RAM with an account; later the allowlist shares the
    group with another. modelshare shares it through its own share and leaves the person's alone:
    nothing records it as one modelshare promoted."""
    world.install(OWNER, CONSUMER, STRANGER, allowlist={"version": 1, "shares": []})
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    person = world.client(OWNER, "ram").create_resource_share(
        name="by-hand", resourceArns=[group_arn("churn-xgb")], principals=[STRANGER])["resourceShare"]["resourceShareArn"]
    world.settle()
    world.edit_allowlist(SEED_ALLOWLIST)
    world.run_for(hours=2)
    state = world.cloud.registry.state
    assert set(state.shares[person].principals) == {STRANGER} and not state.shares[person].tags
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.state(OWNER, "churn-xgb").other_shares == (person,)
    assert world.lambdas.failures == []


def test_simulate_reports_what_the_run_cost(capsys, tmp_path):
    from modelshare_cli.main import main

    scenario = {"allowlist": SEED_ALLOWLIST, "accounts": {OWNER: {"groups": ["churn-xgb"]}, CONSUMER: {}}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    assert main(["simulate", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    calls = report["api_calls"]
    assert calls[OWNER]["-"]["CreateModelPackageGroup"] == 1  # the person
    puts = [ops.get("PutModelPackageGroupPolicy", 0) for caller, ops in calls[OWNER].items() if caller != "-"]
    assert sum(puts) == 1
    assert calls[CONSUMER]["AcceptInvitationsFunction"]["AcceptResourceShareInvitation"] == 1
    assert "GetParameter" in calls[OWNER]["PromoteFunction"]
    assert report["ram_usage"] == {
        OWNER: {"customer_managed_permissions": 0, "resource_shares": 1, "pending_invitations_sent": 0,
                "resource_associations": 1, "principal_associations": 1},
        CONSUMER: {"customer_managed_permissions": 0, "resource_shares": 0, "pending_invitations_sent": 0,
                   "resource_associations": 0, "principal_associations": 0}}
    assert 20 < report["simulated_seconds"] < 3600  # RAM makes the share in 20 s; the queue batches wait for it
