"""One decision for a group, whoever asks: the sweep in one run, the sweep fanned out through
the work queue, `group_state` and the plan all go through `convergence.decide`."""

from __future__ import annotations

import copy

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS, Allowlist
from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot, Holding, decide, policy_matters
from modelshare.dry_run import Plan
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind
from modelshare.owner.sweep_work import THROTTLED_RETRY_DELAY_SECONDS
from modelshare.ports import STANDARD, ApiThrottled, Ownership, ResourceShare
from modelshare.wiring import owner_from
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeQueue,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
    modelshare_wrote,
)

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, OTHER]}


def world():
    """Groups in every situation the sweep meets: new, shared by policy, promoted with consumers
    to add and remove, promoted and converged, unshared, a person's policy, orphaned share."""
    registry = FakeRegistry(names={"churn-new", "churn-policy", "churn-promoted", "churn-done", "scratch", "other"})
    shares = FakeShares()
    statement = policies.modelshare_statement(group_arn("churn-policy"), [CONSUMER], ACCESS_ACTIONS["discover"])
    modelshare_wrote(registry, shares.ledger, "churn-policy", statement)
    shares.add_policy_share(group_arn("churn-policy"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/cfp")
    for name, principals in (("churn-promoted", [CONSUMER, "999999999999"]), ("churn-done", [CONSUMER, OTHER])):
        arn = shares.add_policy_share(group_arn(name), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}",
                                      feature_set=STANDARD)
        shares.principals[arn] = principals
    old = policies.modelshare_statement(group_arn("scratch"), [CONSUMER], ACCESS_ACTIONS["discover"])
    modelshare_wrote(registry, shares.ledger, "scratch", old)
    person = {"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sagemaker:ListModelPackages",
              "Resource": group_arn("other")}
    registry.policies["other"] = {"Version": "2012-10-17", "Statement": [person]}
    orphan = shares.add_policy_share(group_arn("gone"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/gone",
                                     feature_set=STANDARD)
    shares.past_resources[orphan], shares.resources[orphan] = shares.resources[orphan], []
    return registry, shares


def service(registry, shares, plan=None, queue=None):
    return owner_from(OWNER, registry, shares, FixedAllowlist(allowlist_doc(RULE)), shares.ledger, plan,
                      sleep=lambda s: None, work_queue=queue)


def test_the_fanned_out_sweep_makes_exactly_the_writes_of_the_sweep_in_one_run():
    one_run, fanned = Plan(), Plan()
    registry, shares = world()
    inline = {o.group: o.action for o in service(registry, shares, one_run).reconcile()}
    registry, shares = world()
    queue = FakeQueue()
    planner = service(registry, shares, fanned, queue)
    planned = {o.group: o.action for o in planner.plan_sweep(queue)}
    worked = {o.group: o.action for o in service(registry, shares, fanned, queue).reconcile_items(queue.items)}
    assert sorted(map(str, fanned.writes)) == sorted(map(str, one_run.writes)) and one_run.writes
    assert {**planned, **worked} == inline
    assert planned["churn-done"] == GroupAction.CONVERGED, "settled by the sweep itself, never handed out"
    assert {item["group"] for item in queue.items} == set(worked)


def test_status_and_the_sweep_read_the_same_decision():
    registry, shares = world()
    owner = service(registry, shares)
    allowlist = Allowlist.parse(allowlist_doc(RULE))
    states = {name: owner.group_state(name, allowlist) for name in sorted(registry.names)}
    assert states["churn-done"].status == GroupStatus.DISCOVERABLE and states["churn-done"].consumers == (CONSUMER, OTHER)
    assert states["churn-promoted"].reason == f"promoted RAM share; not yet invited: {OTHER}"
    assert states["churn-policy"].reason == "share is CREATED_FROM_POLICY: promotion pending"
    assert states["churn-new"].status == GroupStatus.NOT_SHARED and states["other"].status == GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE
    outcomes = {o.group: o.action for o in owner.reconcile()}
    assert outcomes["churn-promoted"] == GroupAction.CONSUMERS_CHANGED and outcomes["churn-new"] == GroupAction.SHARED
    again = {name: owner.group_state(name, allowlist) for name in ("churn-promoted", "scratch")}
    assert again["churn-promoted"].consumers == (CONSUMER, OTHER)
    assert again["scratch"].status == GroupStatus.NOT_SHARED


def test_decide_needs_the_policy_unless_modelshare_s_share_is_promoted():
    share = ResourceShare(f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/s", "s", STANDARD, "ACTIVE",
                          (("modelshare:managed", "true"),))
    arn = group_arn("churn-x")
    promoted = GroupSnapshot("churn-x", arn, (Holding(share, (arn,), (CONSUMER,)),), Ownership(shares=frozenset({share.arn})))
    decision = Allowlist.parse(allowlist_doc(RULE)).decide(OWNER, "churn-x")
    assert not policy_matters(promoted)
    verdict = decide(promoted, decision)
    assert [(w.kind, w.accounts) for w in verdict.writes] == [(WriteKind.ADD_CONSUMERS, (OTHER,))]
    bare = GroupSnapshot("churn-x", arn, ownership=Ownership())
    assert policy_matters(bare)
    try:
        decide(bare, decision)
    except ValueError as error:
        assert "needs its policy" in str(error)
    else:
        raise AssertionError("deciding without the policy it needs must fail loudly")
    assert decide(copy.replace(bare, policy=None, policy_read=True), decision).outcome == GroupAction.SHARED


def test_sweep_work_aws_keeps_throttling_goes_back_on_the_queue_whole_and_later():
    registry, shares = world()
    queue = FakeQueue()
    service(registry, shares, queue=queue).plan_sweep(queue)
    handed_out = [item["group"] for item in queue.items]
    reads: list[str] = []

    def throttled_from_the_third_read(group_name):
        reads.append(group_name)
        if len(reads) >= 3:
            raise ApiThrottled("GetModelPackageGroupPolicy: ThrottlingException after retries")
        return FakeRegistry.get_policy(registry, group_name)

    registry.get_policy = throttled_from_the_third_read
    back = FakeQueue()
    worker = service(registry, shares, queue=back)
    outcomes = worker.reconcile_items(queue.items)  # no exception: the batch is not failed
    worked = [o.group for o in outcomes]
    assert [item["group"] for item in back.items] == handed_out[len(worked):], "the throttled group and all after it"
    assert back.delays == [THROTTLED_RETRY_DELAY_SECONDS] and THROTTLED_RETRY_DELAY_SECONDS > 0
    assert len(reads) == 3, "no call after AWS said it throttles"
    assert not registry.puts or all(name in worked for name, _ in registry.puts)


def test_a_sweep_while_earlier_work_is_queued_hands_out_no_second_copy_of_quota_bound_groups():
    registry, shares = world()
    queue = FakeQueue(waiting=40)  # groups an earlier sweep handed out still wait for RAM's quota
    outcomes = {o.group: o.action for o in service(registry, shares, queue=queue).plan_sweep(queue)}
    assert outcomes["churn-promoted"] == GroupAction.DEFERRED, "consumers to add: the invitation quota"
    assert outcomes["churn-policy"] == GroupAction.DEFERRED, "a share to promote: the invitation quota"
    handed_out = {item["group"] for item in queue.items}
    assert {"churn-new", "scratch", "other"} <= handed_out, "work the quota does not hold up goes on"
    assert not handed_out & {"churn-promoted", "churn-policy"}
    assert outcomes["churn-done"] == GroupAction.CONVERGED


def test_a_work_item_naming_another_group_s_share_never_gets_that_share_promoted():
    # Anyone who may send to SweepQueue could write a well-formed item that calls the share of a
    # group no rule names a share of an allowlisted group: what the share holds is read again.
    registry = FakeRegistry(names={"churn-lgbm", "secret-model"})
    shares = FakeShares()
    shares.managed_action_sets.append(frozenset(a.lower() for a in ACCESS_ACTIONS["discover"]))
    statement = policies.modelshare_statement(group_arn("churn-lgbm"), [CONSUMER, OTHER], ACCESS_ACTIONS["discover"])
    modelshare_wrote(registry, shares.ledger, "churn-lgbm", statement)
    secret = shares.add_policy_share(group_arn("secret-model"), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/secret")
    forged = GroupSnapshot("churn-lgbm", group_arn("churn-lgbm"),
                           (Holding(shares.shares[secret], (group_arn("churn-lgbm"),), ()),))
    outcomes = service(registry, shares, queue=FakeQueue()).reconcile_items([work_item(forged)])
    assert shares.promoted_shares == [] and not [w for w in shares.ledger.writes if w[0] == "record-share"]
    assert [o.action for o in outcomes] != [GroupAction.PROMOTED]
