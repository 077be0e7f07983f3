"""The local AWS refuses account IDs that only look right (issue 19, "Strict means strict"): twelve
characters Python reads as digits that are not ASCII digits are no account, in a policy's
principal, a share's principals, or an ARN (docs/aws-behaviour.md, SM-POLICY-PRINCIPAL,
RAM-PRINCIPAL-ID, RAM-ARN-ACCOUNT)."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

from localaws.core import wire
from localaws.runtime.cloud import LocalCloud

OWNER, CONSUMER = "111122223333", "444455556666"
LOOKALIKES = ["44445555666\uff16", "\u0661\u0661\u0661\u0661\u0662\u0662\u0662\u0662\u0663\u0663\u0663\u0663"]


def fails(expected: str, call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert info.value.response["Error"]["Code"] == expected, info.value
    return info.value


@pytest.mark.parametrize("lookalike", LOOKALIKES)
@pytest.mark.parametrize("form", ["{}", "arn:aws:iam::{}:root", "arn:aws:iam::{}:role/reader"])
def test_a_policy_principal_in_a_lookalike_account_is_refused(aws, lookalike, form):
    arn = aws.group("churn-model")
    error = fails("ValidationException", aws.sm().put_model_package_group_policy, ModelPackageGroupName="churn-model",
                  ResourcePolicy=aws.policy(arn, [CONSUMER, form.format(lookalike)]))
    assert "Invalid principal" in error.response["Error"]["Message"]
    fails("ValidationException", aws.sm().get_model_package_group_policy, ModelPackageGroupName="churn-model")


@pytest.mark.parametrize("principal", ["4444555566667", "arn:aws:iam::44445555666:root", "arn:aws:iam::444455556666:",
                                       "arn:aws:iam::444455556666:group/readers", "AROAEXAMPLEUNIQUEID0"])
def test_a_policy_principal_that_names_no_account_or_identity_is_refused(aws, principal):
    """Stricter reading (UNVERIFIED, SM-POLICY-PRINCIPAL): an account, its root, a role, a user or a
    role session; nothing else."""
    arn = aws.group("churn-model")
    fails("ValidationException", aws.sm().put_model_package_group_policy, ModelPackageGroupName="churn-model",
          ResourcePolicy=aws.policy(arn, [principal]))


def test_policy_principals_of_every_documented_form_are_taken(aws):
    arn = aws.group("churn-model")
    principals = [CONSUMER, f"arn:aws:iam::{OWNER}:root", f"arn:aws:iam::{CONSUMER}:role/team/reader",
                  f"arn:aws:iam::{CONSUMER}:user/alice", f"arn:aws:sts::{CONSUMER}:assumed-role/reader/alice"]
    aws.sm().put_model_package_group_policy(ModelPackageGroupName="churn-model",
                                            ResourcePolicy=aws.policy(arn, principals))
    stored = json.loads(aws.sm().get_model_package_group_policy(ModelPackageGroupName="churn-model")["ResourcePolicy"])
    assert stored["Statement"][0]["Principal"]["AWS"] == principals


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_ram_refuses_a_lookalike_account_as_a_principal(aws, lookalike):
    group = aws.group("churn-model")
    fails("InvalidParameterException", aws.ram().create_resource_share, name="hand-made", resourceArns=[group],
          principals=[lookalike])
    assert aws.ram().get_resource_shares(resourceOwner="SELF")["resourceShares"] == []
    share = aws.ram().create_resource_share(name="hand-made", resourceArns=[group],
                                            principals=[CONSUMER])["resourceShare"]["resourceShareArn"]
    fails("InvalidParameterException", aws.ram().associate_resource_share, resourceShareArn=share,
          principals=[lookalike])
    fails("InvalidParameterException", aws.ram().disassociate_resource_share, resourceShareArn=share,
          principals=[lookalike])
    principals = aws.ram().get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[share])
    assert [a["associatedEntity"] for a in principals["resourceShareAssociations"]] == [CONSUMER]


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_ram_refuses_arns_whose_account_only_looks_right(aws, lookalike):
    group = aws.group("churn-model")
    share = aws.ram().create_resource_share(name="hand-made", resourceArns=[group],
                                            principals=[CONSUMER])["resourceShare"]["resourceShareArn"]
    forged_share = share.replace(f":{OWNER}:", f":{lookalike}:")
    forged_group = group.replace(f":{OWNER}:", f":{lookalike}:")
    invitation = aws.invitations()[0]["resourceShareInvitationArn"]
    fails("MalformedArnException", aws.ram().associate_resource_share, resourceShareArn=forged_share,
          principals=[CONSUMER])
    fails("MalformedArnException", aws.ram().associate_resource_share, resourceShareArn=share,
          resourceArns=[forged_group])
    fails("MalformedArnException", aws.ram().delete_resource_share, resourceShareArn=forged_share)
    fails("MalformedArnException", aws.ram(CONSUMER).accept_resource_share_invitation,
          resourceShareInvitationArn=invitation.replace(f":{OWNER}:", f":{lookalike}:"))
    assert aws.share(share)["status"] == "ACTIVE"


def test_the_local_cloud_takes_only_ascii_account_ids():
    with LocalCloud() as cloud:
        for lookalike in LOOKALIKES:
            with pytest.raises(ValueError, match="12 digits"):
                cloud.add_account(lookalike)
        assert cloud.accounts == []


def test_the_model_s_patterns_read_digits_and_word_characters_as_java_does():
    """botocore's patterns are Java regular expressions, where the digit and word classes are ASCII
    only; in Python they take any Unicode digit or letter unless told otherwise."""
    events = botocore.session.get_session().get_service_model("events")
    account_shape = events.shape_for("AccountId")
    assert account_shape.metadata["pattern"] == "\\d{12}"
    assert wire.violations(account_shape, OWNER) == []
    for lookalike in LOOKALIKES:
        assert wire.violations(account_shape, lookalike), lookalike
    name_shape = botocore.session.get_session().get_service_model("ram").shape_for("PermissionName")
    assert wire.violations(name_shape, "Model_Share-1") == []
    assert wire.violations(name_shape, "na\u00efve")
