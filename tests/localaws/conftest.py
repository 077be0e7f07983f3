"""Fixtures for the local AWS tests: a LocalCloud with three accounts and real boto3 clients.

No __init__.py here on purpose: a tests/localaws package would shadow the real `localaws`.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any

import pytest

from localaws.runtime.cloud import LocalCloud
from localaws.runtime.costs import FREE

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"
REGION = "eu-west-1"
DISCOVER = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
# Actions no AWS managed permission holds exactly: RAM gives such a policy's share a
# CREATED_FROM_POLICY permission, which has to be promoted before the share.
CUSTOM = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage"]


class Aws:
    """The cloud plus shortcuts for the flows the tests repeat."""

    OWNER, CONSUMER, OTHER, REGION = OWNER, CONSUMER, OTHER, REGION

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.events: list[tuple[str, dict[str, Any]]] = []
        cloud.subscribe(lambda account, region, event: self.events.append((account, event)))
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, account: str = OWNER) -> Any:
        key = (service, account)
        if key not in self._clients:
            self._clients[key] = self.cloud.session(account, REGION).client(service)
        return self._clients[key]

    def sm(self, account: str = OWNER) -> Any:
        return self.client("sagemaker", account)

    def ram(self, account: str = OWNER) -> Any:
        return self.client("ram", account)

    def ram_events(self, account: str) -> list[dict[str, Any]]:
        return [e for a, e in self.events if a == account and e["source"] == "aws.ram"]

    # -- flows -------------------------------------------------------------------------------
    def group(self, name: str = "churn-model", account: str = OWNER) -> str:
        return self.sm(account).create_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"]

    @staticmethod
    def policy(group_arn: str, principals: list[str], actions: list[str] | None = None,
               **extra: Any) -> str:
        statement = {
            "Sid": "Share", "Effect": "Allow", "Principal": {"AWS": principals},
            "Action": actions or CUSTOM,
            "Resource": [group_arn, group_arn.replace(":model-package-group/", ":model-package/") + "/*"],
            **extra,
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    def put_policy(self, name: str, arn: str, principals: list[str], **kw: Any) -> None:
        self.sm().put_model_package_group_policy(ModelPackageGroupName=name,
                                                 ResourcePolicy=self.policy(arn, principals, **kw))

    def share_of(self, group_arn: str, account: str = OWNER) -> dict[str, Any] | None:
        found = self.ram(account).get_resource_share_associations(
            associationType="RESOURCE", resourceArn=group_arn)["resourceShareAssociations"]
        return found[0] if found else None

    def shared_group(self, name: str = "churn-model", principals: list[str] | None = None, **kw: Any) -> tuple[str, str]:
        """A group with a policy for `principals` and its CREATED_FROM_POLICY share: (group arn, share arn)."""
        arn = self.group(name)
        self.put_policy(name, arn, principals or [CONSUMER], **kw)
        self.clock.sleep(20)  # not run_until_idle: that would also expire pending invitations
        share = self.share_of(arn)
        assert share is not None
        return arn, share["resourceShareArn"]

    def share(self, share_arn: str, account: str = OWNER) -> dict[str, Any]:
        return self.ram(account).get_resource_shares(resourceOwner="SELF", resourceShareArns=[share_arn])["resourceShares"][0]

    def share_permission(self, share_arn: str) -> dict[str, Any]:
        permissions = self.ram().list_resource_share_permissions(resourceShareArn=share_arn)["permissions"]
        assert len(permissions) == 1
        return permissions[0]

    def promote(self, share: str) -> None:
        """Promote as AWS documents it: the share first; when no managed permission matches,
        promote its permission under one name per action set (reused), then the share."""
        try:
            self.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
        except self.ram().exceptions.UnmatchedPolicyPermissionException:
            try:
                self.ram().promote_permission_created_from_policy(
                    permissionArn=self.share_permission(share)["arn"], name="Custom")
            except self.ram().exceptions.PermissionAlreadyExistsException:
                pass
            self.clock.sleep(5)
            self.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
        self.clock.sleep(5)
        assert self.share(share)["featureSet"] == "STANDARD"

    def promoted_group(self, name: str = "churn-model", principals: list[str] | None = None) -> tuple[str, str]:
        """Shared and promoted to STANDARD (invitations sent, not accepted)."""
        arn, share = self.shared_group(name, principals)
        self.promote(share)
        return arn, share

    def invitations(self, account: str = CONSUMER) -> list[dict[str, Any]]:
        return self.ram(account).get_resource_share_invitations()["resourceShareInvitations"]

    def accepted_group(self, name: str = "churn-model") -> tuple[str, str]:
        arn, share = self.promoted_group(name)
        invitation = next(i for i in self.invitations() if i["resourceShareArn"] == share)
        self.ram(CONSUMER).accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
        return arn, share


def open_cloud(**options: Any) -> LocalCloud:
    """These tests pin the emulator's semantics and timings, so calls cost nothing here; what calls
    cost is pinned by test_costs.py, and the integration tests run with the default costs."""
    return LocalCloud(**{"ram_share_delay_seconds": 20, "promotion_delay_seconds": 5, "costs": FREE, **options})


@pytest.fixture
def aws():
    with open_cloud() as cloud:
        for account in (OWNER, CONSUMER, OTHER):
            cloud.add_account(account)
        yield Aws(cloud)


@pytest.fixture
def aws_with():
    """An Aws whose LocalCloud takes the given options (quotas, managed permissions, type string)."""
    with ExitStack() as stack:
        def make(**options: Any) -> Aws:
            cloud = stack.enter_context(open_cloud(**options))
            for account in (OWNER, CONSUMER, OTHER):
                cloud.add_account(account)
            return Aws(cloud)

        yield make

