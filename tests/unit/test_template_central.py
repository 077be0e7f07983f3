"""template.yaml's central allowlist wiring (docs/central-allowlist.md), as a reviewer checks it:
the central stack's topic policy admits the organization's SQS subscriptions (aws:PrincipalOrgID)
and the change rule's publishes only; its rule forwards the allowlist parameter's own changes; its
RAM share holds the parameter alone, inside the organization; each member's queues take messages
from the central topic only; the template's Rules refuse the combinations that cannot work.
Policies are evaluated with the local AWS's evaluators (SNS-TOPIC-POLICY, SNS-SQS-DELIVERY)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from localaws.runtime.template import RenderedStack, StackTemplate
from localaws.services.sns.topics import EVENTS_SERVICE, SNS_SERVICE, policy_allows
from localaws.services.sqs import queue_policies
from localaws.services.sqs.queue_policies import Caller, person_arn

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = StackTemplate(ROOT / "template.yaml")
REGION = "eu-west-1"
CENTRAL, MEMBER, OUTSIDER = "121212121212", "111122223333", "999988887777"
ORG = "o-exampleorg1"
ORG_ARN = f"arn:aws:organizations::{CENTRAL}:organization/{ORG}"
PARAMETER_ARN = f"arn:aws:ssm:{REGION}:{CENTRAL}:parameter/modelshare/allowlist"
CENTRAL_PARAMETERS = {"Role": "owner", "AllowlistOrganizationId": ORG, "AllowlistTier": "Advanced",
                      "AllowlistShareWith": ORG_ARN}
MEMBER_PARAMETERS = {"TrustedOwnerAccounts": CENTRAL, "ExistingAllowlistParameter": PARAMETER_ARN}
CENTRAL_ONLY = {"AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::RAM::ResourceShare"}
MEMBER_ONLY = {"AWS::SNS::Subscription", "AWS::Lambda::EventSourceMapping"}


def central() -> RenderedStack:
    stack = TEMPLATE.render(CENTRAL, REGION, CENTRAL_PARAMETERS)
    stack.validate()
    return stack


def topic_arn() -> str:
    return str(central().resolve({"Ref": "AllowlistChangesTopic"}))


def member(role: str = "both") -> RenderedStack:
    stack = TEMPLATE.render(MEMBER, REGION, {**MEMBER_PARAMETERS, "Role": role, "CentralAllowlistTopic": topic_arn()})
    stack.validate()
    return stack


def one(stack: RenderedStack, type_name: str) -> dict[str, Any]:
    resource, = stack.resources_of_type(type_name)
    return resource.properties


def types(stack: RenderedStack) -> set[str]:
    return {r["Type"] for r in stack.resources.values()}


def test_the_topic_policy_admits_the_organization_s_queue_subscriptions_and_the_rule_s_publishes_only():
    stack = central()
    topic = topic_arn()
    policy = json.dumps(one(stack, "AWS::SNS::TopicPolicy")["PolicyDocument"])
    rule_arn = str(stack.resolve({"Fn::GetAtt": ["AllowlistChangesToMembersRule", "Arn"]}))

    def subscribe(account: str, org: str | None, protocol: str = "sqs") -> bool:
        return policy_allows(policy, "sns:Subscribe", topic, Caller(account, arn=person_arn(account)), org,
                             {"Protocol": protocol, "Endpoint": f"arn:aws:sqs:{REGION}:{account}:q"})

    assert subscribe(MEMBER, ORG), "a member account of the organization subscribes its queue"
    assert not subscribe(OUTSIDER, None), "an account outside any organization"
    assert not subscribe(OUTSIDER, "o-otherorg12"), "an account of another organization"
    assert not subscribe(MEMBER, ORG, protocol="https"), "SQS endpoints only"
    assert not subscribe(MEMBER, ORG, protocol="email")

    def publish(caller: Caller) -> bool:
        return policy_allows(policy, "sns:Publish", topic, caller, ORG)

    assert publish(Caller(CENTRAL, service=EVENTS_SERVICE, source_arn=rule_arn))
    assert not publish(Caller(CENTRAL, service=EVENTS_SERVICE, source_arn=f"{rule_arn}-other"))
    assert not publish(Caller(MEMBER, arn=person_arn(MEMBER))), "no account of the organization publishes"
    assert not publish(Caller(CENTRAL, arn=person_arn(CENTRAL))), "a person of the central account neither (by policy)"
    for action in ("sns:SetTopicAttributes", "sns:AddPermission", "sns:DeleteTopic", "sns:Unsubscribe"):
        assert not policy_allows(policy, action, topic, Caller(MEMBER, arn=person_arn(MEMBER)), ORG)


def test_the_central_rule_sends_only_the_allowlist_parameter_s_own_changes_to_the_topic():
    stack = central()
    rule, = [r for r in stack.rules() if r.logical_id == "AllowlistChangesToMembersRule"]
    assert rule.topic_arns == (topic_arn(),) and rule.queue_arns == ()
    pattern = EventPattern.load(json.dumps(rule.pattern))

    def change(name: str, account: str = CENTRAL) -> dict[str, Any]:
        return {"source": "aws.ssm", "detail-type": "Parameter Store Change", "account": account, "region": REGION,
                "detail": {"name": name, "operation": "Update"}}

    assert pattern.matches_event(change("/modelshare/allowlist"))  # type: ignore[arg-type]
    assert pattern.matches_event(change("modelshare/allowlist"))  # type: ignore[arg-type]  # EVENT-SSM: either
    assert not pattern.matches_event(change("/modelshare/other"))  # type: ignore[arg-type]
    assert not pattern.matches_event(change("/modelshare/allowlist", account=MEMBER))  # type: ignore[arg-type]
    target, = [t for r in stack.resources_of_type("AWS::Events::Rule") if r.logical_id == "AllowlistChangesToMembersRule"
               for t in r.properties["Targets"]]
    assert target["DeadLetterConfig"]["Arn"].endswith(":modelshare-FailedInvocationsQueue"), "failed deliveries kept"


def test_the_share_holds_the_allowlist_parameter_alone_inside_the_organization():
    share = one(central(), "AWS::RAM::ResourceShare")
    assert share["ResourceArns"] == [PARAMETER_ARN]
    assert share["Principals"] == [ORG_ARN]
    assert share["AllowExternalPrincipals"] is False


@pytest.mark.parametrize(("role", "queues"), [
    ("both", {"OwnerAllowlistChangesQueue": "OwnerReconcileFunction",
              "ConsumerAllowlistChangesQueue": "AcceptInvitationsFunction"}),
    ("owner", {"OwnerAllowlistChangesQueue": "OwnerReconcileFunction"}),
    ("consumer", {"ConsumerAllowlistChangesQueue": "AcceptInvitationsFunction"}),
])
def test_each_member_queue_takes_the_central_topic_s_messages_only_and_wakes_its_function(role, queues):
    stack = member(role)
    topic = topic_arn()
    assert not types(stack) & CENTRAL_ONLY, "a member makes no topic and shares nothing"
    subscriptions = {s.properties["Endpoint"]: s.properties for s in stack.resources_of_type("AWS::SNS::Subscription")}
    mappings = {m.properties["EventSourceArn"]: m.properties["FunctionName"]
                for m in stack.resources_of_type("AWS::Lambda::EventSourceMapping")}
    policies = {url.rsplit("/", 1)[1]: json.dumps(p.properties["PolicyDocument"])
                for p in stack.resources_of_type("AWS::SQS::QueuePolicy") for url in p.properties["Queues"]}
    assert len(subscriptions) == len(queues) == len(mappings)
    for logical_id, function in queues.items():
        queue_arn = str(stack.resolve({"Fn::GetAtt": [logical_id, "Arn"]}))
        assert subscriptions[queue_arn] == {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn,
                                            "RawMessageDelivery": True}
        assert mappings[queue_arn] == stack.resolve({"Ref": function})

        def refused(caller: Caller, arn: str = queue_arn) -> bool:
            return queue_policies.refusal(policy=policies[arn.rsplit(":", 1)[1]], action="sqs:SendMessage",
                                          queue_arn=arn, queue_account=MEMBER, caller=caller,
                                          identity_allows=True) is not None

        assert not refused(Caller(CENTRAL, service=SNS_SERVICE, source_arn=topic))
        other_topic = f"arn:aws:sns:{REGION}:{OUTSIDER}:modelshare-AllowlistChangesTopic"
        assert refused(Caller(OUTSIDER, service=SNS_SERVICE, source_arn=other_topic)), "another topic"
        assert refused(Caller(MEMBER, service=EVENTS_SERVICE, source_arn=f"arn:aws:events:{REGION}:{MEMBER}:rule/x"))
        assert refused(Caller(MEMBER, arn=person_arn(MEMBER))), "a person of the member account"
    # The functions read the central parameter by its ARN.
    assert {f.environment["MODELSHARE_ALLOWLIST_PARAMETER"] for f in stack.functions()} == {PARAMETER_ARN}


def test_a_stack_of_neither_kind_holds_none_of_it():
    stack = TEMPLATE.render(MEMBER, REGION, {"TrustedOwnerAccounts": CENTRAL})
    assert not types(stack) & (CENTRAL_ONLY | MEMBER_ONLY)
    assert not [q for q in stack.resources if "AllowlistChanges" in q]


@pytest.mark.parametrize(("parameters", "refusal"), [
    ({**CENTRAL_PARAMETERS, "AllowlistTier": "Standard"}, "rule CentralAllowlistShareable"),
    ({**CENTRAL_PARAMETERS, "AllowlistPath": "/modelshare/allowlist"}, "rule"),
    ({**CENTRAL_PARAMETERS, "ExistingAllowlistParameter": PARAMETER_ARN}, "rule CentralAllowlistShareable"),
    ({"TrustedOwnerAccounts": CENTRAL, "CentralAllowlistTopic": f"arn:aws:sns:{REGION}:{CENTRAL}:t"},
     "rule CentralTopicOfAReadByArn"),
])
def test_the_template_s_rules_refuse_a_central_or_member_stack_that_cannot_work(parameters, refusal):
    with pytest.raises(ValueError, match=refusal):
        TEMPLATE.render(CENTRAL, REGION, parameters).validate()
