"""`modelshare simulate` and the demo scenario, through the console entry point."""

import json
from collections import Counter

import pytest

from localaws.harness.scenario import Scenario
from localaws.harness.simulate import Simulation
from localaws.services.registry_state import RamQuotas
from modelshare_cli.main import main
from tests.integration.conftest import CONSUMER, OWNER, ROGUE_OWNER, STRANGER, group_arn

ROOT_DEMO = "examples/demo.json"
MANAGEMENT = "999988887777"
OU, CHILD_OU = "ou-ab12-examplou", "ou-ab12-childou1"
ORG_ARN = f"arn:aws:organizations::{MANAGEMENT}:organization/o-exampleorg1"


def run(capsys, *args):
    code = main(["simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_report(capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    code, out, err = run(capsys, ROOT_DEMO, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == {"discoverable", "pending_invitations", "groups", "failed_invocations", "edits",
                           "api_calls", "ram_usage", "ram_quotas", "simulated_seconds", "safety"}
    # The independent oracle found no grant beyond the allowlist, and the demo converged.
    assert report["safety"]["violations"] == [] and report["safety"]["unconverged"] == []
    assert report["safety"]["checked"]["PromoteResourceShareCreatedFromPolicy"] >= 4
    assert report["safety"]["convergence_judged"] is False
    assert report["discoverable"] == {
        OWNER: [], STRANGER: [], ROGUE_OWNER: [],
        CONSUMER: [group_arn(g) for g in ("churn-lightgbm", "churn-xgb", "fraud-detector", "pricing-model")],
    }
    pending = report["pending_invitations"]
    # The rogue owner's invitation, and the share a person made of churn-xgb and scratch-experiments.
    assert sorted(p["sender"] for p in pending[CONSUMER]) == sorted([ROGUE_OWNER, OWNER])
    assert pending[OWNER] == pending[STRANGER] == pending[ROGUE_OWNER] == []
    groups = report["groups"]
    hand_made, = [p["resourceShareArn"] for p in pending[CONSUMER] if p["sender"] == OWNER]
    assert groups[group_arn("churn-xgb")] == {
        "status": "discoverable", "consumers": [CONSUMER], "other_shares": [hand_made],
        "reason": "promoted RAM share; also in 1 share(s) modelshare leaves alone"}
    assert groups[group_arn("forecast-demand")]["status"] == "accessible-not-discoverable"
    assert "is not an account" in groups[group_arn("forecast-demand")]["reason"]
    assert groups[group_arn("scratch-experiments")]["consumers"] == [STRANGER]
    assert f"{STRANGER} is not allowlisted" in groups[group_arn("scratch-experiments")]["reason"]
    # The consumer leaves the rogue owner's invitation pending: its owner knows only that it invited.
    assert groups[group_arn("shadow-model", ROGUE_OWNER)]["status"] == "invited"
    assert report["failed_invocations"] == []
    # register+deploy matches no AWS managed permission: one customer managed permission.
    assert report["ram_usage"][OWNER]["customer_managed_permissions"] == 1
    quotas = {q["quota"]: q for q in report["ram_quotas"][OWNER]}
    assert quotas["customer_managed_permissions_per_type"] == {
        "quota": "customer_managed_permissions_per_type", "used": 1, "limit": 10, "headroom": 9, "percent": 10.0}
    assert quotas["principal_associations"]["used"] == report["ram_usage"][OWNER]["principal_associations"] > 0
    assert list(quotas) == ["shares", "resource_associations", "principal_associations", "pending_invitations",
                            "customer_managed_permissions", "customer_managed_permissions_per_type"]


def test_the_story_prints_usage_against_each_ram_quota_per_account(capsys, tmp_path):
    scenario = {"allowlist": {"version": 1, "shares": [{"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}]},
                "accounts": {OWNER: {"groups": ["churn-a", "churn-b"]}, CONSUMER: {}}, "ram_share_delay_seconds": 5,
                "ram_quotas": {"principal_associations_per_region": 2}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code, out, _ = run(capsys, str(path))
    assert code == 0
    block = out.split("RAM quotas per account (the local AWS's; `ram_quotas` of the scenario lowers them):\n")[1]
    lines = [line.strip() for line in block.splitlines()]
    owner = lines.index(f"{OWNER}:")
    assert "principal associations per Region: 2 of 2 (100 %), headroom 0 FULL" in lines[owner + 1:owner + 7]
    assert "resource shares per Region: 2 of 25,000 (0 %), headroom 24,998" in lines[owner + 1:owner + 7]
    consumer = lines.index(f"{CONSUMER}:")
    assert "principal associations per Region: 0 of 2 (0 %), headroom 2" in lines[consumer + 1:consumer + 7]


def test_story_without_json(capsys, tmp_path):
    scenario = {"allowlist": {"version": 1, "shares": [{"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}]},
                "accounts": {OWNER: {"groups": ["churn-xgb", "other"]}, CONSUMER: {}}, "ram_share_delay_seconds": 5}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code, out, _ = run(capsys, str(path))
    assert code == 0
    assert f"[{OWNER}] a person creates model package group 'churn-xgb'" in out
    assert "churn-xgb -> shared (444455556666)" in out
    assert "other -> not-shared (no allowlist rule matches)" in out
    assert "-> accepted" in out
    assert f"{CONSUMER}: {group_arn('churn-xgb')}" in out


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"accounts": {OWNER: {}}}, "scenario.allowlist: is required"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {"12": {}}}, "account IDs are 12 digits"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {"groups": ["bad name"]}}}, "groups"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {"policies": {"x": {}}}}}, "not one of this account's groups"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}}, "extra": 1}, "unknown key"),
        ({"allowlist": {"version": 1, "shares": [{"owner": OWNER, "groups": ["*"], "consumers": [OWNER]}]},
          "accounts": {OWNER: {}}}, "$.shares[0].consumers[0]: the owner cannot be its own consumer"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {"allowlist": {"version": 2, "shares": []}}}},
         f"scenario.accounts.{OWNER}.allowlist is invalid: $.version"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "ram_quotas": {"principal_associations_per_region": 0}},
         "scenario.ram_quotas.principal_associations_per_region: must be a positive integer"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "ram_quotas": {"principal_associations": 10}},
         "scenario.ram_quotas: must be an object with some of ['customer_managed_permissions_per_region'"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}}, "ram_share_delay_seconds": -1},
         "scenario.ram_share_delay_seconds: must be a non-negative number"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}}, "chaos": {"api_fault_rate": 2}},
         "scenario.chaos.api_fault_rate: must be a number from 0 to 1"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "chaos": {"lost_event_rate": 0.6, "duplicate_event_rate": 0.6}},
         "scenario.chaos: lost_event_rate + duplicate_event_rate must not exceed 1"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "timeline": [{"do": "create_group", "account": OWNER, "group": "g", "at": -5}]},
         "scenario.timeline[0].at: must be a non-negative number"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "timeline": [{"do": "tag_share", "account": OWNER, "share": "theirs", "tags": {}}]},
         "scenario.timeline[0].share: must be own:<name> or promoted:<group>"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "timeline": [{"do": "create_share", "account": OWNER, "name": "n", "groups": ["g"], "permission": ["all"]}]},
         "scenario.timeline[0].permission: must be a list of access levels"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "timeline": [{"do": "send_message", "account": OWNER, "queue": "SweepQueue"}]},
         "send_message takes account, at, ['body', 'queue']; missing ['body']"),
        ({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
          "timeline": [{"do": "associate_share", "account": OWNER, "share": "promoted:g",
                        "principals": ["arn:aws:iam::444455556666:user/someone"]}]},
         "scenario.timeline[0].principals: must be a list of account IDs, IAM role ARNs or organization/OU ARNs"),
        *(({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}}, "organization": organization}, message)
          for organization, message in [
              ([], "scenario.organization: must be an object"),
              ({"id": "o-exampleorg1"}, "scenario.organization: takes ['accounts', 'central_allowlist', 'id', "
                                        "'management_account', 'ous', 'ram_sharing_enabled', 'root_id']; "
                                        "missing ['management_account']"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "enabled": True}, "unknown ['enabled']"),
              ({"id": "o-EXAMPLE", "management_account": MANAGEMENT}, "scenario.organization.id: not as Organizations"),
              ({"id": "o-exampleorg1", "management_account": "1234"}, "scenario.organization.management_account"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "ous": {"ou-x": None}},
               "scenario.organization.ous.ou-x: not an OU ID"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "ous": {CHILD_OU: OU, OU: None}},
               f"scenario.organization.ous.{CHILD_OU}: its parent must be null (the root) or an OU named before it"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "accounts": {STRANGER: None}},
               f"scenario.organization.accounts.{STRANGER}: not one of the scenario's accounts"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "accounts": {OWNER: OU}},
               f"scenario.organization.accounts.{OWNER}: must be null (the root) or one of the OUs"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "accounts": {OWNER: 7}},
               "scenario.organization.accounts: must be an object of IDs to an OU ID or null"),
              ({"id": "o-exampleorg1", "management_account": MANAGEMENT, "ram_sharing_enabled": "yes"},
               "scenario.organization.ram_sharing_enabled: must be true or false"),
          ]),
    ],
)
def test_invalid_scenario_exits_non_zero_with_the_reason(capsys, tmp_path, scenario, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code, out, err = run(capsys, str(path), "--json")
    assert code == 2 and out == ""
    assert message in err


def test_unreadable_scenario(capsys, tmp_path):
    (tmp_path / "bad.json").write_text("{")
    assert run(capsys, str(tmp_path / "bad.json"))[0] == 2
    code, _, err = run(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


def test_edits_add_and_remove_consumers_and_an_invalid_edit_changes_nothing(capsys, tmp_path):
    third = "121212121212"

    def rule(*consumers):
        return {"version": 1, "shares": [{"owner": OWNER, "groups": ["churn-*"], "consumers": list(consumers)}]}

    scenario = {"allowlist": rule(CONSUMER), "accounts": {OWNER: {"groups": ["churn-xgb"]}, CONSUMER: {}, third: {}},
                "edits": [rule(CONSUMER, third), rule(third), {"version": 1, "shares": [{"owner": OWNER}]}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code, out, err = run(capsys, str(path), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["discoverable"] == {OWNER: [], CONSUMER: [], third: [group_arn("churn-xgb")]}
    assert report["groups"][group_arn("churn-xgb")]["consumers"] == [third]
    assert [e["valid"] for e in report["edits"]] == [True, True, False]
    assert report["edits"][2]["problems"] == ["$.shares[0].groups: is required", "$.shares[0].consumers: is required"]
    assert report["failed_invocations"] == []


def test_edits_example(capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    code, out, err = run(capsys, "examples/edits.json", "--json")
    assert code == 0, err
    report = json.loads(out)
    third = "121212121212"
    assert report["discoverable"][third] == [group_arn("churn-xgb"), group_arn("fraud-detector")]
    assert report["discoverable"][CONSUMER] == []
    assert [e["valid"] for e in report["edits"]] == [True, True, False]
    assert "the owner cannot be its own consumer" in report["edits"][2]["problems"][0]


def test_simulate_counts_the_calls_make_bench_counts_for_the_same_scenario():
    """A burst of ten creations (five allowlisted) as `make bench` runs it, and as a scenario."""
    from localaws.harness import bench

    measured = bench.burst(10)
    groups = [f"shared-{i:05d}" for i in range(5)] + [f"other-{i:05d}" for i in range(5)]
    scenario = {"allowlist": json.loads(bench._allowlist(bench.CONSUMER)), "region": bench.REGION,
                "accounts": {bench.OWNER: {"groups": groups}, bench.CONSUMER: {}, bench.SECOND_CONSUMER: {}}}
    report = Simulation(Scenario.parse(scenario)).run()
    simulated: dict[str, Counter[str]] = {}
    for callers in report["api_calls"].values():
        for caller, operations in callers.items():
            if caller != "-":
                simulated.setdefault(caller, Counter()).update(operations)
    assert simulated == measured.calls
    assert sum(map(sum, (c.values() for c in simulated.values()))) > 10 * 5, "the functions did the work"


def test_a_timed_scenario_that_does_not_converge_exits_1_and_says_why(capsys, tmp_path):
    """The chaos example with a template that cannot promote: one sweep period after the faults
    stop the allowlisted groups are still not discoverable, so the run fails (exit 1)."""
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    changed = tmp_path / "template.yaml"
    changed.write_text((root / "template.yaml").read_text().replace("                - ram:PromoteResourceShareCreatedFromPolicy\n", ""))
    code, out, err = run(capsys, str(root / "examples" / "chaos.json"), "--template", str(changed))
    assert code == 1, err
    assert "Not converged:" in out and "not discoverable by 444455556666" in out
    code, out, err = run(capsys, str(root / "examples" / "chaos.json"))
    assert code == 0, err
    assert "no violation" in out and "Not converged" not in out


def test_a_scenario_may_set_every_ram_quota():
    """Every quota the local AWS models (docs/aws-behaviour.md, RAM-QUOTAS, RAM-QUOTA-REGION)."""
    quotas = {name: 7 + index for index, name in enumerate(sorted(RamQuotas.__dataclass_fields__))}
    scenario = Scenario.parse({"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
                               "ram_quotas": quotas})
    assert scenario.ram_quotas == RamQuotas(**quotas)
    assert {"resource_associations_per_region", "principal_associations_per_region",
            "customer_managed_permissions_per_region", "versions_per_permission", "resources_per_share",
            "principals_per_share", "resources_per_call"} <= set(quotas)


def test_a_scenario_declares_an_organization_and_its_members_discover_an_ous_groups_with_no_invitation():
    """The owner (shares mode) shares with an OU: CONSUMER, in an OU under it, discovers the group
    at once with no invitation; STRANGER, in the organization but not the OU, does not. Each
    member's stack knows its true OU path."""
    scenario = Scenario.parse({
        "allowlist": {"version": 1, "modes": {OWNER: "shares"}, "shares": [
            {"owner": OWNER, "groups": ["churn-*"], "consumers": [f"{ORG_ARN.replace('organization/', 'ou/')}/{OU}"]}]},
        "accounts": {OWNER: {"groups": ["churn-a", "churn-b"]}, CONSUMER: {}, STRANGER: {}},
        "organization": {"id": "o-exampleorg1", "management_account": MANAGEMENT,
                         "ous": {OU: None, CHILD_OU: OU}, "accounts": {OWNER: None, CONSUMER: CHILD_OU, STRANGER: None},
                         "ram_sharing_enabled": True}})
    simulation = Simulation(scenario)
    report = simulation.run()
    assert report["discoverable"][CONSUMER] == [group_arn("churn-a"), group_arn("churn-b")]
    assert report["discoverable"][STRANGER] == []
    assert report["pending_invitations"] == {OWNER: [], CONSUMER: [], STRANGER: []}
    assert simulation.cloud.registry.state.organization.memberships(CONSUMER) >= {ORG_ARN}
    paths = {a: simulation.deployment.stacks[a].parameters["OrganizationPath"] for a in (OWNER, CONSUMER, STRANGER)}
    assert paths == {OWNER: "o-exampleorg1/r-ab12/", CONSUMER: f"o-exampleorg1/r-ab12/{OU}/{CHILD_OU}/",
                     STRANGER: "o-exampleorg1/r-ab12/"}
    assert report["safety"]["violations"] == []
