"""What RAM lets a consumer read of a share another account shares with it: its permission and
the permission's actions (invitation pending or accepted), and the resources of the shares it
accepted (docs/aws-behaviour.md, RAM-CONSUMER-READS). No one else reads them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from conftest import CUSTOM, DISCOVER

from localaws.harness.seed import seed_groups
from modelshare.aws.ram_consumer import RamConsumerShares
from modelshare.aws.ram_owner import RamOwnerShares

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"


def fails(expected: str, call, *args, **kwargs) -> None:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert info.value.response["Error"]["Code"] == expected, info.value


def actions_of(ram, permission_arn):
    return sorted(json.loads(ram.get_permission(permissionArn=permission_arn)["permission"]["permission"])["Action"])


def custom_share(aws, name, principals):
    """A share of a new group, made directly under a customer managed permission of the owner's."""
    ram = aws.ram()
    group_type = ram.list_resource_types()["resourceTypes"][0]["resourceType"]
    permission = ram.create_permission(name=f"p-{name}", resourceType=group_type,
                                       policyTemplate=json.dumps({"Effect": "Allow", "Action": CUSTOM}))["permission"]
    aws.clock.sleep(5)  # attachable a moment later
    group = aws.group(name)
    share = ram.create_resource_share(name=name, resourceArns=[group], principals=principals,
                                      permissionArns=[permission["arn"]])["resourceShare"]["resourceShareArn"]
    return group, share, permission["arn"]


def invitation_of(aws, share, account=CONSUMER):
    return next(i["resourceShareInvitationArn"] for i in aws.invitations(account) if i["resourceShareArn"] == share)


def test_a_principal_reads_what_a_share_grants_before_and_after_accepting_and_no_one_else_does(aws):
    group, share, permission = custom_share(aws, "churn-a", [CONSUMER])
    consumer, other = aws.ram(CONSUMER), aws.ram(OTHER)
    [listed] = consumer.list_resource_share_permissions(resourceShareArn=share)["permissions"]
    assert listed["arn"] == permission, "pending: the share's permission"
    assert actions_of(consumer, permission) == sorted(CUSTOM), "and another account's customer managed one"
    fails("UnknownResourceException", other.list_resource_share_permissions, resourceShareArn=share)
    fails("UnknownResourceException", other.get_permission, permissionArn=permission)
    assert consumer.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == [], "pending: nothing shared yet"
    consumer.accept_resource_share_invitation(resourceShareInvitationArn=invitation_of(aws, share))
    assert consumer.list_resource_share_permissions(resourceShareArn=share)["permissions"][0]["arn"] == permission
    [resource] = consumer.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert (resource["arn"], resource["resourceShareArn"]) == (group, share)
    assert [r["arn"] for r in aws.ram().list_resources(resourceOwner="SELF")["resources"]] == [group]
    assert consumer.list_resources(resourceOwner="SELF")["resources"] == []
    # An AWS managed permission is readable by anyone.
    aws_managed = aws.ram().list_permissions(permissionType="AWS_MANAGED")["permissions"][0]["arn"]
    assert actions_of(other, aws_managed)


def test_a_principal_who_rejected_or_was_removed_reads_nothing_more(aws):
    _, rejected, permission = custom_share(aws, "churn-r", [CONSUMER])
    aws.ram(CONSUMER).reject_resource_share_invitation(resourceShareInvitationArn=invitation_of(aws, rejected))
    fails("UnknownResourceException", aws.ram(CONSUMER).list_resource_share_permissions, resourceShareArn=rejected)
    fails("UnknownResourceException", aws.ram(CONSUMER).get_permission, permissionArn=permission)
    _, removed, _ = custom_share(aws, "churn-x", [CONSUMER])
    aws.ram(CONSUMER).accept_resource_share_invitation(resourceShareInvitationArn=invitation_of(aws, removed))
    aws.ram().disassociate_resource_share(resourceShareArn=removed, principals=[CONSUMER])
    aws.clock.sleep(5)
    fails("UnknownResourceException", aws.ram(CONSUMER).list_resource_share_permissions, resourceShareArn=removed)
    assert aws.ram(CONSUMER).list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []


def test_a_share_made_from_a_policy_shows_its_principals_nothing(aws):
    _, share = aws.shared_group(actions=DISCOVER)
    fails("UnknownResourceException", aws.ram(CONSUMER).list_resource_share_permissions, resourceShareArn=share)
    permission = aws.share_permission(share)["arn"]
    if not permission.startswith("arn:aws:ram::aws:"):  # a permission of its own, made from the policy
        fails("UnknownResourceException", aws.ram(CONSUMER).get_permission, permissionArn=permission)


def test_list_resources_pages_and_filters(aws):
    shares = [custom_share(aws, f"churn-{i}", [CONSUMER])[1] for i in range(3)]
    for share in shares:
        aws.ram(CONSUMER).accept_resource_share_invitation(resourceShareInvitationArn=invitation_of(aws, share))
    consumer = aws.ram(CONSUMER)
    pages = list(consumer.get_paginator("list_resources").paginate(resourceOwner="OTHER-ACCOUNTS",
                                                                  PaginationConfig={"PageSize": 2}))
    assert len(pages) == 2 and sorted(r["resourceShareArn"] for p in pages for r in p["resources"]) == sorted(shares)
    only = consumer.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[shares[1]])["resources"]
    assert [r["resourceShareArn"] for r in only] == [shares[1]]
    fails("InvalidResourceTypeException", consumer.list_resources, resourceOwner="OTHER-ACCOUNTS",
          resourceType="sagemaker:nothing")
    fails("MalformedArnException", consumer.list_resources, resourceOwner="OTHER-ACCOUNTS", resourceShareArns=["x"])


def test_the_consumer_adapter_reads_a_big_invitation_and_its_accepted_share_at_rams_largest_page(aws):
    """A share of thousands of groups (the shares mode holds up to 4,000): RAM's default page of
    ListPendingInvitationResources is small, so the adapter asks for its largest (500,
    ram/service-2.json MaxResults): 1,200 groups in 3 calls, before and after accepting."""
    owner = RamOwnerShares(aws.cloud.session(OWNER, aws.REGION))
    seed_groups(aws.cloud, OWNER, aws.REGION, [f"big-{n:04d}" for n in range(1_200)])
    groups = [f"arn:aws:sagemaker:{aws.REGION}:{OWNER}:model-package-group/big-{n:04d}" for n in range(1_200)]
    permission = next(iter(owner.managed_permissions(owner.model_package_group_type())))
    share = owner.create_share("big", permission.arn, "token-big")
    owner.associate_resources(share.arn, groups)
    owner.associate_principals(share.arn, [CONSUMER])
    aws.clock.sleep(5)
    consumer = RamConsumerShares(aws.cloud.session(CONSUMER, aws.REGION))
    [invitation] = [i for i in consumer.invitations() if i.share_arn == share.arn]
    before = len(aws.cloud.calls)
    resources = consumer.pending_invitation_resources(invitation.arn)
    assert sorted(r.arn for r in resources) == groups
    assert [c.operation for c in aws.cloud.calls[before:]] == ["ListPendingInvitationResources"] * 3
    assert consumer.accept(invitation.arn)
    aws.clock.sleep(5)
    before = len(aws.cloud.calls)
    assert sorted(r.arn for r in consumer.received_resources()[share.arn]) == groups
    assert [c.operation for c in aws.cloud.calls[before:]] == ["ListResources"] * 3
