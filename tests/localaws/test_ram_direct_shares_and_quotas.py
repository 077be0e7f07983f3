"""RAM beyond the policy path: shares people make directly (CreateResourceShare, tags),
permissions read and deleted, and the quotas RAM enforces."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from conftest import CUSTOM, DISCOVER

from localaws.services.registry_state import GROUP_TYPE, RamQuotas

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"
SUBNET = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0abc"


def fails(expected: str, call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert info.value.response["Error"]["Code"] == expected, info.value
    return info.value


def create_share(aws, groups, principals, **kwargs):
    arns = [aws.group(name) if not name.startswith("arn:") else name for name in groups]
    share = aws.ram().create_resource_share(name="hand-made", resourceArns=arns, principals=principals, **kwargs)
    return arns, share["resourceShare"]


# -- CreateResourceShare -----------------------------------------------------------------------

def test_a_share_made_directly_is_standard_and_shares_every_group_in_it(aws):
    (first, second), share = create_share(aws, ["churn-a", "fraud-b"], [CONSUMER],
                                          tags=[{"key": "team", "value": "ml"}])
    assert share["featureSet"] == "STANDARD" and share["status"] == "ACTIVE"
    assert share["tags"] == [{"key": "team", "value": "ml"}]
    permission = aws.share_permission(share["resourceShareArn"])
    assert permission["name"] == "AWSRAMDefaultPermissionSageMakerModelPackageGroup"
    [invitation] = aws.invitations()
    pending = aws.ram(CONSUMER).list_pending_invitation_resources(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])["resources"]
    assert sorted(r["arn"] for r in pending) == [first, second]
    aws.ram(CONSUMER).accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    listed = aws.sm(CONSUMER).list_model_package_groups(CrossAccountFilterOption="CrossAccount")
    assert sorted(g["ModelPackageGroupArn"] for g in listed["ModelPackageGroupSummaryList"]) == [first, second]


def test_a_share_made_directly_takes_the_permission_given(aws):
    register = next(p["arn"] for p in aws.ram().list_permissions(permissionType="AWS_MANAGED")["permissions"]
                    if p["name"].endswith("AllowRegister"))
    _, share = create_share(aws, ["churn-a"], [CONSUMER], permissionArns=[register])
    assert aws.share_permission(share["resourceShareArn"])["arn"] == register
    subnet_default = next(p["arn"] for p in aws.ram().list_permissions(resourceType="ec2:subnet")["permissions"])
    fails("InvalidParameterException", aws.ram().create_resource_share, name="x",
          resourceArns=[aws.group("churn-b")], permissionArns=[subnet_default])


def test_a_share_made_directly_may_hold_other_resource_types(aws):
    aws.cloud.registry.add_other_resource(SUBNET, "ec2:Subnet")
    (group, _subnet), share = create_share(aws, ["churn-a", SUBNET], [CONSUMER])
    permissions = aws.ram().list_resource_share_permissions(resourceShareArn=share["resourceShareArn"])["permissions"]
    assert sorted(p["resourceType"] for p in permissions) == sorted(["ec2:Subnet", GROUP_TYPE])
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    types = {r["arn"]: r["type"] for r in aws.ram(CONSUMER).list_pending_invitation_resources(
        resourceShareInvitationArn=invitation)["resources"]}
    assert types == {group: GROUP_TYPE, SUBNET: "ec2:Subnet"}


def test_a_permission_comes_off_a_share_only_while_it_holds_no_resource_of_its_type(aws):
    """DisassociateResourceSharePermission (docs/aws-behaviour.md, RAM-PERMISSION-OFF): refused
    while the share holds a resource of the permission's type, one still disassociating included
    (stricter reading; the error code is UNVERIFIED); then the share keeps its other permission."""
    aws.cloud.registry.add_other_resource(SUBNET, "ec2:Subnet")
    _, share = create_share(aws, ["churn-a", SUBNET], [CONSUMER])
    arn = share["resourceShareArn"]
    subnet_permission = next(p["arn"] for p in aws.ram().list_resource_share_permissions(resourceShareArn=arn)["permissions"]
                             if p["resourceType"] == "ec2:Subnet")
    fails("OperationNotPermittedException", aws.ram().disassociate_resource_share_permission,
          resourceShareArn=arn, permissionArn=subnet_permission)
    aws.ram().disassociate_resource_share(resourceShareArn=arn, resourceArns=[SUBNET])
    fails("OperationNotPermittedException", aws.ram().disassociate_resource_share_permission,
          resourceShareArn=arn, permissionArn=subnet_permission)  # still disassociating
    aws.clock.sleep(5)
    aws.ram().disassociate_resource_share_permission(resourceShareArn=arn, permissionArn=subnet_permission)
    permissions = aws.ram().list_resource_share_permissions(resourceShareArn=arn)["permissions"]
    assert [p["resourceType"] for p in permissions] == [GROUP_TYPE]
    fails("UnknownResourceException", aws.ram().disassociate_resource_share_permission,
          resourceShareArn=arn, permissionArn=subnet_permission)  # no longer on it
    fails("OperationNotPermittedException", aws.ram().disassociate_resource_share_permission,
          resourceShareArn=arn, permissionArn=permissions[0]["arn"])  # the group is still in it
    _, from_policy = aws.shared_group("churn-b", [CONSUMER])
    fails("OperationNotPermittedException", aws.ram().disassociate_resource_share_permission,
          resourceShareArn=from_policy, permissionArn=aws.share_permission(from_policy)["arn"])  # RAM's own share


def test_create_resource_share_errors(aws):
    ram = aws.ram()
    group = aws.group("churn-a")
    fails("UnknownResourceException", ram.create_resource_share, name="x",
          resourceArns=[f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/nope"])
    fails("UnknownResourceException", aws.ram(CONSUMER).create_resource_share, name="x", resourceArns=[group])
    fails("MalformedArnException", ram.create_resource_share, name="x", resourceArns=["group"])
    fails("InvalidParameterException", ram.create_resource_share, name="x", resourceArns=[group],
          principals=[f"arn:aws:iam::{CONSUMER}:role/reader"])
    fails("OperationNotPermittedException", ram.create_resource_share, name="x", resourceArns=[group],
          principals=[CONSUMER], allowExternalPrincipals=False)
    fails("InvalidParameterException", ram.create_resource_share, name="x", resourceArns=[group],
          tags=[{"key": "aws:reserved", "value": "v"}])
    fails("ResourceShareLimitExceededException", ram.create_resource_share, name="x", resourceArns=[group] * 101)
    assert ram.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []


def test_a_share_made_directly_is_editable_and_deletable(aws):
    (group,), share = create_share(aws, ["churn-a"], [CONSUMER])
    arn = share["resourceShareArn"]
    aws.ram().associate_resource_share(resourceShareArn=arn, principals=[OTHER])
    assert {i["receiverAccountId"] for i in aws.invitations(OTHER)} == {OTHER}
    aws.ram().delete_resource_share(resourceShareArn=arn)
    assert aws.share(arn)["status"] == "DELETED"
    assert aws.share_of(group)["status"] == "DISASSOCIATED"


# -- tags ----------------------------------------------------------------------------------------

def test_tags_on_shares_and_tag_filters(aws):
    _, share = aws.promoted_group()
    ram = aws.ram()
    ram.tag_resource(resourceShareArn=share, tags=[{"key": "modelshare:managed", "value": "true"}])
    assert aws.share(share)["tags"] == [{"key": "modelshare:managed", "value": "true"}]
    _, untagged = aws.shared_group("other-model")

    def filtered(**tag_filter):
        found = ram.get_resource_shares(resourceOwner="SELF", tagFilters=[tag_filter])["resourceShares"]
        return [s["resourceShareArn"] for s in found]

    assert filtered(tagKey="modelshare:managed") == [share]
    assert filtered(tagKey="modelshare:managed", tagValues=["true"]) == [share]
    assert filtered(tagKey="modelshare:managed", tagValues=["false"]) == []
    assert untagged not in filtered(tagKey="modelshare:managed")
    ram.untag_resource(resourceShareArn=share, tagKeys=["modelshare:managed"])
    assert aws.share(share)["tags"] == []


def test_shares_from_policies_cannot_be_tagged_until_promoted(aws):
    _, share = aws.shared_group()
    tag = [{"key": "modelshare:managed", "value": "true"}]
    # Refused with an error TagResource documents (it lists no OperationNotPermitted).
    fails("InvalidParameterException", aws.ram().tag_resource, resourceShareArn=share, tags=tag)
    aws.ram().promote_permission_created_from_policy(permissionArn=aws.share_permission(share)["arn"], name="P")
    aws.clock.sleep(5)
    aws.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
    fails("InvalidParameterException", aws.ram().tag_resource, resourceShareArn=share, tags=tag)
    aws.clock.sleep(5)
    aws.ram().tag_resource(resourceShareArn=share, tags=tag)
    aws.ram().delete_resource_share(resourceShareArn=share)
    fails("UnknownResourceException", aws.ram().tag_resource, resourceShareArn=share, tags=tag)


def test_model_package_groups_take_tags(aws):
    arn = aws.group("churn-model")
    sm = aws.sm()
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "modelshare:promoted-share", "Value": "x"}, {"Key": "team", "Value": "ml"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "modelshare:promoted-share", "Value": "x"},
                                                     {"Key": "team", "Value": "ml"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert [t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]] == ["modelshare:promoted-share"]
    fails("ResourceNotFound", aws.sm(CONSUMER).list_tags, ResourceArn=arn)
    fails("ValidationException", sm.add_tags, ResourceArn=arn, Tags=[{"Key": "aws:x", "Value": "y"}])


def test_tag_errors(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(tags_per_resource=2))
    _, share = aws.promoted_group()
    ram = aws.ram()
    fails("InvalidParameterException", ram.tag_resource, tags=[{"key": "k", "value": "v"}])
    fails("MalformedArnException", ram.tag_resource, resourceShareArn="x", tags=[{"key": "k", "value": "v"}])
    fails("UnknownResourceException", aws.ram(CONSUMER).tag_resource, resourceShareArn=share,
          tags=[{"key": "k", "value": "v"}])
    fails("TagLimitExceededException", ram.tag_resource, resourceShareArn=share,
          tags=[{"key": f"k{i}", "value": "v"} for i in range(3)])


# -- permissions -----------------------------------------------------------------------------------

def test_get_permission_shows_what_a_created_from_policy_permission_allows(aws):
    _, share = aws.shared_group()
    source = aws.share_permission(share)["arn"]
    detail = aws.ram().get_permission(permissionArn=source)["permission"]
    assert detail["featureSet"] == "CREATED_FROM_POLICY"
    document = json.loads(detail["permission"])
    assert [s["Action"] for s in document["Statement"]] == [CUSTOM]
    fails("UnknownResourceException", aws.ram(CONSUMER).get_permission, permissionArn=source)
    fails("MalformedArnException", aws.ram().get_permission, permissionArn="x")


def test_delete_permission(aws):
    _, share = aws.shared_group()
    aws.promote(share)
    custom = f"arn:aws:ram:eu-west-1:{OWNER}:permission/Custom"
    fails("OperationNotPermittedException", aws.ram().delete_permission, permissionArn=custom)  # in use
    aws.ram().delete_resource_share(resourceShareArn=share)
    assert aws.ram().delete_permission(permissionArn=custom)["permissionStatus"] == "DELETED"
    fails("UnknownResourceException", aws.ram().get_permission, permissionArn=custom)
    default = aws.ram().list_permissions(permissionType="AWS_MANAGED")["permissions"][0]["arn"]
    fails("OperationNotPermittedException", aws.ram().delete_permission, permissionArn=default)


# -- the pending-invitation quota --------------------------------------------------------------------

def test_associating_beyond_the_pending_invitation_quota_fails(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(pending_invitations_per_account=1))
    _, share = aws.promoted_group()  # one invitation pending for CONSUMER
    error = fails("ResourceShareLimitExceededException", aws.ram().associate_resource_share,
                  resourceShareArn=share, principals=[OTHER])
    assert "pending invitations" in str(error)
    assert aws.invitations(OTHER) == []
    aws.ram(CONSUMER).accept_resource_share_invitation(
        resourceShareInvitationArn=aws.invitations()[0]["resourceShareInvitationArn"])
    aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])
    assert len(aws.invitations(OTHER)) == 1


def test_promoting_beyond_the_pending_invitation_quota_fails_then_succeeds(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(pending_invitations_per_account=1))
    aws.promoted_group("first-model")
    _, second = aws.shared_group("second-model")
    fails("ResourceShareLimitExceededException", aws.ram().promote_resource_share_created_from_policy,
          resourceShareArn=second)
    assert aws.share(second)["featureSet"] == "CREATED_FROM_POLICY"
    aws.ram(CONSUMER).accept_resource_share_invitation(
        resourceShareInvitationArn=aws.invitations()[0]["resourceShareInvitationArn"])
    aws.ram().promote_resource_share_created_from_policy(resourceShareArn=second)
    aws.clock.sleep(5)
    assert aws.share(second)["featureSet"] == "STANDARD"


def test_promotions_finishing_over_the_quota_leave_their_principals_failed(aws_with):
    """Promotions started together each passed the quota check; when they finish, RAM can
    invite only up to the quota. The rest of the principal associations end FAILED."""
    aws = aws_with(ram_quotas=RamQuotas(pending_invitations_per_account=2))
    shares = [aws.shared_group(f"model-{i}", actions=DISCOVER)[1] for i in range(3)]
    for share in shares:
        aws.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
    aws.clock.sleep(5)
    statuses = [aws.ram().get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[s])[
        "resourceShareAssociations"][0] for s in shares]
    assert [a["status"] for a in statuses] == ["ASSOCIATING", "ASSOCIATING", "FAILED"]
    assert "pending invitations" in statuses[2]["statusMessage"]
    assert len(aws.invitations()) == 2
    # Once an invitation is answered, associating the principal again invites it.
    aws.ram(CONSUMER).accept_resource_share_invitation(
        resourceShareInvitationArn=aws.invitations()[0]["resourceShareInvitationArn"])
    aws.ram().associate_resource_share(resourceShareArn=shares[2], principals=[CONSUMER])
    assert len(aws.invitations()) == 3


# -- the resource type string ------------------------------------------------------------------------

def test_the_resource_type_string_is_whatever_ram_says(aws_with):
    aws = aws_with(group_type="SageMaker:MODELPACKAGEGROUP")
    arn, _share = aws.promoted_group(principals=[CONSUMER])
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    [resource] = aws.ram(CONSUMER).list_pending_invitation_resources(resourceShareInvitationArn=invitation)["resources"]
    assert (resource["arn"], resource["type"]) == (arn, "SageMaker:MODELPACKAGEGROUP")


def test_by_default_ram_spells_the_type_otherwise_than_the_code_s_guess(aws):
    """The local AWS spells a model package group's type in another case than modelshare's
    MODEL_PACKAGE_GROUP_TYPE, so code that passes the constant where RAM is case sensitive fails
    here (docs/aws-behaviour.md, RAM-TYPE)."""
    from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE

    ram = aws.ram()
    [spelled] = [t["resourceType"] for t in ram.list_resource_types()["resourceTypes"]
                 if t["resourceType"].lower() == MODEL_PACKAGE_GROUP_TYPE.lower()]
    assert spelled != MODEL_PACKAGE_GROUP_TYPE and spelled == GROUP_TYPE
    template = json.dumps({"Effect": "Allow", "Action": list(DISCOVER)})
    # CreatePermission: "case sensitive", "must match the display name" of ListResourceTypes.
    fails("InvalidParameterException", ram.create_permission, name="Guess", resourceType=MODEL_PACKAGE_GROUP_TYPE,
          policyTemplate=template)
    created = ram.create_permission(name="Read", resourceType=spelled, policyTemplate=template)["permission"]
    assert created["resourceType"] == spelled
    # ListPermissions' type filter is documented "not case sensitive": any spelling finds it.
    for asked in (MODEL_PACKAGE_GROUP_TYPE, spelled.upper()):
        found = ram.list_permissions(resourceType=asked, permissionType="CUSTOMER_MANAGED")["permissions"]
        assert [p["name"] for p in found] == ["Read"]
