"""Allowlist edits converge everywhere: added and removed consumers, removed rules, pattern
changes, invalid edits, lost events repaired by the schedule, dry run, deleted groups."""

import copy
import json

from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.org_principals import ORG_PRINCIPAL_MESSAGE as NOT_AN_ACCOUNT
from modelshare.policy import MODELSHARE_SID
from tests.integration.conftest import CONSUMER, OWNER, SEED_ALLOWLIST, STRANGER, group_arn

THIRD = "121212121212"


def allowlist(*consumers, groups=("churn-*", "fraud-detector")):
    return {"version": 1, "shares": [{"owner": OWNER, "groups": list(groups), "consumers": list(consumers)}]}


def seeded(world, *groups, accounts=(OWNER, CONSUMER, THIRD)):
    world.install(*accounts)
    for group in groups:
        world.create_group(OWNER, group)
    world.settle()


def test_consumer_added_then_removed(world):
    seeded(world, "churn-xgb")
    world.edit_allowlist(allowlist(CONSUMER, THIRD))
    assert world.discoverable(THIRD) == [group_arn("churn-xgb")]
    assert world.state(OWNER, "churn-xgb").consumers == tuple(sorted((CONSUMER, THIRD)))

    world.edit_allowlist(allowlist(THIRD))
    assert world.discoverable(CONSUMER) == []
    assert world.discoverable(THIRD) == [group_arn("churn-xgb")]
    assert world.state(OWNER, "churn-xgb").consumers == (THIRD,)
    assert [c.params["principals"] for c in world.writes() if c.operation == "DisassociateResourceShare"] == [[CONSUMER]]


def never_promote(function, event):
    return 0 if function.spec.logical_id == "PromoteFunction" else 1


def test_consumer_removed_before_promotion_goes_through_the_policy(world):
    world.install(OWNER, CONSUMER, THIRD)
    world.lambdas.delivery_policy = never_promote
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    world.edit_allowlist(allowlist(THIRD))
    statement, = world.policy(OWNER, "churn-xgb")["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{THIRD}:root"]}


def test_rule_removed_unshares(world):
    seeded(world, "churn-xgb")
    world.create_group(OWNER, "fraud-detector")
    world.settle()
    world.lambdas.delivery_policy = never_promote
    world.create_group(OWNER, "churn-lr")  # shared through the policy, not promoted yet
    world.settle()

    world.edit_allowlist({"version": 1, "shares": []})
    assert world.discoverable(CONSUMER) == []
    for group in ("churn-xgb", "fraud-detector", "churn-lr"):
        assert world.state(OWNER, group).status == "not-shared", group
    # Before promotion the policy held only modelshare's statement: it is deleted.
    assert world.calls("DeleteModelPackageGroupPolicy", OWNER)[0].params == {"ModelPackageGroupName": "churn-lr"}


def test_pattern_change_moves_sharing_to_the_newly_matched_groups(world):
    seeded(world, "churn-xgb", "fraud-detector", "forecast-v2")
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb"), group_arn("fraud-detector")]
    world.edit_allowlist(allowlist(CONSUMER, groups=("forecast-*",)))
    assert world.discoverable(CONSUMER) == [group_arn("forecast-v2")]


def test_statement_of_others_survives_unsharing(world_with_ram_delay):
    world = world_with_ram_delay(3600)
    seeded(world)
    world.create_group(OWNER, "churn-xgb")
    foreign = {"Sid": "Auditor", "Effect": "Allow", "Principal": {"AWS": STRANGER},
               "Action": ["sagemaker:DescribeModelPackageGroup"], "Resource": group_arn("churn-xgb")}
    world.put_policy(OWNER, "churn-xgb", {"Version": "2012-10-17", "Statement": [foreign]})
    world.settle()
    assert [s["Sid"] for s in world.policy(OWNER, "churn-xgb")["Statement"]] == ["Auditor", MODELSHARE_SID]
    world.edit_allowlist({"version": 1, "shares": []})
    assert world.policy(OWNER, "churn-xgb")["Statement"] == [foreign]


def test_invalid_edit_changes_nothing(world):
    seeded(world, "churn-xgb")
    before = len(world.writes())
    invalid = copy.deepcopy(SEED_ALLOWLIST)
    invalid["shares"][0]["consumers"] = ["not-an-account"]
    world.edit_allowlist(invalid)
    assert len(world.writes()) == before
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    problems = [r["problems"] for r in world.logs(OWNER, "ERROR") if r["message"].startswith("Allowlist invalid")]
    assert problems and problems[-1] == [f'$.shares[0].consumers[0]: {NOT_AN_ACCOUNT}: "not-an-account"']


def test_group_created_while_allowlist_invalid_is_shared_once_fixed(world):
    seeded(world)
    world.edit_allowlist("{not json")
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    assert world.calls("PutModelPackageGroupPolicy", OWNER) == []
    world.edit_allowlist(SEED_ALLOWLIST)
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]


def test_lost_parameter_change_event_is_repaired_by_the_schedule(world):
    seeded(world, "churn-xgb")
    world.lambdas.delivery_policy = lambda function, event: 0 if event["source"] == "aws.ssm" else 1
    world.edit_allowlist(allowlist(CONSUMER, THIRD))
    assert world.discoverable(THIRD) == []
    world.run_for(hours=1)
    assert world.discoverable(THIRD) == [group_arn("churn-xgb")]


def test_converged_sweep_performs_zero_writes(world):
    seeded(world, "churn-xgb", "fraud-detector", "scratch")
    before = len(world.writes())
    world.run_for(hours=3)
    sweeps = [i for i in world.lambdas.invocations if i.events[0].get("source") == "aws.events"]
    assert {i.function for i in sweeps} == {"OwnerReconcileFunction", "AcceptInvitationsFunction", "ForwardVersionsFunction"}
    assert all(i.ok for i in sweeps)
    assert len(world.writes()) == before


def test_dry_run_writes_nothing_and_says_what_it_would_do(world):
    world.install(OWNER, CONSUMER, parameters={"DryRun": "true"})
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    world.edit_allowlist(allowlist(CONSUMER, THIRD))
    world.run_for(hours=1)

    assert [c.operation for c in world.writes()] == ["CreateModelPackageGroup"], "only the person's call"
    share_on_create, = world.invocations_of("ShareOnCreateFunction", OWNER)
    # Each statement recorded in the ledger first (planned too, never written).
    [record, put] = share_on_create.result["dry_run_plan"]
    assert record.startswith(f"record-statement {group_arn('churn-xgb')}: ")
    assert put == f"put-policy churn-xgb: principals {CONSUMER}"
    sweep = world.invocations_of("OwnerReconcileFunction", OWNER)[-1]
    assert sweep.result["dry_run_plan"][1:] == [f"put-policy churn-xgb: principals {', '.join(sorted((CONSUMER, THIRD)))}"]


def test_deleting_a_group_deletes_its_promoted_share(world):
    seeded(world, "churn-xgb")
    share_arn = world.shares(OWNER).shares_holding(group_arn("churn-xgb"))[0].arn
    world.client(OWNER, "sagemaker").delete_model_package_group(ModelPackageGroupName="churn-xgb")
    world.settle()
    assert [c.params["resourceShareArn"] for c in world.calls("DeleteResourceShare", OWNER)] == [share_arn]
    assert world.discoverable(CONSUMER) == []


def test_lost_delete_event_is_repaired_by_the_schedule(world):
    seeded(world, "churn-xgb")
    world.lambdas.delivery_policy = lambda function, event: 0 if event["source"] == "aws.sagemaker" else 1
    world.client(OWNER, "sagemaker").delete_model_package_group(ModelPackageGroupName="churn-xgb")
    world.settle()
    assert world.calls("DeleteResourceShare", OWNER) == []
    world.run_for(hours=1)
    assert len(world.calls("DeleteResourceShare", OWNER)) == 1


def with_access(*access, consumers=(CONSUMER,)):
    return {"version": 1, "shares": [{"owner": OWNER, "groups": ["churn-*"], "consumers": list(consumers),
                                      "access": list(access)}]}


def share_actions(world, group):
    """What modelshare's promoted share of `group` grants, as RAM says."""
    ram = world.client(OWNER, "ram")
    share, = [s for s in ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="ACTIVE")["resourceShares"]
              if s["featureSet"] == "STANDARD"]
    permission, = ram.list_resource_share_permissions(resourceShareArn=share["resourceShareArn"])["permissions"]
    document = json.loads(ram.get_permission(permissionArn=permission["arn"])["permission"]["permission"])
    return permission["permissionType"], sorted(document["Action"])


def test_narrowing_access_of_a_promoted_group_narrows_what_its_share_grants(world):
    world.install(OWNER, CONSUMER, allowlist=with_access("discover", "deploy"))
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    assert "sagemaker:CreateModel" in share_actions(world, "churn-xgb")[1]

    world.edit_allowlist(with_access("discover"))
    # The run the edit triggered: an AWS managed permission grants exactly discover.
    assert share_actions(world, "churn-xgb") == ("AWS_MANAGED", sorted(ACCESS_ACTIONS["discover"]))
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")], "the consumer keeps what it may have"
    assert [c.caller for c in world.writes() if c.operation == "AssociateResourceSharePermission"] == \
        ["OwnerReconcileFunction"]
    assert world.state(OWNER, "churn-xgb").reason == "promoted RAM share"


def test_widening_access_to_actions_no_aws_managed_permission_grants_creates_one_permission_for_them(world):
    world.install(OWNER, CONSUMER, allowlist=with_access("discover"))
    for name in ("churn-a", "churn-b"):
        world.create_group(OWNER, name)
    world.settle()

    world.edit_allowlist(with_access("discover", "register", "deploy"))
    wanted = sorted(a for level in ("discover", "register", "deploy") for a in ACCESS_ACTIONS[level])
    ram = world.client(OWNER, "ram")
    for share in ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="ACTIVE")["resourceShares"]:
        permission, = ram.list_resource_share_permissions(resourceShareArn=share["resourceShareArn"])["permissions"]
        assert permission["name"] == "modelshare-discover-register-deploy"
        assert sorted(json.loads(ram.get_permission(permissionArn=permission["arn"])["permission"]["permission"])
                      ["Action"]) == wanted
    assert len(world.calls("CreatePermission")) == 1, "one permission per action set, whatever the number of groups"
    assert sorted(world.discoverable(CONSUMER)) == [group_arn("churn-a"), group_arn("churn-b")]
