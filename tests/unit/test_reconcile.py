from collections import Counter
from dataclasses import replace

import boto3
import pytest
from botocore.stub import Stubber

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.aws.ram_owner import RamOwnerShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.dry_run import Plan
from modelshare.outcomes import GroupAction, InvitationAction
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import CREATED_FROM_POLICY, MODEL_PACKAGE_GROUP_TYPE, STANDARD, ManagedPermission, SharePermission
from modelshare.wiring import consumer_from, owner_from
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    StaleCacheAllowlist,
    allowlist_doc,
    group_arn,
    modelshare_wrote,
)

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def ours(*consumers, name="churn-xgb"):
    return policies.modelshare_statement(group_arn(name), consumers, ACCESS_ACTIONS["discover"])


def owner_with(*rules, groups=("churn-xgb",), source=None):
    registry, shares = FakeRegistry(names=set(groups)), FakeShares()
    service = owner_from(OWNER, registry, shares, source or FixedAllowlist(allowlist_doc(*(rules or (RULE,)))),
                         shares.ledger, sleep=lambda s: None)
    return service, registry, shares


DEFAULT_PERMISSION = "arn:aws:ram::aws:permission/default"  # an AWS managed one: discover


def promoted(shares, name="churn-xgb", principals=(CONSUMER,)):
    """A share of modelshare's, promoted: RAM gave it the managed permission with its policy's
    actions, one every such share uses."""
    arn = shares.add_policy_share(group_arn(name), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}",
                                  feature_set=STANDARD)
    shares.principals[arn] = list(principals)
    shares.share_permissions[arn] = [SharePermission(DEFAULT_PERMISSION, "", STANDARD, MODEL_PACKAGE_GROUP_TYPE)]
    shares.permission_action_sets[DEFAULT_PERMISSION] = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])
    return arn


def test_promoted_share_consumers_follow_the_allowlist_through_ram():
    service, registry, shares = owner_with({**RULE, "consumers": [OTHER]})
    modelshare_wrote(registry, service.ledger, "churn-xgb", ours(CONSUMER))
    share = promoted(shares)
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    # Access is taken away before more is given.
    assert shares.principal_changes == [("remove", share, (CONSUMER,)), ("add", share, (OTHER,))]
    assert registry.puts == [], "after promotion the policy is left alone; RAM owns the principals"
    assert [o.action for o in service.reconcile()] == [GroupAction.CONVERGED]


def test_before_promotion_consumers_change_through_the_policy_and_unsharing_deletes_our_only_statement():
    service, registry, _ = owner_with({**RULE, "consumers": [OTHER]}, groups=("churn-xgb", "churn-lr"))
    modelshare_wrote(registry, service.ledger, "churn-xgb", ours(CONSUMER))
    assert {o.group: o.action for o in service.reconcile()} == {"churn-xgb": GroupAction.SHARED, "churn-lr": GroupAction.SHARED}
    assert registry.policies["churn-xgb"]["Statement"] == [ours(OTHER)]
    service.allowlist_source = FixedAllowlist(allowlist_doc())
    assert {o.action for o in service.reconcile()} == {GroupAction.UNSHARED}
    assert registry.deletes == ["churn-lr", "churn-xgb"] and registry.policies == {}


def test_unsharing_keeps_foreign_statements():
    service, registry, _ = owner_with()
    foreign = {"Sid": "Auditor", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sagemaker:ListModelPackages",
               "Resource": group_arn("churn-xgb")}
    modelshare_wrote(registry, service.ledger, "churn-xgb", foreign, ours(CONSUMER))
    service.allowlist_source = FixedAllowlist(allowlist_doc())
    service.reconcile()
    assert registry.policies["churn-xgb"]["Statement"] == [foreign] and registry.deletes == []


def test_reconcile_promotes_what_is_promotable_and_converged_groups_cost_no_writes():
    service, registry, shares = owner_with(groups=("churn-xgb", "scratch"))
    modelshare_wrote(registry, service.ledger, "churn-xgb", ours(CONSUMER))
    shares.add_policy_share(group_arn("churn-xgb"))
    assert {o.group: o.action for o in service.reconcile()} == {"churn-xgb": GroupAction.PROMOTED, "scratch": GroupAction.NOT_SHARED}
    shares.shares.clear()
    promoted(shares)
    puts, changes, promoted_before = len(registry.puts), len(shares.principal_changes), len(shares.promoted_shares)
    assert {o.action for o in service.reconcile()} == {GroupAction.CONVERGED, GroupAction.NOT_SHARED}
    assert (len(registry.puts), len(shares.principal_changes), len(shares.promoted_shares)) == (puts, changes, promoted_before)


def test_conflicting_rules_remove_consumers_from_promoted_share():
    service, _, shares = owner_with(RULE, {**RULE, "groups": ["churn-xgb"], "access": ["deploy"]})
    share = promoted(shares)
    outcome, = service.reconcile()
    assert shares.principal_changes == [("remove", share, (CONSUMER,))]
    assert (outcome.action, outcome.reason) == (GroupAction.CONSUMERS_CHANGED, f"removed {CONSUMER}")


def test_orphaned_promoted_shares_of_deleted_groups_are_deleted_and_others_kept():
    service, _, shares = owner_with(groups=())
    orphan = promoted(shares, name="gone")
    shares.past_resources[orphan], shares.resources[orphan] = shares.resources[orphan], []
    alive = promoted(shares, name="churn-live")
    other = shares.add_policy_share("arn:aws:ec2:eu-west-1:111122223333:subnet/s-1",  # not modelshare's
                                    share_arn="arn:aws:ram:eu-west-1:111122223333:resource-share/ec2", feature_set=STANDARD,
                                    owned=False)
    shares.past_resources[other], shares.resources[other] = shares.resources[other], []
    outcomes = service.delete_orphaned_shares()
    assert shares.deleted_shares == [orphan]
    assert [(o.group, o.action) for o in outcomes] == [("gone", GroupAction.SHARE_DELETED)]
    assert alive in shares.shares and other in shares.shares


def test_invalid_allowlist_reconciles_nothing():
    service, registry, shares = owner_with()
    service.allowlist_source = FixedAllowlist({"version": 1, "shares": "all"})
    assert service.reconcile() == []
    assert registry.puts == [] and shares.principal_changes == []


def test_dry_run_records_writes_instead_of_making_them():
    service, registry, shares = owner_with({**RULE, "consumers": [OTHER]}, groups=("churn-xgb", "churn-lr"))
    share = promoted(shares)
    plan = Plan()
    dry = owner_from(OWNER, registry, shares, service.allowlist_source, shares.ledger, plan)
    dry.reconcile()
    digest = policies.statement_digest(ours(OTHER, name="churn-lr"))[:12]
    assert [str(w) for w in plan.writes] == [
        f"record-statement {group_arn('churn-lr')}: {digest}",
        f"put-policy churn-lr: principals {OTHER}",
        f"remove-consumers {share}: {CONSUMER}",
        f"add-consumers {share}: {OTHER}",
    ]
    assert registry.puts == [] and shares.principal_changes == []


def test_stale_cache_never_grants_sharing():
    service, registry, _ = owner_with(source=StaleCacheAllowlist(allowlist_doc(RULE), allowlist_doc()))
    outcome = service.share_group("churn-xgb")
    assert outcome.action == GroupAction.NOT_SHARED and registry.puts == []
    assert service.allowlist_source.fresh_loads == 1


def test_stale_cache_never_accepts():
    shares = FakeShares(pending=[Invitation("inv", "share", "s", OWNER, "PENDING", None)],
                        invitation_resources={"inv": [SharedResource(group_arn("churn-xgb"), MODEL_PACKAGE_GROUP_TYPE)]})
    consumer = consumer_from(CONSUMER, shares, StaleCacheAllowlist(allowlist_doc(RULE), allowlist_doc()))
    outcome, = consumer.accept_allowed_invitations()
    assert outcome.action == InvitationAction.LEFT_PENDING and "not an allowlisted owner" in outcome.reason
    assert shares.accepted == []


@pytest.mark.parametrize("feature_set", [CREATED_FROM_POLICY])
def test_promotion_decided_on_fresh_allowlist(feature_set):
    source = StaleCacheAllowlist(allowlist_doc(RULE), allowlist_doc({**RULE, "consumers": [OTHER]}))
    service, registry, shares = owner_with(source=source)
    modelshare_wrote(registry, service.ledger, "churn-xgb", ours(CONSUMER))
    shares.add_policy_share(group_arn("churn-xgb"), feature_set=feature_set)
    outcome = service.promote_group("churn-xgb")
    # The fresh allowlist names OTHER: the statement is to be rewritten first (the sweep's), never promoted.
    assert outcome.action == GroupAction.DEFERRED and OTHER in outcome.reason and shares.promoted_shares == []


def test_a_ram_wake_up_reads_the_allowlist_fresh_once_for_all_groups():
    source = StaleCacheAllowlist(allowlist_doc(RULE), allowlist_doc(RULE))
    service, registry, shares = owner_with(groups=("churn-a", "churn-b"), source=source)
    for name in ("churn-a", "churn-b"):
        modelshare_wrote(registry, service.ledger, name, ours(CONSUMER, name=name))
        shares.add_policy_share(group_arn(name), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}")
    assert [o.action for o in service.promote_pending_shares()] == [GroupAction.PROMOTED, GroupAction.PROMOTED]
    assert source.fresh_loads == 1


def test_accepting_several_invitations_confirms_on_one_fresh_read():
    resources = {arn: [SharedResource(group_arn(f"churn-{arn}"), MODEL_PACKAGE_GROUP_TYPE)] for arn in ("a", "b")}
    shares = FakeShares(pending=[Invitation(arn, "share", "s", OWNER, "PENDING", None) for arn in resources],
                        invitation_resources=resources)
    source = StaleCacheAllowlist(allowlist_doc(RULE), allowlist_doc(RULE))
    outcomes = consumer_from(CONSUMER, shares, source).accept_allowed_invitations()
    assert [o.action for o in outcomes] == [InvitationAction.ACCEPTED, InvitationAction.ACCEPTED]
    assert source.fresh_loads == 1


class Counting:
    """Counts the calls made to a port implementation, by method."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


@pytest.mark.parametrize("groups", [10, 200])
def test_a_converged_sweep_reads_in_bulk(groups):
    """Listings once each, whatever the number of groups; a policy only for groups without a
    promoted share of modelshare's (a statement of modelshare's there may have to go); no write.
    (docs/aws-behaviour.md, COST-PAGES)"""
    shared = [f"churn-{i}" for i in range(groups // 2)]
    others = [f"other-{i}" for i in range(groups - len(shared))]
    service, registry, shares = owner_with(groups=(*shared, *others))
    for name in shared:
        promoted(shares, name=name)
    service.registry, service.shares = Counting(registry), Counting(shares)
    outcomes = service.reconcile()
    assert {o.action for o in outcomes} == {GroupAction.CONVERGED, GroupAction.NOT_SHARED} and len(outcomes) == groups
    assert dict(service.registry.calls) == {"groups": 1, "get_policy": len(others)}
    # The promoted shares' permissions in one listing, and each distinct permission read once.
    assert dict(service.shares.calls) == {"owned_shares": 1, "associations": 2, "shareable_permissions": 1,
                                          "permission_associations": 1, "permission_actions": 1}


def test_the_adapters_ask_for_the_largest_pages():
    """ListModelPackageGroups pages 100 groups at most, RAM 500 items (docs/aws-behaviour.md,
    COST-PAGES)."""
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
    registry, ram = SageMakerRegistry(session), RamOwnerShares(session)
    with Stubber(registry._client) as sagemaker:
        sagemaker.add_response("list_model_package_groups", {"ModelPackageGroupSummaryList": []}, {"MaxResults": 100})
        assert list(registry.groups()) == []
    with Stubber(ram._client) as stub:
        stub.add_response("get_resource_share_associations", {"resourceShareAssociations": []},
                          {"associationType": "RESOURCE", "maxResults": 500})
        stub.add_response("get_resource_shares", {"resourceShares": []},
                          {"resourceOwner": "SELF", "resourceShareStatus": "ACTIVE", "maxResults": 500})
        stub.add_response("list_permissions", {"permissions": [{"arn": "p1"}], "nextToken": "t"},
                          {"permissionType": "ALL", "maxResults": 500})
        stub.add_response("list_permissions", {"permissions": [{"arn": "p2"}]},
                          {"permissionType": "ALL", "maxResults": 500, "nextToken": "t"})
        share = "arn:aws:ram:eu-west-1:111122223333:resource-share/s"
        for permission in ("p1", "p2"):  # one listing per permission (RAM-PERMISSION-ASSOCIATIONS)
            stub.add_response("list_permission_associations",
                              {"permissions": [{"arn": permission, "resourceShareArn": share}]},
                              {"permissionArn": permission, "featureSet": "STANDARD", "maxResults": 500})
        assert list(ram.associations("RESOURCE")) == [] and list(ram.owned_shares()) == []
        assert ram.shareable_permissions() == ["p1", "p2"]
        assert [p.arn for p in ram.permission_associations(["p1", "p2", "p1"])[share]] == ["p1", "p2"]


DEPLOY_ACTIONS = frozenset(a.lower() for a in (*ACCESS_ACTIONS["discover"], *ACCESS_ACTIONS["deploy"]))
DISCOVER = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])


def deploy_share(shares):
    """A promoted share of churn-xgb whose permission grants deploy (the allowlist once said so)."""
    share = promoted(shares)
    shares.share_permissions[share] = [SharePermission("arn:aws:ram::aws:permission/deploy", "", STANDARD,
                                                       MODEL_PACKAGE_GROUP_TYPE)]
    shares.permission_action_sets["arn:aws:ram::aws:permission/deploy"] = DEPLOY_ACTIONS
    return share


def test_narrowed_access_sets_the_promoted_share_to_a_managed_permission_with_exactly_those_actions():
    service, _registry, shares = owner_with(RULE)  # access: discover
    shares.managed_action_sets = [DEPLOY_ACTIONS, DISCOVER]
    share = deploy_share(shares)
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.ACCESS_CHANGED, outcome
    assert "sagemaker:createmodel" in outcome.reason
    assert shares.replaced_permissions == [(share, "arn:aws:ram::aws:permission/aws-managed-1")]
    assert shares.created_permissions == [] and shares.principal_changes == []
    assert [o.action for o in service.reconcile()] == [GroupAction.CONVERGED]


def test_actions_no_managed_permission_grants_get_one_customer_managed_permission_per_action_set():
    service, _registry, shares = owner_with({**RULE, "access": ["discover", "register", "deploy"]})
    share = promoted(shares)  # discover only
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.ACCESS_CHANGED
    (name, actions), = shares.created_permissions
    assert name == "modelshare-discover-register-deploy"
    assert {a.lower() for a in actions} == {a.lower() for level in ("discover", "register", "deploy")
                                           for a in ACCESS_ACTIONS[level]}
    assert shares.replaced_permissions == [(share, f"arn:aws:ram:eu-west-1:{OWNER}:permission/{name}")]
    assert [o.action for o in service.reconcile()] == [GroupAction.CONVERGED]


def test_a_share_whose_actions_cannot_be_narrowed_loses_its_consumers_until_they_can():
    service, _registry, shares = owner_with(RULE)
    shares.permission_quota = 0  # no managed permission grants discover alone, and none can be created
    share = deploy_share(shares)
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert "consumers removed until the share's actions can be narrowed" in outcome.reason
    assert shares.principal_changes == [("remove", share, (CONSUMER,))]
    assert shares.replaced_permissions == []
    # Once RAM lets it: actions first, then the consumer again.
    shares.permission_quota = 10
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert shares.replaced_permissions and shares.principal_changes[-1] == ("add", share, (CONSUMER,))


def test_widened_access_that_cannot_be_set_yet_keeps_the_consumers():
    service, _registry, shares = owner_with({**RULE, "access": ["discover", "deploy"]})
    shares.permission_quota = 0
    promoted(shares)  # discover only: less than allowed, nothing beyond
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.PROMOTION_PENDING
    assert shares.principal_changes == []


def test_a_dry_run_plans_the_permission_it_would_create_and_never_waits_for_it():
    service, registry, shares = owner_with({**RULE, "access": ["discover", "register", "deploy"]})
    share = promoted(shares)
    plan = Plan()

    def no_sleep(seconds):
        raise AssertionError(f"a dry run waited {seconds} s for a permission it never created")

    dry = owner_from(OWNER, registry, shares, service.allowlist_source, shares.ledger, plan, sleep=no_sleep)
    outcome, = dry.reconcile()
    assert outcome.action == GroupAction.ACCESS_CHANGED
    assert [(w.action, w.target) for w in plan.writes] == [
        ("record-permission", "modelshare-discover-register-deploy"),  # the ledger first
        ("create-permission", "modelshare-discover-register-deploy"),
        ("replace-permission", share)]
    assert shares.created_permissions == [] and shares.replaced_permissions == []


def test_a_person_s_permission_is_never_given_to_a_share_and_is_replaced_where_ram_gave_it():
    """A person's customer managed permission with exactly the allowlist's actions is as unsafe as
    a wider one: its owner may add a version granting deploy whenever they like. modelshare gives
    shares only AWS managed permissions and those its ledger says it made, and replaces a person's
    that RAM matched when it promoted a share (RAM matches any managed permission, RAM-MATCH)."""
    service, _, shares = owner_with()
    share = promoted(shares)
    persons = f"arn:aws:ram:eu-west-1:{OWNER}:permission/team-read"
    shares.customer_permissions["team-read"] = (ManagedPermission(persons, "team-read", "ATTACHABLE"),
                                                frozenset(a.lower() for a in ACCESS_ACTIONS["discover"]))
    shares.share_permissions[share] = [SharePermission(persons, "team-read", STANDARD, MODEL_PACKAGE_GROUP_TYPE)]
    shares.permission_action_sets[persons] = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.ACCESS_CHANGED, outcome
    [(replaced, given)] = shares.replaced_permissions
    assert replaced == share and given != persons
    assert ("record-permission", "", "modelshare-discover") in shares.ledger.writes, "modelshare made the one it gave"
    assert [o.action for o in service.reconcile()] == [GroupAction.CONVERGED], "its own permission is kept"


def test_a_share_a_person_gave_a_second_permission_is_offered_to_nobody():
    """Red team: a person attaches a permission for another resource type to modelshare's share,
    then widens the group's. What such a share grants cannot be judged from one permission: its
    consumers are removed and none is added until it holds one permission again (fail closed)."""
    service, _, shares = owner_with({**RULE, "consumers": [CONSUMER, OTHER]})
    share = promoted(shares)
    subnet = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSubnet"
    shares.share_permissions[share].append(SharePermission(subnet, "", STANDARD, "ec2:Subnet"))
    shares.permission_action_sets[subnet] = frozenset({"ec2:runinstances"})
    [outcome] = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert shares.principal_changes == [("remove", share, (CONSUMER,))], "removed, and OTHER is not invited"
    assert "cannot be judged" in service.group_state("churn-xgb", service.allowlist_source.load()).reason
    shares.share_permissions[share].pop()  # one permission again: judged, and consumers come back
    service.reconcile()
    assert shares.principal_changes[-1] == ("add", share, (CONSUMER, OTHER))


@pytest.mark.parametrize("groups", [2, 12])
def test_a_second_permission_of_another_type_is_seen_whether_shares_or_permissions_are_listed(groups):
    """RAM-PERMISSION-ASSOCIATIONS: the sweep reads every permission of modelshare's shares, of
    any resource type: one ListPermissionAssociations per permission the account can give a
    share when the shares outnumber them (12), else one read per share (2). Either way, a share
    a person gave a second permission for another type loses its consumers (fail closed)."""
    names = [f"churn-{i}" for i in range(groups)]
    service, _, shares = owner_with(groups=names)
    arns = [promoted(shares, name=name) for name in names]
    subnet = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSubnet"
    shares.share_permissions[arns[0]].append(SharePermission(subnet, "", STANDARD, "ec2:Subnet"))
    shares.permission_action_sets[subnet] = frozenset({"ec2:runinstances"})
    for i in range(5):  # permissions no share uses
        shares.permission_action_sets[f"arn:aws:ram::aws:permission/unused-{i}"] = frozenset({"ec2:describesubnets"})
    service.shares = counted = Counting(shares)
    outcomes = {o.group: o.action for o in service.reconcile()}
    assert outcomes == {name: GroupAction.CONSUMERS_CHANGED if name == "churn-0" else GroupAction.CONVERGED for name in names}
    assert shares.principal_changes == [("remove", arns[0], (CONSUMER,))]
    listed = len(shares.shareable_permissions())
    if groups > listed:
        assert counted.calls["permission_associations"] == 1 and "permissions" not in counted.calls
    else:
        assert counted.calls["permissions"] == groups and "permission_associations" not in counted.calls


def test_a_share_on_a_permission_version_other_than_the_default_is_given_one_modelshare_can_read():
    """Red team: RAM keeps a share on the version it was given when a newer one becomes the
    default, and a read of the permission gives the default's actions. A share not on the default
    version grants what nobody read: it gets a permission modelshare trusts."""
    service, _, shares = owner_with()
    share = promoted(shares)
    [permission] = shares.share_permissions[share]
    shares.share_permissions[share] = [replace(permission, default_version=False)]
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.ACCESS_CHANGED and [s for s, _ in shares.replaced_permissions] == [share]


def test_a_person_who_writes_modelshare_s_old_statement_again_owns_it():
    """Red team: the ledger kept the digest of every statement modelshare ever wrote, so a person
    re-putting one of them word for word had it taken for modelshare's and removed. Once its own
    statement is gone from the policy, the ledger forgets it."""
    service, registry, shares = owner_with()
    assert service.share_group("churn-xgb").action == GroupAction.SHARED
    written = registry.policies["churn-xgb"]["Statement"][0]
    service.allowlist_source = FixedAllowlist(allowlist_doc())  # the group leaves the allowlist
    assert [o.action for o in service.reconcile()] == [GroupAction.UNSHARED]
    assert shares.ledger.statements[group_arn("churn-xgb")] == set(), "forgotten once gone"
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [written]}  # a person, word for word
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.SID_TAKEN and registry.policies["churn-xgb"]["Statement"] == [written]


def test_a_person_s_statement_under_modelshare_s_sid_freezes_no_removal():
    """Red team: a person adds a statement under modelshare's Sid beside modelshare's own; the
    allowlist then drops the consumer. modelshare's statement is still narrowed (a removal is never
    frozen), the person's kept as written; adding a consumer waits (nothing is added beside it)."""
    service, registry, _ = owner_with({**RULE, "consumers": [CONSUMER, OTHER]})
    mine = ours(CONSUMER, OTHER)
    persons = {**ours(OTHER), "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}
    modelshare_wrote(registry, service.ledger, "churn-xgb", mine)
    registry.policies["churn-xgb"]["Statement"].append(persons)
    service.allowlist_source = FixedAllowlist(allowlist_doc(RULE))  # OTHER leaves
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.SHARED and registry.policies["churn-xgb"]["Statement"] == [persons, ours(CONSUMER)]
    service.allowlist_source = FixedAllowlist(allowlist_doc({**RULE, "consumers": [CONSUMER, OTHER]}))  # OTHER back
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.SID_TAKEN and registry.policies["churn-xgb"]["Statement"] == [persons, ours(CONSUMER)]
