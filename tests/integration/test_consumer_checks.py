"""The consumer side knows what it accepts, and re-checks what it accepted (issue 19): a share is
judged by what it grants as well as by what it holds, on the local AWS with the real handlers."""

from __future__ import annotations

import json

from modelshare.allowlist import actions_for
from tests.integration.conftest import CONSUMER, OWNER, group_arn


def permission_granting(ram, actions):
    """The AWS managed permission whose actions are exactly `actions`, found by its actions (its
    name is never written down: docs/aws-behaviour.md, RAM-AWS-MANAGED)."""
    wanted = {a.lower() for a in actions}
    pages = [ram.list_permissions(permissionType="AWS_MANAGED")]
    while pages[-1].get("nextToken"):
        pages.append(ram.list_permissions(permissionType="AWS_MANAGED", nextToken=pages[-1]["nextToken"]))
    for permission in (p for page in pages for p in page["permissions"]):
        template = json.loads(ram.get_permission(permissionArn=permission["arn"])["permission"]["permission"])
        granted = template["Action"] if isinstance(template["Action"], list) else [template["Action"]]
        if {a.lower() for a in granted} == wanted:
            return permission["arn"]
    raise AssertionError(f"no AWS managed permission grants exactly {sorted(wanted)}")


def consumer_logs(world, message):
    return [r for r in world.logs(CONSUMER) if r.get("message") == message]


def test_a_person_s_direct_share_granting_deploy_to_a_discover_only_consumer_is_not_accepted(world):
    """A person shares an allowlisted group directly with an allowlisted consumer, under an AWS
    managed permission granting deploy; the allowlist grants that consumer discover only. The
    consumer's function reads what the share grants and leaves the invitation pending."""
    world.install(OWNER, CONSUMER)  # churn-* shared with CONSUMER, discover only
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    ram = world.client(OWNER, "ram")
    deploy = permission_granting(ram, actions_for(["deploy"]))
    share = ram.create_resource_share(name="by-hand", resourceArns=[group_arn("churn-xgb")], principals=[CONSUMER],
                                      permissionArns=[deploy])["resourceShare"]["resourceShareArn"]
    world.settle()
    world.run_for(hours=2)  # schedules too
    [pending] = [i for i in world.pending(CONSUMER) if i.share_arn == share]
    accepts = world.calls("AcceptResourceShareInvitation", CONSUMER, ok=None)
    assert all(c.params["resourceShareInvitationArn"] != pending.arn for c in accepts), "never even tried"
    refusals = [r for r in consumer_logs(world, "Invitation left pending") if r.get("share") == share]
    assert refusals and all("sagemaker:createmodel" in r["reason"] and "beyond" in r["reason"] for r in refusals)
    assert world.metric_total("InvitationsLeftPending", CONSUMER) >= 1
    assert world.lambdas.failures == []
    assert [d for d in world.cloud.iam.decisions if not d[4]] == [], "the template grants every read it needs"
    assert any(d[2] == "ram:GetPermission" and d[3].startswith("arn:aws:ram::aws:permission/")
               for d in world.cloud.iam.decisions), "an AWS managed permission, read under the function's IAM"


def test_a_group_a_person_adds_to_an_accepted_share_is_reported_by_the_consumer(world):
    """After the consumer accepted a share of an allowlisted group, a person adds a group the
    allowlist does not name to that share. RAM gives the consumer the group at once, with no new
    invitation; the consumer's scheduled run re-reads the shares it accepted and reports it (model
    package groups do not support leaving a share: docs/aws-behaviour.md, RAM-LEAVE)."""
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "churn-xgb")
    world.create_group(OWNER, "scratch")
    world.settle()
    ram = world.client(OWNER, "ram")
    discover = permission_granting(ram, actions_for(["discover"]))
    share = ram.create_resource_share(name="by-hand", resourceArns=[group_arn("churn-xgb")], principals=[CONSUMER],
                                      permissionArns=[discover])["resourceShare"]["resourceShareArn"]
    world.settle()
    assert not [i for i in world.pending(CONSUMER) if i.share_arn == share], "allowed: accepted"
    assert not consumer_logs(world, "Accepted share holds more than the allowlist allows")
    ram.associate_resource_share(resourceShareArn=share, resourceArns=[group_arn("scratch")])
    world.run_for(hours=2)
    assert group_arn("scratch") in world.discoverable(CONSUMER), "RAM shares it at once: why it must be reported"
    reports = [r for r in consumer_logs(world, "Accepted share holds more than the allowlist allows")
               if r.get("share") == share]
    assert reports and all(group_arn("scratch") in " ".join(r["problems"]) for r in reports)
    assert all(group_arn("churn-xgb") not in " ".join(r["problems"]) for r in reports)
    assert world.metric_total("SharedBeyondAllowlist", CONSUMER) >= 1
    assert not world.calls("DisassociateResourceShare", CONSUMER, ok=None), "model package groups cannot be left"
    assert world.lambdas.failures == []
