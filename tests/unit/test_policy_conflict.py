"""SageMaker answers ConflictException when another write of a group's policy runs at the same
moment (docs/aws-behaviour.md, SM-POLICY-CONFLICT). botocore does not retry it, so the owner
side reads the policy again and decides again (the other writer may have been a person, whose
statement stays), a few times with backoff, then leaves the group to the next run."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest

from modelshare import policy as policies
from modelshare.allowlist import actions_for
from modelshare.outcomes import GroupAction
from modelshare.owner import apply as owner_apply
from modelshare.owner.apply import POLICY_CONFLICT_WAITS
from modelshare.owner.service import OwnerService
from modelshare.ports import PolicyConflict
from modelshare.wiring import PerEnvironment, owner_from, remaining_time
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeRegistry,
    FakeShares,
    FixedAllowlist,
    allowlist_doc,
    group_arn,
    modelshare_wrote,
)

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}
NAME = "churn-xgb"
PERSONS = {"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sagemaker:ListModelPackages",
           "Resource": group_arn(NAME)}


class ConflictingRegistry(FakeRegistry):
    """A registry whose next puts meet another writer: each entry of `writers` runs (the other
    write lands) and the put answers ConflictException."""

    def __init__(self, writers: list[Callable[[FakeRegistry], None]]) -> None:
        super().__init__(names={NAME})
        self.writers = writers
        self.conflicts = 0

    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None:
        if self.writers:
            self.writers.pop(0)(self)
            self.conflicts += 1
            raise PolicyConflict(group_name)
        super().put_policy(group_name, policy)


def make_owner(registry: FakeRegistry, rules=(RULE,)) -> tuple[OwnerService, FakeShares, list[float]]:
    shares = FakeShares()
    sleeps: list[float] = []
    service = owner_from(OWNER, registry, shares, FixedAllowlist(allowlist_doc(*rules)), shares.ledger,
                         sleep=sleeps.append)
    return service, shares, sleeps


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(owner_apply, "count", lambda name, value=1: said.append(name))
    return said


def ours() -> dict[str, Any]:
    return policies.modelshare_statement(group_arn(NAME), (CONSUMER,), actions_for(("discover",)))


def person_writes(statement: dict[str, Any]) -> Callable[[FakeRegistry], None]:
    def write(registry: FakeRegistry) -> None:
        registry.policies[NAME] = {"Version": "2012-10-17", "Statement": [statement]}
    return write


def test_a_person_writing_at_the_same_moment_keeps_their_statement_and_modelshare_adds_its_own(metrics):
    registry = ConflictingRegistry([person_writes(PERSONS)])
    service, _, sleeps = make_owner(registry)
    outcome = service.share_group(NAME)
    assert outcome.action == GroupAction.SHARED
    assert registry.policies[NAME]["Statement"] == [PERSONS, ours()], "re-read, decided again: the person's stays"
    assert registry.policy_reads.count(NAME) == 2, "the policy is read again after the conflict"
    assert sleeps == [POLICY_CONFLICT_WAITS[0]]
    assert "PolicyWriteConflicts" not in metrics


def test_a_write_that_keeps_conflicting_is_left_to_the_next_run_with_a_log_and_a_metric(metrics, caplog):
    registry = ConflictingRegistry([lambda r: None] * (len(POLICY_CONFLICT_WAITS) + 1))
    service, _, sleeps = make_owner(registry)
    outcome = service.share_group(NAME)  # the run does not fail: the group waits
    assert outcome.action == GroupAction.POLICY_CONFLICT and NAME in outcome.reason
    assert registry.conflicts == len(POLICY_CONFLICT_WAITS) + 1, "a few tries, then it stops"
    assert sleeps == list(POLICY_CONFLICT_WAITS), "backing off between tries"
    assert all(a < b for a, b in itertools.pairwise(sleeps))
    assert metrics.count("PolicyWriteConflicts") == 1
    assert [r.getMessage() for r in caplog.records if "kept changing" in r.getMessage()] == [
        "Group's policy kept changing while modelshare wrote it: left to the next run"]
    assert NAME not in registry.policies
    assert service.share_group(NAME).action == GroupAction.SHARED, "the next run writes it"


def test_no_wait_runs_into_the_invocation_s_end(metrics):
    registry = ConflictingRegistry([lambda r: None] * 10)
    service, _, sleeps = make_owner(registry)
    assert service.share_group(NAME, deadline=lambda: 5.0).action == GroupAction.POLICY_CONFLICT
    assert sleeps == [] and registry.conflicts == 1


def test_an_owner_kept_for_the_environment_keeps_no_invocation_s_deadline(metrics):
    """An invocation's remaining time goes to its run, never into the service the execution
    environment keeps for the next one (or for an admin command using it)."""
    class OutOfTime:
        invoked_function_arn = f"arn:aws:lambda:eu-west-1:{OWNER}:function:share-on-create"

        def get_remaining_time_in_millis(self) -> int:
            return 0

    registry = ConflictingRegistry([lambda r: None] * 10)
    service, _, sleeps = make_owner(registry)
    services = PerEnvironment(lambda account: service)
    assert services(OutOfTime()).share_group(NAME, deadline=remaining_time(OutOfTime())).action == \
        GroupAction.POLICY_CONFLICT
    assert sleeps == []
    assert services(OutOfTime()).share_group(NAME).action == GroupAction.POLICY_CONFLICT
    assert sleeps == list(POLICY_CONFLICT_WAITS), "no deadline given: all the waits, none kept from before"
    assert not {"time_left", "deadline"} & {f.name for f in fields(OwnerService)}


def test_when_the_other_writer_took_modelshare_s_sid_the_sweep_writes_nothing_more(metrics):
    """Decided again, not retried blindly: a person's statement under modelshare's Sid, written
    as modelshare's put conflicted, is theirs, and modelshare adds nothing beside it."""
    taken = {**PERSONS, "Sid": policies.MODELSHARE_SID}
    registry = ConflictingRegistry([person_writes(taken)])
    service, _, _ = make_owner(registry)
    outcomes = service.reconcile()
    assert [o.action for o in outcomes if o.group == NAME] == [GroupAction.SID_TAKEN]
    assert registry.policies[NAME]["Statement"] == [taken] and registry.puts == []


def test_when_another_run_wrote_the_same_statement_nothing_is_written_again(metrics):
    def another_run(registry: FakeRegistry) -> None:
        modelshare_wrote(registry, service.ledger, NAME, ours())

    registry = ConflictingRegistry([another_run])
    service, _, _ = make_owner(registry)
    assert service.share_group(NAME).action == GroupAction.CONVERGED
    assert registry.puts == [] and registry.policies[NAME]["Statement"] == [ours()]
