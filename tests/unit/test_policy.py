from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from tests.unit.fakes import CONSUMER, OTHER, group_arn

ARN = group_arn("churn-xgb")
DISCOVER = ACCESS_ACTIONS["discover"]
FOREIGN = {"Sid": "TeamReadAccess", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
           "Action": ["sagemaker:DescribeModelPackageGroup"], "Resource": ARN}


def test_statement_is_promotable_shape():
    statement = policies.modelshare_statement(ARN, [CONSUMER, CONSUMER], ACCESS_ACTIONS["discover"])
    assert statement["Sid"] == policies.MODELSHARE_SID
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{CONSUMER}:root"]}, "deduplicated account principals"
    assert statement["Resource"] == [ARN, "arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn-xgb/*"]
    assert "Condition" not in statement and "*" not in statement["Action"]
    assert policies.assess({"Version": "2012-10-17", "Statement": [statement]}, [CONSUMER], DISCOVER).promotable


def test_merge_keeps_foreign_statements_and_replaces_only_ours():
    old_ours = policies.modelshare_statement(ARN, [OTHER], DISCOVER)
    new_ours = policies.modelshare_statement(ARN, [CONSUMER], DISCOVER)
    owned = {policies.statement_digest(old_ours), policies.statement_digest(new_ours)}
    merged = policies.merge({"Version": "2012-10-17", "Statement": [FOREIGN, old_ours]}, new_ours, owned)
    assert merged["Statement"] == [FOREIGN, new_ours]
    assert policies.merge(None, new_ours, owned) == {"Version": "2012-10-17", "Statement": [new_ours]}
    assert policies.merge({"Version": "2012-10-17", "Statement": [new_ours]}, None, owned) is None
    assert policies.merge({"Version": "2012-10-17", "Statement": FOREIGN}, None, owned)["Statement"] == [FOREIGN]


def test_a_statement_under_modelshare_s_sid_is_its_own_only_when_the_ledger_recorded_it():
    """Issue 19, item 7: a Sid is a name anyone can type. A person's statement under modelshare's
    Sid is kept as written; modelshare's own (recorded) one is recognised whatever form SageMaker
    hands it back in."""
    ours = policies.modelshare_statement(ARN, [CONSUMER], DISCOVER)
    persons = {**ours, "Principal": {"AWS": [f"arn:aws:iam::{OTHER}:root"]}}
    owned = {policies.statement_digest(ours)}
    assert not policies.is_ours(persons, owned) and policies.sid_taken({"Statement": [persons]}, owned)
    assert policies.merge({"Version": "2012-10-17", "Statement": [persons]}, None, owned) == \
        {"Version": "2012-10-17", "Statement": [persons]}
    # The same statement as SageMaker may hand it back: single values as strings, an account ID,
    # actions in another case and order.
    reshaped = {**ours, "Principal": {"AWS": CONSUMER}, "Action": [a.upper() for a in reversed(ours["Action"])]}
    assert policies.is_ours(reshaped, owned) and not policies.sid_taken({"Statement": [reshaped]}, owned)
    assert not policies.is_ours({**ours, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, owned)


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


def assessment_problems(statement, allowed=(CONSUMER,), actions=DISCOVER):
    return policies.assess({"Version": "2012-10-17", "Statement": [statement]}, allowed, actions).problems


def test_not_promotable_reasons():
    base = policies.modelshare_statement(ARN, [CONSUMER], ACCESS_ACTIONS["discover"])
    role = {**base, "Principal": {"AWS": ["arn:aws:iam::444455556666:role/reader"]}}
    assert "is not an account" in assessment_problems(role)[0]
    assert "wildcard action" in assessment_problems({**base, "Action": "*"})[0]
    assert "wildcard action" in assessment_problems({**base, "Action": ["sagemaker:Describe*"]})[0]
    assert "Condition" in assessment_problems({**base, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}})[0]
    assert "not allowlisted" in assessment_problems(base, allowed=())[0]
    assert "not an Allow" in assessment_problems({**base, "Effect": "Deny"})[0]
    assert "single statement" in policies.assess({"Statement": [base, FOREIGN]}, [CONSUMER, OTHER], DISCOVER).problems[0]
    assert policies.assess(None, [CONSUMER], DISCOVER).problems == ("the policy has no statement",)


def test_a_statement_granting_more_than_the_allowlist_s_access_is_not_promotable():
    """Issue 19, item 3: promotion hands consumers exactly the statement's actions, so a
    statement granting deploy to an account the allowlist gives discover is never promoted."""
    deploy = policies.modelshare_statement(ARN, [CONSUMER], [*DISCOVER, *ACCESS_ACTIONS["deploy"]])
    problems = assessment_problems(deploy)
    assert any("sagemaker:CreateModel" in p and "beyond the allowlist" in p for p in problems), problems
    assert assessment_problems(deploy, actions=(*DISCOVER, *ACCESS_ACTIONS["deploy"])) == ()
    assert assessment_problems({**deploy, "Action": ["SAGEMAKER:describemodelpackagegroup"]}) == ()
