"""AWS RAM around model package groups: the share a policy creates, promotion, invitations, undo."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from conftest import CUSTOM, DISCOVER

from localaws.services.registry_state import GROUP_TYPE, RamQuotas

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"
ROLE = f"arn:aws:iam::{CONSUMER}:role/reader"
BOGUS_SHARE = f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/00000000-0000-0000-0000-000000000000"
BOGUS_INVITATION = f"arn:aws:ram:eu-west-1:{OWNER}:resource-share-invitation/00000000-0000-0000-0000-000000000000"


def code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return info.value.response["Error"]["Code"]


def fails(expected: str, call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert code(info) == expected, info.value
    return info.value


# -- the share a policy creates ------------------------------------------------------------

def test_share_appears_asynchronously_after_put_policy(aws):
    arn = aws.group("churn-model")
    aws.put_policy("churn-model", arn, [CONSUMER, f"arn:aws:iam::{OTHER}:root"])
    aws.clock.sleep(19)
    assert aws.share_of(arn) is None
    assert aws.ram_events(OWNER) == []
    aws.clock.sleep(1)
    association = aws.share_of(arn)
    assert association is not None and association["status"] == "ASSOCIATED"
    share = aws.share(association["resourceShareArn"])
    assert share["featureSet"] == "CREATED_FROM_POLICY" and share["status"] == "ACTIVE"
    assert share["owningAccountId"] == OWNER and share["name"].startswith("LinkedResourceShare-")
    principals = aws.ram().get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[share["resourceShareArn"]])["resourceShareAssociations"]
    assert {(p["associatedEntity"], p["status"]) for p in principals} == {
        (CONSUMER, "ASSOCIATED"), (f"arn:aws:iam::{OTHER}:root", "ASSOCIATED")}
    # AWS documents no event for the share RAM makes from a policy (EVENT-RAM-CFP): none.
    assert aws.ram_events(OWNER) == []


def test_a_setting_makes_ram_announce_the_share_it_made_from_a_policy(aws_with):
    aws = aws_with(ram_share_from_policy_event=True)
    arn = aws.group("churn-model")
    aws.put_policy("churn-model", arn, [CONSUMER])
    aws.clock.sleep(20)
    share = aws.share_of(arn)["resourceShareArn"]
    [event] = aws.ram_events(OWNER)
    assert event["detail-type"] == "Resource Sharing State Change"
    assert event["detail"]["event"] == "Resource Share Association" and event["detail"]["status"] == "associated"
    assert event["detail"]["resourceShareArn"] == share
    assert event["resources"] == [share]


def test_created_from_policy_share_is_invisible_to_principals(aws):
    _arn, share = aws.shared_group()
    assert aws.ram(CONSUMER).get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    assert aws.invitations() == []
    fails("UnknownResourceException", aws.ram(CONSUMER).list_resource_share_permissions, resourceShareArn=share)
    assert aws.sm(CONSUMER).list_model_package_groups(CrossAccountFilterOption="CrossAccount")[
        "ModelPackageGroupSummaryList"] == []


def test_later_policy_updates_the_one_share(aws):
    arn, share = aws.shared_group(principals=[CONSUMER, ROLE])
    aws.put_policy("churn-model", arn, [OTHER])
    aws.clock.run_until_idle()
    assert aws.share_of(arn)["resourceShareArn"] == share
    assert len(aws.ram().get_resource_shares(resourceOwner="SELF")["resourceShares"]) == 1
    principals = {p["associatedEntity"]: p["status"] for p in aws.ram().get_resource_share_associations(
        associationType="PRINCIPAL")["resourceShareAssociations"]}
    assert principals == {CONSUMER: "DISASSOCIATED", ROLE: "DISASSOCIATED", OTHER: "ASSOCIATED"}
    active = aws.ram().get_resource_share_associations(associationType="PRINCIPAL", associationStatus="ASSOCIATED")
    assert [p["associatedEntity"] for p in active["resourceShareAssociations"]] == [OTHER]


def test_delete_policy_deletes_the_share_later(aws):
    arn, share = aws.shared_group()
    aws.sm().delete_model_package_group_policy(ModelPackageGroupName="churn-model")
    assert aws.share(share)["status"] == "ACTIVE"
    aws.clock.run_until_idle()
    assert aws.share(share)["status"] == "DELETED"
    assert aws.share_of(arn)["status"] == "DISASSOCIATED"


def test_deleting_the_group_disassociates_it(aws):
    arn, _share = aws.shared_group()
    aws.sm().delete_model_package_group(ModelPackageGroupName="churn-model")
    assert aws.share_of(arn)["status"] == "DISASSOCIATED"


def test_share_permission_created_from_policy(aws):
    _, share = aws.shared_group()
    permission = aws.share_permission(share)
    assert permission["featureSet"] == "CREATED_FROM_POLICY"
    assert permission["resourceType"] == GROUP_TYPE
    assert permission["arn"].startswith(f"arn:aws:ram:eu-west-1:{OWNER}:permission/")
    assert permission["name"] and permission["permissionType"] == "CUSTOMER_MANAGED"


# -- lookups -------------------------------------------------------------------------------

def test_list_resource_types(aws):
    types = aws.ram().list_resource_types()["resourceTypes"]
    assert {"resourceType": GROUP_TYPE, "serviceName": "sagemaker",
            "resourceRegionScope": "REGIONAL"} in types
    global_only = aws.ram().list_resource_types(resourceRegionScope="GLOBAL")["resourceTypes"]
    assert global_only and all(t["resourceRegionScope"] == "GLOBAL" for t in global_only)
    fails("InvalidParameterException", aws.ram().list_resource_types, resourceRegionScope="LOCAL")
    first = aws.ram().list_resource_types(maxResults=1)
    assert len(first["resourceTypes"]) == 1
    rest = aws.ram().list_resource_types(nextToken=first["nextToken"], maxResults=100)
    assert first["resourceTypes"] + rest["resourceTypes"] == types and "nextToken" not in rest


def test_aws_managed_permissions_for_model_package_groups(aws):
    listed = aws.ram().list_permissions(resourceType="SageMaker:ModelPackageGroup", permissionType="AWS_MANAGED")
    names = {p["name"]: p for p in listed["permissions"]}
    assert set(names) == {"AWSRAMDefaultPermissionSageMakerModelPackageGroup",
                          "AWSRAMPermissionSageMakerModelPackageGroupAllowRegister",
                          "AWSRAMPermissionSageMakerModelPackageGroupAllowDeploy"}
    default = names["AWSRAMDefaultPermissionSageMakerModelPackageGroup"]
    assert default["isResourceTypeDefault"] and default["arn"].startswith("arn:aws:ram::aws:permission/")
    template = json.loads(aws.ram(CONSUMER).get_permission(permissionArn=default["arn"])["permission"]["permission"])
    assert template == {"Effect": "Allow", "Action": DISCOVER}


def test_list_permissions_filters(aws):
    _, share = aws.shared_group()
    ram = aws.ram()
    everything = ram.list_permissions()["permissions"]
    assert all(p["featureSet"] != "CREATED_FROM_POLICY" for p in everything)
    # The filter is not case sensitive (ListPermissions); the answer is spelled as RAM spells it.
    sagemaker = ram.list_permissions(resourceType="sagemaker:ModelPackageGroup", permissionType="AWS_MANAGED")
    assert {p["resourceType"] for p in sagemaker["permissions"]} == {GROUP_TYPE}
    assert ram.list_permissions(permissionType="CUSTOMER_MANAGED")["permissions"] == []
    ram.promote_permission_created_from_policy(permissionArn=aws.share_permission(share)["arn"], name="Discover")
    mine = ram.list_permissions(permissionType="CUSTOMER_MANAGED")["permissions"]
    assert [p["name"] for p in mine] == ["Discover"]
    assert aws.ram(CONSUMER).list_permissions(permissionType="CUSTOMER_MANAGED")["permissions"] == []
    fails("InvalidParameterException", ram.list_permissions, permissionType="SOME")


# -- promotion -----------------------------------------------------------------------------

def test_promote_permission_then_share(aws):
    _, share = aws.shared_group()
    ram = aws.ram()
    source = aws.share_permission(share)
    promoted = ram.promote_permission_created_from_policy(permissionArn=source["arn"], name="ModelShare_Discover-1")
    assert promoted["permission"]["name"] == "ModelShare_Discover-1"
    assert promoted["permission"]["featureSet"] == "STANDARD"
    assert promoted["permission"]["permissionType"] == "CUSTOMER_MANAGED"
    assert promoted["permission"]["arn"] != source["arn"]
    # A separate permission: the original is left as it is, and the share still shows it.
    assert aws.share_permission(share) == source
    # Stricter reading: the share cannot be promoted until the permission's promotion finished.
    fails("UnmatchedPolicyPermissionException", ram.promote_resource_share_created_from_policy, resourceShareArn=share)
    aws.clock.sleep(5)
    assert ram.promote_resource_share_created_from_policy(resourceShareArn=share)["returnValue"] is True
    assert aws.share(share)["featureSet"] == "PROMOTING_TO_STANDARD"
    assert aws.invitations() == []
    aws.clock.sleep(4.9)
    assert aws.share(share)["featureSet"] == "PROMOTING_TO_STANDARD"
    aws.clock.sleep(0.1)
    assert aws.share(share)["featureSet"] == "STANDARD"
    assert aws.share_permission(share)["arn"] == promoted["permission"]["arn"]
    # The original permission is deleted once no share uses it.
    fails("UnknownResourceException", ram.get_permission, permissionArn=source["arn"])
    fails("InvalidStateTransitionException", ram.promote_resource_share_created_from_policy, resourceShareArn=share)


def test_a_retry_after_the_permission_was_promoted_finishes_with_the_share(aws):
    """The partial promotion: the permission was promoted, the share not. Promoting the same
    permission under the same name again fails; promoting the share now succeeds."""
    _, share = aws.shared_group()
    ram = aws.ram()
    source = aws.share_permission(share)["arn"]
    ram.promote_permission_created_from_policy(permissionArn=source, name="modelshare-custom")
    aws.clock.sleep(5)
    assert aws.share_permission(share)["featureSet"] == "CREATED_FROM_POLICY"
    fails("PermissionAlreadyExistsException", ram.promote_permission_created_from_policy,
          permissionArn=source, name="modelshare-custom")
    ram.promote_resource_share_created_from_policy(resourceShareArn=share)
    aws.clock.sleep(5)
    assert aws.share(share)["featureSet"] == "STANDARD"
    assert aws.share_permission(share)["name"] == "modelshare-custom"


def test_policy_actions_matching_an_aws_managed_permission_need_no_customer_managed_one(aws):
    _, share = aws.shared_group(actions=DISCOVER)
    permission = aws.share_permission(share)
    assert permission["featureSet"] == "STANDARD" and permission["permissionType"] == "AWS_MANAGED"
    assert permission["name"] == "AWSRAMDefaultPermissionSageMakerModelPackageGroup"
    assert aws.share(share)["featureSet"] == "CREATED_FROM_POLICY"
    aws.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
    aws.clock.sleep(5)
    assert aws.share(share)["featureSet"] == "STANDARD"
    assert aws.ram().list_permissions(permissionType="CUSTOMER_MANAGED")["permissions"] == []


def test_one_customer_managed_permission_serves_every_share_with_the_same_actions(aws):
    _, first = aws.shared_group("first-model")
    aws.promote(first)
    # A later policy with the same actions gets the customer managed permission from the start.
    _, second = aws.shared_group("second-model")
    assert aws.share_permission(second)["name"] == "Custom"
    aws.ram().promote_resource_share_created_from_policy(resourceShareArn=second)
    aws.clock.sleep(5)
    assert aws.share(second)["featureSet"] == "STANDARD"
    assert [p["name"] for p in aws.ram().list_permissions(permissionType="CUSTOMER_MANAGED")["permissions"]] == ["Custom"]


def test_a_created_from_policy_permission_made_before_the_match_still_promotes(aws):
    """Shares made before the customer managed permission existed keep their own
    CREATED_FROM_POLICY permission; promoting the share matches it to the managed one."""
    _, first = aws.shared_group("first-model")
    _, second = aws.shared_group("second-model")
    aws.promote(first)
    assert aws.share_permission(second)["featureSet"] == "CREATED_FROM_POLICY"
    aws.ram().promote_resource_share_created_from_policy(resourceShareArn=second)
    aws.clock.sleep(5)
    assert aws.share_permission(second)["name"] == "Custom"


def test_share_promotion_needs_a_promoted_permission(aws):
    _, share = aws.shared_group()
    fails("UnmatchedPolicyPermissionException", aws.ram().promote_resource_share_created_from_policy,
          resourceShareArn=share)
    assert aws.share(share)["featureSet"] == "CREATED_FROM_POLICY"


def test_share_with_a_role_principal_cannot_be_promoted(aws):
    _, share = aws.shared_group(principals=[CONSUMER, ROLE])
    aws.ram().promote_permission_created_from_policy(permissionArn=aws.share_permission(share)["arn"], name="Discover")
    aws.clock.run_until_idle()
    fails("OperationNotPermittedException", aws.ram().promote_resource_share_created_from_policy, resourceShareArn=share)


def test_promote_share_arn_errors(aws):
    fails("MalformedArnException", aws.ram().promote_resource_share_created_from_policy, resourceShareArn="share-1")
    fails("UnknownResourceException", aws.ram().promote_resource_share_created_from_policy, resourceShareArn=BOGUS_SHARE)
    _, share = aws.shared_group()
    fails("UnknownResourceException", aws.ram(CONSUMER).promote_resource_share_created_from_policy, resourceShareArn=share)


@pytest.mark.parametrize("name", ["has space", "x" * 37, "dots.not.allowed"])
def test_promote_permission_rejects_bad_names(aws, name):
    _, share = aws.shared_group()
    fails("InvalidParameterException", aws.ram().promote_permission_created_from_policy,
          permissionArn=aws.share_permission(share)["arn"], name=name)


def test_promote_permission_errors(aws):
    _, share = aws.shared_group()
    ram = aws.ram()
    source = aws.share_permission(share)["arn"]
    fails("MalformedArnException", ram.promote_permission_created_from_policy, permissionArn="perm", name="P")
    fails("UnknownResourceException", ram.promote_permission_created_from_policy,
          permissionArn=f"arn:aws:ram:eu-west-1:{OWNER}:permission/Nope", name="P")
    fails("UnknownResourceException", aws.ram(CONSUMER).promote_permission_created_from_policy,
          permissionArn=source, name="P")
    aws_managed = ram.list_permissions(permissionType="AWS_MANAGED")["permissions"][0]["arn"]
    fails("UnknownResourceException", ram.promote_permission_created_from_policy, permissionArn=aws_managed, name="P")
    promoted = ram.promote_permission_created_from_policy(permissionArn=source, name="Discover")["permission"]["arn"]
    fails("OperationNotPermittedException", ram.promote_permission_created_from_policy, permissionArn=promoted, name="Again")
    # Another group's permission cannot take a name already used.
    _, second = aws.shared_group("second-model", actions=["sagemaker:DescribeModelPackageGroup"])
    fails("PermissionAlreadyExistsException", ram.promote_permission_created_from_policy,
          permissionArn=aws.share_permission(second)["arn"], name="Discover")


def test_customer_managed_permissions_per_resource_type_are_limited(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(customer_managed_permissions_per_resource_type=2))
    actions = [CUSTOM, [*CUSTOM, "sagemaker:CreateModelPackage"], [*CUSTOM, "sagemaker:CreateModel"]]
    sources = []
    for index, action_set in enumerate(actions):
        _, share = aws.shared_group(f"model-{index}", actions=action_set)
        sources.append(aws.share_permission(share)["arn"])
    aws.ram().promote_permission_created_from_policy(permissionArn=sources[0], name="P0")
    aws.ram().promote_permission_created_from_policy(permissionArn=sources[1], name="P1")
    error = fails("PermissionLimitExceededException", aws.ram().promote_permission_created_from_policy,
                  permissionArn=sources[2], name="P2")
    assert "limit of 2" in str(error)
    aws.ram().delete_permission(permissionArn=f"arn:aws:ram:eu-west-1:{OWNER}:permission/P1")
    aws.ram().promote_permission_created_from_policy(permissionArn=sources[2], name="P2")


def test_promote_permission_is_idempotent_with_a_client_token(aws):
    _, share = aws.shared_group()
    source = aws.share_permission(share)["arn"]
    first = aws.ram().promote_permission_created_from_policy(permissionArn=source, name="Discover", clientToken="tok")
    again = aws.ram().promote_permission_created_from_policy(permissionArn=source, name="Discover", clientToken="tok")
    assert first["permission"]["arn"] == again["permission"]["arn"] and again["clientToken"] == "tok"


def _policy(arn, statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _stmt(arn, **overrides):
    statement = {"Effect": "Allow", "Principal": {"AWS": [CONSUMER]},
                 "Action": ["sagemaker:DescribeModelPackageGroup"], "Resource": arn}
    statement.update(overrides)
    return statement


@pytest.mark.parametrize("statements", [
    lambda arn: [_stmt(arn, Sid="a"), _stmt(arn, Sid="b", Principal={"AWS": [OTHER]})],
    lambda arn: [_stmt(arn, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})],
    lambda arn: [_stmt(arn, Action="*")],
    lambda arn: [_stmt(arn, Action=["sagemaker:Describe*"])],
    lambda arn: [_stmt(arn, Effect="Deny")],
    lambda arn: [{k: v for k, v in _stmt(arn, NotAction=["sagemaker:DeleteModelPackageGroup"]).items() if k != "Action"}],
], ids=["two-statements", "condition", "star", "wildcard", "deny", "not-action"])
def test_unpromotable_policies(aws, statements):
    arn = aws.group("churn-model")
    aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-model", ResourcePolicy=_policy(arn, statements(arn)))
    aws.clock.run_until_idle()
    share = aws.share_of(arn)["resourceShareArn"]
    fails("OperationNotPermittedException", aws.ram().promote_permission_created_from_policy,
          permissionArn=aws.share_permission(share)["arn"], name="Discover")
    assert aws.share_permission(share)["featureSet"] == "CREATED_FROM_POLICY"


def test_policy_put_after_promotion_leaves_the_standard_share_alone(aws):
    arn, share = aws.promoted_group()
    aws.put_policy("churn-model", arn, [OTHER])
    aws.clock.sleep(20)
    assert aws.share(share)["featureSet"] == "STANDARD"
    principals = aws.ram().get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[share])
    assert [p["associatedEntity"] for p in principals["resourceShareAssociations"]] == [CONSUMER]


# -- invitations ---------------------------------------------------------------------------

def test_promotion_invites_each_principal_account(aws):
    _arn, share = aws.promoted_group(principals=[CONSUMER, f"arn:aws:iam::{OTHER}:root"])
    for account in (CONSUMER, OTHER):
        [invitation] = aws.invitations(account)
        assert invitation["status"] == "PENDING" and invitation["resourceShareArn"] == share
        assert invitation["senderAccountId"] == OWNER and invitation["receiverAccountId"] == account
        assert invitation["resourceShareName"] == aws.share(share)["name"]
        [event] = [e for e in aws.ram_events(account) if e["detail"]["event"] == "Resource Share Invitation"]
        assert event["detail"]["status"] == "pending" and event["detail"]["resourceShareArn"] == share
        assert event["resources"] == [invitation["resourceShareInvitationArn"]]
    owner_events = [e["detail"] for e in aws.ram_events(OWNER) if e["detail"].get("associatedEntity") in (CONSUMER, OTHER)]
    assert {(d["associatedEntity"], d["status"]) for d in owner_events} == {(CONSUMER, "associating"), (OTHER, "associating")}
    statuses = {p["associatedEntity"]: p["status"] for p in aws.ram().get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[share])["resourceShareAssociations"]}
    assert statuses == {CONSUMER: "ASSOCIATING", OTHER: "ASSOCIATING"}


def test_cross_account_listing_only_after_accept(aws):
    arn, share = aws.promoted_group()
    consumer_sm = aws.sm(CONSUMER)
    assert consumer_sm.list_model_package_groups(CrossAccountFilterOption="CrossAccount")["ModelPackageGroupSummaryList"] == []
    assert aws.ram(CONSUMER).get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    [invitation] = aws.invitations()
    pending = aws.ram(CONSUMER).list_pending_invitation_resources(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])["resources"]
    assert [(r["arn"], r["type"], r["resourceShareArn"]) for r in pending] == [(arn, GROUP_TYPE, share)]
    accepted = aws.ram(CONSUMER).accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])["resourceShareInvitation"]
    assert accepted["status"] == "ACCEPTED"
    listed = consumer_sm.list_model_package_groups(CrossAccountFilterOption="CrossAccount")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupArn"] for g in listed] == [arn]
    assert consumer_sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []  # SameAccount by default
    assert consumer_sm.describe_model_package_group(ModelPackageGroupName=arn)["ModelPackageGroupArn"] == arn
    [other] = aws.ram(CONSUMER).get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert other["resourceShareArn"] == share and other["featureSet"] == "STANDARD"
    assert aws.invitations()[0]["status"] == "ACCEPTED"
    status = aws.ram().get_resource_share_associations(associationType="PRINCIPAL", principal=CONSUMER)
    assert status["resourceShareAssociations"][0]["status"] == "ASSOCIATED"
    accepted_events = [e["detail"] for e in aws.ram_events(OWNER) if e["detail"].get("status") == "associated"
                       and e["detail"].get("associatedEntity") == CONSUMER]
    assert len(accepted_events) == 1
    # Other accounts still see nothing.
    assert aws.sm(OTHER).list_model_package_groups(CrossAccountFilterOption="CrossAccount")[
        "ModelPackageGroupSummaryList"] == []


def test_accept_and_reject_errors(aws):
    _, _share = aws.promoted_group()
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    consumer = aws.ram(CONSUMER)
    fails("MalformedArnException", consumer.accept_resource_share_invitation, resourceShareInvitationArn="inv-1")
    fails("ResourceShareInvitationArnNotFoundException", consumer.accept_resource_share_invitation,
          resourceShareInvitationArn=BOGUS_INVITATION)
    fails("OperationNotPermittedException", aws.ram(OTHER).accept_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    consumer.accept_resource_share_invitation(resourceShareInvitationArn=invitation, clientToken="t1")
    # The same request again is answered as before; a new one fails.
    again = consumer.accept_resource_share_invitation(resourceShareInvitationArn=invitation, clientToken="t1")
    assert again["resourceShareInvitation"]["status"] == "ACCEPTED"
    fails("ResourceShareInvitationAlreadyAcceptedException", consumer.accept_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    fails("ResourceShareInvitationAlreadyAcceptedException", consumer.reject_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    fails("IdempotentParameterMismatchException", consumer.accept_resource_share_invitation,
          resourceShareInvitationArn=_second_invitation(aws), clientToken="t1")


def _second_invitation(aws) -> str:
    _, share = aws.promoted_group("second-model")
    return next(i["resourceShareInvitationArn"] for i in aws.invitations() if i["resourceShareArn"] == share)


def test_reject(aws):
    _, _share = aws.promoted_group()
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    consumer = aws.ram(CONSUMER)
    rejected = consumer.reject_resource_share_invitation(resourceShareInvitationArn=invitation)
    assert rejected["resourceShareInvitation"]["status"] == "REJECTED"
    fails("ResourceShareInvitationAlreadyRejectedException", consumer.accept_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    fails("ResourceShareInvitationAlreadyRejectedException", consumer.reject_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    fails("ResourceShareInvitationAlreadyRejectedException", consumer.list_pending_invitation_resources,
          resourceShareInvitationArn=invitation)
    assert aws.sm(CONSUMER).list_model_package_groups(CrossAccountFilterOption="CrossAccount")[
        "ModelPackageGroupSummaryList"] == []


def test_invitation_expires_after_12_hours(aws):
    _, share = aws.promoted_group()
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    aws.clock.sleep(12 * 3600 - 1)
    assert aws.invitations()[0]["status"] == "PENDING"
    aws.clock.sleep(1)
    assert aws.invitations()[0]["status"] == "EXPIRED"
    fails("ResourceShareInvitationExpiredException", aws.ram(CONSUMER).accept_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    fails("ResourceShareInvitationExpiredException", aws.ram(CONSUMER).reject_resource_share_invitation,
          resourceShareInvitationArn=invitation)
    fails("ResourceShareInvitationExpiredException", aws.ram(CONSUMER).list_pending_invitation_resources,
          resourceShareInvitationArn=invitation)
    # "the end user principal in the resource share is disassociated" (RAM guide).
    status = aws.ram().get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[share])
    assert status["resourceShareAssociations"][0]["status"] == "DISASSOCIATED"


def test_old_invitations_vanish_after_7_days(aws):
    aws.promoted_group()
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    aws.clock.sleep(7 * 24 * 3600)
    assert len(aws.invitations()) == 1
    aws.clock.sleep(1)
    assert aws.invitations() == []
    fails("ResourceShareInvitationArnNotFoundException", aws.ram(CONSUMER).accept_resource_share_invitation,
          resourceShareInvitationArn=invitation)


def test_list_pending_invitation_resources_errors(aws):
    aws.promoted_group()
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    consumer = aws.ram(CONSUMER)
    fails("MalformedArnException", consumer.list_pending_invitation_resources, resourceShareInvitationArn="x")
    fails("ResourceShareInvitationArnNotFoundException", consumer.list_pending_invitation_resources,
          resourceShareInvitationArn=BOGUS_INVITATION)
    fails("ResourceShareInvitationArnNotFoundException", aws.ram(OTHER).list_pending_invitation_resources,
          resourceShareInvitationArn=invitation)
    consumer.accept_resource_share_invitation(resourceShareInvitationArn=invitation)
    # Stricter reading: an accepted invitation has nothing pending.
    fails("ResourceShareInvitationAlreadyAcceptedException", consumer.list_pending_invitation_resources,
          resourceShareInvitationArn=invitation)


def test_get_invitations_filters_and_errors(aws):
    _, share = aws.promoted_group()
    second = _second_invitation(aws)
    consumer = aws.ram(CONSUMER)
    by_arn = consumer.get_resource_share_invitations(resourceShareInvitationArns=[second])["resourceShareInvitations"]
    assert [i["resourceShareInvitationArn"] for i in by_arn] == [second]
    by_share = consumer.get_resource_share_invitations(resourceShareArns=[share])["resourceShareInvitations"]
    assert [i["resourceShareArn"] for i in by_share] == [share]
    fails("MalformedArnException", consumer.get_resource_share_invitations, resourceShareInvitationArns=["x"])
    fails("MalformedArnException", consumer.get_resource_share_invitations, resourceShareArns=["x"])
    fails("ResourceShareInvitationArnNotFoundException", consumer.get_resource_share_invitations,
          resourceShareInvitationArns=[BOGUS_INVITATION])
    fails("InvalidMaxResultsException", consumer.get_resource_share_invitations, maxResults=501)
    fails("InvalidNextTokenException", consumer.get_resource_share_invitations, nextToken="garbage")
    assert aws.invitations(OWNER) == []  # the sender does not receive its own invitations


# -- paging --------------------------------------------------------------------------------

def test_paging_invitations_shares_and_associations(aws):
    names = [f"model-{i:02d}" for i in range(12)]
    for name in names:
        arn = aws.group(name)
        aws.put_policy(name, arn, [CONSUMER])
    aws.clock.sleep(20)
    shares = [aws.share_of(f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/{n}")["resourceShareArn"]
              for n in names]
    aws.ram().promote_permission_created_from_policy(permissionArn=aws.share_permission(shares[0])["arn"], name="P")
    aws.clock.sleep(5)
    for share in shares:
        aws.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
    aws.clock.sleep(5)

    def collect(client, operation, key, **kwargs):
        pages = list(client.get_paginator(operation).paginate(PaginationConfig={"PageSize": 5}, **kwargs))
        return [len(p[key]) for p in pages], [item for p in pages for item in p[key]]

    sizes, invitations = collect(aws.ram(CONSUMER), "get_resource_share_invitations", "resourceShareInvitations")
    assert sizes == [5, 5, 2] and {i["resourceShareArn"] for i in invitations} == set(shares)
    sizes, owned = collect(aws.ram(), "get_resource_shares", "resourceShares", resourceOwner="SELF")
    assert sizes == [5, 5, 2] and {s["resourceShareArn"] for s in owned} == set(shares)
    sizes, associations = collect(aws.ram(), "get_resource_share_associations", "resourceShareAssociations",
                                  associationType="RESOURCE")
    assert sizes == [5, 5, 2] and len({a["associatedEntity"] for a in associations}) == 12
    # The consumer sees them all once accepted, and the default page is smaller than twelve.
    for invitation in invitations:
        aws.ram(CONSUMER).accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    sizes, listed = collect(aws.sm(CONSUMER), "list_model_package_groups", "ModelPackageGroupSummaryList",
                            CrossAccountFilterOption="CrossAccount")
    assert sizes == [5, 5, 2] and sorted(g["ModelPackageGroupName"] for g in listed) == names
    first = aws.ram(CONSUMER).get_resource_shares(resourceOwner="OTHER-ACCOUNTS")
    assert len(first["resourceShares"]) < 12 and "nextToken" in first


# -- owner-side queries ----------------------------------------------------------------------

def test_get_resource_shares_filters_and_errors(aws):
    _, share = aws.shared_group()
    ram = aws.ram()
    assert [s["resourceShareArn"] for s in ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="ACTIVE")[
        "resourceShares"]] == [share]
    assert ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="DELETED")["resourceShares"] == []
    name = aws.share(share)["name"]
    assert len(ram.get_resource_shares(resourceOwner="SELF", name=name)["resourceShares"]) == 1
    assert ram.get_resource_shares(resourceOwner="SELF", name="other")["resourceShares"] == []
    shared = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"][0]
    assert {"featureSet", "status", "owningAccountId", "allowExternalPrincipals", "creationTime",
            "lastUpdatedTime"} <= set(shared)
    fails("InvalidParameterException", ram.get_resource_shares, resourceOwner="ME")
    fails("InvalidParameterException", ram.get_resource_shares, resourceOwner="SELF", resourceShareStatus="GONE")
    fails("MalformedArnException", ram.get_resource_shares, resourceOwner="SELF", resourceShareArns=["nope"])
    fails("UnknownResourceException", ram.get_resource_shares, resourceOwner="SELF", resourceShareArns=[BOGUS_SHARE])
    fails("InvalidNextTokenException", ram.get_resource_shares, resourceOwner="SELF", nextToken="garbage")
    fails("InvalidParameterException", ram.get_resource_shares, resourceOwner="SELF", maxResults=501)
    assert aws.ram(CONSUMER).get_resource_shares(resourceOwner="SELF")["resourceShares"] == []


def test_get_resource_share_associations_errors(aws):
    arn, _share = aws.shared_group()
    ram = aws.ram()
    fails("InvalidParameterException", ram.get_resource_share_associations, associationType="PRINCIPAL", resourceArn=arn)
    fails("InvalidParameterException", ram.get_resource_share_associations, associationType="RESOURCE", principal=CONSUMER)
    fails("InvalidParameterException", ram.get_resource_share_associations, associationType="FRIENDS")
    fails("MalformedArnException", ram.get_resource_share_associations, associationType="RESOURCE", resourceArn="x")
    fails("MalformedArnException", ram.get_resource_share_associations, associationType="RESOURCE", resourceShareArns=["x"])
    fails("UnknownResourceException", ram.get_resource_share_associations, associationType="RESOURCE",
          resourceShareArns=[BOGUS_SHARE])
    fails("InvalidNextTokenException", ram.get_resource_share_associations, associationType="RESOURCE", nextToken="bad")
    # Owner side only: the consumer does not see the owner's associations.
    assert aws.ram(CONSUMER).get_resource_share_associations(associationType="PRINCIPAL")["resourceShareAssociations"] == []


def test_list_resource_share_permissions_errors(aws):
    fails("MalformedArnException", aws.ram().list_resource_share_permissions, resourceShareArn="x")
    fails("UnknownResourceException", aws.ram().list_resource_share_permissions, resourceShareArn=BOGUS_SHARE)


# -- changing principals, undoing ------------------------------------------------------------

def test_created_from_policy_share_is_not_editable_through_ram(aws):
    _, share = aws.shared_group()
    ram = aws.ram()
    fails("OperationNotPermittedException", ram.associate_resource_share, resourceShareArn=share, principals=[OTHER])
    fails("OperationNotPermittedException", ram.disassociate_resource_share, resourceShareArn=share, principals=[CONSUMER])
    fails("OperationNotPermittedException", ram.delete_resource_share, resourceShareArn=share)
    assert aws.share(share)["status"] == "ACTIVE"


def test_associate_invites_a_new_account(aws):
    _, share = aws.promoted_group()
    out = aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])
    assert [(a["associatedEntity"], a["status"], a["external"]) for a in out["resourceShareAssociations"]] == [
        (OTHER, "ASSOCIATING", True)]
    [invitation] = aws.invitations(OTHER)
    assert invitation["status"] == "PENDING" and invitation["resourceShareArn"] == share
    # Associating again does not send a second invitation.
    aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])
    assert len(aws.invitations(OTHER)) == 1


def test_associate_errors(aws):
    _, share = aws.promoted_group()
    ram = aws.ram()
    fails("InvalidParameterException", ram.associate_resource_share, resourceShareArn=share, principals=[ROLE])
    fails("InvalidParameterException", ram.associate_resource_share, resourceShareArn=share, principals=[OWNER])
    fails("InvalidParameterException", ram.associate_resource_share, resourceShareArn=share)
    fails("MalformedArnException", ram.associate_resource_share, resourceShareArn="x", principals=[OTHER])
    fails("UnknownResourceException", ram.associate_resource_share, resourceShareArn=BOGUS_SHARE, principals=[OTHER])
    fails("UnknownResourceException", aws.ram(CONSUMER).associate_resource_share, resourceShareArn=share,
          principals=[OTHER])
    fails("MalformedArnException", ram.associate_resource_share, resourceShareArn=share, resourceArns=["group"])
    fails("UnknownResourceException", ram.associate_resource_share, resourceShareArn=share,
          resourceArns=[f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/nope"])
    ram.associate_resource_share(resourceShareArn=share, principals=[OTHER], clientToken="c1")
    fails("IdempotentParameterMismatchException", ram.associate_resource_share, resourceShareArn=share,
          principals=[CONSUMER], clientToken="c1")


def test_associate_a_second_group(aws):
    _, share = aws.promoted_group()
    second = aws.group("second-model")
    aws.ram().associate_resource_share(resourceShareArn=share, resourceArns=[second])
    resources = aws.ram().get_resource_share_associations(associationType="RESOURCE", resourceShareArns=[share])
    assert {a["associatedEntity"] for a in resources["resourceShareAssociations"]} == {
        f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/churn-model", second}


def test_disassociate_removes_access(aws):
    arn, share = aws.accepted_group()
    out = aws.ram().disassociate_resource_share(resourceShareArn=share, principals=[CONSUMER])
    assert out["resourceShareAssociations"][0]["status"] == "DISASSOCIATING"
    assert aws.sm(CONSUMER).list_model_package_groups(CrossAccountFilterOption="CrossAccount")[
        "ModelPackageGroupSummaryList"] == []
    fails("AccessDeniedException", aws.sm(CONSUMER).describe_model_package_group, ModelPackageGroupName=arn)
    aws.clock.sleep(1)
    status = aws.ram().get_resource_share_associations(associationType="PRINCIPAL", principal=CONSUMER)
    assert status["resourceShareAssociations"][0]["status"] == "DISASSOCIATED"
    fails("UnknownResourceException", aws.ram().disassociate_resource_share, resourceShareArn=share, principals=[CONSUMER])


def test_withdrawn_principal_cannot_accept(aws):
    _, share = aws.promoted_group()
    aws.ram().disassociate_resource_share(resourceShareArn=share, principals=[CONSUMER])
    fails("OperationNotPermittedException", aws.ram(CONSUMER).accept_resource_share_invitation,
          resourceShareInvitationArn=aws.invitations()[0]["resourceShareInvitationArn"])


def test_delete_share(aws):
    arn, share = aws.accepted_group()
    out = aws.ram().delete_resource_share(resourceShareArn=share, clientToken="d1")
    assert out["returnValue"] is True and out["clientToken"] == "d1"
    assert aws.share(share)["status"] == "DELETED"
    assert aws.ram(CONSUMER).get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    assert aws.sm(CONSUMER).list_model_package_groups(CrossAccountFilterOption="CrossAccount")[
        "ModelPackageGroupSummaryList"] == []
    fails("AccessDeniedException", aws.sm(CONSUMER).describe_model_package_group, ModelPackageGroupName=arn)
    fails("InvalidStateTransitionException", aws.ram().delete_resource_share, resourceShareArn=share)
    fails("MalformedArnException", aws.ram().delete_resource_share, resourceShareArn="x")
    fails("UnknownResourceException", aws.ram().delete_resource_share, resourceShareArn=BOGUS_SHARE)
    fails("UnknownResourceException", aws.ram(CONSUMER).delete_resource_share, resourceShareArn=share)


# -- a promoted share's permission, and customer managed permissions made from scratch --------

DEFAULT_PERMISSION = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSageMakerModelPackageGroup"


def _template(actions, **extra):
    return json.dumps({"Effect": "Allow", "Action": actions, **extra})


def test_create_permission_is_validated_and_attachable_a_moment_later(aws):
    ram = aws.ram()
    group_type = aws.share_permission(aws.shared_group()[1])["resourceType"]
    fails("InvalidParameterException", ram.create_permission, name="bad name", resourceType=group_type,
          policyTemplate=_template(DISCOVER))
    fails("InvalidParameterException", ram.create_permission, name="P", resourceType="sagemaker:nothing",
          policyTemplate=_template(DISCOVER))
    fails("MalformedPolicyTemplateException", ram.create_permission, name="P", resourceType=group_type,
          policyTemplate="{not json")
    fails("MalformedPolicyTemplateException", ram.create_permission, name="P", resourceType=group_type,
          policyTemplate=json.dumps({"Effect": "Allow", "Action": DISCOVER, "Principal": "*"}))
    fails("InvalidPolicyException", ram.create_permission, name="P", resourceType=group_type,
          policyTemplate=_template([*DISCOVER, "s3:GetObject"]))
    created = ram.create_permission(name="Mine", resourceType=group_type, policyTemplate=_template(CUSTOM))["permission"]
    assert created["status"] == "UNATTACHABLE" and created["permissionType"] == "CUSTOMER_MANAGED"
    fails("PermissionAlreadyExistsException", ram.create_permission, name="Mine", resourceType=group_type,
          policyTemplate=_template(DISCOVER))
    aws.clock.sleep(5)
    found, = [p for p in ram.list_permissions(permissionType="CUSTOMER_MANAGED")["permissions"] if p["name"] == "Mine"]
    assert found["status"] == "ATTACHABLE"


def test_a_promoted_shares_permission_is_replaced_only_when_asked_and_only_with_an_attachable_one(aws):
    ram = aws.ram()
    _, share = aws.shared_group(actions=CUSTOM)
    fails("OperationNotPermittedException", ram.associate_resource_share_permission, resourceShareArn=share,
          permissionArn=DEFAULT_PERMISSION, replace=True)  # made from a policy: its policy says
    aws.promote(share)
    aws.clock.sleep(5)
    assert aws.share(share)["featureSet"] == "STANDARD"
    fails("InvalidParameterException", ram.associate_resource_share_permission, resourceShareArn=share,
          permissionArn=DEFAULT_PERMISSION)  # it has one: replace it or nothing
    group_type = aws.share_permission(share)["resourceType"]
    pending = ram.create_permission(name="Later", resourceType=group_type, policyTemplate=_template(DISCOVER))
    fails("InvalidParameterException", ram.associate_resource_share_permission, resourceShareArn=share,
          permissionArn=pending["permission"]["arn"], replace=True)
    assert ram.associate_resource_share_permission(resourceShareArn=share, permissionArn=DEFAULT_PERMISSION,
                                                   replace=True)["returnValue"] is True
    assert aws.share_permission(share)["arn"] == DEFAULT_PERMISSION
    listed = ram.list_permission_associations(permissionArn=DEFAULT_PERMISSION, featureSet="STANDARD")["permissions"]
    assert [(p["resourceShareArn"], p["arn"]) for p in listed] == [(share, DEFAULT_PERMISSION)]
    assert ram.list_permission_associations(permissionArn=DEFAULT_PERMISSION,
                                            featureSet="CREATED_FROM_POLICY")["permissions"] == []
    assert aws.ram(CONSUMER).list_permission_associations(permissionArn=DEFAULT_PERMISSION)["permissions"] == [], \
        "another account's shares"


def test_permission_associations_are_listed_per_permission_only(aws):
    """RAM-PERMISSION-ASSOCIATIONS: ListPermissionAssociations is documented per managed
    permission; the local AWS refuses a call naming none (the stricter reading) and lists the
    caller's shares using the one named."""
    ram = aws.ram()
    _, share = aws.shared_group()
    aws.promote(share)
    aws.clock.sleep(5)
    fails("InvalidParameterException", ram.list_permission_associations)
    fails("InvalidParameterException", ram.list_permission_associations, featureSet="STANDARD")
    permission = aws.share_permission(share)["arn"]
    listed = ram.list_permission_associations(permissionArn=permission)["permissions"]
    assert [(p["resourceShareArn"], p["arn"]) for p in listed] == [(share, permission)]
    other = next(p["arn"] for p in ram.list_permissions(permissionType="AWS_MANAGED")["permissions"] if p["arn"] != permission)
    assert ram.list_permission_associations(permissionArn=other)["permissions"] == []
