"""Chaos (localaws/runtime/chaos.py, docs/aws-behaviour.md CHAOS-FAULTS): faults hit only the functions'
calls; a 5xx may come after AWS applied the call; the same seed meets the same faults, and a whole
scenario replays call for call in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.runtime.chaos import Chaos, ChaosSettings
from localaws.runtime.cloud import LocalCloud

ACCOUNT, REGION = "111122223333", "eu-west-1"
PROJECT = Path(__file__).resolve().parents[2]
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def make_groups(cloud: LocalCloud, names: list[str]) -> dict[str, str]:
    """Create each group as a function would (one attempt each): name -> the error it met, or ""."""
    sagemaker = cloud.session(ACCOUNT, REGION).client("sagemaker", config=NO_RETRIES)
    met = {}
    cloud.caller = "SomeFunction"
    try:
        for name in names:
            try:
                sagemaker.create_model_package_group(ModelPackageGroupName=name)
                met[name] = ""
            except ClientError as error:
                met[name] = f"{error.response['Error']['Code']} {error.response['ResponseMetadata']['HTTPStatusCode']}"
    finally:
        cloud.caller = None
    return met


def existing(cloud: LocalCloud) -> set[str]:
    sagemaker = cloud.session(ACCOUNT, REGION).client("sagemaker")
    pages = sagemaker.get_paginator("list_model_package_groups").paginate()
    return {g["ModelPackageGroupName"] for page in pages for g in page["ModelPackageGroupSummaryList"]}


def test_faults_are_throttles_and_5xx_and_half_the_5xx_come_after_the_call_was_applied():
    names = [f"group-{i}" for i in range(60)]
    with LocalCloud() as cloud:
        cloud.add_account(ACCOUNT)
        cloud.chaos = Chaos(ChaosSettings(seed=3, api_fault_rate=1.0))
        met = make_groups(cloud, names)
        cloud.chaos.on = False
        made = existing(cloud)
    assert all(met.values()), "every call of a function failed at a rate of 1"
    throttled = {n for n, e in met.items() if e == "ThrottlingException 400"}
    server = {n for n, e in met.items() if e in ("InternalFailure 500", "ServiceUnavailable 503")}
    assert throttled | server == set(names)
    assert throttled and not throttled & made, "a throttled call is not applied"
    assert server & made and server - made, "some 5xx calls were applied, some not"
    injected = cloud.chaos.injected
    assert len(made) == sum(n for kind, n in injected.items() if "after applying" in kind)
    recorded = [c for c in cloud.calls if c.operation == "CreateModelPackageGroup"]
    assert all(c.injected and c.error_code for c in recorded)


def test_people_s_calls_never_meet_faults_and_observers_see_what_was_applied():
    with LocalCloud() as cloud:
        cloud.add_account(ACCOUNT)
        cloud.chaos = Chaos(ChaosSettings(seed=3, api_fault_rate=1.0))
        applied = []
        cloud.call_observers.append(lambda call, output: applied.append((call.operation, call.params.get("ModelPackageGroupName"))))
        sagemaker = cloud.session(ACCOUNT, REGION).client("sagemaker", config=NO_RETRIES)
        sagemaker.create_model_package_group(ModelPackageGroupName="by-a-person")
        met = make_groups(cloud, ["by-a-function-1", "by-a-function-2", "by-a-function-3", "by-a-function-4"])
        made = existing(cloud)
    assert "by-a-person" in made
    assert {n for op, n in applied if op == "CreateModelPackageGroup"} == made
    assert set(met) - made, "some function calls were refused before AWS applied them"


def test_the_same_seed_meets_the_same_faults_and_another_seed_others():
    def run(seed: int) -> dict[str, str]:
        with LocalCloud() as cloud:
            cloud.add_account(ACCOUNT)
            cloud.chaos = Chaos(ChaosSettings(seed=seed, api_fault_rate=0.3))
            return make_groups(cloud, [f"group-{i}" for i in range(40)])

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_events_are_lost_and_duplicated_at_their_rates_from_their_own_generator():
    chaos = Chaos(ChaosSettings(seed=1, lost_event_rate=0.1, duplicate_event_rate=0.2))
    copies = [chaos.copies() for _ in range(5000)]
    assert 0.08 < copies.count(0) / 5000 < 0.12 and 0.18 < copies.count(2) / 5000 < 0.22
    other = Chaos(ChaosSettings(seed=1, lost_event_rate=0.1, duplicate_event_rate=0.2, api_fault_rate=0.5))
    for _ in range(100):
        other.api_fault("sagemaker")
    assert [other.copies() for _ in range(5000)] == copies, "drawing call faults does not shift event faults"
    chaos.on = False
    assert {chaos.copies() for _ in range(100)} == {1}


@pytest.mark.parametrize("bad", [{"api_fault_rate": 1.5}, {"lost_event_rate": -0.1},
                                 {"lost_event_rate": 0.6, "duplicate_event_rate": 0.5}])
def test_rates_outside_zero_to_one_are_refused(bad):
    with pytest.raises(ValueError, match="must"):
        ChaosSettings(**bad)


def test_a_chaos_scenario_replays_call_for_call_in_a_fresh_process():
    """Identifiers, retry jitter and faults all come from the scenario's seed: two processes with
    different hash seeds print the same report."""
    reports = []
    for hash_seed in ("1", "2"):
        run = subprocess.run([sys.executable, "-m", "modelshare_cli.main", "simulate", "--json",
                              str(PROJECT / "examples" / "chaos.json")], capture_output=True, text=True, cwd=PROJECT,
                             env={**os.environ, "PYTHONHASHSEED": hash_seed}, timeout=300, check=False)
        assert run.returncode == 0, run.stderr[-2000:]
        reports.append(json.loads(run.stdout))
    assert sum(reports[0]["chaos"]["injected"].values()) > 20
    assert reports[0] == reports[1]


def test_policy_writes_meet_conflicts_at_their_rate_unapplied_unretried_and_the_adapter_says_so():
    """SM-POLICY-CONFLICT: a function's PutModelPackageGroupPolicy meets ConflictException at the
    chaos' own rate (no other call does), nothing is written, botocore with modelshare's retry
    configuration does not try it again, and the registry adapter raises PolicyConflict."""
    from modelshare.aws.sagemaker import SageMakerRegistry
    from modelshare.ports import PolicyConflict

    names = [f"group-{i}" for i in range(40)]
    with LocalCloud() as cloud:
        cloud.add_account(ACCOUNT)
        make_groups(cloud, names)
        cloud.chaos = Chaos(ChaosSettings(seed=2, policy_conflict_rate=0.5))
        registry = SageMakerRegistry(cloud.session(ACCOUNT, REGION))
        met: dict[str, str] = {}
        cloud.caller = "SomeFunction"
        try:
            for name in names:
                arn = registry.group_arn(name)
                policy = {"Version": "2012-10-17", "Statement": [{
                    "Sid": "S", "Effect": "Allow", "Principal": {"AWS": "444455556666"},
                    "Action": "sagemaker:DescribeModelPackageGroup", "Resource": arn}]}
                try:
                    registry.put_policy(name, policy)
                    met[name] = ""
                except PolicyConflict as conflict:
                    met[name] = str(conflict)
        finally:
            cloud.caller = None
        cloud.chaos.on = False
        written = {n for n in names if registry.get_policy(n) is not None}
    conflicted = {n for n, e in met.items() if e}
    assert 10 < len(conflicted) < 30 and all("ConflictException" in met[n] for n in conflicted)
    assert written == set(names) - conflicted, "a refused write wrote nothing"
    puts = [c for c in cloud.calls if c.operation == "PutModelPackageGroupPolicy"]
    assert len(puts) == len(names), "botocore tried no conflicting put a second time"
    assert {c.params["ModelPackageGroupName"] for c in puts if c.error_code == "ConflictException"} == conflicted
    assert cloud.chaos.injected == {"ConflictException": len(conflicted)}
    assert not [c for c in cloud.calls if c.error_code == "ConflictException" and c.operation != "PutModelPackageGroupPolicy"]


def test_a_conflict_rate_shifts_no_other_fault():
    def run(conflicts: float) -> dict[str, str]:
        with LocalCloud() as cloud:
            cloud.add_account(ACCOUNT)
            cloud.chaos = Chaos(ChaosSettings(seed=5, api_fault_rate=0.3, policy_conflict_rate=conflicts))
            return make_groups(cloud, [f"group-{i}" for i in range(40)])

    assert run(0.0) == run(0.9), "a scenario without policy writes meets the same faults"
