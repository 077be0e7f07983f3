"""A permission a person attached to one of modelshare's made shares (the shares mode, issue 20)
for another resource type: modelshare takes it off its own share (RAM's
DisassociateResourceSharePermission; docs/aws-behaviour.md, RAM-PERMISSION-OFF) rather than
leaving the share with no consumer until a person removes it. Anything it cannot bring back to
one permission for model package groups still holds no consumer (fail closed)."""

from __future__ import annotations

from modelshare.outcomes import GroupAction
from modelshare.ports import SharePermission
from modelshare.wiring import owner_from
from tests.unit.fakes import CONSUMER, OTHER, OWNER, FakeShares, group_arn
from tests.unit.test_shares_mode import calls_in_order, churn, owner_with

SUBNET_PERMISSION = SharePermission("arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSubnet", "", "STANDARD",
                                    "ec2:Subnet")
SUBNET = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0abc"


def made_share(shares: FakeShares) -> str:
    share_arn, = shares.ledger.made
    assert sorted(shares.principals[share_arn]) == sorted([CONSUMER, OTHER])
    return share_arn


def test_a_permission_for_another_type_is_taken_off_modelshares_share_and_its_consumers_stay() -> None:
    owner, _, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn = made_share(shares)
    shares.share_permissions[share_arn].append(SUBNET_PERMISSION)  # a person's
    changes = len(shares.principal_changes)
    outcomes = owner.reconcile()
    assert shares.taken_off_permissions == [(share_arn, SUBNET_PERMISSION.arn)]
    assert [p.resource_type for p in shares.share_permissions[share_arn]] == ["sagemaker:ModelPackageGroup"]
    assert shares.principal_changes[changes:] == [], "no consumer taken out, none invited again"
    assert {o.action for o in outcomes} == {GroupAction.CONVERGED}


def test_while_ram_refuses_the_share_holds_no_consumer_and_a_later_run_brings_them_back() -> None:
    """RAM takes a permission off only while the share holds no resource of its type: the person
    also put a subnet into the share. The run takes the subnet out first, but RAM disassociates
    asynchronously and refuses meanwhile: the run fails closed (no consumer); the next run takes
    the permission off and gives the share its consumers again."""
    owner, _, shares, _ = owner_with(churn(1))
    owner.reconcile()
    share_arn = made_share(shares)
    shares.share_permissions[share_arn].append(SUBNET_PERMISSION)
    shares.resources[share_arn].append(SUBNET)
    shares.permission_off_refusals = 1
    owner.reconcile()
    assert shares.taken_off_permissions == [] and shares.principals[share_arn] == []
    assert (share_arn, (SUBNET,)) in shares.resource_changes
    owner.reconcile()
    assert shares.taken_off_permissions == [(share_arn, SUBNET_PERMISSION.arn)]
    assert sorted(shares.principals[share_arn]) == sorted([CONSUMER, OTHER])


def test_a_share_with_no_permission_for_model_package_groups_among_several_is_left_with_no_consumer() -> None:
    """Two permissions neither of which is for model package groups (RAM holds one per type):
    which one is the share's own cannot be said, so nothing is taken off and no one is offered it."""
    owner, _, shares, _ = owner_with(churn(1))
    owner.reconcile()
    share_arn = made_share(shares)
    shares.share_permissions[share_arn] = [SUBNET_PERMISSION, SharePermission("arn:aws:ram::aws:permission/x", "", "STANDARD",
                                                                              "ec2:Vpc")]
    owner.reconcile()
    assert shares.taken_off_permissions == [] and shares.principals[share_arn] == []


def test_a_dry_run_plans_taking_the_permission_off_and_goes_on_as_if_it_were_off() -> None:
    from modelshare.dry_run import Plan

    owner, registry, shares, source = owner_with(churn(1))
    owner.reconcile()
    share_arn = made_share(shares)
    shares.share_permissions[share_arn].append(SUBNET_PERMISSION)
    plan = Plan()
    dry = owner_from(OWNER, registry, shares, source, shares.ledger, plan, sleep=lambda s: None)
    dry.reconcile()
    assert [(w.action, w.target) for w in plan.writes] == [("take-off-permission", share_arn)], "consumers kept"
    assert shares.taken_off_permissions == [] and len(shares.share_permissions[share_arn]) == 2


def test_a_group_no_bucket_wants_goes_before_the_share_is_given_its_permission() -> None:
    """Red team (tests/integration/scenarios/a-person-widens-a-made-share.json): a person puts a
    group no rule names into modelshare's share, gives it a permission for another type and
    swaps its own for a wider one. Setting a share's permission grants it on every group the share
    holds, so the stray group is taken out before: the sweep never gives it anything."""
    owner, registry, shares, _ = owner_with(churn(1))
    owner.reconcile()
    share_arn = made_share(shares)
    registry.names.add("private")
    stray = group_arn("private")
    shares.resources[share_arn].append(stray)
    shares.share_permissions[share_arn] = [SharePermission("arn:aws:ram::aws:permission/wider", "", "STANDARD",
                                                           "sagemaker:ModelPackageGroup"), SUBNET_PERMISSION]
    order = calls_in_order(shares)
    owner.reconcile()
    assert ("disassociate_resources", share_arn) in order and ("replace_permission", share_arn) in order
    assert order.index(("disassociate_resources", share_arn)) < order.index(("replace_permission", share_arn)), order
    assert stray not in shares.resources[share_arn]
    assert sorted(shares.principals[share_arn]) == sorted([CONSUMER, OTHER]), "its consumers stay"
