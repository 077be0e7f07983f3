"""ShareOnCreate in the shares mode (issue 20, least privilege): a new group goes into its
bucket's share only when that share is ready for it (recorded, with room, exactly the bucket's
permission, no principal beyond the bucket's consumers); anything else (a share to make, a
permission to make or set, consumers to invite or remove, the policy mode's access to retire) is
the sweep's, and the group is handed to the sweep's workers."""

from __future__ import annotations

from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.aws.work_queue import work_item
from modelshare.outcomes import GroupAction
from modelshare.ports import SharePermission
from tests.unit.fakes import CONSUMER, OWNER, FakeQueue, group_arn, modelshare_wrote
from tests.unit.test_shares_mode import OTHER, RULE, churn, document, made, owner_with

PERSON = "999999999999"


def _writes(shares) -> tuple[int, ...]:
    """How many of each kind of RAM write the fake saw: shares made, principals changed,
    permissions created or set, resources taken out."""
    return (len(shares.made_shares), len(shares.principal_changes), len(shares.created_permissions),
            len(shares.replaced_permissions), len(shares.resource_changes))


def _new_group(owner, registry, name="churn-new"):
    registry.names.add(name)
    queue = owner.work_queue = FakeQueue()
    return owner.share_groups({name: None}), queue


def test_a_new_group_joins_its_ready_share_with_one_association_and_nothing_else():
    owner, registry, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    before = _writes(shares)
    [outcome], queue = _new_group(owner, registry)
    assert outcome.action == GroupAction.SHARED
    assert group_arn("churn-new") in shares.resources[share_arn]
    assert shares.resource_additions[-1] == (share_arn, (group_arn("churn-new"),))
    assert _writes(shares) == before and queue.items == []


def test_a_new_group_of_a_bucket_with_no_share_is_handed_to_the_sweep():
    owner, registry, shares, _ = owner_with([], managed=False)
    [outcome], queue = _new_group(owner, registry)
    assert outcome.action == GroupAction.QUEUED, outcome
    assert queue.items == [work_item_of("churn-new")]
    assert _writes(shares) == (0, 0, 0, 0, 0) and shares.resource_additions == []
    assert shares.made_by_token == {}
    # The sweep's worker makes the permission and the share, and invites the consumers.
    owner.reconcile_items(queue.items)
    assert made(shares) and shares.created_permissions and shares.principal_changes


def test_a_new_group_is_not_put_into_a_share_holding_a_principal_its_bucket_does_not_name():
    owner, registry, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    shares.principals[share_arn].append(PERSON)  # a person widened modelshare's share
    before = (_writes(shares), list(shares.principals[share_arn]))
    [outcome], queue = _new_group(owner, registry)
    assert outcome.action == GroupAction.QUEUED and "principal" in outcome.reason
    assert group_arn("churn-new") not in shares.resources[share_arn], "never exposed to the person's principal"
    assert (_writes(shares), shares.principals[share_arn]) == before, "taking the principal out is the sweep's"
    assert queue.items == [work_item_of("churn-new")]


def test_a_new_group_is_not_put_into_a_share_whose_permission_is_not_exactly_its_bucket_s():
    owner, registry, shares, _ = owner_with(churn(2))
    owner.reconcile()
    share_arn, = shares.ledger.made
    wider = "arn:aws:ram::aws:permission/a-wider-one"
    shares.share_permissions[share_arn] = [SharePermission(wider, "a-wider-one", "STANDARD")]
    shares.permission_action_sets[wider] = frozenset(a.lower() for a in ACCESS_ACTIONS["register"])
    [outcome], queue = _new_group(owner, registry)
    assert outcome.action == GroupAction.QUEUED
    assert group_arn("churn-new") not in shares.resources[share_arn]
    assert shares.replaced_permissions == [] and queue.items == [work_item_of("churn-new")]


def test_a_late_creation_event_of_a_switching_group_leaves_the_policy_mode_s_access_to_the_sweep():
    owner, registry, shares, source = owner_with(["churn-a"], document(mode=None))
    statement = policies.modelshare_statement(group_arn("churn-a"), [CONSUMER, OTHER], ACCESS_ACTIONS["discover"])
    modelshare_wrote(registry, shares.ledger, "churn-a", statement)
    source.edit(document(RULE))
    owner.work_queue = FakeQueue()
    [outcome] = owner.share_groups({"churn-a": group_arn("churn-a")})
    assert outcome.action == GroupAction.QUEUED, "no share yet: the sweep makes it"
    assert policies.statements(registry.policies["churn-a"]), "the statement is the sweep's to remove"
    assert registry.deletes == [] and shares.deleted_shares == []


def work_item_of(name: str) -> dict[str, object]:
    from modelshare.convergence import GroupSnapshot

    return work_item(GroupSnapshot(name, group_arn(name, OWNER)))
