from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from tests.unit.fakes import CONSUMER, OTHER, group_arn

ARN = group_arn("churn-xgb")
FOREIGN = {"Sid": "TeamReadAccess", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
           "Action": ["sagemaker:DescribeModelPackageGroup"], "Resource": ARN}


def test_statement_is_promotable_shape():
    statement = policies.modelshare_statement(ARN, [CONSUMER, CONSUMER], ACCESS_ACTIONS["discover"])
    assert statement["Sid"] == policies.MODELSHARE_SID
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{CONSUMER}:root"]}, "deduplicated account principals"
    assert statement["Resource"] == [ARN, "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn-xgb/*"]
    assert "Condition" not in statement and "*" not in statement["Action"]
    assert policies.assess({"Version": "2012-10-17", "Statement": [statement]}, [CONSUMER]).promotable


def test_merge_keeps_foreign_statements_and_replaces_only_ours():
    old_ours = policies.modelshare_statement(ARN, [OTHER], ACCESS_ACTIONS["discover"])
    new_ours = policies.modelshare_statement(ARN, [CONSUMER], ACCESS_ACTIONS["discover"])
    merged = policies.merge({"Version": "2012-10-17", "Statement": [FOREIGN, old_ours]}, new_ours)
    assert merged["Statement"] == [FOREIGN, new_ours]
    assert policies.merge(None, new_ours) == {"Version": "2012-10-17", "Statement": [new_ours]}
    assert policies.merge({"Version": "2012-10-17", "Statement": [new_ours]}, None) is None
    assert policies.merge({"Version": "2012-10-17", "Statement": FOREIGN}, None)["Statement"] == [FOREIGN]


def test_same_policy_ignores_key_order_only():
    a = {"Version": "2012-10-17", "Statement": [FOREIGN]}
    b = {"Statement": [dict(reversed(list(FOREIGN.items())))], "Version": "2012-10-17"}
    assert policies.same_policy(a, b)
    assert not policies.same_policy(a, {"Version": "2012-10-17", "Statement": [{**FOREIGN, "Sid": "x"}]})


def test_account_of_principal():
    assert policies.account_of("444455556666") == "444455556666"
    assert policies.account_of("arn:aws:iam::444455556666:root") == "444455556666"
    assert policies.account_of("arn:aws:iam::444455556666:role/reader") is None
    assert policies.account_of("*") is None


def assessment_problems(statement, allowed=(CONSUMER,)):
    return policies.assess({"Version": "2012-10-17", "Statement": [statement]}, allowed).problems


def test_not_promotable_reasons():
    base = policies.modelshare_statement(ARN, [CONSUMER], ACCESS_ACTIONS["discover"])
    role = {**base, "Principal": {"AWS": ["arn:aws:iam::444455556666:role/reader"]}}
    assert "is not an account" in assessment_problems(role)[0]
    assert "wildcard action" in assessment_problems({**base, "Action": "*"})[0]
    assert "wildcard action" in assessment_problems({**base, "Action": ["sagemaker:Describe*"]})[0]
    assert "Condition" in assessment_problems({**base, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}})[0]
    assert "not allowlisted" in assessment_problems(base, allowed=())[0]
    assert "not an Allow" in assessment_problems({**base, "Effect": "Deny"})[0]
    assert "single statement" in policies.assess({"Statement": [base, FOREIGN]}, [CONSUMER, OTHER]).problems[0]
    assert policies.assess(None, [CONSUMER]).problems == ("the policy has no statement",)
