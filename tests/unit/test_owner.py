import pytest

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.owner import OwnerService, permission_name
from modelshare.ports import PROMOTING_TO_STANDARD, STANDARD, PromotionNotReady
from tests.unit.fakes import CONSUMER, OTHER, OWNER, FakeRegistry, FakeShares, FixedAllowlist, allowlist_doc, group_arn

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def make_owner(*rules, groups=("churn-xgb",)):
    registry = FakeRegistry(groups=set(groups))
    shares = FakeShares()
    sleeps: list[float] = []
    service = OwnerService(OWNER, registry, shares, FixedAllowlist(allowlist_doc(*(rules or (RULE,)))),
                           sleep=sleeps.append)
    return service, registry, shares, sleeps


def ours(consumers=(CONSUMER,), name="churn-xgb"):
    return policies.modelshare_statement(group_arn(name), consumers, ACCESS_ACTIONS["discover"])


def test_share_puts_one_statement_and_is_idempotent():
    service, registry, _, _ = make_owner()
    assert service.share_group("churn-xgb").action == "shared"
    assert registry.policies["churn-xgb"] == {"Version": "2012-10-17", "Statement": [ours()]}
    assert service.share_group("churn-xgb").action == "converged"
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
    assert service.share_group("fraud").action == "not-shared"
    conflict = service.share_group("churn-xgb")
    assert conflict.action == "conflict" and "different access" in conflict.reason
    assert service.share_group("deleted-group").action == "gone"
    invalid = OwnerService(OWNER, registry, FakeShares(), FixedAllowlist('{"version": 1}'))
    assert invalid.share_group("churn-xgb").action == "skipped"
    assert registry.puts == []


def test_promote_permission_then_share():
    service, registry, shares, sleeps = make_owner()
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [ours()]}
    share = shares.add_policy_share(group_arn("churn-xgb"))
    assert service.promote_group("churn-xgb").action == "promoted"
    (permission_arn, name), = shares.promoted_permissions
    assert permission_arn == f"{share}/permission" and name == permission_name("churn-xgb", permission_arn)
    assert shares.promoted_shares == [share]
    assert sleeps == []
    assert service.promote_group("churn-xgb").action == "already-promoted"
    assert shares.promoted_shares == [share], "promoting or promoted is success, not a second call"


def test_share_promotion_waits_for_the_promoted_permission_then_asks_for_retry():
    service, registry, shares, sleeps = make_owner()
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [ours()]}
    shares.add_policy_share(group_arn("churn-xgb"))
    shares.unmatched_answers = 2
    assert service.promote_group("churn-xgb").action == "promoted"
    assert sleeps == [1, 2] and len(shares.promoted_shares) == 1
    shares.shares.clear()
    shares.add_policy_share(group_arn("churn-xgb"))
    shares.unmatched_answers, sleeps[:] = 5, []
    with pytest.raises(PromotionNotReady, match="not matched"):
        service.promote_group("churn-xgb")
    assert sleeps == [1, 2, 4, 8]


def test_permission_names_are_valid_and_stable():
    name = permission_name("a" * 63, "arn:aws:ram:eu-west-1:111122223333:permission/x")
    assert len(name) <= 36 and name == permission_name("a" * 63, "arn:aws:ram:eu-west-1:111122223333:permission/x")
    assert name != permission_name("a" * 63, "arn:aws:ram:eu-west-1:111122223333:permission/y")


def test_promote_waits_with_bounded_backoff_then_asks_for_retry():
    service, registry, shares, sleeps = make_owner()
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [ours()]}
    with pytest.raises(PromotionNotReady):
        service.promote_group("churn-xgb")
    assert sleeps == [1, 2, 4, 8]
    shares.add_policy_share(group_arn("churn-xgb"))
    shares.appear_after_checks, shares.checks = 2, 0
    sleeps.clear()
    assert service.promote_group("churn-xgb").action == "promoted"
    assert sleeps == [1, 2]


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({**ours(), "Principal": {"AWS": ["arn:aws:iam::444455556666:role/x"]}}, "is not an account"),
        ({**ours(), "Action": "*"}, "wildcard action"),
        (ours(consumers=(OTHER,)), "not allowlisted"),
    ],
)
def test_not_promotable_policies_are_left_alone(statement, reason):
    service, registry, shares, _ = make_owner()
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [statement]}
    shares.add_policy_share(group_arn("churn-xgb"))
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == "not-promotable" and reason in outcome.reason
    assert shares.promoted_permissions == [] and shares.promoted_shares == []


def test_ram_refusal_is_reported_not_retried():
    service, registry, shares, _ = make_owner()
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [ours()]}
    shares.add_policy_share(group_arn("churn-xgb"))
    shares.refuse_promotion = "OperationNotPermittedException: no"
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == "not-promotable" and "RAM refused" in outcome.reason


def test_promote_pending_shares_covers_every_policy_share_and_asks_retry_for_unready():
    service, registry, shares, _ = make_owner(groups=("churn-a", "churn-b"))
    for name in ("churn-a", "churn-b"):
        registry.policies[name] = {"Version": "2012-10-17", "Statement": [ours(name=name)]}
        shares.add_policy_share(group_arn(name), share_arn=f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}")
    shares.add_policy_share(group_arn("x", account=OTHER), share_arn="arn:aws:ram:eu-west-1:1:resource-share/foreign")
    outcomes = service.promote_pending_shares()
    assert sorted(o.group for o in outcomes) == ["churn-a", "churn-b"]
    assert all(o.action == "promoted" for o in outcomes)
    assert service.promote_pending_shares() == [], "promoting shares are no longer created-from-policy"
    shares.shares.clear()
    shares.add_policy_share(group_arn("churn-a"))
    shares.unmatched_answers = 100
    with pytest.raises(PromotionNotReady):
        service.promote_pending_shares()


def test_group_state():
    service, registry, shares, _ = make_owner(groups=("churn-xgb", "fraud"))
    allowlist = service.allowlist_source.load()
    assert service.group_state("churn-xgb", allowlist).status == "not-shared"
    assert service.group_state("fraud", allowlist).reason == "no allowlist rule matches"
    registry.policies["churn-xgb"] = {"Version": "2012-10-17", "Statement": [ours()]}
    state = service.group_state("churn-xgb", allowlist)
    assert (state.status, state.reason) == ("accessible-not-discoverable", "RAM has not created the share yet")
    share = shares.add_policy_share(group_arn("churn-xgb"), feature_set=PROMOTING_TO_STANDARD)
    assert "PROMOTING_TO_STANDARD" in service.group_state("churn-xgb", allowlist).reason
    shares.shares[share] = shares.shares[share].__class__(share, "s", STANDARD, "ACTIVE")
    assert service.group_state("churn-xgb", allowlist).status == "not-shared", "promoted, but no consumer left"
    shares.principals[share] = [CONSUMER]
    state = service.group_state("churn-xgb", allowlist)
    assert (state.status, state.consumers) == ("discoverable", (CONSUMER,))
    assert service.group_state("gone", allowlist) is None
