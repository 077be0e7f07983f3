"""The CLI with a central allowlist (issue 22 part 1, docs/central-allowlist.md): CENTRAL holds
the advanced-tier parameter and shares it through RAM with the organization ME is in. `status`
says which allowlist version this account applies; `diff` reads the central parameter by ARN
from a member; `set` writes it, with the version check, only from its own account."""

from __future__ import annotations

import copy
import json

import pytest

from localaws.services.organizations.api import OrganizationModel
from modelshare_cli.allowlist_where import parameter_arn
from tests.cli.conftest import ALLOWLIST, ME, PARAMETER, PEER, REGION

CENTRAL = "121212121212"
CENTRAL_ARN = f"arn:aws:ssm:{REGION}:{CENTRAL}:parameter{PARAMETER}"
EDITED = copy.deepcopy(ALLOWLIST)
EDITED["shares"][0]["groups"] = ["churn-*"]


@pytest.fixture
def central(cli, monkeypatch):
    """CENTRAL's parameter at version 2, shared with the organization (ME and PEER in it)."""
    cli.cloud.add_account(CENTRAL)
    organization = OrganizationModel("o-exampleorg1", CENTRAL, ram_sharing_enabled=True)
    organization.move_account(ME)
    organization.move_account(PEER)
    cli.cloud.registry.state.organization = organization
    ssm = cli.ssm(CENTRAL)
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps({"version": 1, "shares": []}), Type="String", Tier="Advanced")
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps(ALLOWLIST), Type="String", Overwrite=True)
    share = cli.ram(CENTRAL).create_resource_share(name="modelshare-allowlist", resourceArns=[CENTRAL_ARN],
                                                   principals=[organization.arn], allowExternalPrincipals=False)
    return share["resourceShare"]["resourceShareArn"]


def as_account(cli, monkeypatch, account):
    for key, value in cli.cloud.credentials(account).items():
        monkeypatch.setenv(key, value)


def central_value(cli):
    found = cli.ssm(CENTRAL).get_parameter(Name=PARAMETER)["Parameter"]
    return json.loads(found["Value"]), found["Version"]


# -- status -----------------------------------------------------------------------------------
def test_status_names_the_local_parameter_and_its_version(cli):
    cli.put_parameter({"version": 1, "shares": []})
    cli.put_parameter(ALLOWLIST)
    result = cli("status")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == f"Allowlist: parameter {PARAMETER} version 2 (this account's)"
    report = json.loads(cli("status", "--json").out)
    assert report["allowlist"] == {"location": PARAMETER, "path_mode": False, "account": ME, "central": False,
                                   "state": "valid", "version": 2, "revision": None}


def test_status_of_a_member_names_the_central_parameter_by_arn_and_its_version(cli, central, monkeypatch):
    monkeypatch.setenv("MODELSHARE_ALLOWLIST_PARAMETER", CENTRAL_ARN)  # as the member stack's functions have it
    result = cli("status")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1] == (f"Allowlist: central parameter {CENTRAL_ARN} version 2 "
                                          f"(account {CENTRAL}'s, shared through RAM)")
    assert cli("status", "--json").out.count('"central": true') == 1
    report = json.loads(cli("status", "--json", "--parameter", CENTRAL_ARN).out)
    assert (report["allowlist"]["account"], report["allowlist"]["version"]) == (CENTRAL, 2)


def test_status_of_a_member_the_central_parameter_no_longer_reaches_fails_closed(cli, central, monkeypatch):
    cli.share_by_policy("churn-xgb", [PEER])
    cli.ram(CENTRAL).delete_resource_share(resourceShareArn=central)
    result = cli("status", "--parameter", CENTRAL_ARN)
    assert result.code == 1
    assert result.err_lines[0] == (f"modelshare: error: allowlist parameter {CENTRAL_ARN} cannot be read "
                                   "(AccessDeniedException): not shared with this account, or its KMS key refused: "
                                   "nothing new is shared or accepted")
    assert "no valid version in the allowlist's history" in result.err_lines[1], "no history readable either"
    assert result.out.splitlines()[1] == (f"Allowlist: central parameter {CENTRAL_ARN} (account {CENTRAL}'s, "
                                          "shared through RAM): UNREADABLE")
    report = json.loads(cli("status", "--json", "--parameter", CENTRAL_ARN).out)
    assert report["allowlist"]["state"] == "unreadable"
    assert report["allowlist_in_force"] is None


# -- diff / set -------------------------------------------------------------------------------
def test_a_member_diffs_against_the_central_parameter_by_arn(cli, central):
    before = cli.writes()
    result = cli("allowlist", "diff", cli.file(EDITED), "--parameter", CENTRAL_ARN)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == f"{CENTRAL_ARN} (version 2) -> {cli.file(EDITED)}:"
    assert "fraud-detector" in result.out and "promo-*" in result.out
    assert cli.writes() == before


def test_a_member_cannot_set_the_central_parameter_and_makes_no_parameter_of_its_own(cli, central):
    ssm_writes = len([c for c in cli.writes() if c.service == "ssm"])
    result = cli("allowlist", "set", cli.file(EDITED), "--parameter", CENTRAL_ARN, "--yes")
    assert result.code == 1
    assert f"refused: {CENTRAL_ARN} is account {CENTRAL}'s; this is account {ME}, which can only read it" in result.err
    assert len([c for c in cli.writes() if c.service == "ssm"]) == ssm_writes
    assert central_value(cli) == (ALLOWLIST, 2)
    assert cli.ssm(ME).describe_parameters()["Parameters"] == []


def test_the_central_account_sets_its_parameter_by_arn_with_the_version_check(cli, central, monkeypatch):
    as_account(cli, monkeypatch, CENTRAL)
    stale = cli("allowlist", "set", cli.file(EDITED), "--parameter", CENTRAL_ARN, "--expected-version", "1", "--yes")
    assert stale.code == 3
    assert f"refused: {CENTRAL_ARN} is version 2, not version 1" in stale.err
    assert central_value(cli) == (ALLOWLIST, 2)

    result = cli("allowlist", "set", cli.file(EDITED), "--parameter", CENTRAL_ARN, "--expected-version", "2", "--yes")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == f"wrote {CENTRAL_ARN} version 3"
    assert central_value(cli) == (EDITED, 3)
    tier, = [p["Tier"] for p in cli.ssm(CENTRAL).describe_parameters()["Parameters"] if p["Name"] == PARAMETER]
    assert tier == "Advanced", "still shareable"
    put, = [c for c in cli.writes() if c.operation == "PutParameter" and c.account == CENTRAL][-1:]
    assert put.params["Name"] == PARAMETER, "PutParameter takes a name, never an ARN"
    # The member reads the new version through the share.
    member = cli.ssm(ME).get_parameter(Name=CENTRAL_ARN)["Parameter"]
    assert (json.loads(member["Value"]), member["Version"]) == (EDITED, 3)


def test_a_central_parameter_that_does_not_exist_is_not_created_by_set(cli, monkeypatch):
    cli.cloud.add_account(CENTRAL)
    as_account(cli, monkeypatch, CENTRAL)
    result = cli("allowlist", "set", cli.file(EDITED), "--parameter", CENTRAL_ARN, "--yes")
    assert result.code == 1
    assert "does not exist: the central stack creates it" in result.err
    assert cli.ssm(CENTRAL).describe_parameters()["Parameters"] == []


def test_a_parameter_arn_gives_the_name_put_parameter_takes():
    arn = parameter_arn(CENTRAL_ARN)
    assert arn is not None and (arn.account, arn.region, arn.name()) == (CENTRAL, REGION, PARAMETER)
    assert parameter_arn(PARAMETER) is None
    assert parameter_arn(f"arn:aws:sagemaker:{REGION}:{CENTRAL}:model-package-group/x") is None
