"""The `modelshare` CLI against the local AWS: account 111122223333 through the normal boto3
credential chain (environment variables), as an admin's shell would have it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from moto.dynamodb.models import dynamodb_backends

from localaws.runtime.calls import ApiCall
from localaws.runtime.cloud import LocalCloud
from modelshare import incarnation, policy
from modelshare.allowlist import actions_for
from modelshare.settings import DEFAULT_LEDGER_TABLE, LEDGER_TABLE_ENV
from modelshare_cli import status
from modelshare_cli.main import main

REGION = "eu-west-1"
ME = "111122223333"  # the account the CLI runs as
PEER = "444455556666"
STRANGER = "777788889999"
PARAMETER = "/modelshare/allowlist"
WRITE_PREFIXES = ("Put", "Delete", "Create", "Promote", "Associate", "Disassociate", "Accept", "Reject", "Tag", "Untag", "Add", "Label",
                  "Update", "BatchWrite")
ALLOWLIST = {"version": 1, "shares": [
    {"owner": ME, "groups": ["churn-*", "fraud-detector", "promo-*"], "consumers": [PEER]},
    {"owner": PEER, "groups": ["their-*"], "consumers": [ME]},
]}


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


class Cli:
    def __init__(self, cloud: LocalCloud, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
        self.cloud = cloud
        self._capsys = capsys
        self._tmp = tmp_path

    def __call__(self, *argv: str) -> Result:
        self._capsys.readouterr()
        with mock.patch.object(time, "sleep", self.cloud.clock.sleep):  # waits pass on the simulated clock
            code = main(list(argv))
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)

    # -- files and the parameter ----------------------------------------------------------
    def file(self, content: dict[str, Any] | str, name: str = "allowlist.json") -> str:
        path = self._tmp / name
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
        return str(path)

    def ssm(self, account: str = ME) -> Any:
        return self.cloud.session(account, REGION).client("ssm")

    def put_parameter(self, content: dict[str, Any] | str, name: str = PARAMETER, account: str = ME) -> int:
        value = content if isinstance(content, str) else json.dumps(content)
        return self.ssm(account).put_parameter(Name=name, Value=value, Type="String", Overwrite=True)["Version"]

    def parameter(self, name: str = PARAMETER) -> tuple[str, int]:
        found = self.ssm().get_parameter(Name=name)["Parameter"]
        return found["Value"], found["Version"]

    # -- AWS state ------------------------------------------------------------------------
    def writes(self) -> list[ApiCall]:
        """Successful calls, in any service and account, that change something."""
        return [c for c in self.cloud.calls if c.error_code is None and c.operation.startswith(WRITE_PREFIXES)]

    def sagemaker(self, account: str = ME) -> Any:
        return self.cloud.session(account, REGION).client("sagemaker")

    def ram(self, account: str = ME) -> Any:
        return self.cloud.session(account, REGION).client("ram")

    def create_group(self, name: str, account: str = ME) -> str:
        return self.sagemaker(account).create_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"]

    def share_by_policy(self, name: str, consumers: list[str], account: str = ME) -> str:
        """A group with a promotable policy, and the created-from-policy share RAM makes from it."""
        arn = self.create_group(name, account)
        statement = policy.modelshare_statement(arn, consumers, actions_for(["discover"]))
        self.sagemaker(account).put_model_package_group_policy(
            ModelPackageGroupName=name, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        if account == ME:  # as modelshare writes it: recorded in its ledger
            created = self.sagemaker(account).describe_model_package_group(ModelPackageGroupName=name)["CreationTime"]
            self.modelshare_made(arn, "statements", incarnation.stamped(policy.statement_digest(statement),
                                                                        incarnation.stamp(created)))
        self.cloud.clock.sleep(20)  # simulated: RAM creates the share
        return arn

    def modelshare_made(self, group_arn: str, what: str, value: str) -> None:
        """Record in ME's ownership ledger, as modelshare does before it writes (`what`: shares or
        statements), without a call of the admin's."""
        dynamodb_backends[ME][REGION].update_item(
            DEFAULT_LEDGER_TABLE, {"group": {"S": group_arn}}, f"ADD {what} :v", {}, {":v": {"SS": [value]}})

    def promote(self, group_arn: str, account: str = ME) -> str:
        """Promote the group's share by hand, as the AWS guide does; consumers get invitations."""
        ram = self.ram(account)
        association, = ram.get_resource_share_associations(
            associationType="RESOURCE", resourceArn=group_arn)["resourceShareAssociations"]
        share = association["resourceShareArn"]
        try:
            ram.promote_resource_share_created_from_policy(resourceShareArn=share)
        except ram.exceptions.UnmatchedPolicyPermissionException:  # no managed permission matches yet
            for permission in ram.list_resource_share_permissions(resourceShareArn=share)["permissions"]:
                ram.promote_permission_created_from_policy(permissionArn=permission["arn"],
                                                           name="p-" + group_arn.rpartition("/")[2])
            self.cloud.clock.sleep(5)
            ram.promote_resource_share_created_from_policy(resourceShareArn=share)
        self.cloud.clock.sleep(5)
        return share


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        local.add_account(ME)
        local.add_account(PEER)
        for key, value in local.credentials(ME).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
        for name in ("AWS_PROFILE", "AWS_REGION", "MODELSHARE_ALLOWLIST_PARAMETER", "MODELSHARE_ALLOWLIST_PATH",
                     "MODELSHARE_ALLOWLIST_TIER"):
            monkeypatch.delenv(name, raising=False)
        # The account holds modelshare's stack: its ownership ledger (made as CloudFormation would,
        # no call of the admin's), named as an admin's shell would.
        dynamodb_backends[ME][REGION].create_table(
            DEFAULT_LEDGER_TABLE, schema=[{"AttributeName": "group", "KeyType": "HASH"}], throughput=None,
            attr=[{"AttributeName": "group", "AttributeType": "S"}], global_indexes=None, indexes=None, streams=None,
            billing_mode="PAY_PER_REQUEST", sse_specification=None, tags=[], deletion_protection_enabled=None,
            warm_throughput=None)
        monkeypatch.setenv(LEDGER_TABLE_ENV, DEFAULT_LEDGER_TABLE)
        # No profile or region from the machine running the tests.
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
        monkeypatch.setattr(status, "now", local.clock.now)
        yield local


@pytest.fixture
def cli(cloud: LocalCloud, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> Cli:
    return Cli(cloud, capsys, tmp_path)
