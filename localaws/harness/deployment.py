"""modelshare deployed on the local AWS: the stack from template.yaml installed per account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from localaws.runtime.cloud import LocalCloud
from localaws.runtime.lambdas import LambdaService
from localaws.runtime.template import RenderedStack, StackTemplate
from modelshare.allowlist_parts import TIER_LIMITS, split
from modelshare.aws.allowlist_parts_store import read_parts, write_parts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
_CONSUMER_ROLES = ("consumer", "both")
_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")


class Deployment:
    """The stack installed in several accounts of one region of a LocalCloud."""

    def __init__(self, cloud: LocalCloud, region: str, template_path: Path = TEMPLATE_PATH) -> None:
        self.cloud = cloud
        self.region = region
        self.lambdas = LambdaService(cloud)
        # Code paths resolve against the project, whichever template file describes the stack.
        self.template = StackTemplate(template_path, code_root=PROJECT_ROOT)
        self.stacks: dict[str, RenderedStack] = {}

    def install(self, account: str, parameters: dict[str, str] | None = None) -> RenderedStack:
        """Create what the stack holds in `account`: its parameters, queues and functions.

        A stack that accepts invitations needs TrustedOwnerAccounts (the template's rule refuses
        it otherwise: an empty list must not mean every account). Unless `parameters` give it,
        the local deployer names every account the cloud holds now, as an administrator lists
        the organization's owner accounts: add the accounts first (LocalCloud.add_account)."""
        if account not in self.cloud.accounts:
            self.cloud.add_account(account)
        wanted = {"Role": "both", **(parameters or {})}
        declared = self.template.document.get("Parameters", {})
        if wanted["Role"] in _CONSUMER_ROLES and "TrustedOwnerAccounts" in declared and "TrustedOwnerAccounts" not in wanted:
            wanted["TrustedOwnerAccounts"] = ",".join(self.cloud.accounts)
        stack = self.template.render(account, self.region, wanted)
        stack.validate()
        for parameter in stack.resources_of_type("AWS::SSM::Parameter"):
            props = parameter.properties
            self.client(account, "ssm").put_parameter(
                Name=props["Name"], Value=props["Value"], Type=props["Type"], Description=props.get("Description", ""),
                Tier=props.get("Tier", "Standard"))
        queues = stack.resources_of_type("AWS::SQS::Queue")
        sqs = self.client(account, "sqs")
        for queue in queues:  # dead-letter queues must exist before a redrive policy names them
            sqs.create_queue(QueueName=stack.physical_name(queue.logical_id))
        for queue in queues:
            attributes = {name: str(queue.properties[name]) for name in _QUEUE_ATTRIBUTES if name in queue.properties}
            if "RedrivePolicy" in queue.properties:
                attributes["RedrivePolicy"] = json.dumps(queue.properties["RedrivePolicy"])
            if attributes:
                url = sqs.get_queue_url(QueueName=stack.physical_name(queue.logical_id))["QueueUrl"]
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        dynamodb = self.client(account, "dynamodb")
        for table in stack.resources_of_type("AWS::DynamoDB::Table"):
            props = table.properties
            dynamodb.create_table(TableName=props["TableName"], KeySchema=props["KeySchema"],
                                  AttributeDefinitions=props["AttributeDefinitions"], BillingMode=props["BillingMode"])
        for queue_policy in stack.resources_of_type("AWS::SQS::QueuePolicy"):
            # Each queue's policy, as CloudFormation sets it: the same document on every queue named.
            document = json.dumps(queue_policy.properties["PolicyDocument"])
            for url in queue_policy.properties["Queues"]:
                sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
        self._install_sharing(account, stack)
        for bus in stack.resources_of_type("AWS::Events::EventBus"):
            self.client(account, "events").create_event_bus(Name=bus.properties["Name"])
        for function in stack.functions():
            # Each function runs with its own execution role: the statements the template gives it.
            name = stack.physical_name(function.logical_id)
            self.cloud.iam.attach(account, function.logical_id, stack.role_name(function.logical_id), name,
                                  function.policy_statements)
        self.lambdas.deploy(stack)
        self.stacks[account] = stack
        return stack

    def _install_sharing(self, account: str, stack: RenderedStack) -> None:
        """The stack's SNS topics, their policies and subscriptions, and its RAM shares (a central
        allowlist's: docs/central-allowlist.md), made as CloudFormation makes them, by the
        stack's account: a subscription to another account's topic is authorized by its policy."""
        sns = self.client(account, "sns")
        for topic in stack.resources_of_type("AWS::SNS::Topic"):
            sns.create_topic(Name=stack.physical_name(topic.logical_id))
        for topic_policy in stack.resources_of_type("AWS::SNS::TopicPolicy"):
            for topic_arn in topic_policy.properties["Topics"]:
                sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy",
                                         AttributeValue=json.dumps(topic_policy.properties["PolicyDocument"]))
        for subscription in stack.resources_of_type("AWS::SNS::Subscription"):
            props = subscription.properties
            raw = {"RawMessageDelivery": str(props.get("RawMessageDelivery", "false")).lower()}
            sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"],
                          Attributes=raw, ReturnSubscriptionArn=True)
        for share in stack.resources_of_type("AWS::RAM::ResourceShare"):
            props = share.properties
            self.client(account, "ram").create_resource_share(
                name=props["Name"], resourceArns=props.get("ResourceArns", []), principals=props.get("Principals", []),
                allowExternalPrincipals=str(props.get("AllowExternalPrincipals", True)).lower() != "false")

    def ledger_table(self, account: str) -> str:
        """The ownership ledger's table of the stack in `account` (owner role)."""
        table, = self.stacks[account].resources_of_type("AWS::DynamoDB::Table")
        return str(table.properties["TableName"])

    def allowlist_parameter(self, account: str) -> str:
        return self.stacks[account].parameters["AllowlistParameterName"]

    def allowlist_path(self, account: str) -> str:
        """The path whose parts hold the allowlist (path mode), or "" for one parameter."""
        return self.stacks[account].parameters["AllowlistPath"]

    def put_allowlist(self, account: str, document: str) -> None:
        """Write the allowlist as an admin would: the parameter (the value is not checked here),
        or in path mode every part, as `modelshare allowlist set --path` does (a document it
        would refuse raises AllowlistError: write such parts with the SSM client)."""
        ssm = self.client(account, "ssm")
        path = self.allowlist_path(account)
        if not path:
            ssm.put_parameter(Name=self.allowlist_parameter(account), Value=document, Type="String", Overwrite=True)
            return
        tier = self.stacks[account].parameters["AllowlistTier"]
        write_parts(ssm, read_parts(ssm, path), split(json.loads(document), TIER_LIMITS[tier]),
                    advanced_tier=tier == "Advanced")

    def client(self, account: str,
               service: Literal["ram", "sagemaker", "sqs", "ssm", "dynamodb", "sns", "events"]) -> Any:
        """An administrator's client in `account`, governed by no policy: a test setting a scene,
        the bench counting. A person with ordinary rights uses `person_client`."""
        return self.cloud.harness_session(account, self.region).client(service)

    def person_client(self, account: str, service: Literal["ram", "sagemaker", "sqs", "ssm", "dynamodb"]) -> Any:
        """The client of a person with ordinary rights in `account` (the threat model's insider,
        docs/security.md): principal arn:aws:iam::<account>:role/Person, each call authorized
        by the local IAM against docs/ordinary-rights-policy.json, as the functions' calls are
        against their roles."""
        if account not in self.cloud.accounts:
            self.cloud.add_account(account)
        return self.cloud.harness_session(account, self.region, person=True).client(service)

    def settle(self, max_tasks: int = 100_000) -> int:
        """Run events, invocations, retries and AWS's own work until only far-off timers remain
        (`max_tasks`: the most it runs before it reports the world as never quiet)."""
        return self.cloud.clock.run_until_quiet(max_tasks)
