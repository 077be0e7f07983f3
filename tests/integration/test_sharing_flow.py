"""The whole flow on the local AWS: a group created in the owner account becomes discoverable in
the allowlisted consumer account, and nothing beyond the allowlist is shared or accepted."""


from modelshare.policy import MODELSHARE_SID
from tests.integration.conftest import CONSUMER, OWNER, ROGUE_OWNER, STRANGER, group_arn


def test_seed_flow_makes_the_group_discoverable_in_the_consumer(world):
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "churn-xgb")
    world.settle()

    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.discoverable(OWNER) == []
    assert world.pending(CONSUMER) == []
    state = world.state(OWNER, "churn-xgb")
    assert (state.status, state.consumers) == ("discoverable", (CONSUMER,))
    statement, = world.policy(OWNER, "churn-xgb")["Statement"]
    assert statement["Sid"] == MODELSHARE_SID
    assert world.metric_total("GroupsShared", OWNER) == 1
    assert world.metric_total("SharesPromoted", OWNER) >= 1
    assert world.metric_total("InvitationsAccepted", CONSUMER) == 1
    assert world.lambdas.failures == []


def test_sharing_converges_with_no_event_about_the_share_ram_makes_from_the_policy(world):
    """AWS documents no event when RAM makes a share from a policy, and the local AWS sends none
    (docs/aws-behaviour.md, EVENT-RAM-CFP): the policy put's CloudTrail event brings
    PromoteFunction, which finds the share RAM made and promotes it."""
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "churn-xgb")
    world.settle()

    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    events = [e for i in world.lambdas.invocations for e in i.events]
    assert not [e for e in events if e.get("source") == "aws.ram"
                and e["detail"].get("associatedEntity") == group_arn("churn-xgb")], "no event named the group's share"
    promoting = [i for i in world.invocations_of("PromoteFunction", OWNER) if i.ok
                 and any(e.get("source") == "aws.sagemaker" for e in i.events)]
    assert promoting, "the CloudTrail event of the policy put brought the promotion"
    assert world.calls("PromoteResourceShareCreatedFromPolicy", OWNER)
    assert world.lambdas.failures == []


def test_groups_no_rule_matches_are_not_shared(world):
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "scratch-notebook")
    world.settle()
    assert world.calls("PutModelPackageGroupPolicy") == []
    assert world.discoverable(CONSUMER) == []
    assert world.state(OWNER, "scratch-notebook").status == "not-shared"


def test_non_allowlisted_consumer_sees_nothing_even_when_a_person_names_it(world):
    world.install(OWNER, CONSUMER, STRANGER)
    world.create_group(OWNER, "churn-xgb")
    world.create_group(OWNER, "scratch-notebook")
    world.settle()
    world.put_policy(OWNER, "scratch-notebook", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": STRANGER}, "Action": ["sagemaker:DescribeModelPackageGroup"],
        "Resource": group_arn("scratch-notebook")}]})
    world.settle()

    assert world.discoverable(STRANGER) == []
    assert world.pending(STRANGER) == []
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    state = world.state(OWNER, "scratch-notebook")
    assert state.status == "accessible-not-discoverable"
    assert f"principal account {STRANGER} is not allowlisted" in state.reason
    warnings = [r for r in world.logs(OWNER, "WARNING") if r.get("group") == "scratch-notebook"]
    assert any(STRANGER in r["reason"] for r in warnings)
    scratch_shares = {s.arn for s in world.shares(OWNER).shares_holding(group_arn("scratch-notebook"))}
    assert scratch_shares, "RAM made a share from the person's policy"
    promoted = {c.params["resourceShareArn"] for c in world.calls("PromoteResourceShareCreatedFromPolicy", OWNER, ok=None)}
    assert promoted and not promoted & scratch_shares
    assert world.metric_total("NotPromotable", OWNER) >= 1


def test_invitation_from_a_non_allowlisted_owner_stays_pending(world):
    world.install(OWNER, CONSUMER)
    rogue_allowlist = {"version": 1, "shares": [{"owner": ROGUE_OWNER, "groups": ["*"], "consumers": [CONSUMER]}]}
    world.install(ROGUE_OWNER, allowlist=rogue_allowlist)
    world.create_group(ROGUE_OWNER, "shadow-model")
    world.settle()

    pending, = world.pending(CONSUMER)
    assert pending.sender == ROGUE_OWNER
    assert world.discoverable(CONSUMER) == []
    assert world.calls("AcceptResourceShareInvitation", CONSUMER, ok=None) == []
    reasons = [r["reason"] for r in world.logs(CONSUMER, "WARNING") if r.get("message") == "Invitation left pending"]
    assert reasons and all(f"sender {ROGUE_OWNER} is not an allowlisted owner" in r for r in reasons)
    assert world.metric_total("InvitationsLeftPending", CONSUMER) >= 1


def test_invalid_allowlist_shares_and_accepts_nothing_and_says_why(world):
    world.install(OWNER, CONSUMER)
    broken = {"version": 1, "shares": [{"owner": OWNER, "groups": ["churn-*"], "consumers": [OWNER]}]}
    world.set_allowlist(OWNER, broken)
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    assert world.calls("PutModelPackageGroupPolicy") == []
    errors = [r for r in world.logs(OWNER, "ERROR") if r["message"].startswith("Allowlist invalid")]
    assert errors and errors[0]["problems"] == ["$.shares[0].consumers[0]: the owner cannot be its own consumer"]
    share_on_create, = world.invocations_of("ShareOnCreateFunction", OWNER)
    assert share_on_create.metrics()["AllowlistInvalid"] == 1
    assert world.invocations_of("OwnerReconcileFunction", OWNER), "the allowlist change woke the reconcile"
    assert all(i.metrics().get("AllowlistInvalid") == 1 for i in world.invocations_of("OwnerReconcileFunction", OWNER)
               if i.started >= share_on_create.started)


def test_share_holding_another_resource_type_is_not_accepted(world):
    world.install(OWNER, CONSUMER)
    consumer_asleep = True
    world.lambdas.delivery_policy = lambda function, event: 0 if consumer_asleep and function.account == CONSUMER else 1
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    share_arn = world.pending(CONSUMER)[0].share_arn
    subnet = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0abc"
    world.cloud.registry.add_other_resource(subnet, "ec2:Subnet")
    world.client(OWNER, "ram").associate_resource_share(resourceShareArn=share_arn, resourceArns=[subnet])

    consumer_asleep = False
    world.cloud.emit(CONSUMER, "eu-west-1", "aws.ram", "Resource Sharing State Change",
                     {"event": "Resource Share Invitation", "status": "pending"})
    world.settle()

    assert [i.share_arn for i in world.pending(CONSUMER)] == [share_arn]
    assert world.calls("AcceptResourceShareInvitation", CONSUMER, ok=None) == []
    assert world.discoverable(CONSUMER) == []
    reasons = [r["reason"] for r in world.logs(CONSUMER, "WARNING") if r.get("message") == "Invitation left pending"]
    assert reasons == [f"the share holds {subnet} (ec2:Subnet), not a model package group of {OWNER}"]


def test_the_flow_does_not_depend_on_the_resource_type_string():
    """RAM's type string for a model package group is UNVERIFIED: with another spelling the
    consumer still judges each resource by its ARN and accepts."""
    from localaws.runtime.cloud import LocalCloud
    from tests.integration.conftest import World

    with LocalCloud(ram_share_delay_seconds=20, group_type="SageMaker:modelpackagegroups") as cloud:
        world = World(cloud)
        world.install(OWNER, CONSUMER)
        world.create_group(OWNER, "churn-xgb")
        world.settle()
        assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
        assert world.lambdas.failures == []
