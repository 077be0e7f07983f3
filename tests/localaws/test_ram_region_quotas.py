"""RAM's Region-wide quotas in the local AWS (docs/aws-behaviour.md, RAM-QUOTA-REGION): resource
and principal associations across every share, shares made from policies included; resources
and principals per share; customer managed permissions in all."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from conftest import CUSTOM, DISCOVER

from localaws.services.registry_state import RamQuotas

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"


def fails(expected: str, call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert info.value.response["Error"]["Code"] == expected, info.value
    return info.value


def associations(aws, share: str, kind: str) -> list[dict]:
    return aws.ram().get_resource_share_associations(associationType=kind, resourceShareArns=[share])[
        "resourceShareAssociations"]


def test_a_share_made_from_a_policy_over_the_principal_association_quota_leaves_them_failed(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(principal_associations_per_region=2))
    aws.shared_group("first-model", principals=[CONSUMER, OTHER])  # two principal associations
    _, second = aws.shared_group("second-model", principals=[CONSUMER])
    [principal] = associations(aws, second, "PRINCIPAL")
    assert principal["status"] == "FAILED"
    assert "2 principal associations per Region" in principal["statusMessage"]
    assert [a["status"] for a in associations(aws, second, "RESOURCE")] == ["ASSOCIATED"]
    failed = [e["detail"] for e in aws.ram_events(OWNER) if e["detail"]["status"] == "failed"]
    assert [d["resourceShareArn"] for d in failed] == [second]
    assert aws.cloud.registry.ram.usage(OWNER, "eu-west-1")["principal_associations"] == 2


def test_a_share_made_from_a_policy_over_the_resource_association_quota_holds_nothing(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(resource_associations_per_region=1))
    aws.shared_group("first-model")
    arn, second = aws.shared_group("second-model")
    [resource] = associations(aws, second, "RESOURCE")
    assert resource["status"] == "FAILED" and "1 resource associations per Region" in resource["statusMessage"]
    # A later put does not make a second share for the group: RAM keeps the one it made.
    aws.put_policy("second-model", arn, [CONSUMER, OTHER])
    aws.clock.sleep(20)
    shares = {s["resourceShareArn"] for s in aws.ram().get_resource_share_associations(
        associationType="RESOURCE", resourceArn=arn)["resourceShareAssociations"]}
    assert shares == {second}


def test_promoting_at_the_principal_association_quota_keeps_its_principals(aws_with):
    """Promotion turns the share's principals into invitations: no new association, no failure."""
    aws = aws_with(ram_quotas=RamQuotas(principal_associations_per_region=1))
    _, share = aws.promoted_group()
    assert [a["status"] for a in associations(aws, share, "PRINCIPAL")] == ["ASSOCIATING"]


def test_associating_over_the_principal_association_quota_fails_until_one_is_gone(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(principal_associations_per_region=2))
    aws.shared_group("first-model")  # one principal association, made from a policy
    _, share = aws.promoted_group("second-model")  # the second
    error = fails("ResourceShareLimitExceededException", aws.ram().associate_resource_share,
                  resourceShareArn=share, principals=[OTHER])
    assert "2 principal associations per Region" in str(error)
    assert [a["associatedEntity"] for a in associations(aws, share, "PRINCIPAL")] == [CONSUMER]
    aws.sm().delete_model_package_group_policy(ModelPackageGroupName="first-model")
    aws.clock.sleep(20)  # RAM retires the share made from the policy
    aws.ram().associate_resource_share(resourceShareArn=share, principals=[OTHER])


def test_a_resource_in_several_shares_counts_once_per_share(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(resource_associations_per_region=3))
    first, second = aws.group("churn-a"), aws.group("churn-b")
    aws.ram().create_resource_share(name="one", resourceArns=[first, second])
    aws.ram().create_resource_share(name="two", resourceArns=[first])
    error = fails("ResourceShareLimitExceededException", aws.ram().create_resource_share,
                  name="three", resourceArns=[second])
    assert "3 resource associations per Region" in str(error)
    share = aws.ram().create_resource_share(name="four")["resourceShare"]["resourceShareArn"]
    fails("ResourceShareLimitExceededException", aws.ram().associate_resource_share,
          resourceShareArn=share, resourceArns=[second])
    assert aws.cloud.registry.ram.usage(OWNER, "eu-west-1")["resource_associations"] == 3


def test_a_share_holds_at_most_its_quota_of_resources_and_principals(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(resources_per_share=2, principals_per_share=1))
    arns = [aws.group(f"model-{i}") for i in range(3)]
    fails("ResourceShareLimitExceededException", aws.ram().create_resource_share, name="big", resourceArns=arns)
    share = aws.ram().create_resource_share(name="ok", resourceArns=arns[:2], principals=[CONSUMER])[
        "resourceShare"]["resourceShareArn"]
    fails("ResourceShareLimitExceededException", aws.ram().associate_resource_share,
          resourceShareArn=share, resourceArns=[arns[2]])
    fails("ResourceShareLimitExceededException", aws.ram().associate_resource_share,
          resourceShareArn=share, principals=[OTHER])
    # Associating what the share already holds adds nothing.
    aws.ram().associate_resource_share(resourceShareArn=share, resourceArns=arns[:1])


def test_customer_managed_permissions_in_all_are_limited(aws_with):
    aws = aws_with(ram_quotas=RamQuotas(customer_managed_permissions_per_region=1))
    [group_type] = [t["resourceType"] for t in aws.ram().list_resource_types()["resourceTypes"]
                    if t["resourceType"].lower() == "sagemaker:modelpackagegroup"]
    template = '{"Effect": "Allow", "Action": ["sagemaker:DescribeModelPackageGroup"]}'
    aws.ram().create_permission(name="One", resourceType=group_type, policyTemplate=template)
    error = fails("PermissionLimitExceededException", aws.ram().create_permission, name="Two",
                  resourceType=group_type, policyTemplate=template)
    assert "1 customer managed permissions in eu-west-1" in str(error)
    _, share = aws.shared_group(actions=CUSTOM)
    fails("PermissionLimitExceededException", aws.ram().promote_permission_created_from_policy,
          permissionArn=aws.share_permission(share)["arn"], name="Three")


def test_usage_reports_every_region_count(aws_with):
    aws = aws_with()
    aws.shared_group("first-model", principals=[CONSUMER, OTHER], actions=DISCOVER)
    usage = aws.cloud.registry.ram.usage(OWNER, "eu-west-1")
    assert usage == {"customer_managed_permissions": 0, "resource_shares": 1, "pending_invitations_sent": 0,
                     "resource_associations": 1, "principal_associations": 2}
