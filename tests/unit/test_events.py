"""Event parsing and the template's rule patterns, against the samples in events/."""

import copy
import json
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from localaws.runtime.template import StackTemplate
from modelshare.events import (
    EventBridgeEvent,
    UnsupportedEvent,
    group_from_cloudtrail,
    is_ram_failure,
    require_ram_event,
    require_sweep_trigger,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {p.stem: json.loads(p.read_text()) for p in (ROOT / "events").glob("*.json")}


def sample(name, **detail_changes):
    event = copy.deepcopy(SAMPLES[name])
    event["detail"].update(detail_changes)
    return event


def routed_to(event, role="both", stack_account=None, **parameters) -> set[str]:
    stack = StackTemplate(ROOT / "template.yaml").render(stack_account or event["account"], event["region"],
                                                         {"Role": role, **parameters})
    direct = {fn.logical_id for fn in stack.functions()
              if any(EventPattern.load(json.dumps(p)).matches_event(event) for p in fn.patterns)}
    # Rules that feed a queue, and the functions that queue's event source mapping invokes.
    queues = {queue for rule in stack.rules() if EventPattern.load(json.dumps(rule.pattern)).matches_event(event)
              for queue in rule.queue_arns}
    return direct | {fn.logical_id for fn in stack.functions() if any(s.queue_arn in queues for s in fn.queue_sources)}


def test_each_sample_event_reaches_its_function():
    assert set(SAMPLES) == {"group_created", "policy_put", "ram_state_change", "group_deleted", "allowlist_changed",
                            "scheduled", "version_approved"}
    assert routed_to(SAMPLES["version_approved"]) == {"ForwardVersionsFunction"}
    # Every approval status reaches it (an allowlist rule may ask for it: `versions`); nothing else.
    for status, function in (("PendingManualApproval", {"ForwardVersionsFunction"}),
                             ("Rejected", {"ForwardVersionsFunction"}), ("Deleted", set())):
        changed = {**SAMPLES["version_approved"], "detail": {**SAMPLES["version_approved"]["detail"],
                                                             "ModelApprovalStatus": status}}
        assert routed_to(changed) == function, status
    assert routed_to(SAMPLES["group_created"]) == {"ShareOnCreateFunction"}
    assert routed_to(SAMPLES["policy_put"]) == {"PromoteFunction"}
    assert routed_to(SAMPLES["ram_state_change"]) == {"PromoteFunction", "AcceptInvitationsFunction"}
    assert routed_to(SAMPLES["group_deleted"]) == {"OwnerReconcileFunction"}
    assert routed_to(SAMPLES["allowlist_changed"]) == {"OwnerReconcileFunction", "AcceptInvitationsFunction"}
    other_parameter = {**SAMPLES["allowlist_changed"], "detail": {**SAMPLES["allowlist_changed"]["detail"], "name": "/other"}}
    assert routed_to(other_parameter) == set()
    # A schedule targets its function directly; no pattern matches it.
    assert routed_to(SAMPLES["scheduled"]) == set()


def test_every_rule_and_schedule_has_a_sample_its_handler_accepts():
    stack = StackTemplate(ROOT / "template.yaml").render("111122223333", "eu-west-1", {})
    schedules = {fn.logical_id for fn in stack.functions() if fn.schedules}
    assert schedules == {"OwnerReconcileFunction", "AcceptInvitationsFunction", "ForwardVersionsFunction"}
    for name in ("allowlist_changed", "scheduled", "ram_state_change"):
        assert require_sweep_trigger(EventBridgeEvent(SAMPLES[name]), "/modelshare/allowlist") in (
            "allowlist-change", "schedule", "ram")
    assert group_from_cloudtrail(EventBridgeEvent(SAMPLES["group_deleted"]), "DeleteModelPackageGroup") == "churn-xgb"
    with pytest.raises(UnsupportedEvent, match="not the allowlist"):
        require_sweep_trigger(EventBridgeEvent(SAMPLES["allowlist_changed"]), "/another/parameter")


CENTRAL = "210987654321"


@pytest.mark.parametrize(("parameter", "names", "owner"), [
    ("", ["/modelshare/allowlist", "modelshare/allowlist"], "111122223333"),
    ("/org/allowlist", ["/org/allowlist", "org/allowlist"], "111122223333"),
    ("arn:aws:ssm:eu-west-1:111122223333:parameter/org/allowlist", ["/org/allowlist", "org/allowlist"], "111122223333"),
    ("arn:aws:ssm:eu-west-1:111122223333:parameter/flat", ["/flat", "flat"], "111122223333"),
    (f"arn:aws:ssm:eu-west-1:{CENTRAL}:parameter/org/allowlist", ["/org/allowlist", "org/allowlist"], CENTRAL),
], ids=["created", "name", "arn", "arn-of-one-level-name", "arn-of-another-account"])
def test_the_allowlist_change_rule_matches_what_parameter_store_sends(parameter, names, owner):
    """Change events name the parameter (with or without its leading '/': UNVERIFIED), never its
    ARN, and come from the account that owns it: the rule matches those, whether the stack got a
    name or an ARN."""
    chosen = {"ExistingAllowlistParameter": parameter} if parameter else {}
    configured = parameter or "/modelshare/allowlist"
    for name in names:
        event = copy.deepcopy(SAMPLES["allowlist_changed"]) | {"account": owner}
        event["detail"]["name"] = name
        event["resources"] = [f"arn:aws:ssm:eu-west-1:{owner}:parameter/{name.lstrip('/')}"]
        assert routed_to(event, stack_account="111122223333", **chosen) == {
            "OwnerReconcileFunction", "AcceptInvitationsFunction"}
        assert require_sweep_trigger(EventBridgeEvent(event), configured) == "allowlist-change"
        if parameter.startswith("arn:"):
            # A parameter of the same name in another account is another parameter.
            elsewhere = event | {"account": "999988887777"}
            assert routed_to(elsewhere, stack_account="111122223333", **chosen) == set()
            with pytest.raises(UnsupportedEvent, match="is not the allowlist"):
                require_sweep_trigger(EventBridgeEvent(elsewhere), configured)
            # And no event names a parameter by its ARN.
            by_arn = copy.deepcopy(event)
            by_arn["detail"]["name"] = parameter
            assert routed_to(by_arn, stack_account="111122223333", **chosen) == set()


def test_role_selects_functions():
    assert routed_to(SAMPLES["ram_state_change"], role="consumer") == {"AcceptInvitationsFunction"}
    assert routed_to(SAMPLES["ram_state_change"], role="owner") == {"PromoteFunction"}
    assert routed_to(SAMPLES["group_created"], role="consumer") == set()


@pytest.mark.parametrize("name", ["group_created", "policy_put"])
def test_rules_ignore_failed_calls_versions_and_other_services(name):
    failed = sample(name, errorCode="ValidationException", errorMessage="no")
    version = sample(name, eventName="CreateModelPackage")
    other_service = copy.deepcopy(SAMPLES[name]) | {"source": "aws.s3"}
    other_source = sample(name, eventSource="s3.amazonaws.com")
    native_version_event = {**SAMPLES[name], "detail-type": "SageMaker Model Package State Change",
                            "detail": {"ModelPackageGroupName": "churn-xgb", "ModelApprovalStatus": "Approved"}}
    for event in (failed, version, other_service, other_source):
        assert routed_to(event) == set()
    assert routed_to(native_version_event) == {"ForwardVersionsFunction"}  # its own function, nothing else


def test_group_name_from_cloudtrail_event():
    assert group_from_cloudtrail(EventBridgeEvent(SAMPLES["group_created"]), "CreateModelPackageGroup") == "churn-xgb"
    by_arn_only = sample("group_created", requestParameters={})
    assert group_from_cloudtrail(EventBridgeEvent(by_arn_only), "CreateModelPackageGroup") == "churn-xgb"
    pascal = sample("group_created", requestParameters={"ModelPackageGroupName": "fraud-1"}, responseElements=None)
    assert group_from_cloudtrail(EventBridgeEvent(pascal), "CreateModelPackageGroup") == "fraud-1"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (sample("group_created", errorCode="AccessDenied"), "failed"),
        (sample("group_created", eventName="DeleteModelPackageGroup"), "expected CreateModelPackageGroup"),
        (sample("group_created", requestParameters={}, responseElements={}), "names no model package group"),
        (sample("group_created", requestParameters={"modelPackageGroupName": "bad name!"}), "not a model package group name"),
        (sample("group_created", requestParameters={},
                responseElements={"modelPackageGroupArn": "arn:aws:sagemaker:eu-west-1:999988887777:model-package-group/x"}),
         "another account"),
        (sample("group_created", recipientAccountId="999988887777"), "another account"),
        # Regression (issue 9 fuzzing): a group named only by the ARN of another region's group.
        (sample("group_created", requestParameters={},
                responseElements={"modelPackageGroupArn": "arn:aws:sagemaker:us-east-1:111122223333:model-package-group/x"}),
         "another account or region"),
        # Regression (issue 9 fuzzing): request and response that are not objects name nothing
        # (they raised AttributeError, an invocation failure retried, not a refusal).
        (sample("group_created", requestParameters="churn-xgb", responseElements=["churn-xgb"]), "names no model package group"),
        ({**SAMPLES["group_created"], "source": "aws.ram"}, "expected aws.sagemaker"),
    ],
)
def test_unsupported_cloudtrail_events_are_refused(event, message):
    with pytest.raises(UnsupportedEvent, match=message):
        group_from_cloudtrail(EventBridgeEvent(event), "CreateModelPackageGroup")


def test_ram_events():
    require_ram_event(EventBridgeEvent(SAMPLES["ram_state_change"]))
    with pytest.raises(UnsupportedEvent):
        require_ram_event(EventBridgeEvent(SAMPLES["group_created"]))
    # `detail.status` is documented: a wake-up reporting a failure is told apart (lower case in
    # AWS's example pattern), an unknown or missing status is not a failure.
    assert not is_ram_failure(EventBridgeEvent(SAMPLES["ram_state_change"]))
    for status in ("failed", "FAILED"):
        assert is_ram_failure(EventBridgeEvent(sample("ram_state_change", status=status)))
    assert not is_ram_failure(EventBridgeEvent({**SAMPLES["ram_state_change"], "detail": {}}))


@pytest.mark.parametrize(("name", "routed", "accepted"), [
    ("/org/allowlist/part-003", True, True),
    ("org/allowlist/part-003", True, True),
    ("/org/allowlist/notes", True, True),  # the reader then refuses it as a stray parameter, fail closed
    ("/org/allowlist/nested/part-001", True, False),  # under the path, but not read: not a change
    ("/org/allowlist", False, False),
    ("/org/allowlist-old/part-001", False, False),
    ("/modelshare/allowlist", False, False),
])
def test_in_path_mode_changes_of_any_part_trigger_both_reconciles(name, routed, accepted):
    """Parameter Store raises one change event per parameter (docs/aws-behaviour.md, EVENT-SSM):
    the rule matches any name under the path by prefix, with or without its leading '/', for
    every operation (the last call of a write may be a deletion)."""
    for operation in ("Create", "Update", "Delete"):
        event = sample("allowlist_changed", operation=operation)
        event["detail"]["name"] = name
        expected = {"OwnerReconcileFunction", "AcceptInvitationsFunction"} if routed else set()
        assert routed_to(event, AllowlistPath="/org/allowlist") == expected
    if accepted:
        assert require_sweep_trigger(EventBridgeEvent(event), "", allowlist_path="/org/allowlist") == "allowlist-change"
    else:
        with pytest.raises(UnsupportedEvent, match="not directly under the allowlist path"):
            require_sweep_trigger(EventBridgeEvent(event), "", allowlist_path="/org/allowlist")


def test_a_request_that_is_not_an_object_leaves_the_group_to_the_response():
    """Regression (issue 9 fuzzing): `requestParameters` of another type raised AttributeError."""
    event = sample("group_created", requestParameters=["churn-xgb"])
    assert group_from_cloudtrail(EventBridgeEvent(event), "CreateModelPackageGroup") == "churn-xgb"


@pytest.mark.parametrize("name", [["/modelshare/allowlist"], {"name": "/modelshare/allowlist"}, None, 1])
def test_a_parameter_name_that_is_not_a_string_is_not_the_allowlist(name):
    """Regression (issue 9 fuzzing): a list or an object as `detail.name` raised TypeError
    (unhashable) in parameter mode, an invocation failure instead of a refusal."""
    event = sample("allowlist_changed")
    event["detail"]["name"] = name
    with pytest.raises(UnsupportedEvent, match="is not the allowlist"):
        require_sweep_trigger(EventBridgeEvent(event), "/modelshare/allowlist")
    with pytest.raises(UnsupportedEvent, match="not directly under the allowlist path"):
        require_sweep_trigger(EventBridgeEvent(event), "", allowlist_path="/modelshare/allowlist")
