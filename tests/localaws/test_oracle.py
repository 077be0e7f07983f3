"""The safety oracle judges actions, who made a share and who wrote a statement (issue 19): a
function's call is faked by setting the running function on the cloud, as the Lambda emulator does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from localaws.harness.oracle import SafetyOracle

MODELSHARE_SID = "ModelshareCrossAccountShare"
PARAMETER = "/modelshare/allowlist"


@pytest.fixture
def judged(aws: Any) -> tuple[Any, SafetyOracle]:
    oracle = SafetyOracle(aws.cloud, aws.REGION, {aws.OWNER: PARAMETER, aws.CONSUMER: PARAMETER})
    rule = {"owner": aws.OWNER, "groups": ["churn-*"], "consumers": [aws.CONSUMER], "access": ["discover"]}
    for account in (aws.OWNER, aws.CONSUMER):
        aws.client("ssm", account).put_parameter(Name=PARAMETER, Type="String", Overwrite=True,
                                                 Value=json.dumps({"version": 1, "shares": [rule]}))
    return aws, oracle


@contextmanager
def as_function(aws: Any, account: str, function: str = "OwnerReconcileFunction") -> Iterator[None]:
    """Calls made inside are the function's, in one invocation that first reads the allowlist."""
    aws.cloud.caller, aws.cloud.invocation = function, f"{function}-request#1"
    try:
        aws.client("ssm", account).get_parameter(Name=PARAMETER)
        yield
    finally:
        aws.cloud.caller = aws.cloud.invocation = None


def statement(aws: Any, group: str, sid: str, actions: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": aws.CONSUMER}, "Action": actions,
            "Resource": [f"arn:aws:sagemaker:{aws.REGION}:{aws.OWNER}:model-package-group/{group}"]}


def test_a_persons_statement_with_modelshares_sid_is_the_persons(judged: Any) -> None:
    aws, oracle = judged
    aws.group("churn-a")
    theirs = statement(aws, "churn-a", MODELSHARE_SID, ["sagemaker:DescribeModelPackageGroup"])
    aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a",
                                            ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]}))
    mine = statement(aws, "churn-a", MODELSHARE_SID, ["sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"])
    with as_function(aws, aws.OWNER):  # it read the person's statement, then overwrote it
        aws.sm().get_model_package_group_policy(ModelPackageGroupName="churn-a")
        aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a",
                                                ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [mine]}))
    assert len(oracle.violations) == 1 and "dropped or changed a person's statement on churn-a" in oracle.violations[0]


def test_modelshares_statement_a_person_carried_over_stays_modelshares(judged: Any) -> None:
    aws, oracle = judged
    aws.group("churn-a")
    mine = statement(aws, "churn-a", MODELSHARE_SID, ["sagemaker:DescribeModelPackageGroup"])
    with as_function(aws, aws.OWNER, "ShareOnCreateFunction"):
        aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a",
                                                ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [mine]}))
    theirs = {**statement(aws, "churn-a", "Auditor", ["sagemaker:DescribeModelPackage"]), "Principal": {"AWS": "777788889999"}}
    aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a", ResourcePolicy=json.dumps(
        {"Version": "2012-10-17", "Statement": [theirs, mine]}))
    with as_function(aws, aws.OWNER):  # modelshare drops its own statement, keeps the auditor's
        aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a",
                                                ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]}))
        aws.sm().delete_model_package_group_policy(ModelPackageGroupName="churn-a")
    assert oracle.violations == [
        f"{oracle.violations[0].split(' ')[0]} [{aws.OWNER}] OwnerReconcileFunction DeleteModelPackageGroupPolicy: "
        "deleted the policy of churn-a, which holds a person's statements"]


def test_a_policy_granting_more_than_the_access_is_a_violation(judged: Any) -> None:
    aws, oracle = judged
    aws.group("churn-a")
    wide = statement(aws, "churn-a", MODELSHARE_SID, ["sagemaker:DescribeModelPackageGroup", "sagemaker:CreateModel"])
    with as_function(aws, aws.OWNER, "ShareOnCreateFunction"):
        aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a",
                                                ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [wide]}))
    assert [v.split(": ", 1)[1] for v in oracle.violations] == [
        "granted sagemaker:createmodel on churn-a, beyond the access the allowlist it read gives"]


def deploy_permission(aws: Any) -> str:
    permissions = aws.ram().list_permissions()["permissions"]
    return next(p["arn"] for p in permissions if "sagemaker:createmodel" in aws.ram().get_permission(
        permissionArn=p["arn"])["permission"]["permission"].lower())


def test_a_function_changing_a_share_a_person_made_and_tagged_is_a_violation(judged: Any) -> None:
    aws, oracle = judged
    arn = aws.group("churn-a")
    share = aws.ram().create_resource_share(name="mine", resourceArns=[arn])["resourceShare"]["resourceShareArn"]
    aws.ram().tag_resource(resourceShareArn=share, tags=[{"key": "modelshare:managed", "value": "true"}])
    with as_function(aws, aws.OWNER):
        aws.ram().associate_resource_share(resourceShareArn=share, principals=[aws.CONSUMER])
    assert len(oracle.violations) == 1
    assert f"changed {share} (mine), a share a person made; people changed it: TagResource" in oracle.violations[0]


def test_sharing_under_a_wider_permission_is_a_violation_on_modelshares_own_share(judged: Any) -> None:
    aws, oracle = judged
    arn = aws.group("churn-a")
    with as_function(aws, aws.OWNER):
        share = aws.ram().create_resource_share(name="modelshare", resourceArns=[arn], principals=[aws.CONSUMER],
                                                permissionArns=[deploy_permission(aws)])["resourceShare"]
    assert [v.split(": ", 1)[1] for v in oracle.violations] == [
        "shared churn-a granting sagemaker:createmodel, sagemaker:updatemodelpackage, beyond the access the "
        "allowlist it read gives"]
    with as_function(aws, aws.OWNER):  # its own share: changing it is no violation in itself
        aws.ram().disassociate_resource_share(resourceShareArn=share["resourceShareArn"], principals=[aws.CONSUMER])
    assert len(oracle.violations) == 1


def test_a_group_a_persons_statement_keeps_from_promotion_is_not_unconverged(judged: Any) -> None:
    """A person's statement naming a role (no account grant) stands beside modelshare's: RAM cannot
    promote the two, so the allowed group rightly stays undiscovered (found by CI, world seed 738)."""
    aws, oracle = judged
    aws.group("churn-a")
    aws.group("churn-b")
    role = {**statement(aws, "churn-a", "PersonWrote0", ["sagemaker:DescribeModelPackage"]),
            "Principal": {"AWS": f"arn:aws:iam::{aws.CONSUMER}:role/ml-reader"}}
    aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-a",
                                            ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [role]}))
    assert oracle.ledger.person_grants_for(aws.OWNER, "churn-a") == set()  # a role is no account grant
    verdict = oracle.judge_final_state([aws.OWNER, aws.CONSUMER], [], [])
    # churn-b, with nothing of a person's in the way, is still judged unconverged: the exemption is narrow.
    assert verdict["unconverged"] == [f"final: {aws.OWNER}'s churn-b is not discoverable by {aws.CONSUMER} "
                                      "though the final allowlists allow it (not converged)"]


def test_a_share_the_owner_allowed_and_a_person_accepted_by_hand_is_the_persons(judged: Any) -> None:
    """The consumer's own allowlist refuses what the owner's grants; a person there accepts by hand.
    The owner side shared rightly and the consumer side cannot leave: no violation of modelshare's
    (found by a long-profile insider world, seed 72995). Where the owner's allowlist did not grant it
    either, the hand accept excuses nothing."""
    aws, oracle = judged
    aws.client("ssm", aws.CONSUMER).put_parameter(Name=PARAMETER, Type="String", Overwrite=True,
                                                  Value=json.dumps({"version": 1, "shares": []}))
    for name in ("churn-a", "fraud"):
        with as_function(aws, aws.OWNER):
            aws.ram().create_resource_share(name=f"modelshare-{name}", resourceArns=[aws.group(name)],
                                            principals=[aws.CONSUMER])
    # fraud was never the owner's to share: judged when shared, and again at the end
    assert oracle.violations and all("shared fraud" in v for v in oracle.violations)
    for invitation in aws.invitations():
        aws.ram(aws.CONSUMER).accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    verdict = oracle.judge_final_state([aws.OWNER, aws.CONSUMER], [], [])
    final = [v for v in verdict["violations"] if v.startswith("final:")]
    assert f"final: {aws.CONSUMER} discovers {aws.OWNER}'s fraud, which the final allowlists do not allow" in final
    assert not [v for v in final if "churn-a" in v]


def test_a_persons_own_share_with_an_ou_is_the_persons_grant(judged: Any) -> None:
    """A person shares a group no rule names with an OU the consumer is in (their own share, within
    ordinary rights): what the consumer can then do is the person's grant, not modelshare's beyond
    the allowlist (found by the insider scenario a-person-widens-a-made-share). The grant reaches
    only the OU's accounts: an account is judged by the organization and OUs it is in."""
    from localaws.services.organizations.api import OrganizationModel

    aws, oracle = judged
    organization = OrganizationModel("o-exampleorg1", "999988887777", ram_sharing_enabled=True)
    ou = organization.add_ou("ou-ab12-examplou")
    organization.move_account(aws.OWNER)
    organization.move_account(aws.CONSUMER, "ou-ab12-examplou")
    aws.cloud.registry.state.organization = organization
    aws.ram().create_resource_share(name="teams-own", resourceArns=[aws.group("private")], principals=[ou])
    assert oracle.ledger.person_allows(aws.OWNER, "private", aws.CONSUMER, "sagemaker:DescribeModelPackageGroup",
                                       frozenset({ou}))
    assert not oracle.ledger.person_allows(aws.OWNER, "private", aws.CONSUMER, "sagemaker:DescribeModelPackageGroup")
    verdict = oracle.judge_final_state([aws.OWNER, aws.CONSUMER], [], [])
    assert not [v for v in verdict["violations"] if "private" in v], verdict["violations"]
