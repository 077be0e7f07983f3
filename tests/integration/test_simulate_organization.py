"""The demo's three-account organization run (examples/organization.json, issue 22 part 1): the
management account's central stack holds the one allowlist; the owner and the consumer read it by
ARN and hear of its edit on the central topic. Also the central allowlist scenario's checks."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from localaws.harness.scenario import Scenario
from localaws.harness.simulate import Simulation
from modelshare_cli.main import main
from tests.integration.conftest import CONSUMER, OWNER, group_arn

ROOT = Path(__file__).resolve().parents[2]
CENTRAL = "999988887777"


def test_the_organization_demo_applies_the_central_allowlist_and_its_edit_in_every_member(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["simulate", "examples/organization.json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"which read it by ARN from the central stack of {CENTRAL}" in out
    assert f"an admin writes allowlist edit #1 to the central allowlist (account {CENTRAL}) (valid)" in out
    assert "OwnerReconcileFunction (attempt 1) on work items for fraud-detector" in out, out
    assert "no known type" not in out, "a batch of sweep work items names its groups"
    assert "no violation" in out

    simulation = Simulation(Scenario.parse(json.loads((ROOT / "examples/organization.json").read_text())))
    report = simulation.run()
    assert report["discoverable"][CONSUMER] == [group_arn(g) for g in ("churn-xgb", "fraud-detector")]
    assert report["safety"]["violations"] == [] and report["failed_invocations"] == []
    puts = [(c.account, c.params["Name"]) for c in simulation.cloud.calls if c.operation == "PutParameter"
            and c.caller is None and "allowlist" in str(c.params.get("Name"))]
    assert set(puts) == {(CENTRAL, "/modelshare/allowlist")}, "written once, in the central account"
    reads = {c.account for c in simulation.cloud.calls if c.operation == "GetParameter" and c.caller is not None
             and c.params.get("Name") == f"arn:aws:ssm:eu-west-1:{CENTRAL}:parameter/modelshare/allowlist"}
    assert reads == {OWNER, CONSUMER}
    assert simulation.cloud.topics.delivered == 8, "two writes, to two queues in each of the two members"
    # Each member heard of the edit on the central topic within the minute.
    edited = next(c.time for c in simulation.cloud.calls if c.operation == "PutParameter" and c.caller is None
                  and c.account == CENTRAL and c.params.get("Value", "").count("fraud-detector"))
    woken = {(i.account, i.function) for i in simulation.deployment.lambdas.invocations
             if i.account != CENTRAL and "Parameter Store Change" in json.dumps(i.event) and edited <= i.started
             and (datetime.fromisoformat(i.started) - datetime.fromisoformat(edited)).total_seconds() <= 60}
    assert woken == {(account, function) for account in (OWNER, CONSUMER)
                     for function in ("OwnerReconcileFunction", "AcceptInvitationsFunction")}


@pytest.mark.parametrize(("organization", "accounts", "message"), [
    ({"ram_sharing_enabled": False}, {OWNER: None}, "needs ram_sharing_enabled true"),
    ({"management_account": OWNER}, {OWNER: None}, "a management account that is not one of the scenario's"),
    ({}, {}, "every scenario account in the organization"),
    ({"central_allowlist": "yes"}, {OWNER: None}, "scenario.organization.central_allowlist: must be true or false"),
])
def test_a_central_allowlist_scenario_that_cannot_work_is_refused(capsys, tmp_path, organization, accounts, message):
    scenario = {"allowlist": {"version": 1, "shares": []}, "accounts": {OWNER: {}},
                "organization": {"id": "o-exampleorg1", "management_account": CENTRAL, "accounts": accounts,
                                 "ram_sharing_enabled": True, "central_allowlist": True, **organization}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code = main(["simulate", str(path), "--json"])
    _, err = capsys.readouterr()
    assert code != 0 and message in err, err


def test_every_member_reads_the_one_central_allowlist(capsys, tmp_path):
    scenario = {"allowlist": {"version": 1, "shares": []},
                "accounts": {OWNER: {"allowlist": {"version": 1, "shares": [
                    {"owner": OWNER, "groups": ["x"], "consumers": [CONSUMER]}]}}, CONSUMER: {}},
                "organization": {"id": "o-exampleorg1", "management_account": CENTRAL,
                                 "accounts": {OWNER: None, CONSUMER: None}, "ram_sharing_enabled": True,
                                 "central_allowlist": True}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code = main(["simulate", str(path), "--json"])
    _, err = capsys.readouterr()
    assert code != 0 and "no account may have an allowlist of its own" in err, err
