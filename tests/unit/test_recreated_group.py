"""A group deleted and made again under the same name has the same ARN, the ledger's key, but is
another group: what modelshare wrote into the old one's policy says nothing of the new one's
(docs/security.md, "Ownership: the ledger"). A person who puts back a saved policy holding
modelshare's old statement wrote that statement: modelshare never changes or deletes it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from modelshare import incarnation
from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.aws.work_queue import work_item
from modelshare.convergence import GroupSnapshot
from modelshare.outcomes import GroupAction
from modelshare.owner.service import OwnerService
from modelshare.wiring import owner_from
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
)

DISCOVER = frozenset(a.lower() for a in ACCESS_ACTIONS["discover"])
ARN = group_arn("churn-a")


def doc(consumers: list[str], mode: str | None = None) -> dict[str, Any]:
    document = allowlist_doc({"owner": OWNER, "groups": ["churn-a"], "consumers": consumers})
    return {**document, "modes": {OWNER: mode}} if mode else document


def shared_by_modelshare() -> tuple[OwnerService, FakeRegistry, FakeShares, FixedAllowlist, dict[str, Any]]:
    """churn-a shared by modelshare's statement (to CONSUMER and OTHER), and the policy as a
    person saved it then."""
    registry = FakeRegistry(names={"churn-a"})
    shares = FakeShares(managed_action_sets=[DISCOVER])
    source = FixedAllowlist(doc([CONSUMER, OTHER]))
    owner = owner_from(OWNER, registry, shares, source, shares.ledger, sleep=lambda s: None)
    owner.reconcile()
    assert shares.ledger.statements.get(ARN), "modelshare recorded its statement"
    return owner, registry, shares, source, copy.deepcopy(registry.policies["churn-a"])


def made_again_with(registry: FakeRegistry, saved: dict[str, Any]) -> None:
    registry.create_group("churn-a")
    registry.policies["churn-a"] = copy.deepcopy(saved)


def test_a_persons_restored_statement_on_a_group_made_again_is_left_alone_after_a_sweep_saw_it_gone() -> None:
    owner, registry, _shares, source, saved = shared_by_modelshare()
    registry.delete_group("churn-a")
    owner.reconcile()
    made_again_with(registry, saved)
    source.edit(doc([CONSUMER]))  # an edit that would narrow modelshare's own statement

    outcomes = owner.reconcile()

    assert registry.policies["churn-a"] == saved, "modelshare changed a statement a person put on a new group"
    assert [o.action for o in outcomes if o.group == "churn-a"] == [GroupAction.SID_TAKEN]


def test_a_persons_restored_statement_is_left_alone_when_no_run_saw_the_group_gone() -> None:
    owner, registry, _shares, source, saved = shared_by_modelshare()
    registry.delete_group("churn-a")  # deleted and made again between two runs
    made_again_with(registry, saved)
    source.edit(doc([CONSUMER]))

    owner.reconcile()

    assert registry.policies["churn-a"] == saved


def test_modelshare_still_narrows_its_own_statement_on_the_group_it_wrote_it_into() -> None:
    owner, registry, shares, source, _saved = shared_by_modelshare()
    source.edit(doc([CONSUMER]))

    owner.reconcile()

    statement, = registry.policies["churn-a"]["Statement"]
    assert [policies.account_of(p) for p in policies.principals_of(statement)] == [CONSUMER]
    assert len(shares.ledger.statements[ARN]) == 1, "the replaced statement is forgotten"


def test_a_switch_to_the_shares_mode_leaves_a_persons_restored_statement_on_a_group_made_again() -> None:
    owner, registry, shares, source, saved = shared_by_modelshare()
    registry.delete_group("churn-a")
    made_again_with(registry, saved)
    source.edit(doc([CONSUMER, OTHER], mode="shares"))

    for _ in range(3):
        owner.reconcile()
        shares.accept_all()

    assert registry.policies["churn-a"] == saved, "the switch retired a person's statement"


def test_a_record_of_an_earlier_group_is_forgotten_once_judged_and_a_later_one_is_kept() -> None:
    owner, registry, shares, _source, saved = shared_by_modelshare()
    registry.delete_group("churn-a")
    made_again_with(registry, saved)
    old, = shares.ledger.statements[ARN]
    later = incarnation.stamped("f" * 64, str(2 ** 62))  # as a run beside this one would record a newer group's

    shares.ledger.record_statement(ARN, later)
    owner.reconcile()

    assert shares.ledger.statements[ARN] == {later}, f"{old} can never be modelshare's again; {later} may be"


# -- upgrading from a ledger without stamps ------------------------------------------------------
def unstamped_ledger(shares: FakeShares) -> str:
    """The ledger as a version before stamps left it: the same digests, without CreationTime."""
    recorded, = shares.ledger.statements[ARN]
    digest = recorded.partition("@")[0]
    shares.ledger.statements[ARN] = {digest}
    return digest


def test_an_unstamped_statement_is_adopted_at_its_groups_first_judgment_not_left_for_the_sweeps_turn() -> None:
    """At 10,000 groups the sweep's bounded adoption takes 100 sweeps: a removal from the
    allowlist must not wait for it (modelshare's old statement would keep granting)."""
    owner, registry, shares, source, _saved = shared_by_modelshare()
    digest = unstamped_ledger(shares)
    created = registry.created("churn-a")
    assert created is not None
    source.edit(doc([CONSUMER]))

    outcomes = owner.reconcile_items([work_item(GroupSnapshot("churn-a", ARN))])

    statement, = registry.policies["churn-a"]["Statement"]
    assert [policies.account_of(p) for p in policies.principals_of(statement)] == [CONSUMER], "narrowed at once"
    assert [o.action for o in outcomes] != [GroupAction.SID_TAKEN]
    assert shares.ledger.statements[ARN] == {incarnation.stamped(policies.statement_digest(statement),
                                                                  incarnation.stamp(created))}
    assert ("forget-statement", ARN, digest) in shares.ledger.writes


def test_the_first_sweep_after_the_upgrade_adopts_unstamped_statements_of_the_group_there() -> None:
    owner, registry, shares, source, _saved = shared_by_modelshare()
    digest = unstamped_ledger(shares)
    created = registry.created("churn-a")
    assert created is not None
    source.edit(doc([CONSUMER]))

    owner.reconcile()

    statement, = registry.policies["churn-a"]["Statement"]
    assert [policies.account_of(p) for p in policies.principals_of(statement)] == [CONSUMER], "narrowed: modelshare's"
    assert shares.ledger.statements[ARN] == {incarnation.stamped(policies.statement_digest(statement),
                                                                  incarnation.stamp(created))}
    assert ("forget-statement", ARN, digest) in shares.ledger.writes


def test_the_upgrades_sweep_forgets_unstamped_statements_of_a_deleted_group_so_one_made_again_is_a_persons() -> None:
    owner, registry, shares, source, saved = shared_by_modelshare()
    unstamped_ledger(shares)
    registry.delete_group("churn-a")

    owner.reconcile()
    assert not shares.ledger.statements.get(ARN)

    made_again_with(registry, saved)
    source.edit(doc([CONSUMER]))
    owner.reconcile()
    assert registry.policies["churn-a"] == saved


def test_the_upgrades_sweep_adopts_a_bounded_number_of_groups_a_run() -> None:
    names = {f"churn-{i:03}" for i in range(incarnation.ADOPTED_PER_RUN + 5)}
    registry = FakeRegistry(names=names)
    ledger = FakeShares().ledger
    for name in names:
        ledger.record_statement(group_arn(name), "d" * 64)

    contents = incarnation.adopt_unstamped(ledger.everything(), registry, ledger, OWNER)

    assert len(registry.creation_reads) == incarnation.ADOPTED_PER_RUN
    left = [arn for arn, o in contents.items() if incarnation.unstamped(o.statements)]
    assert len(left) == 5 and all(incarnation.unstamped(ledger.statements[arn]) for arn in left)
    contents = incarnation.adopt_unstamped(ledger.everything(), registry, ledger, OWNER)
    assert not any(incarnation.unstamped(o.statements) for o in contents.values())


def test_a_stamp_is_whole_milliseconds_whatever_the_time_zone() -> None:
    utc = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)
    assert incarnation.stamp(utc) == "1767603600123"
    assert incarnation.stamp(utc.astimezone(timezone(timedelta(hours=2)))) == "1767603600123"
    assert incarnation.of_incarnation({"abc@1767603600123", "abc", "abc@1"}, "1767603600123") == {"abc"}
    assert incarnation.of_incarnation({"abc@1767603600123"}, None) == frozenset()


def test_a_creation_event_in_a_warm_environment_reads_the_ledger_afresh() -> None:
    """ShareOnCreate's environment is reused: what one invocation read of the ledger is stale in
    the next (another environment's run may have rewritten or forgotten a record meanwhile), so
    every invocation reads what it judges again, as every other entry point does."""
    registry = FakeRegistry(names={"churn-a"})
    shares = FakeShares(managed_action_sets=[DISCOVER])
    source = FixedAllowlist(doc([CONSUMER]))
    owner_from(OWNER, registry, shares, source, shares.ledger, sleep=lambda s: None).reconcile()
    on_create = owner_from(OWNER, registry, shares, source, shares.ledger, sleep=lambda s: None)
    on_create.share_groups({"churn-a": None})  # a late creation event: the group is shared already
    reads = shares.ledger.reads

    on_create.share_groups({"churn-a": None})  # delivered again, to the same environment

    assert shares.ledger.reads > reads, "the second invocation judged the group on the first one's ledger read"
