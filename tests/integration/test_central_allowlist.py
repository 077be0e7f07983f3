"""A central allowlist (issue 22 part 1; docs/central-allowlist.md) end to end on the local AWS,
from template.yaml: CENTRAL's stack owns the advanced-tier parameter, shares it through RAM with
the organization and forwards its changes on an SNS topic; OWNER and CONSUMER read it by ARN and
each subscribes its own queues. An edit reaches both within a minute; with every notification
lost, within one sweep period; a member that can no longer read it fails closed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from localaws.services.organizations.api import OrganizationModel
from tests.integration.conftest import CONSUMER, OWNER, REGION, World, group_arn

CENTRAL = "121212121212"
ORG_ID = "o-exampleorg1"
PARAMETER = "/modelshare/allowlist"
CENTRAL_ARN = f"arn:aws:ssm:{REGION}:{CENTRAL}:parameter{PARAMETER}"
TOPIC = f"arn:aws:sns:{REGION}:{CENTRAL}:modelshare-AllowlistChangesTopic"
EMPTY: dict[str, Any] = {"version": 1, "shares": []}


def allowlist(*groups: str) -> dict[str, Any]:
    return {"version": 1, "shares": [{"owner": OWNER, "groups": list(groups), "consumers": [CONSUMER]}]}


def deploy(world: World) -> None:
    organization = OrganizationModel(ORG_ID, CENTRAL, ram_sharing_enabled=True)
    organization.move_account(OWNER)
    organization.move_account(CONSUMER)
    world.cloud.registry.state.organization = organization
    for account in (CENTRAL, OWNER, CONSUMER):
        world.cloud.add_account(account)
    world.deployment.install(CENTRAL, {"Role": "owner", "AllowlistOrganizationId": ORG_ID, "AllowlistTier": "Advanced",
                                       "AllowlistShareWith": organization.arn})
    for member in (OWNER, CONSUMER):
        world.deployment.install(member, {"ExistingAllowlistParameter": CENTRAL_ARN, "CentralAllowlistTopic": TOPIC})
    for name in ("churn-a", "churn-b"):
        world.create_group(OWNER, name)
    world.settle()


def edit(world: World, document: dict[str, Any]) -> None:
    """An admin edits the central parameter (it stays in the advanced tier)."""
    world.client(CENTRAL, "ssm").put_parameter(Name=PARAMETER, Value=json.dumps(document), Type="String", Overwrite=True)


def woken_by_change(world: World, function: str, account: str, since: Any) -> bool:
    """Whether `function` in `account` ran, after `since`, on a Parameter Store Change its queue brought."""
    return any(i.function == function and i.account == account and i.started >= since.isoformat()
               and "Parameter Store Change" in json.dumps(i.event) for i in world.lambdas.invocations)


def test_an_edit_of_the_central_allowlist_reaches_every_member_within_a_minute(world: World) -> None:
    deploy(world)
    assert world.discoverable(CONSUMER) == []
    start = world.cloud.clock.now()
    edit(world, allowlist("churn-a"))
    world.cloud.clock.run_until(start + timedelta(seconds=60))

    assert woken_by_change(world, "OwnerReconcileFunction", OWNER, start)
    assert woken_by_change(world, "AcceptInvitationsFunction", CONSUMER, start)
    assert [c for c in world.calls("PutModelPackageGroupPolicy", OWNER) if c.time >= start.isoformat()], \
        "the owner applied the edit within the minute"
    # Each member stack has both roles: two queues each, two messages each.
    assert world.cloud.topics.delivered == 4 and world.cloud.topics.undelivered == []
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("churn-a")]


def test_with_every_notification_lost_the_members_apply_the_edit_within_one_sweep_period(world: World) -> None:
    deploy(world)
    world.cloud.topics.loss_rate = 1.0
    start = world.cloud.clock.now()
    edit(world, allowlist("churn-a"))
    world.cloud.clock.run_until(start + timedelta(seconds=60))
    assert not woken_by_change(world, "OwnerReconcileFunction", OWNER, start)
    assert world.calls("PutModelPackageGroupPolicy", OWNER) == []
    assert world.cloud.topics.delivered == 0

    world.run_for(hours=1)  # OwnerSweepSchedule and ConsumerSweepSchedule: rate(1 hour)
    assert world.discoverable(CONSUMER) == [group_arn("churn-a")]


def test_a_member_that_can_no_longer_read_the_central_allowlist_fails_closed(world: World) -> None:
    deploy(world)
    edit(world, allowlist("churn-a"))
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("churn-a")]
    ram = world.client(CENTRAL, "ram")
    share, = ram.get_resource_shares(resourceOwner="SELF", name="modelshare-allowlist")["resourceShares"]
    ram.delete_resource_share(resourceShareArn=share["resourceShareArn"])
    world.settle()
    failures_before = len(world.lambdas.failures)

    edit(world, allowlist("churn-a", "churn-b"))  # the members cannot read it any more
    world.run_for(hours=1)

    assert world.discoverable(CONSUMER) == [group_arn("churn-a")], "nothing new is shared"
    assert world.metric_total("AllowlistUnreadable", OWNER) >= 1
    assert world.metric_total("AllowlistUnreadable", CONSUMER) >= 1
    said = [r for r in world.logs(OWNER, "ERROR") if "unreadable" in str(r.get("message", "")).lower()]
    assert said and CENTRAL_ARN in json.dumps(said[0]), said
    assert len(world.lambdas.failures) == failures_before, "a read refused is no error to retry"
