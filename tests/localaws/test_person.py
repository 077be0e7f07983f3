"""A person with ordinary rights (docs/security.md's threat model): their client's calls are
authorized by the local IAM against docs/ordinary-rights-policy.json, as the functions' are
against their roles. They may do what an ordinary user does with groups, shares and invitations,
and may not touch modelshare's parameter, queues, ledger table or permissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localaws.harness.deployment import Deployment
from localaws.services.iam.authorizer import ORDINARY_RIGHTS_POLICY, ServiceAuthorizationReference, policy_statements

OWNER, CONSUMER, OTHER, REGION = "111122223333", "444455556666", "777788889999", "eu-west-1"
PERSON = f"arn:aws:sts::{OWNER}:assumed-role/Person/person"
DEPLOY = "arn:aws:ram::aws:permission/AWSRAMPermissionSageMakerModelPackageGroupAllowDeploy"
LEDGER = "modelshare-ownership"  # the lead's OwnershipTable: <stack>-ownership


@pytest.fixture
def deployed(aws) -> Deployment:
    deployment = Deployment(aws.cloud, REGION)
    deployment.install(OWNER)
    return deployment


def denied(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    assert info.value.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied"), info.value.response
    return str(info.value.response["Error"]["Message"])


def test_the_policy_names_only_actions_of_the_service_authorization_reference():
    reference = ServiceAuthorizationReference()
    statements = policy_statements(ORDINARY_RIGHTS_POLICY)
    assert {s["Effect"] for s in statements} == {"Allow", "Deny"}
    for statement in statements:
        named = statement.get("Action", statement.get("NotAction"))
        for action in named if isinstance(named, list) else [named]:
            if "*" not in action:  # wildcards are judged by what the tests below let through
                assert reference.has_action(action), action
    assert json.loads(ORDINARY_RIGHTS_POLICY.read_text())["Version"] == "2012-10-17"


def test_a_person_does_every_ordinary_thing_with_groups_shares_and_invitations(aws, deployed):
    sm, ram = deployed.person_client(OWNER, "sagemaker"), deployed.person_client(OWNER, "ram")
    assert sm.meta.region_name == REGION
    group = sm.create_model_package_group(ModelPackageGroupName="mine")["ModelPackageGroupArn"]
    other = sm.create_model_package_group(ModelPackageGroupName="also-mine")["ModelPackageGroupArn"]
    sm.add_tags(ResourceArn=group, Tags=[{"Key": "modelshare:promoted-share", "Value": "anything"}])
    sm.put_model_package_group_policy(ModelPackageGroupName="mine", ResourcePolicy=aws.policy(group, [CONSUMER]))
    sm.delete_model_package_group_policy(ModelPackageGroupName="mine")
    # Their own share, with any permission, tagged and untagged with any key.
    share = ram.create_resource_share(name="mine", resourceArns=[group], principals=[CONSUMER],
                                      permissionArns=[DEPLOY])["resourceShare"]["resourceShareArn"]
    ram.tag_resource(resourceShareArn=share, tags=[{"key": "modelshare:managed", "value": "true"}])
    ram.untag_resource(resourceShareArn=share, tagKeys=["modelshare:managed"])
    # Another share they can reach (say modelshare's): they add a resource of theirs to it.
    _, reached = aws.promoted_group("churn-model")
    ram.associate_resource_share(resourceShareArn=reached, resourceArns=[other])
    # In a consumer account, a person accepts an invitation by hand.
    invitation = next(i for i in aws.invitations() if i["resourceShareArn"] == share)
    deployed.person_client(CONSUMER, "ram").accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    # Their own parameters, queues and tables.
    deployed.person_client(OWNER, "ssm").put_parameter(Name="/team/setting", Value="x", Type="String")
    queue = deployed.person_client(OWNER, "sqs").create_queue(QueueName="team-queue")["QueueUrl"]
    deployed.person_client(OWNER, "sqs").send_message(QueueUrl=queue, MessageBody="hello")
    governed = [d for d in aws.cloud.iam.decisions if d[1] == "Person"]
    assert governed and all(allowed for *_, allowed in governed)


def test_a_person_is_refused_modelshare_s_parameter_queues_and_ledger(aws, deployed):
    assert deployed.ledger_table(OWNER) == LEDGER  # the stack's own table
    ssm, sqs = deployed.person_client(OWNER, "ssm"), deployed.person_client(OWNER, "sqs")
    dynamodb = deployed.person_client(OWNER, "dynamodb")
    parameter = deployed.allowlist_parameter(OWNER)
    message = denied(ssm.put_parameter, Name=parameter, Value='{"version": 1, "shares": []}', Type="String",
                     Overwrite=True)
    assert message.startswith(f"User: {PERSON} is not authorized to perform: ssm:PutParameter")
    assert "explicit deny" in message
    denied(ssm.delete_parameter, Name=parameter)
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"]  # reading it is ordinary
    for queue in ("ShareQueue", "SweepQueue"):
        url = deployed.client(OWNER, "sqs").get_queue_url(QueueName=f"modelshare-{queue}")["QueueUrl"]
        denied(sqs.send_message, QueueUrl=url, MessageBody="{}")
        denied(sqs.receive_message, QueueUrl=url)
        denied(sqs.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
        denied(sqs.purge_queue, QueueUrl=url)
    denied(dynamodb.put_item, TableName=LEDGER, Item={"group": {"S": "share"}})
    denied(dynamodb.delete_item, TableName=LEDGER, Key={"group": {"S": "share"}})
    denied(dynamodb.delete_table, TableName=LEDGER)
    assert "Item" not in dynamodb.get_item(TableName=LEDGER, Key={"group": {"S": "share"}})
    denied(deployed.person_client(OWNER, "ram").create_permission_version,
           permissionArn=f"arn:aws:ram:{REGION}:{OWNER}:permission/modelshare-discover",
           policyTemplate='{"Effect": "Allow", "Action": ["sagemaker:CreateModel"]}')
    # None of it happened; an administrator (Deployment.client) is governed by no policy.
    deployed.client(OWNER, "ssm").put_parameter(Name=parameter, Value='{"version": 1, "shares": []}',
                                                Type="String", Overwrite=True)
    assert deployed.client(OWNER, "sqs").get_queue_attributes(
        QueueUrl=deployed.client(OWNER, "sqs").get_queue_url(QueueName="modelshare-SweepQueue")["QueueUrl"],
        AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "1800"


def test_a_person_cannot_touch_what_the_local_iam_cannot_read(aws, deployed):
    """Calls of query-protocol services (IAM, CloudFormation) are authorized on their action:
    the ordinary rights grant none, so a person is refused them (fail closed)."""
    denied(aws.cloud.session(OWNER, REGION, person=True).client("iam").delete_role, RoleName="modelshare-PromoteFunction-Role")
    denied(aws.cloud.session(OWNER, REGION, person=True).client("cloudformation").delete_stack, StackName="modelshare")
    identity = aws.cloud.session(OWNER, REGION, person=True).client("sts").get_caller_identity()
    assert identity["Account"] == OWNER


def test_a_person_cannot_forge_modelshares_ownership_of_a_share_they_make(aws, deployed):
    """The shares mode (issue 20): a share is modelshare's only when the ledger records it
    (`share:<arn>`, `made_as`). A person may make a share under the very name modelshare would
    give it (ordinary), but not record it in the ledger, by any write."""
    from modelshare.allowlist import ACCESS_ACTIONS
    from modelshare.aws.ledger import MADE_SHARE_PREFIX, DynamoDbLedger
    from modelshare.share_layout import Bucket, share_name

    sm, ram = deployed.person_client(OWNER, "sagemaker"), deployed.person_client(OWNER, "ram")
    dynamodb = deployed.person_client(OWNER, "dynamodb")
    group = sm.create_model_package_group(ModelPackageGroupName="mine")["ModelPackageGroupArn"]
    name = share_name(Bucket.of([CONSUMER], ACCESS_ACTIONS["discover"]).digest, 1)
    lookalike = ram.create_resource_share(name=name, resourceArns=[group],
                                          principals=[CONSUMER])["resourceShare"]["resourceShareArn"]
    key = {"group": {"S": MADE_SHARE_PREFIX + lookalike}}
    denied(dynamodb.update_item, TableName=LEDGER, Key=key, UpdateExpression="SET made_as = :name",
           ExpressionAttributeValues={":name": {"S": name}})
    denied(dynamodb.put_item, TableName=LEDGER, Item={**key, "made_as": {"S": name}})
    denied(dynamodb.batch_write_item, RequestItems={LEDGER: [{"PutRequest": {"Item": {**key, "made_as": {"S": name}}}}]})
    assert DynamoDbLedger(aws.cloud.session(OWNER, REGION), LEDGER).made_shares() == {}


def test_a_person_allowed_eventbridge_elsewhere_still_cannot_send_modelshares_events_or_change_bus_policies():
    from localaws.services.iam.authorizer import evaluate

    statements = [*policy_statements(ORDINARY_RIGHTS_POLICY),
                  {"Effect": "Allow", "Action": "events:*", "Resource": "*"}]  # what else they may be given
    bus = f"arn:aws:events:{REGION}:{CONSUMER}:event-bus/modelshare-versions"

    def put(source: str) -> bool:
        context = {"events:source": [source], "events:detail-type": ["Model Version Approved"]}
        return evaluate(statements, "events:PutEvents", bus, context).allowed

    assert put("pipelines") and not put("modelshare")
    assert not evaluate(statements, "events:PutPermission", "*", {}).allowed
    assert not evaluate(statements, "events:RemovePermission", "*", {}).allowed
