"""The owner side of the shares mode (issue 20) with in-memory fakes: modelshare's own shares,
one per bucket (consumers, actions), holding exactly the allowlist's groups and consumers."""

from __future__ import annotations

from typing import Any

import pytest

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.outcomes import GroupAction
from modelshare.owner.service import OwnerService
from modelshare.permission_names import permission_name
from modelshare.ports import ATTACHABLE, ManagedPermission, RamQuotaReached, ResourceShare, SharePermission
from modelshare.share_layout import Bucket, share_name
from modelshare.shares_mode import SharesMode
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

DISCOVER = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])
RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER, OTHER]}


def document(*rules: dict[str, Any], mode: str | None = "shares") -> dict[str, Any]:
    doc = allowlist_doc(*(rules or (RULE,)))
    return {**doc, "modes": {OWNER: mode}} if mode else doc


def owner_with(names: list[str], doc: dict[str, Any] | None = None, *, per_share: int | None = None,
               managed: bool = True) -> tuple[OwnerService, FakeRegistry, FakeShares, FixedAllowlist]:
    registry = FakeRegistry(names=set(names))
    shares = FakeShares(managed_action_sets=[DISCOVER] if managed else [])
    source = FixedAllowlist(doc or document())
    owner = owner_from(OWNER, registry, shares, source, shares.ledger, sleep=lambda s: None)
    if per_share is not None:
        owner.shares_mode_job = SharesMode(OWNER, shares, shares.ledger, shares, groups_per_share=per_share,
                                           sleep=lambda s: None)
    return owner, registry, shares, source


def churn(count: int) -> list[str]:
    return [f"churn-{n:03d}" for n in range(count)]


def made(shares: FakeShares) -> dict[str, tuple[str, ...]]:
    """modelshare's shares as RAM holds them: name -> groups (sorted)."""
    return {shares.shares[arn].name: tuple(sorted(shares.resources[arn])) for arn in shares.ledger.made if arn in shares.shares}


BUCKET = Bucket.of([CONSUMER, OTHER], ACCESS_ACTIONS["discover"]).digest


def test_a_shares_mode_owner_shares_250_groups_through_one_share_filled_100_at_a_time() -> None:
    owner, registry, shares, _ = owner_with(churn(250))
    outcomes = owner.reconcile()
    assert made(shares) == {share_name(BUCKET, 1): tuple(sorted(group_arn(n) for n in churn(250)))}
    share_arn, = shares.ledger.made
    assert [len(batch) for _, batch in shares.resource_additions] == [100, 100, 50]
    assert shares.principals[share_arn] == [CONSUMER, OTHER]
    assert [p.arn for p in shares.share_permissions[share_arn]] == ["arn:aws:ram::aws:permission/aws-managed-0"]
    assert {o.action for o in outcomes} == {GroupAction.SHARED}
    assert registry.puts == [] and shares.promoted_shares == [], "no group policy, no promotion"
    # Recorded before anything went in; a second run changes nothing.
    assert [w[0] for w in shares.ledger.writes] == ["record-made-share"]
    before = (list(shares.resource_additions), list(shares.principal_changes), len(shares.ledger.writes))
    assert {o.action for o in owner.reconcile()} == {GroupAction.CONVERGED}
    assert before == (shares.resource_additions, shares.principal_changes, len(shares.ledger.writes))


def test_a_full_share_opens_the_next_one_of_its_bucket() -> None:
    owner, _, shares, _ = owner_with(churn(250), per_share=100)
    owner.reconcile()
    assert {name: len(groups) for name, groups in made(shares).items()} == {
        share_name(BUCKET, 1): 100, share_name(BUCKET, 2): 100, share_name(BUCKET, 3): 50}


def test_each_bucket_gets_its_own_share_with_its_own_consumers() -> None:
    rules = (RULE, {"owner": OWNER, "groups": ["fraud-*"], "consumers": [CONSUMER]})
    owner, _, shares, _ = owner_with([*churn(2), "fraud-a"], document(*rules))
    owner.reconcile()
    fraud = Bucket.of([CONSUMER], ACCESS_ACTIONS["discover"]).digest
    assert made(shares) == {share_name(BUCKET, 1): (group_arn("churn-000"), group_arn("churn-001")),
                            share_name(fraud, 1): (group_arn("fraud-a"),)}
    consumers = {shares.shares[arn].name: shares.principals[arn] for arn in shares.ledger.made}
    assert consumers == {share_name(BUCKET, 1): [CONSUMER, OTHER], share_name(fraud, 1): [CONSUMER]}


def test_what_a_person_added_to_modelshares_share_goes_and_their_own_share_stays() -> None:
    owner, registry, shares, _ = owner_with(churn(3))
    owner.reconcile()
    share_arn, = shares.ledger.made
    registry.names.add("private")
    shares.resources[share_arn].append(group_arn("private"))
    shares.principals[share_arn] += ["999988887777", f"arn:aws:iam::{OTHER}:role/Someone"]
    theirs = shares.add_policy_share(group_arn("churn-000"), share_arn="arn:aws:ram:eu-west-1:111122223333:resource-share/theirs",
                                     feature_set="STANDARD", owned=False)
    shares.principals[theirs] = ["999988887777"]
    owner.reconcile()
    assert group_arn("private") not in shares.resources[share_arn]
    assert sorted(shares.principals[share_arn]) == [CONSUMER, OTHER]
    assert shares.principals[theirs] == ["999988887777"] and shares.resources[theirs] == [group_arn("churn-000")]


def test_an_allowlist_edit_moves_a_group_to_its_new_bucket_before_it_leaves_the_old_and_an_emptied_share_goes() -> None:
    owner, _, shares, source = owner_with(churn(2))
    owner.reconcile()
    old, = shares.ledger.made
    order = calls_in_order(shares)
    narrow = {**RULE, "groups": ["churn-000"], "consumers": [CONSUMER]}
    source.edit(document(narrow, {**RULE, "groups": ["churn-001"]}))
    owner.reconcile()
    narrower = Bucket.of([CONSUMER], ACCESS_ACTIONS["discover"]).digest
    new, = set(shares.ledger.made) - {old}
    assert shares.ledger.made == {old: share_name(BUCKET, 1), new: share_name(narrower, 1)}
    assert shares.resources == {old: [group_arn("churn-001")], new: [group_arn("churn-000")]}
    assert order.index(("associate_resources", new)) < order.index(("disassociate_resources", old))
    assert shares.principals[new] == [CONSUMER]
    # Removing a group from the allowlist takes it out of the share; a share left empty goes.
    source.edit(document(narrow))
    outcomes = {o.group: o.action for o in owner.reconcile()}
    assert old in shares.deleted_shares and list(shares.ledger.made) == [new]
    assert outcomes["churn-001"] == GroupAction.UNSHARED


def test_a_run_that_stopped_between_making_and_recording_gets_the_same_share_back() -> None:
    owner, _, shares, _ = owner_with(churn(2))

    def lost(share_arn: str, name: str) -> None:
        raise RuntimeError("the run stopped here")

    recording = shares.ledger.record_made_share
    shares.ledger.record_made_share = lost  # type: ignore[method-assign]
    with pytest.raises(Exception, match="stopped here"):
        owner.reconcile()
    assert list(shares.made_by_token.values()) == shares.made_shares and shares.resources[shares.made_shares[0]] == []
    assert shares.principals.get(shares.made_shares[0], []) == [], "the unrecorded share grants nothing"
    shares.ledger.record_made_share = recording  # type: ignore[method-assign]
    owner.reconcile()
    assert len(shares.made_shares) == 1 and list(shares.ledger.made) == shares.made_shares
    assert len(shares.resources[shares.made_shares[0]]) == 2


def test_without_an_aws_managed_match_one_customer_managed_permission_is_made_recorded_first() -> None:
    owner, _, shares, _ = owner_with(churn(2), managed=False)
    owner.reconcile()
    name = permission_name(ACCESS_ACTIONS["discover"])
    assert [n for n, _ in shares.created_permissions] == [name]
    assert shares.ledger.writes.index(("record-permission", "", name)) < \
        shares.ledger.writes.index(next(w for w in shares.ledger.writes if w[0] == "record-made-share"))
    share_arn, = shares.ledger.made
    assert shares.share_permissions[share_arn][0].arn.endswith(f"permission/{name}")


def test_a_permission_a_person_made_under_modelshares_name_is_never_given() -> None:
    owner, _, shares, _ = owner_with(churn(1), managed=False)
    name = permission_name(ACCESS_ACTIONS["discover"])
    theirs = ManagedPermission(f"arn:aws:ram:eu-west-1:{OWNER}:permission/{name}", name, ATTACHABLE)
    shares.customer_permissions[name] = (theirs, DISCOVER)
    owner.reconcile()
    share_arn, = shares.ledger.made
    assert shares.share_permissions[share_arn][0].arn != theirs.arn
    assert [n for n, _ in shares.created_permissions] == [permission_name(ACCESS_ACTIONS["discover"], digest=True)]


def test_a_share_with_a_wrong_permission_gets_the_right_one_and_one_with_two_holds_no_consumer() -> None:
    owner, _, shares, _ = owner_with(churn(1))
    owner.reconcile()
    share_arn, = shares.ledger.made
    shares.share_permissions[share_arn] = [SharePermission("arn:aws:ram::aws:permission/wider", "", "STANDARD")]
    owner.reconcile()
    assert shares.replaced_permissions[-1] == (share_arn, "arn:aws:ram::aws:permission/aws-managed-0")
    # Two for model package groups (RAM holds one per type): which is the share's own cannot be
    # said, so neither is taken off (one for another type is: test_made_share_permissions.py).
    shares.share_permissions[share_arn].append(SharePermission(f"arn:aws:ram:eu-west-1:{OWNER}:permission/x", "", "STANDARD",
                                                               "sagemaker:ModelPackageGroup"))
    outcomes = owner.reconcile()
    assert shares.principals[share_arn] == []
    assert {o.action for o in outcomes} == {GroupAction.PROMOTION_PENDING}


def test_consumers_beyond_the_pending_invitation_room_wait_for_a_later_run() -> None:
    consumers = [f"{n:012d}" for n in range(500000000001, 500000000026)]
    owner, _, shares, _ = owner_with(churn(1), document({**RULE, "consumers": consumers}))
    owner.reconcile()
    share_arn, = shares.ledger.made
    assert len(shares.principals[share_arn]) == 20


def test_a_quota_stops_the_run_without_a_retry_and_the_groups_wait() -> None:
    owner, _, shares, _ = owner_with(churn(150))
    shares.resource_quota_left = 100
    outcomes = owner.reconcile()
    assert sum(1 for o in outcomes if o.action == GroupAction.QUOTA_REACHED) == 50
    assert sum(1 for o in outcomes if o.action == GroupAction.SHARED) == 100


def test_the_policy_modes_statement_goes_only_once_the_group_is_live_in_its_share() -> None:
    owner, registry, shares, _ = owner_with(["churn-a"])
    statement = policies.modelshare_statement(group_arn("churn-a"), [CONSUMER, OTHER], ACCESS_ACTIONS["discover"])
    modelshare_wrote(registry, shares.ledger, "churn-a", statement)
    shares.resource_quota_left = 0
    owner.reconcile()
    assert registry.policies.get("churn-a"), "not live yet: its statement stays"
    shares.resource_quota_left = None
    owner.reconcile()
    assert not policies.statements(registry.policies.get("churn-a"))
    share_arn, = shares.ledger.made
    assert shares.resources[share_arn] == [group_arn("churn-a")]


def test_a_new_group_joins_its_share_and_nothing_else_is_touched() -> None:
    owner, registry, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    shares.resources[share_arn].append(group_arn("stray"))
    registry.names.add("churn-new")
    outcome, = owner.share_groups({"churn-new": None})
    assert outcome.action == GroupAction.SHARED
    assert sorted(shares.resources[share_arn]) == sorted([*(group_arn(n) for n in churn(2)), group_arn("stray"),
                                                           group_arn("churn-new")])


def test_a_new_group_deleted_before_the_run_is_gone_and_holds_back_no_other() -> None:
    """A creation event names a group a person deleted meanwhile: RAM refuses a call associating
    it (the whole call). The run puts the others in, reports the deleted one gone and does not
    fail (a failed run is retried to the failure destination, and the others wait for the sweep)."""
    owner, _, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    shares.missing_resources.add(group_arn("churn-gone"))
    outcomes = owner.share_groups({"churn-gone": group_arn("churn-gone"), "churn-new": group_arn("churn-new")})
    assert {o.group: o.action for o in outcomes} == {"churn-gone": GroupAction.GONE, "churn-new": GroupAction.SHARED}
    assert sorted(shares.resources[share_arn]) == sorted([*(group_arn(n) for n in churn(2)), group_arn("churn-new")])


def test_an_owner_back_in_the_policy_mode_has_its_made_shares_narrowed_only() -> None:
    owner, registry, shares, source = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    registry.names.add("churn-late")
    source.edit(document({**RULE, "groups": ["churn-000", "churn-late"]}, mode="policy"))
    owner.reconcile()
    assert shares.resources[share_arn] == [group_arn("churn-000")], "the group no longer allowed is taken out"
    assert group_arn("churn-late") not in shares.resources[share_arn], "nothing is added in the policy mode"


def test_an_owner_in_the_policy_mode_with_no_made_share_reads_nothing_more_than_before() -> None:
    owner, _, shares, _ = owner_with(churn(1), document(mode=None))
    scans: list[str] = []
    for method in ("everything", "made_shares"):
        real = getattr(shares.ledger, method)
        setattr(shares.ledger, method, lambda _real=real, _method=method: scans.append(_method) or _real())
    owner.reconcile()
    assert shares.made_shares == [] and shares.ledger.made == {}
    assert scans == ["everything"], "the sweep's one ledger read says no share was made"
    owner.plan_sweep(FakeQueue())
    assert scans == ["everything", "everything"]


def test_the_sweeps_one_ledger_read_tells_the_shares_made() -> None:
    owner, _, shares, _ = owner_with(churn(1))
    owner.reconcile()
    share_arn, = shares.ledger.made
    contents = shares.ledger.everything()
    assert contents.made_shares == {share_arn: share_name(BUCKET, 1)} and share_arn not in contents


def test_the_stack_default_puts_an_owner_the_allowlist_does_not_name_in_the_shares_mode() -> None:
    owner, registry, shares, _ = owner_with(churn(1), document(mode=None))
    owner.sharing_mode = "shares"
    owner.reconcile()
    assert len(shares.ledger.made) == 1 and registry.puts == []


def test_a_share_that_vanished_is_forgotten_and_made_again() -> None:
    owner, _, shares, _ = owner_with(churn(1))
    owner.reconcile()
    gone, = shares.ledger.made
    shares.shares.pop(gone)
    owner.reconcile()
    assert gone not in shares.ledger.made and len(shares.ledger.made) == 1


def test_ram_giving_back_a_deleted_share_for_a_token_gets_a_new_token() -> None:
    owner, _, shares, _ = owner_with(churn(1))
    ghost = ResourceShare("arn:aws:ram:eu-west-1:111122223333:resource-share/ghost", "x", "STANDARD", "DELETED")
    first = True
    create = shares.create_share

    def remembering(name: str, permission_arn: str, client_token: str) -> ResourceShare:
        nonlocal first
        if first:
            first = False
            return ghost
        return create(name, permission_arn, client_token)

    shares.create_share = remembering  # type: ignore[method-assign]
    owner.reconcile()
    assert ghost.arn not in shares.ledger.made and len(shares.ledger.made) == 1


def test_quota_reached_is_what_the_port_raises() -> None:
    shares = FakeShares(resource_quota_left=0)
    with pytest.raises(RamQuotaReached):
        shares.associate_resources("arn", ["a"])


def test_a_dry_run_plans_the_share_its_record_and_what_goes_in_and_writes_nothing() -> None:
    from modelshare.dry_run import Plan

    registry, shares = FakeRegistry(names=set(churn(150))), FakeShares(managed_action_sets=[DISCOVER])
    plan = Plan()
    owner = owner_from(OWNER, registry, shares, FixedAllowlist(document()), shares.ledger, plan, sleep=lambda s: None)
    outcomes = owner.reconcile()
    assert [w.action for w in plan.writes] == ["create-share", "record-made-share", "add-resources", "add-resources",
                                               "add-consumers"]
    assert {o.action for o in outcomes} == {GroupAction.SHARED}
    assert shares.made_shares == [] and shares.ledger.made == {} and shares.resource_additions == []


# -- a bucket's consumers or actions change: the share changes in place (no access gap) ----------
THIRD = "555566667777"


def calls_in_order(shares: FakeShares) -> list[tuple[str, str]]:
    """Record RAM writes on modelshare's shares in the order they are made."""
    order: list[tuple[str, str]] = []
    for method in ("disassociate_principals", "associate_principals", "replace_permission", "delete_share",
                   "disassociate_resources", "associate_resources", "create_share"):
        real = getattr(shares, method)

        def recorded(*args: Any, _real: Any = real, _method: str = method) -> Any:
            order.append((_method, str(args[0])))
            return _real(*args)

        setattr(shares, method, recorded)
    return order


def test_removing_one_of_three_consumers_changes_the_share_in_place_and_re_records_its_bucket() -> None:
    owner, _, shares, source = owner_with(churn(3), document({**RULE, "consumers": [CONSUMER, OTHER, THIRD]}))
    owner.reconcile()
    share_arn, = shares.ledger.made
    order = calls_in_order(shares)
    source.edit(document(RULE))
    outcomes = owner.reconcile()
    assert list(shares.ledger.made) == [share_arn], "the same share: its consumers never need a new invitation"
    assert shares.ledger.made[share_arn] == share_name(BUCKET, 1), "recorded under its new bucket"
    assert order == [("disassociate_principals", share_arn)], "only the consumer removed is touched"
    assert sorted(shares.principals[share_arn]) == [CONSUMER, OTHER]
    assert len(shares.resources[share_arn]) == 3
    assert {o.action for o in outcomes} == {GroupAction.CONVERGED}
    assert {o.action for o in owner.reconcile()} == {GroupAction.CONVERGED}, "and stays so"


def test_adding_a_consumer_adds_it_to_the_share_in_place() -> None:
    owner, _, shares, source = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    source.edit(document({**RULE, "consumers": [CONSUMER, OTHER, THIRD]}))
    owner.reconcile()
    assert list(shares.ledger.made) == [share_arn] and shares.deleted_shares == []
    assert sorted(shares.principals[share_arn]) == sorted([CONSUMER, OTHER, THIRD])
    assert shares.ledger.made[share_arn] == share_name(Bucket.of([CONSUMER, OTHER, THIRD], ACCESS_ACTIONS["discover"]).digest, 1)


def test_fewer_consumers_with_wider_actions_lose_the_consumer_before_the_permission_widens() -> None:
    owner, _, shares, source = owner_with(churn(2), document({**RULE, "consumers": [CONSUMER, OTHER, THIRD]}))
    owner.reconcile()
    share_arn, = shares.ledger.made
    order = calls_in_order(shares)
    source.edit(document({**RULE, "access": ["discover", "register"]}))
    owner.reconcile()
    assert list(shares.ledger.made) == [share_arn]
    assert order[:2] == [("disassociate_principals", share_arn), ("replace_permission", share_arn)], order
    wider = frozenset(a.lower() for a in (*ACCESS_ACTIONS["discover"], *ACCESS_ACTIONS["register"]))
    assert shares.permission_actions(shares.share_permissions[share_arn][0].arn) == wider
    assert sorted(shares.principals[share_arn]) == [CONSUMER, OTHER]


def test_a_share_whose_groups_split_keeps_the_bucket_some_still_want() -> None:
    fraud = {"owner": OWNER, "groups": ["fraud-*"], "consumers": [CONSUMER, OTHER]}
    owner, _, shares, source = owner_with([*churn(2), "fraud-a"], document(RULE, fraud))
    owner.reconcile()
    share_arn, = shares.ledger.made
    source.edit(document({**RULE, "consumers": [CONSUMER]}, fraud))
    owner.reconcile()
    assert shares.ledger.made[share_arn] == share_name(BUCKET, 1)
    assert shares.resources[share_arn] == [group_arn("fraud-a")] and sorted(shares.principals[share_arn]) == [CONSUMER, OTHER]


def test_a_token_that_gives_back_a_share_now_of_another_bucket_is_not_taken_for_a_new_one() -> None:
    owner, registry, shares, source = owner_with(churn(2), document({**RULE, "consumers": [CONSUMER, OTHER, THIRD]}))
    owner.reconcile()
    moved, = shares.ledger.made
    source.edit(document(RULE))
    owner.reconcile()  # `moved` now holds the two-consumer bucket
    registry.names.add("fraud-a")
    fraud = {"owner": OWNER, "groups": ["fraud-*"], "consumers": [CONSUMER, OTHER, THIRD]}
    source.edit(document(RULE, fraud))
    owner.reconcile()  # the three-consumer bucket again: its first share's token gives back `moved`
    assert len(shares.ledger.made) == 2 and moved in shares.ledger.made
    assert group_arn("fraud-a") not in shares.resources[moved]
    assert sorted(shares.principals[moved]) == [CONSUMER, OTHER], "never the third consumer on the churn groups"


# -- a permission lookup that fails is no answer: consumers stay while provably within -------------
def throttled(*args: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import ClientError

    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "ListPermissions")


def cold_owner_whose_lookup_fails(shares: FakeShares, owner: OwnerService, how: str) -> None:
    owner.shares_mode_job = None  # a new execution environment: no permission kept
    if how == "throttle":
        shares.managed_permissions = throttled  # type: ignore[method-assign]
    else:
        shares.group_type = None


@pytest.mark.parametrize("how", ["throttle", "no resource type"])
def test_a_failed_permission_lookup_leaves_a_share_within_its_bucket_as_it_is(how: str) -> None:
    owner, registry, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    before = (list(shares.principal_changes), list(shares.replaced_permissions))
    registry.names.add("churn-new")
    cold_owner_whose_lookup_fails(shares, owner, how)
    outcomes = {o.group: o for o in owner.reconcile()}
    assert (shares.principal_changes, shares.replaced_permissions) == before, "no consumer stripped"
    assert sorted(shares.principals[share_arn]) == [CONSUMER, OTHER]
    assert outcomes["churn-000"].action == GroupAction.CONVERGED
    assert outcomes["churn-new"].action == GroupAction.PROMOTION_PENDING
    assert group_arn("churn-new") not in shares.resources[share_arn], "left as it is this run"


def test_a_failed_permission_lookup_still_takes_out_what_the_bucket_does_not_name() -> None:
    owner, _, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    shares.principals[share_arn].append("999988887777")
    cold_owner_whose_lookup_fails(shares, owner, "throttle")
    owner.reconcile()
    assert sorted(shares.principals[share_arn]) == [CONSUMER, OTHER]


def test_a_failed_permission_lookup_strips_a_share_that_grants_more_than_its_bucket() -> None:
    owner, _, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    wider = "arn:aws:ram::aws:permission/wider"
    shares.permission_action_sets[wider] = DISCOVER | {"sagemaker:createmodelpackage"}
    shares.share_permissions[share_arn] = [SharePermission(wider, "wider", "STANDARD")]
    cold_owner_whose_lookup_fails(shares, owner, "throttle")
    outcomes = owner.reconcile()
    assert shares.principals[share_arn] == []
    assert {o.action for o in outcomes} == {GroupAction.PROMOTION_PENDING}
