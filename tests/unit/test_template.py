"""template.yaml as a careful reviewer reads it: least-privilege IAM, failures that never vanish,
and the Role / allowlist / trusted-owner parameters wired as documented."""

from pathlib import Path
from typing import Any

import pytest

from localaws.template import StackTemplate

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = StackTemplate(ROOT / "template.yaml")
RESOURCES = TEMPLATE.document["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}

# Actions whose IAM authorization supports resource-level scoping (Service Authorization
# Reference): a statement granting them must name resources, never "*".
SCOPABLE = {
    "sagemaker:DescribeModelPackageGroup", "sagemaker:GetModelPackageGroupPolicy",
    "sagemaker:PutModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy",
    "ram:AcceptResourceShareInvitation", "ram:AssociateResourceShare", "ram:DisassociateResourceShare",
    "ram:DeleteResourceShare", "ram:PromoteResourceShareCreatedFromPolicy", "ram:PromotePermissionCreatedFromPolicy",
    "ram:ListResourceSharePermissions", "ssm:GetParameter",
}
# Actions that support no resource scoping: "*" is the only resource that works.
UNSCOPABLE = {"sagemaker:ListModelPackageGroups", "ram:GetResourceShares", "ram:GetResourceShareAssociations",
              "ram:GetResourceShareInvitations", "ram:ListPendingInvitationResources"}


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, "inline statements only, no managed policies"
        found.extend(policy["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_policies_are_least_privilege(name):
    granted = statements(FUNCTIONS[name])
    assert granted, f"{name} has no policy"
    for statement in granted:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: wildcard action {action}"
            assert action in SCOPABLE | UNSCOPABLE, f"{name}: {action} is not classified; add it to the test"
            resources = as_list(statement["Resource"])
            if action in SCOPABLE:
                assert "*" not in resources, f"{name}: {action} must be scoped, not '*'"
            else:
                assert resources == ["*"], f"{name}: {action} supports no scoping"


def test_resource_scopes_are_this_account_and_region():
    for name, function in FUNCTIONS.items():
        for statement in statements(function):
            for resource in as_list(statement["Resource"]):
                if isinstance(resource, dict) and "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
                    text = resource["Fn::Sub"]
                    assert "${AWS::Region}" in text, f"{name}: {text}"
                    assert "${AWS::AccountId}" in text or ":*:resource-share-invitation/" in text, f"{name}: {text}"


def test_accepting_is_guarded_by_trusted_owner_condition_when_given():
    accept, = [s for s in statements(FUNCTIONS["AcceptInvitationsFunction"])
               if "ram:AcceptResourceShareInvitation" in as_list(s["Action"])]
    condition = accept["Condition"]["Fn::If"]
    assert condition[0] == "HasTrustedOwners"
    assert condition[1] == {"StringEquals": {"ram:ShareOwnerAccountId": {"Ref": "TrustedOwnerAccounts"}}}
    assert condition[2] == {"Ref": "AWS::NoValue"}
    trusted = TEMPLATE.render("444455556666", "eu-west-1", {"TrustedOwnerAccounts": "111122223333,999988887777"})
    assert trusted.conditions["HasTrustedOwners"]
    assert trusted.resolve({"Ref": "TrustedOwnerAccounts"}) == ["111122223333", "999988887777"]
    assert not TEMPLATE.render("444455556666", "eu-west-1", {}).conditions["HasTrustedOwners"]


def test_only_the_allowlist_parameter_is_readable():
    for parameters, expected in [
        ({}, "arn:aws:ssm:eu-west-1:111122223333:parameter/modelshare/allowlist"),
        ({"ExistingAllowlistParameter": "/org/allowlist"}, "arn:aws:ssm:eu-west-1:111122223333:parameter/org/allowlist"),
        ({"ExistingAllowlistParameter": "arn:aws:ssm:eu-west-1:210987654321:parameter/org/allowlist"},
         "arn:aws:ssm:eu-west-1:210987654321:parameter/org/allowlist"),
    ]:
        stack = TEMPLATE.render("111122223333", "eu-west-1", parameters)
        for name in FUNCTIONS:
            read, = [s for s in statements(RESOURCES[name]) if s["Action"] == "ssm:GetParameter"]
            assert stack.resolve(read["Resource"]) == expected
        created = [r.logical_id for r in stack.resources_of_type("AWS::SSM::Parameter")]
        assert created == ([] if parameters else ["AllowlistParameter"])
        env = {f.logical_id: f.environment["MODELSHARE_ALLOWLIST_PARAMETER"] for f in stack.functions()}
        wanted = parameters.get("ExistingAllowlistParameter", "/modelshare/allowlist")
        assert set(env.values()) == {wanted}


@pytest.mark.parametrize(("role", "functions"), [
    ("owner", {"ShareOnCreateFunction", "PromoteFunction", "OwnerReconcileFunction"}),
    ("consumer", {"AcceptInvitationsFunction"}),
    ("both", {"ShareOnCreateFunction", "PromoteFunction", "OwnerReconcileFunction", "AcceptInvitationsFunction"}),
])
def test_role_selects_functions_and_their_alarms_and_logs(role, functions):
    stack = TEMPLATE.render("111122223333", "eu-west-1", {"Role": role})
    assert {f.logical_id for f in stack.functions()} == functions
    for name in functions:
        assert f"{name}Logs" in stack.resources and f"{name}Errors" in stack.resources


def test_failures_never_vanish():
    for function in FUNCTIONS.values():
        invoke = function["Properties"]["EventInvokeConfig"]
        assert invoke["MaximumRetryAttempts"] == 2
        assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}
        for event_name, event in function["Properties"]["Events"].items():
            assert event["Properties"]["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}, event_name
    queue = RESOURCES["FailedInvocationsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    alarm = RESOURCES["FailedInvocationsAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 0


def test_log_retention_tracing_and_trail_are_parameters():
    for name in FUNCTIONS:
        assert RESOURCES[f"{name}Logs"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert RESOURCES[name]["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}Logs"}
    assert TEMPLATE.document["Globals"]["Function"]["Tracing"] == {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}
    assert {r["Condition"] for n, r in RESOURCES.items() if n.startswith("Trail")} == {"ShouldCreateTrail"}
    assert "Trail" not in TEMPLATE.render("111122223333", "eu-west-1", {}).resources
    assert "Trail" in TEMPLATE.render("111122223333", "eu-west-1", {"CreateTrail": "true"}).resources
