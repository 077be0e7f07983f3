import pytest

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS, actions_for
from modelshare.outcomes import GroupAction, GroupStatus
from modelshare.owner.outcome import ReconcileIncomplete
from modelshare.owner.quota import QUOTA_RETRY_DELAY_SECONDS, QUOTA_RETRY_PACE_SECONDS
from modelshare.owner.run import PROMOTION_WAIT_SECONDS
from modelshare.permission_names import permission_name
from modelshare.ports import CREATED_FROM_POLICY, PROMOTING_TO_STANDARD, STANDARD, ManagedPermission, PromotionNotReady
from modelshare.wiring import owner_from
from tests.unit.fakes import (
    CONSUMER,
    DISCOVER_ACTIONS,
    OTHER,
    OWNER,
    FakeLedger,
    FakeQueue,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
    modelshare_wrote,
)

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def make_owner(*rules, groups=("churn-xgb",)):
    registry = FakeRegistry(names=set(groups))
    shares = FakeShares()
    sleeps: list[float] = []

    def sleep(seconds):  # RAM finishes what it was promoting while the function waits
        sleeps.append(seconds)
        for arn, share in list(shares.shares.items()):
            if share.feature_set == PROMOTING_TO_STANDARD:
                shares.set_feature_set(arn, STANDARD)

    service = owner_from(OWNER, registry, shares, FixedAllowlist(allowlist_doc(*(rules or (RULE,)))), shares.ledger,
                         sleep=sleep)
    return service, registry, shares, sleeps


def ours(consumers=(CONSUMER,), name="churn-xgb", access=("discover",)):
    return policies.modelshare_statement(group_arn(name), consumers, actions_for(access))


def with_policy(registry, shares, name="churn-xgb", access=("discover",)):
    registry.names.add(name)
    modelshare_wrote(registry, shares.ledger, name, ours(name=name, access=access))
    actions = frozenset(a.lower() for a in actions_for(access))
    return shares.add_policy_share(group_arn(name), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}",
                                   actions=actions)


# -- sharing on creation -----------------------------------------------------------------------

def test_share_puts_one_statement_and_is_idempotent():
    service, registry, _, _ = make_owner()
    assert service.share_group("churn-xgb").action == GroupAction.SHARED
    assert registry.policies["churn-xgb"] == {"Version": "2012-10-17", "Statement": [ours()]}
    assert service.share_group("churn-xgb").action == GroupAction.CONVERGED
    assert len(registry.puts) == 1, "no write when the policy is already right"


def test_share_keeps_foreign_statements():
    service, registry, _, _ = make_owner()
    foreign = {"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sagemaker:ListModelPackages",
               "Resource": group_arn("churn-xgb")}
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [foreign]}
    service.share_group("churn-xgb")
    assert registry.policies["churn-xgb"]["Statement"] == [foreign, ours()]


def test_unmatched_conflicting_missing_groups_and_invalid_allowlist_write_nothing():
    service, registry, _, _ = make_owner(RULE, {**RULE, "groups": ["churn-xgb"], "access": ["register"]},
                                         groups=("churn-xgb", "fraud"))
    assert service.share_group("fraud").action == GroupAction.NOT_SHARED
    conflict = service.share_group("churn-xgb")
    assert conflict.action == GroupAction.CONFLICT and "different access" in conflict.reason
    assert service.share_group("deleted-group").action == GroupAction.NOT_SHARED, "no rule names it: decided without a call"
    assert service.share_group("churn-deleted").action == GroupAction.GONE
    invalid = owner_from(OWNER, registry, FakeShares(), FixedAllowlist('{"version": 1}'), FakeLedger())
    assert invalid.share_group("churn-xgb").action == GroupAction.SKIPPED
    assert registry.puts == []


def test_a_late_creation_event_leaves_a_promoted_group_to_reconcile():
    service, registry, shares, _ = make_owner({**RULE, "consumers": [OTHER]})
    share = with_policy(registry, shares)
    shares.set_feature_set(share, STANDARD)
    shares.ledger.record_share(group_arn("churn-xgb"), share)
    outcome = service.share_group("churn-xgb")
    assert outcome.action == GroupAction.ALREADY_PROMOTED and registry.puts == []


# -- promotion: the share first, one customer managed permission per action set -----------------

def test_a_share_ram_can_match_is_promoted_without_any_permission_of_ours():
    service, registry, shares, sleeps = make_owner()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)  # an AWS managed permission holds them
    share = with_policy(registry, shares)
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert shares.promoted_shares == [share] and shares.promoted_permissions == []
    # Recorded as modelshare's before it was promoted; its consumers checked once RAM finished.
    assert shares.ledger.shares[group_arn("churn-xgb")] == {share} and sleeps == [PROMOTION_WAIT_SECONDS[0]]
    assert service.promote_group("churn-xgb").action == GroupAction.ALREADY_PROMOTED
    assert shares.promoted_shares == [share], "promoting or promoted is success, not a second call"


def test_unmatched_shares_promote_one_permission_per_action_set():
    service, registry, shares, _ = make_owner(
        RULE, {"owner": OWNER, "groups": ["reg-*"], "consumers": [CONSUMER], "access": ["register"]},
        {"owner": OWNER, "groups": ["all-*"], "consumers": [CONSUMER], "access": ["register", "deploy"]})
    names = ["churn-a", "churn-b", "churn-c", "reg-a", "reg-b", "all-a"]
    access = {"churn": ("discover",), "reg": ("discover", "register"), "all": ("discover", "register", "deploy")}
    for name in names:
        with_policy(registry, shares, name, access[name.split("-")[0]])
        assert service.promote_group(name).action == GroupAction.PROMOTED
    assert [n for _, n in shares.promoted_permissions] == [
        "modelshare-discover", "modelshare-discover-register", "modelshare-discover-register-deploy"]
    assert len(shares.promoted_shares) == len(names)


def test_a_retry_after_the_permission_was_promoted_finishes_the_share_only():
    """The partial promotion: the permission is promoted (the original stays CREATED_FROM_POLICY
    on the share), the share is not. The retry promotes the share and nothing else."""
    service, registry, shares, _ = make_owner()
    share = with_policy(registry, shares)
    shares.promote_permission(f"{share}/permission", "modelshare-discover")
    shares.promoted_permissions.clear()
    assert shares.permissions(share)[0].feature_set == CREATED_FROM_POLICY
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert shares.promoted_permissions == [] and shares.promoted_shares == [share]


def test_a_permission_promoted_meanwhile_by_another_run_is_reused():
    service, registry, shares, _ = make_owner()
    share = with_policy(registry, shares)
    listed = shares.customer_managed_permissions

    def another_run_promotes_it_right_after_our_look_up(resource_type):
        found = listed(resource_type)
        if not shares.promoted_permissions:
            shares.promote_permission(f"{share}/permission", "modelshare-discover")
        return found

    shares.customer_managed_permissions = another_run_promotes_it_right_after_our_look_up  # type: ignore[method-assign]
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert len(shares.promoted_permissions) == 1 and shares.promoted_shares == [share]


def test_promotion_waits_for_the_new_permission_then_asks_for_a_retry():
    service, registry, shares, sleeps = make_owner()
    with_policy(registry, shares)
    shares.permission_delay = 4
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert sleeps == [1, 2, PROMOTION_WAIT_SECONDS[0]], "two waits for the permission, one for the promotion before tagging"
    service2, registry2, shares2, sleeps2 = make_owner()
    with_policy(registry2, shares2)
    shares2.permission_delay = 10
    with pytest.raises(PromotionNotReady, match="not attachable yet"):
        service2.promote_group("churn-xgb")
    assert sleeps2 == [1, 2, 4, 8]


def test_a_name_taken_for_other_actions_is_not_reused():
    service, registry, shares, _ = make_owner()
    share = with_policy(registry, shares)
    other = with_policy(registry, shares, "other-group", access=("discover", "register"))
    shares.promote_permission(f"{other}/permission", "modelshare-discover")  # someone used our name
    shares.promoted_permissions.clear()
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    [(source, name)] = shares.promoted_permissions
    assert source == f"{share}/permission" and name == permission_name(DISCOVER_ACTIONS, digest=True)
    assert name.startswith("modelshare-") and name != "modelshare-discover"


def test_a_permission_quota_answered_with_a_refusal_is_taken_for_the_quota():
    """Which error RAM gives at its permission quota is UNVERIFIED: a refusal while the account
    holds its default quota of customer managed permissions counts as the quota."""
    service, registry, shares, _ = make_owner()
    with_policy(registry, shares)
    for i in range(10):
        name = f"someone-elses-{i}"
        shares.customer_permissions[name] = (
            ManagedPermission(f"arn:aws:ram:eu-west-1:{OWNER}:permission/{name}", name, "ATTACHABLE"),
            frozenset({f"sagemaker:action{i}"}))
    shares.permission_quota = 100
    shares.refuse_permission_promotion = "OperationNotPermittedException: too many permissions"
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == GroupAction.QUOTA_REACHED and "too many permissions" in outcome.reason
    # Below the quota, the same refusal is a refusal.
    for i in range(5):
        del shares.customer_permissions[f"someone-elses-{i}"]
    assert service.promote_group("churn-xgb").action == GroupAction.NOT_PROMOTABLE


def test_the_permission_quota_stops_only_groups_that_need_a_new_permission():
    service, registry, shares, _ = make_owner(
        RULE, {"owner": OWNER, "groups": ["reg-*"], "consumers": [CONSUMER], "access": ["register"]})
    shares.permission_quota = 1
    with_policy(registry, shares, "churn-a")
    with_policy(registry, shares, "reg-a", access=("discover", "register"))
    with_policy(registry, shares, "churn-b")
    outcomes = {o.group: o for o in service.promote_pending_shares()}
    assert outcomes["churn-a"].action == GroupAction.PROMOTED and outcomes["churn-b"].action == GroupAction.PROMOTED
    assert outcomes["reg-a"].action == GroupAction.QUOTA_REACHED and "customer managed permissions" in outcomes["reg-a"].reason


def test_an_account_wide_quota_stops_the_run_after_one_try_and_the_sweep_s_workers_go_on_later():
    service, registry, shares, _ = make_owner()
    service.work_queue = queue = FakeQueue()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    for name in ("churn-a", "churn-b", "churn-c", "churn-d"):
        with_policy(registry, shares, name)
    shares.share_quota_left = 1
    outcomes = [(o.group, o.action, o.reason) for o in service.promote_pending_shares()]
    assert [(g, a) for g, a, _ in outcomes] == [("churn-a", GroupAction.PROMOTED), ("churn-b", GroupAction.QUOTA_REACHED),
                                                ("churn-c", GroupAction.QUOTA_REACHED), ("churn-d", GroupAction.QUOTA_REACHED)]
    assert outcomes[2][2].startswith("not tried in this run")
    assert shares.promoted_shares == [f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/churn-a"]
    assert registry.policy_reads == ["churn-a", "churn-b"], "after the quota, the other groups cost no reads"
    assert shares.shares[f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/churn-c"].feature_set == CREATED_FROM_POLICY
    # The groups that wait go to the sweep's workers, a minute later, by name.
    assert [i["group"] for i in queue.items] == ["churn-b", "churn-c", "churn-d"]
    assert queue.delays == [QUOTA_RETRY_DELAY_SECONDS]
    shares.share_quota_left = 1  # one invitation was accepted: room for one more
    worker = owner_from(OWNER, registry, shares, service.allowlist_source, shares.ledger, sleep=lambda s: None,
                        work_queue=(later := FakeQueue()))
    registry.policy_reads.clear()
    assert [o.action for o in worker.reconcile_items(queue.items)] == [
        GroupAction.PROMOTED, GroupAction.QUOTA_REACHED, GroupAction.QUOTA_REACHED]
    assert registry.policy_reads == ["churn-b", "churn-c"], "once the quota stopped the worker, churn-d went back unread"
    # Refused once more: churn-c; not tried: churn-d. Both go back, paced a minute apart.
    assert [(i["group"], i["attempt"]) for i in later.items] == [("churn-c", 2), ("churn-d", 1)]
    assert later.paces == [QUOTA_RETRY_PACE_SECONDS] and QUOTA_RETRY_PACE_SECONDS > 0
    shares.share_quota_left = 5
    assert [o.action for o in worker.reconcile_items(later.items)] == [GroupAction.PROMOTED, GroupAction.PROMOTED]


def test_a_group_whose_invitation_ram_reports_failed_is_invited_again_by_the_sweep_s_workers_later():
    service, registry, shares, _ = make_owner({**RULE, "consumers": [CONSUMER, OTHER]})
    service.work_queue = queue = FakeQueue()
    share = with_policy(registry, shares)
    shares.set_feature_set(share, STANDARD)
    shares.ledger.record_share(group_arn("churn-xgb"), share)
    shares.principals[share] = [OTHER]
    shares.failed_principals[share] = [CONSUMER]
    # The failure wake-up invites nobody now (the quota is full: it would fail again), and
    # reads nothing but the share it names.
    assert service.promote_pending_shares(share_arns=[], failed_share_arns=[share]) == []
    assert shares.principal_changes == [] and registry.policy_reads == []
    assert [i["group"] for i in queue.items] == ["churn-xgb"] and queue.delays == [QUOTA_RETRY_DELAY_SECONDS]
    [outcome] = service.reconcile_items(queue.items)
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert shares.principal_changes == [("add", share, (CONSUMER,))]


def test_a_late_duplicate_wake_up_for_a_promoted_group_reads_only_its_shares():
    service, registry, shares, _ = make_owner()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    share = with_policy(registry, shares)
    assert [o.action for o in service.promote_pending_shares(share_arns=[share])] == [GroupAction.PROMOTED]
    reads_before = len(registry.policy_reads)
    # CloudTrail's PutModelPackageGroupPolicy event comes minutes later.
    [outcome] = service.promote_pending_shares(groups={"churn-xgb": group_arn("churn-xgb")}, share_arns=[])
    assert outcome.action == GroupAction.ALREADY_PROMOTED and len(registry.policy_reads) == reads_before


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({**ours(), "Sid": "ByHand", "Principal": {"AWS": ["arn:aws:iam::444455556666:role/x"]}}, "is not an account"),
        ({**ours(), "Sid": "ByHand", "Action": "*"}, "wildcard action"),
        ({**ours(consumers=(OTHER,)), "Sid": "ByHand"}, "not allowlisted"),
    ],
)
def test_not_promotable_policies_are_left_alone(statement, reason):
    """A person's statement beside modelshare's: the policy cannot be promoted."""
    service, registry, shares, _ = make_owner()
    modelshare_wrote(registry, shares.ledger, "churn-xgb", statement, ours())
    shares.add_policy_share(group_arn("churn-xgb"))
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == GroupAction.NOT_PROMOTABLE and reason in outcome.reason
    assert shares.promoted_permissions == [] and shares.promoted_shares == []


def test_a_wake_up_never_promotes_a_statement_under_modelshare_s_sid_it_did_not_write():
    """The wake-up takes the sweep's decision (issue 21): a statement under modelshare's Sid the
    ledger does not record is a person's (SID_TAKEN), never promoted, even when the allowlist
    would allow what it grants."""
    service, registry, shares, _ = make_owner()
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [ours()]}
    shares.add_policy_share(group_arn("churn-xgb"))
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == GroupAction.SID_TAKEN
    assert shares.promoted_permissions == [] and shares.promoted_shares == []


def test_ram_refusal_is_reported_not_retried():
    service, registry, shares, _ = make_owner()
    with_policy(registry, shares)
    shares.refuse_promotion = "OperationNotPermittedException: no"
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == GroupAction.NOT_PROMOTABLE and "RAM refused" in outcome.reason


def test_promote_waits_with_bounded_backoff_for_the_share_then_asks_for_retry():
    service, registry, shares, sleeps = make_owner()
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours())
    with pytest.raises(PromotionNotReady, match="has not created the share"):
        service.promote_group("churn-xgb")
    assert sleeps == [1, 2, 4, 8]
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    shares.add_policy_share(group_arn("churn-xgb"))
    shares.appear_after_checks, shares.checks = 2, 0
    sleeps.clear()
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert sleeps[:2] == [1, 2]


def test_promote_pending_shares_covers_every_policy_share_of_this_account():
    service, registry, shares, _ = make_owner(groups=())
    for name in ("churn-a", "churn-b"):
        with_policy(registry, shares, name)
    shares.add_policy_share(group_arn("x", account=OTHER), share_arn="arn:aws:ram:eu-west-1:1:resource-share/foreign")
    outcomes = service.promote_pending_shares()
    assert sorted((o.group, o.action) for o in outcomes) == [("churn-a", GroupAction.PROMOTED), ("churn-b", GroupAction.PROMOTED)]
    # Woken again (RAM's events as it finishes): nothing left to promote, and each promoted share
    # of modelshare's is brought to what the allowlist says (its consumer invited).
    again = service.promote_pending_shares()
    assert sorted((o.group, o.action) for o in again) == [("churn-a", GroupAction.CONSUMERS_CHANGED),
                                                           ("churn-b", GroupAction.CONSUMERS_CHANGED)]
    assert service.promote_pending_shares() == [] or all(o.action == GroupAction.CONVERGED for o in service.promote_pending_shares())


# -- which shares are modelshare's ------------------------------------------------------------------

def test_a_share_the_ledger_records_is_modelshare_s_and_kept_to_the_allowlist():
    service, registry, shares, _ = make_owner({**RULE, "consumers": [OTHER]})
    share = with_policy(registry, shares)
    shares.ledger.record_share(group_arn("churn-xgb"), share)
    shares.set_feature_set(share, STANDARD)  # promoted by an earlier run
    shares.principals[share] = [CONSUMER]
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert shares.principal_changes == [("remove", share, (CONSUMER,)), ("add", share, (OTHER,))]


@pytest.mark.parametrize("forged", ["no-record", "tag-on-share", "another-share-recorded"])
def test_shares_modelshare_did_not_promote_are_never_changed(forged):
    """Issue 19, item 1: a share a person made looks like one modelshare promoted, and a person may
    tag it with modelshare's old tags; only the ledger, which only modelshare's roles write, makes a
    share modelshare's."""
    service, registry, shares, _ = make_owner({**RULE, "consumers": [OTHER]})
    share = shares.add_policy_share(group_arn("churn-xgb"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/p",
                                    feature_set=STANDARD, owned=False,
                                    tags=(("modelshare:managed", "true"),) if forged == "tag-on-share" else ())
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours(consumers=(OTHER,)))
    shares.principals[share] = [CONSUMER]
    if forged == "another-share-recorded":
        shares.ledger.record_share(group_arn("churn-xgb"), f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/other")
    service.reconcile()
    assert shares.principal_changes == [] and shares.resource_changes == []
    state = service.group_state("churn-xgb", service.allowlist_source.load())
    assert state.other_shares == (share,) and "modelshare leaves alone" in state.reason


def test_a_resource_a_person_adds_to_modelshare_s_share_is_taken_out():
    """Issue 19, item 5: modelshare's share holds only the group it was made for; a group a person
    associated into it is taken out by the next sweep (today it stopped managing the share)."""
    service, registry, shares, _ = make_owner(groups=("churn-xgb", "secret"))
    share = with_policy(registry, shares)
    shares.set_feature_set(share, STANDARD)
    shares.ledger.record_share(group_arn("churn-xgb"), share)
    shares.principals[share] = [CONSUMER]
    shares.resources[share].append(group_arn("secret"))
    outcomes = {o.group: o.action for o in service.reconcile()}
    assert outcomes["churn-xgb"] == GroupAction.CONSUMERS_CHANGED
    assert shares.resource_changes == [(share, (group_arn("secret"),))]
    assert shares.principal_changes == [], "the consumer the allowlist gives stays"


def test_promoting_records_the_share_in_the_ledger_first():
    service, registry, shares, _ = make_owner()
    share = with_policy(registry, shares)
    shares.refuse_promotion = "OperationNotPermittedException: no"
    service.promote_group("churn-xgb")
    assert ("record-share", group_arn("churn-xgb"), share) in shares.ledger.writes


def test_a_share_a_person_made_with_two_groups_gets_no_principal_and_the_group_its_own_share():
    service, registry, shares, _ = make_owner(groups=("churn-xgb", "fraud"))
    person = shares.add_policy_share(group_arn("churn-xgb"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/p",
                                     feature_set=STANDARD, owned=False)
    shares.resources[person].append(group_arn("fraud"))
    outcomes = {o.group: o.action for o in service.reconcile()}
    assert outcomes == {"churn-xgb": GroupAction.SHARED, "fraud": GroupAction.NOT_SHARED}
    assert shares.principal_changes == [], "nothing is added to the person's share"
    assert registry.policies["churn-xgb"]["Statement"] == [ours()]


def test_orphaned_shares_are_deleted_only_when_modelshare_manages_them():
    service, _, shares, _ = make_owner(groups=())
    mine = shares.add_policy_share(group_arn("gone"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/mine",
                                   feature_set=STANDARD)
    theirs = shares.add_policy_share(group_arn("gone2"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/theirs",
                                     feature_set=STANDARD, owned=False)
    for share in (mine, theirs):
        shares.past_resources[share], shares.resources[share] = shares.resources[share], []
    assert [(o.group, o.action) for o in service.delete_orphaned_shares()] == [("gone", GroupAction.SHARE_DELETED)]
    assert shares.deleted_shares == [mine] and theirs in shares.shares


def test_one_failing_group_does_not_stop_the_sweep():
    service, registry, _shares, _ = make_owner(groups=("churn-a", "churn-b", "churn-c"))
    real = registry.get_policy

    def get_policy(name):
        if name == "churn-b":
            raise RuntimeError("AccessDeniedException: not authorized")
        return real(name)

    registry.get_policy = get_policy  # type: ignore[method-assign]
    with pytest.raises(ReconcileIncomplete, match="churn-b: RuntimeError: AccessDeniedException"):
        service.reconcile()
    assert sorted(name for name, _ in registry.puts) == ["churn-a", "churn-c"]


def test_permission_names_are_one_per_action_set_and_valid():
    names = {permission_name(actions_for(levels)) for levels in
             [("discover",), ("register",), ("deploy",), ("register", "deploy"), ("deploy", "register")]}
    assert names == {"modelshare-discover", "modelshare-discover-register", "modelshare-discover-deploy",
                     "modelshare-discover-register-deploy"}
    assert permission_name([a.upper() for a in ACCESS_ACTIONS["discover"]]) == "modelshare-discover"
    odd = permission_name(["sagemaker:DescribeModelPackageGroup"])
    assert odd.startswith("modelshare-") and len(odd) <= 36 and odd == permission_name(["SageMaker:describemodelpackagegroup"])
    assert all(len(n) <= 36 for n in names)


def test_group_state():
    service, registry, shares, _ = make_owner(groups=("churn-xgb", "fraud"))
    allowlist = service.allowlist_source.load()
    assert service.group_state("churn-xgb", allowlist).status == GroupStatus.NOT_SHARED
    assert service.group_state("fraud", allowlist).reason == "no allowlist rule matches"
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours())
    state = service.group_state("churn-xgb", allowlist)
    assert (state.status, state.reason) == (GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, "RAM has not created the share yet")
    share = shares.add_policy_share(group_arn("churn-xgb"))
    assert service.group_state("churn-xgb", allowlist).reason == "share is CREATED_FROM_POLICY: promotion pending"
    shares.ledger.record_share(group_arn("churn-xgb"), share)
    shares.set_feature_set(share, PROMOTING_TO_STANDARD)
    assert service.group_state("churn-xgb", allowlist).reason == "RAM is promoting the share"
    shares.set_feature_set(share, STANDARD)
    assert service.group_state("churn-xgb", allowlist).status == GroupStatus.NOT_SHARED, "promoted, but no consumer left"
    assert "not yet invited: 444455556666" in service.group_state("churn-xgb", allowlist).reason
    shares.principals[share] = [CONSUMER]
    state = service.group_state("churn-xgb", allowlist)
    assert (state.status, state.consumers, state.other_shares) == (GroupStatus.DISCOVERABLE, (CONSUMER,), ())
    assert len(shares.ledger.writes) == 2 and shares.principal_changes == [], "reading the state writes nothing"
    assert service.group_state("gone", allowlist) is None


def test_group_state_says_invited_while_a_consumers_invitation_is_pending():
    """The owner knows only that it invited the consumer until RAM says the invitation was
    accepted (RAM-ACCEPTED): `modelshare status` says invited, never discoverable, meanwhile."""
    service, registry, shares, _ = make_owner(groups=("churn-xgb",))
    allowlist = service.allowlist_source.load()
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours())
    share = shares.add_policy_share(group_arn("churn-xgb"), feature_set=STANDARD)
    shares.principals[share] = [CONSUMER]
    shares.associating.add((share, CONSUMER))
    state = service.group_state("churn-xgb", allowlist)
    assert (state.status, state.consumers) == (GroupStatus.INVITED, (CONSUMER,))
    assert CONSUMER in state.reason
    shares.accept_all()
    assert service.group_state("churn-xgb", allowlist).status == GroupStatus.DISCOVERABLE


def test_a_group_whose_share_ram_made_while_the_run_waited_goes_to_the_sweep_which_finds_that_share():
    service, registry, shares, _ = make_owner()
    service.work_queue = queue = FakeQueue()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    share = with_policy(registry, shares)
    shares.appear_after_checks, shares.checks = 1, 0  # RAM makes the share while the run waits
    shares.share_quota_left = 0
    [outcome] = service.promote_pending_shares(groups={"churn-xgb": group_arn("churn-xgb")}, share_arns=[])
    assert outcome.action == "quota-reached"
    [item] = queue.items
    assert item["group"] == "churn-xgb" and "holdings" not in item, "the worker reads the share it is to promote"
    shares.share_quota_left = 1
    assert [o.action for o in service.reconcile_items(queue.items)] == ["promoted"]
    assert shares.promoted_shares == [share]


# -- issue 19: actions, not only accounts; removal during promotion -----------------------------

def test_a_share_ram_has_not_narrowed_yet_is_not_promoted_past_the_narrowing():
    """Issue 19, item 3: access narrowed (deploy -> discover) while RAM lags: the policy already
    grants discover only, but RAM's share made from it still grants deploy. Promoting it would
    hand the consumer CreateModel and UpdateModelPackage: the run waits for RAM instead."""
    service, registry, shares, _ = make_owner()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    deploy = DISCOVER_ACTIONS | {"sagemaker:createmodel", "sagemaker:updatemodelpackage"}
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours())  # discover: the allowlist's access
    share = shares.add_policy_share(group_arn("churn-xgb"), actions=deploy)  # RAM's share, from the deploy policy
    with pytest.raises(PromotionNotReady, match="sagemaker:createmodel"):
        service.promote_group("churn-xgb")
    assert shares.promoted_shares == []
    shares.permission_action_sets[shares.share_permissions[share][0].arn] = DISCOVER_ACTIONS  # RAM caught up
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED


def test_a_consumer_removed_while_ram_promotes_its_share_is_taken_out_as_the_promotion_finishes():
    """Issue 19, item 4: the allowlist drops a consumer while RAM promotes the share that names
    it; RAM invites it as the promotion finishes, and a person could accept by hand. The run
    checks the finished promotion against the allowlist read afresh and removes the consumer."""
    service, registry, shares, _ = make_owner({**RULE, "consumers": [CONSUMER, OTHER]})
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    share = with_policy(registry, shares)
    registry.policies["churn-xgb"]["Statement"][0] = ours(consumers=(CONSUMER, OTHER))
    shares.ledger.statements.clear()
    modelshare_wrote(registry, shares.ledger, "churn-xgb", ours(consumers=(CONSUMER, OTHER)))
    shares.principals[share] = [CONSUMER, OTHER]
    edited = FixedAllowlist(allowlist_doc({**RULE, "consumers": [OTHER]}))
    finish = service.sleep

    def edit_while_promoting(seconds):
        service.allowlist_source = edited  # an admin's edit lands while RAM promotes
        finish(seconds)

    service.sleep = edit_while_promoting
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert shares.principal_changes == [("remove", share, (CONSUMER,))]


def test_a_principal_a_person_added_to_modelshare_s_share_is_removed_whatever_it_is():
    """Issue 19, item 5: an organization, an OU or a role a person associated with modelshare's
    share is no account the allowlist names: taken out like any consumer it no longer names."""
    service, registry, shares, _ = make_owner()
    share = with_policy(registry, shares)
    shares.set_feature_set(share, STANDARD)
    shares.ledger.record_share(group_arn("churn-xgb"), share)
    organization = "arn:aws:organizations::999999999999:organization/o-abc"
    role = f"arn:aws:iam::{CONSUMER}:role/reader"
    shares.principals[share] = [CONSUMER, organization, role]
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert shares.principal_changes == [("remove", share, tuple(sorted((organization, role))))]
