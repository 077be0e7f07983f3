"""The local AWS's Organizations model and RAM's organization and OU principals
(docs/aws-behaviour.md, ORG-*): inside the organization with RAM sharing enabled, no invitation
and access at once; outside it, or before sharing is enabled, the documented errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localaws.services.organizations.api import OrganizationModel

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"
MANAGEMENT = "999988887777"
OU, CHILD = "ou-ab12-examplou", "ou-ab12-childou1"


def fails(expected: str, call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert info.value.response["Error"]["Code"] == expected, info.value
    return info.value


@pytest.fixture
def org(aws):
    """OWNER and CONSUMER in the organization, CONSUMER in OU CHILD under OU; OTHER outside."""
    aws.cloud.add_account(MANAGEMENT)
    organization = OrganizationModel("o-exampleorg1", MANAGEMENT)
    organization.add_ou(OU)
    organization.add_ou(CHILD, OU)
    organization.move_account(OWNER)
    organization.move_account(CONSUMER, CHILD)
    aws.cloud.registry.state.organization = organization
    return organization


def share_with(aws, principals, name="churn-a"):
    group = aws.group(name)
    share = aws.ram().create_resource_share(name="s", resourceArns=[group], principals=principals)["resourceShare"]
    return group, share["resourceShareArn"]


def cross_account_groups(aws, account):
    return [g["ModelPackageGroupArn"] for g in aws.sm(account).list_model_package_groups(
        CrossAccountFilterOption="CrossAccount")["ModelPackageGroupSummaryList"]]


def test_a_member_reads_its_organization_and_an_outsider_is_told_it_is_in_none(aws, org):
    described = aws.client("organizations", CONSUMER).describe_organization()["Organization"]
    assert described["Id"] == org.id and described["MasterAccountId"] == MANAGEMENT
    assert described["Arn"] == f"arn:aws:organizations::{MANAGEMENT}:organization/{org.id}"
    fails("AWSOrganizationsNotInUseException", aws.client("organizations", OTHER).describe_organization)


def test_only_the_management_account_lists_an_accounts_parents(aws, org):
    fails("AccessDeniedException", aws.client("organizations", CONSUMER).list_parents, ChildId=CONSUMER)
    parents = aws.client("organizations", MANAGEMENT).list_parents(ChildId=CONSUMER)["Parents"]
    assert parents == [{"Id": CHILD, "Type": "ORGANIZATIONAL_UNIT"}]


def test_only_the_management_account_enables_ram_sharing_with_the_organization(aws, org):
    fails("OperationNotPermittedException", aws.ram(OWNER).enable_sharing_with_aws_organization)
    assert aws.ram(MANAGEMENT).enable_sharing_with_aws_organization()["returnValue"] is True
    assert org.ram_sharing_enabled


def test_an_ou_principal_before_sharing_is_enabled_is_refused(aws, org):
    error = fails("OperationNotPermittedException", share_with, aws, [org.ou_arn(OU)])
    assert "not enabled sharing with your AWS organization" in str(error)


def test_an_ou_principal_reaches_the_accounts_under_it_at_once_with_no_invitation(aws, org):
    org.ram_sharing_enabled = True
    group, share = share_with(aws, [org.ou_arn(OU)])
    [association] = aws.ram().get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[share])["resourceShareAssociations"]
    assert association["associatedEntity"] == org.ou_arn(OU) and association["status"] == "ASSOCIATED"
    assert aws.invitations(CONSUMER) == [] and aws.invitations(OTHER) == []
    assert cross_account_groups(aws, CONSUMER) == [group], "in a child OU of the OU: reached"
    received = aws.ram(CONSUMER).get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert [s["resourceShareArn"] for s in received] == [share]
    listed = aws.ram(CONSUMER).list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert [r["arn"] for r in listed] == [group]
    assert cross_account_groups(aws, OTHER) == []
    aws.sm(CONSUMER).describe_model_package_group(ModelPackageGroupName=group)
    fails("AccessDeniedException", aws.sm(OTHER).describe_model_package_group, ModelPackageGroupName=group)


def test_an_account_moved_out_of_the_ou_loses_what_the_ou_was_given(aws, org):
    org.ram_sharing_enabled = True
    group, _ = share_with(aws, [org.ou_arn(CHILD)])
    assert cross_account_groups(aws, CONSUMER) == [group]
    org.move_account(CONSUMER, OU)
    assert cross_account_groups(aws, CONSUMER) == []


def test_the_organization_principal_reaches_every_member_and_no_outsider(aws, org):
    org.ram_sharing_enabled = True
    org.move_account(OTHER)  # a member now, directly under the root
    group, _ = share_with(aws, [org.arn])
    assert cross_account_groups(aws, CONSUMER) == [group] and cross_account_groups(aws, OTHER) == [group]
    org.accounts.pop(OTHER)
    assert cross_account_groups(aws, OTHER) == []


def test_an_account_of_the_organization_gets_no_invitation_and_one_outside_does(aws, org):
    org.ram_sharing_enabled = True
    group, share = share_with(aws, [CONSUMER, OTHER])
    assert aws.invitations(CONSUMER) == []
    assert [i["resourceShareArn"] for i in aws.invitations(OTHER)] == [share]
    assert cross_account_groups(aws, CONSUMER) == [group] and cross_account_groups(aws, OTHER) == []


@pytest.mark.parametrize("principal", [
    "arn:aws:organizations::999988887777:organization/o-anotherorg1",  # not the owner's organization
    "arn:aws:organizations::123412341234:organization/o-exampleorg1",  # another management account
    "arn:aws:organizations::999988887777:ou/o-exampleorg1/ou-ab12-nosuchou",
])
def test_an_organization_or_ou_that_is_not_the_owners_is_unknown(aws, org, principal):
    org.ram_sharing_enabled = True
    fails("UnknownResourceException", share_with, aws, [principal])


def test_an_owner_outside_every_organization_cannot_name_one(aws, org):
    org.ram_sharing_enabled = True
    org.accounts.pop(OWNER)
    fails("UnknownResourceException", share_with, aws, [org.ou_arn(OU)])


def test_ou_principals_cost_one_principal_association_and_no_invitation_quota(aws, org):
    org.ram_sharing_enabled = True
    _, share = share_with(aws, [CONSUMER])
    aws.ram().associate_resource_share(resourceShareArn=share, principals=[org.ou_arn(OU), org.arn])
    usage = aws.cloud.registry.ram.usage(OWNER, aws.REGION)
    assert usage["pending_invitations_sent"] == 0
    assert usage["principal_associations"] == 3
    aws.ram().disassociate_resource_share(resourceShareArn=share, principals=[org.ou_arn(OU)])
    org.ram_sharing_enabled = False  # taking one off needs no sharing with the organization
    aws.ram().disassociate_resource_share(resourceShareArn=share, principals=[org.arn])
