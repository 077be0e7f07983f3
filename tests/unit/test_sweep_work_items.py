"""The sweep's work items only point: a worker reads every fact it acts on (issue 19, item 6).

Whoever can send to SweepQueue (a function role, or anyone the queue policy ever let through)
could write an item that says anything about a group's shares. Items written in the format an
older version used, holding shares, principals and permissions, stand for such a forgery here:
nothing they say may change what the worker does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.aws.work_queue import SWEEP_ITEM, WorkItem, group_of_item, work_item
from modelshare.convergence import GroupSnapshot
from modelshare.outcomes import GroupAction
from modelshare.owner.service import OwnerService
from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE, STANDARD, SharePermission
from modelshare.wiring import owner_from
from tests.unit.fakes import (
    CONSUMER,
    DISCOVER_ACTIONS,
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

EVIL = "999999999999"
DISCOVER_PERMISSION = "arn:aws:ram::aws:permission/discover"
DEPLOY = frozenset(a.lower() for a in (*ACCESS_ACTIONS["discover"], *ACCESS_ACTIONS["deploy"]))
# churn-* is shared with CONSUMER; fraud-* with OTHER: neither may see the other's groups.
RULES = ({"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]},
         {"owner": OWNER, "groups": ["fraud-*"], "consumers": [OTHER]})


class Counting:
    """Counts the calls made to a port implementation, by method."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


def share_arn(name: str) -> str:
    return f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}"


def promoted(shares: FakeShares, name: str, principals: tuple[str, ...]) -> str:
    """modelshare's promoted share of the group, granting discover (an AWS managed permission)."""
    arn = shares.add_policy_share(group_arn(name), share_arn=share_arn(name), feature_set=STANDARD)
    shares.principals[arn] = list(principals)
    shares.share_permissions[arn] = [SharePermission(DISCOVER_PERMISSION, "", STANDARD, MODEL_PACKAGE_GROUP_TYPE)]
    shares.permission_action_sets[DISCOVER_PERMISSION] = DISCOVER_ACTIONS
    return arn


def world() -> tuple[FakeRegistry, FakeShares]:
    """Two converged groups, each promoted and shared with its rightful consumer."""
    registry, shares = FakeRegistry(names={"churn-xgb", "fraud-gbm"}), FakeShares()
    promoted(shares, "churn-xgb", (CONSUMER,))
    promoted(shares, "fraud-gbm", (OTHER,))
    return registry, shares


def worker(registry: Any, shares: Any, queue: FakeQueue | None = None) -> OwnerService:
    return owner_from(OWNER, registry, shares, FixedAllowlist(allowlist_doc(*RULES)), shares.ledger,
                      sleep=lambda s: None, work_queue=queue or FakeQueue())


def forged(group: str, share: str, *, resources: tuple[str, ...], principals: tuple[str, ...],
           actions: frozenset[str] = DISCOVER_ACTIONS, attempt: int = 1) -> dict[str, Any]:
    """An item saying what the sender likes about a share (the shape items had before they
    named groups only)."""
    return {"kind": SWEEP_ITEM, "attempt": attempt, "group": group, "arn": group_arn(group),
            "holdings": [{"share": [share, "LinkedResourceShare", STANDARD, "ACTIVE", [["modelshare:managed", "true"]]],
                          "resources": list(resources), "principals": list(principals),
                          "permission": [DISCOVER_PERMISSION, MODEL_PACKAGE_GROUP_TYPE, sorted(actions)]}]}


def unchanged(registry: FakeRegistry, shares: FakeShares) -> None:
    assert shares.principal_changes == [], "no consumer removed, no account invited"
    assert shares.replaced_permissions == [] and shares.created_permissions == []
    assert registry.puts == [] and registry.deletes == []
    assert shares.principals == {share_arn("churn-xgb"): [CONSUMER], share_arn("fraud-gbm"): [OTHER]}


@pytest.mark.parametrize("read", ["named", "pass"])
def test_an_item_claiming_a_share_holds_another_group_moves_no_consumer(read):
    # fraud-gbm's share, said to hold churn-xgb: believed, the worker removed OTHER (fraud-gbm's
    # rightful consumer) and invited CONSUMER to fraud-gbm, which it was never allowed.
    registry, shares = world()
    service = worker(registry, shares)
    service.worker_pass_calls = 1 if read == "pass" else 1000
    item = forged("churn-xgb", share_arn("fraud-gbm"), resources=(group_arn("churn-xgb"),), principals=(OTHER,))
    outcomes = service.reconcile_items([item])
    assert [(o.group, o.action) for o in outcomes] == [("churn-xgb", GroupAction.CONVERGED)]
    unchanged(registry, shares)


@pytest.mark.parametrize("read", ["named", "pass"])
def test_an_item_claiming_an_extra_principal_or_a_wider_permission_changes_nothing(read):
    # The rightful consumer's share, said to name EVIL too and to grant deploy while no
    # permission for discover can be had: believed, the worker removed every consumer of it
    # ("actions that cannot be narrowed": fail closed on a forged fact).
    registry, shares = world()
    shares.permission_quota = 0
    service = worker(registry, shares)
    service.worker_pass_calls = 1 if read == "pass" else 1000
    item = forged("churn-xgb", share_arn("churn-xgb"), resources=(group_arn("churn-xgb"),),
                  principals=(CONSUMER, EVIL), actions=DEPLOY)
    outcomes = service.reconcile_items([item])
    assert [(o.group, o.action) for o in outcomes] == [("churn-xgb", GroupAction.CONVERGED)]
    unchanged(registry, shares)


def test_an_item_naming_another_account_s_group_is_dropped_and_counted():
    registry, shares = world()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    foreign = {"kind": SWEEP_ITEM, "attempt": 1, "group": "churn-xgb", "arn": group_arn("churn-xgb", CONSUMER)}
    assert worker(registry, shares).reconcile_items([foreign, {"kind": SWEEP_ITEM}]) == []
    unchanged(registry, shares)
    assert registry.policy_reads == []


def test_an_item_names_the_group_only_and_a_forged_attempt_only_bounds_its_retries():
    group = GroupSnapshot("churn-xgb", group_arn("churn-xgb"))
    assert work_item(group, attempt=7) == {"kind": SWEEP_ITEM, "attempt": 7, "group": "churn-xgb",
                                           "arn": group_arn("churn-xgb")}
    item = forged("churn-xgb", share_arn("fraud-gbm"), resources=(group_arn("churn-xgb"),), principals=(EVIL,))
    assert group_of_item(item) == WorkItem(group.name, group.arn, 1), "what an item says of shares is never read"
    # The same group twice in a batch is converged once.
    registry, shares = world()
    shares.principals[share_arn("churn-xgb")] = []
    outcomes = worker(registry, shares).reconcile_items([work_item(group), work_item(group, attempt=9)])
    assert [o.action for o in outcomes] == [GroupAction.CONSUMERS_CHANGED]
    assert shares.principal_changes == [("add", share_arn("churn-xgb"), (CONSUMER,))]


def test_a_worker_acts_on_what_ram_holds_now_not_on_what_the_sweep_saw():
    registry, shares = world()
    queue = FakeQueue()
    shares.principals[share_arn("churn-xgb")] = []
    worker(registry, shares, queue).plan_sweep(queue)
    assert [i["group"] for i in queue.items] == ["churn-xgb"] and set(queue.items[0]) == {"kind", "attempt", "group",
                                                                                         "arn"}
    shares.principals[share_arn("churn-xgb")] = [CONSUMER]  # a run beside this one added it meanwhile
    outcomes = worker(registry, shares).reconcile_items(queue.items)
    assert [o.action for o in outcomes] == [GroupAction.CONVERGED] and shares.principal_changes == []


def many_groups(count: int) -> tuple[FakeRegistry, FakeShares, list[dict[str, Any]]]:
    registry, shares = FakeRegistry(), FakeShares()
    for i in range(count):
        registry.names.add(f"churn-{i}")
        promoted(shares, f"churn-{i}", ())  # each needs CONSUMER invited
    return registry, shares, [work_item(GroupSnapshot(f"churn-{i}", group_arn(f"churn-{i}"))) for i in range(count)]


def test_a_batch_of_a_few_groups_is_read_group_by_group_in_batched_calls():
    registry, shares, items = many_groups(3)
    service = worker(registry, counted := Counting(shares))
    service.worker_pass_calls = 20  # a big account: its pass costs more than these groups
    outcomes = service.reconcile_items(items)
    assert [o.action for o in outcomes] == [GroupAction.CONSUMERS_CHANGED] * 3
    # Per group: its shares and the invitation; for the batch: what the shares hold, their
    # principals, their permissions (one read each: fewer than the account's pages) and what
    # the one permission they share grants.
    assert dict(counted.calls) == {"shares_holding": 3, "share_resources": 1, "share_principals": 1,
                                   "permissions": 3, "permission_actions": 1, "associate_principals": 3}


def test_a_batch_of_many_groups_is_read_in_one_pass_over_the_account():
    registry, shares, items = many_groups(30)
    service = worker(registry, counted := Counting(shares))
    outcomes = service.reconcile_items(items)
    assert [o.action for o in outcomes] == [GroupAction.CONSUMERS_CHANGED] * 30
    assert dict(counted.calls) == {"owned_shares": 1, "associations": 2, "shareable_permissions": 1, "permission_associations": 1,
                                   "permission_actions": 1, "associate_principals": 30}
    assert service.worker_pass_calls == 4, "what the pass cost is remembered for the next batch"


def test_the_worker_still_promotes_a_share_made_from_the_policy_that_it_reads_itself():
    registry, shares = FakeRegistry(names={"churn-xgb"}), FakeShares()
    shares.managed_action_sets.append(DISCOVER_ACTIONS)
    modelshare_wrote(registry, shares.ledger, "churn-xgb",
                     policies.modelshare_statement(group_arn("churn-xgb"), [CONSUMER], ACCESS_ACTIONS["discover"]))
    arn = shares.add_policy_share(group_arn("churn-xgb"), share_arn=share_arn("cfp"))
    shares.principals[arn] = [CONSUMER]
    outcomes = worker(registry, shares).reconcile_items([work_item(GroupSnapshot("churn-xgb", group_arn("churn-xgb")))])
    assert [o.action for o in outcomes] == [GroupAction.PROMOTED] and shares.promoted_shares == [arn]
