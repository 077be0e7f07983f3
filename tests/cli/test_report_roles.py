"""`modelshare report --accounts ... --role NAME`: each account read as a role assumed there,
from the caller's own credentials (STS answers through botocore's Stubber: the local AWS's STS
keys map to no account)."""

from __future__ import annotations

import argparse
import datetime

import boto3
import pytest
from botocore.stub import Stubber

from modelshare_cli.common import USAGE, CliError
from modelshare_cli.report import command

OWNER, CONSUMER = "111122223333", "444455556666"


def arguments(**given: str | None) -> argparse.Namespace:
    return argparse.Namespace(**{"profiles": None, "accounts": None, "role": None, "region": "eu-west-1",
                                 "profile": None, **given})


def test_each_listed_account_is_a_target_reached_through_the_role(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(command, "assumed", lambda base, account, role: asked.append((account, role)) or base)
    found = command.targets(arguments(accounts=f" {OWNER}, {CONSUMER},{OWNER}", role="auditor"))

    assert [(t.label, t.account) for t in found] == [(OWNER, OWNER), (CONSUMER, CONSUMER)]
    for target in found:
        target.session()
    assert asked == [(OWNER, "auditor"), (CONSUMER, "auditor")]


@pytest.mark.parametrize(("given", "says"), [
    ({"accounts": OWNER}, "--accounts needs --role"),
    ({"accounts": f"{OWNER},12345", "role": "auditor"}, "not account IDs: 12345"),
    ({"accounts": " , ", "role": "auditor"}, "--accounts names nothing"),
])
def test_accounts_without_a_role_or_with_a_bad_id_are_a_usage_error(given: dict[str, str], says: str) -> None:
    with pytest.raises(CliError) as refused:
        command.targets(arguments(**given))
    assert says in str(refused.value)
    assert refused.value.code == USAGE


def test_the_role_is_assumed_in_the_account_and_its_keys_sign_the_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    base = boto3.session.Session(aws_access_key_id="AKIDBASE", aws_secret_access_key="base", region_name="eu-west-1")
    sts = base.client("sts")
    stubber = Stubber(sts)
    stubber.add_response("assume_role", {"Credentials": {
        "AccessKeyId": "ASIAROLEROLEROLE1", "SecretAccessKey": "role-secret", "SessionToken": "role-token",
        "Expiration": datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC)}},
        {"RoleArn": f"arn:aws:iam::{CONSUMER}:role/auditor", "RoleSessionName": "modelshare-report"})
    monkeypatch.setattr(command, "client", lambda session, service: sts if service == "sts" else None)

    with stubber:
        session = command.assumed(base, CONSUMER, "auditor")
    stubber.assert_no_pending_responses()
    keys = session.get_credentials().get_frozen_credentials()
    assert (keys.access_key, keys.secret_key, keys.token) == ("ASIAROLEROLEROLE1", "role-secret", "role-token")
    assert session.region_name == "eu-west-1"


def test_an_account_whose_role_cannot_be_assumed_is_reported_unread() -> None:
    def refused() -> boto3.session.Session:
        raise RuntimeError("AccessDenied: not authorized to perform sts:AssumeRole")

    report = command.build_report([command.Target(CONSUMER, refused, CONSUMER)], parameter="/modelshare/allowlist",
                                  ledger_table="modelshare-ownership", runner=lambda jobs: [job() for job in jobs])
    [read] = report.accounts
    assert read.error is not None and "cannot sign in" in read.error and "sts:AssumeRole" in read.error
