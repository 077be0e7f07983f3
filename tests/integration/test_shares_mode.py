"""The shares mode (issue 20) end to end on the local AWS, from template.yaml: an owner shares
260 groups with two consumers through one share modelshare makes itself, filled 100 groups a
call; the consumers accept one invitation each and discover every group; an allowlist edit takes
a consumer and groups away, changing the share in place; what a person adds to modelshare's share is taken out, a person's own
share is left alone; and the safety oracle judges every write and the final state."""

from __future__ import annotations

from typing import Any

from localaws.harness.oracle import SafetyOracle
from localaws.harness.oracle_final import judge_final_state
from modelshare.aws.ledger import DynamoDbLedger
from tests.integration.conftest import CONSUMER, OWNER, REGION, STRANGER, World, group_arn

GROUPS = [f"churn-{n:03d}" for n in range(260)]


def allowlist(consumers: list[str], groups: list[str]) -> dict[str, Any]:
    return {"version": 1, "shares": [{"owner": OWNER, "groups": groups, "consumers": consumers}],
            "modes": {OWNER: "shares"}}


def made_shares(world: World) -> dict[str, str]:
    session = world.cloud.session(OWNER, REGION)
    return DynamoDbLedger(session, world.deployment.ledger_table(OWNER)).made_shares()


def test_the_shares_mode_shares_hundreds_of_groups_through_one_share_and_keeps_it_to_the_allowlist(world: World) -> None:
    oracle = SafetyOracle(world.cloud, REGION, dict.fromkeys((OWNER, CONSUMER, STRANGER), "/modelshare/allowlist"))
    world.install(OWNER, CONSUMER, STRANGER, allowlist=allowlist([CONSUMER, STRANGER], ["churn-*"]))
    for name in GROUPS:
        world.create_group(OWNER, name)
    world.settle()
    world.run_for(hours=1)  # a sweep too

    made = made_shares(world)
    assert len(made) == 1, made
    share_arn, = made
    batches = [len(c.params.get("resourceArns", [])) for c in world.calls("AssociateResourceShare", OWNER)
               if c.caller is not None and c.params.get("resourceArns")]
    assert batches and max(batches) <= 100 and sum(batches) == len(GROUPS)
    everything = sorted(group_arn(n) for n in GROUPS)
    assert sorted(world.discoverable(CONSUMER)) == everything and sorted(world.discoverable(STRANGER)) == everything
    assert len(world.invitations(CONSUMER)) == 1 and len(world.invitations(STRANGER)) == 1, "one invitation per share"
    assert [c for c in world.calls("PutModelPackageGroupPolicy", OWNER) if c.caller is not None] == []
    assert world.calls("PromoteResourceShareCreatedFromPolicy", OWNER, ok=None) == []
    assert oracle.violations == [], oracle.violations

    # A person adds their group and an account to modelshare's share, and makes a share of their own.
    person = world.deployment.person_client(OWNER, "ram")
    world.create_group(OWNER, "private")
    person.associate_resource_share(resourceShareArn=share_arn, resourceArns=[group_arn("private")])
    theirs = person.create_resource_share(name="teams-own", resourceArns=[group_arn("churn-100")],
                                          principals=[STRANGER])["resourceShare"]["resourceShareArn"]
    world.settle()
    world.run_for(hours=1)
    shares = world.shares(OWNER)
    assert group_arn("private") not in shares.share_resources([share_arn])[share_arn]
    assert shares.share_resources([theirs])[theirs] == (group_arn("churn-100"),)
    assert shares.share_principals([theirs])[theirs] == (STRANGER,)

    # An edit takes STRANGER and the groups churn-0.. away: the share changes in place (a new
    # bucket, the same share: CONSUMER needs no new invitation).
    world.edit_allowlist(allowlist([CONSUMER], ["churn-1*", "churn-2*"]))
    world.run_for(hours=1)
    kept = sorted(group_arn(n) for n in GROUPS if not n.startswith("churn-0"))
    assert list(made_shares(world)) == [share_arn]
    assert sorted(shares.share_resources([share_arn])[share_arn]) == kept
    assert shares.share_principals([share_arn])[share_arn] == (CONSUMER,)
    assert len(world.invitations(CONSUMER)) == 1
    assert sorted(world.discoverable(CONSUMER)) == kept
    assert world.discoverable(STRANGER) == [group_arn("churn-100")], "only through the person's own share"
    assert oracle.violations == [], oracle.violations
    judge_final_state(oracle, [OWNER, CONSUMER, STRANGER], world.lambdas.failures, world.lambdas.invocations)
    assert oracle.violations == [], oracle.violations
    assert world.lambdas.failures == []


def test_the_oracle_reports_modelshares_multi_group_share_reaching_beyond_the_allowlist(world: World) -> None:
    oracle = SafetyOracle(world.cloud, REGION, dict.fromkeys((OWNER, CONSUMER, STRANGER), "/modelshare/allowlist"))
    world.install(OWNER, CONSUMER, STRANGER, allowlist=allowlist([CONSUMER], ["churn-*"]))
    for name in GROUPS[:3]:
        world.create_group(OWNER, name)
    world.settle()
    share_arn, = made_shares(world)
    assert oracle.violations == []
    # A person (not the sweep, which has not run) adds a stranger: the final state judges it.
    world.deployment.person_client(OWNER, "ram").associate_resource_share(resourceShareArn=share_arn,
                                                                          principals=[STRANGER])
    judge_final_state(oracle, [OWNER, CONSUMER, STRANGER], [], [])
    assert any(share_arn in v and STRANGER in v for v in oracle.violations), oracle.violations


def test_removing_one_of_three_consumers_never_takes_a_group_from_the_two_that_stay(world: World) -> None:
    third = "222233334444"
    oracle = SafetyOracle(world.cloud, REGION, dict.fromkeys((OWNER, CONSUMER, STRANGER, third), "/modelshare/allowlist"))
    world.install(OWNER, CONSUMER, STRANGER, third, allowlist=allowlist([CONSUMER, STRANGER, third], ["churn-*"]))
    for name in GROUPS[:5]:
        world.create_group(OWNER, name)
    world.settle()
    everything = sorted(group_arn(n) for n in GROUPS[:5])
    assert all(sorted(world.discoverable(account)) == everything for account in (CONSUMER, STRANGER, third))
    share_arn, = made_shares(world)
    lost: list[str] = []

    def both_still_discover_everything(invocation: Any) -> None:
        for account in (CONSUMER, STRANGER):
            missing = set(everything) - set(world.discoverable(account))
            if missing:
                lost.append(f"after {invocation.function} in {invocation.account}: {account} lost {sorted(missing)}")

    world.lambdas.observers.append(both_still_discover_everything)
    world.edit_allowlist(allowlist([CONSUMER, STRANGER], ["churn-*"]))
    world.run_for(hours=1)
    assert len(world.lambdas.invocations) > 0 and lost == [], lost
    assert list(made_shares(world)) == [share_arn], "the same share, changed in place"
    assert sorted(world.shares(OWNER).share_principals([share_arn])[share_arn]) == sorted([CONSUMER, STRANGER])
    assert world.discoverable(third) == []
    assert oracle.violations == [], oracle.violations


def test_a_consumer_leaves_a_multi_group_share_pending_while_one_of_its_groups_is_not_allowlisted_for_it(world: World) -> None:
    owner_side = allowlist([CONSUMER], ["churn-*", "fraud-a"])
    world.install(OWNER, CONSUMER, allowlist=owner_side)
    world.set_allowlist(CONSUMER, allowlist([CONSUMER], ["churn-*"]))  # the consumer's admin allows less
    for name in (*GROUPS[:3], "fraud-a"):
        world.create_group(OWNER, name)
    world.settle()
    share_arn, = made_shares(world)
    assert world.discoverable(CONSUMER) == []
    pending, = world.pending(CONSUMER)
    assert pending.share_arn == share_arn, "one share holds all four groups; it stays pending"
    world.set_allowlist(CONSUMER, owner_side)
    world.run_for(hours=1)
    assert sorted(world.discoverable(CONSUMER)) == sorted(group_arn(n) for n in (*GROUPS[:3], "fraud-a"))


def test_a_group_whose_rule_splits_stays_in_its_share_until_its_consumer_accepted_the_new_one(world: World) -> None:
    """churn-000 is given STRANGER too: it goes into a new share, and leaves the one CONSUMER has
    accepted only once CONSUMER has accepted the new one (RAM says ASSOCIATED): CONSUMER never
    loses it, and STRANGER never reaches the old share."""
    oracle = SafetyOracle(world.cloud, REGION, dict.fromkeys((OWNER, CONSUMER, STRANGER), "/modelshare/allowlist"))
    world.install(OWNER, CONSUMER, STRANGER, allowlist=allowlist([CONSUMER], ["churn-*"]))
    for name in GROUPS[:3]:
        world.create_group(OWNER, name)
    world.settle()
    everything = sorted(group_arn(n) for n in GROUPS[:3])
    assert sorted(world.discoverable(CONSUMER)) == everything
    old, = made_shares(world)
    lost: list[str] = []

    def consumer_still_discovers_everything(invocation: Any) -> None:
        missing = set(everything) - set(world.discoverable(CONSUMER))
        if missing:
            lost.append(f"after {invocation.function} in {invocation.account}: {sorted(missing)}")

    world.lambdas.observers.append(consumer_still_discovers_everything)
    world.edit_allowlist({"version": 1, "modes": {OWNER: "shares"}, "shares": [
        {"owner": OWNER, "groups": ["churn-000"], "consumers": [CONSUMER, STRANGER]},
        {"owner": OWNER, "groups": ["churn-001", "churn-002"], "consumers": [CONSUMER]}]})
    world.run_for(hours=2)
    assert len(world.lambdas.invocations) > 0 and lost == [], lost
    new, = set(made_shares(world)) - {old}
    shares = world.shares(OWNER)
    assert sorted(shares.share_resources([old])[old]) == everything[1:], "handed over once accepted"
    assert shares.share_resources([new])[new] == (group_arn("churn-000"),)
    assert sorted(world.discoverable(CONSUMER)) == everything
    assert world.discoverable(STRANGER) == [group_arn("churn-000")]
    assert oracle.violations == [], oracle.violations
    judge_final_state(oracle, [OWNER, CONSUMER, STRANGER], world.lambdas.failures, world.lambdas.invocations)
    assert oracle.violations == [], oracle.violations
