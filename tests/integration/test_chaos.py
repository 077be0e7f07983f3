"""Chaos runs (issue 9, section 3): throttling and 5xx on 20 % of the calls the functions make
(half of the 5xx after AWS applied the call), 10 % of events lost and 20 % duplicated, allowlist
edits (an invalid one among them), group creations and deletions mid-flight, and RAM slower than
one invocation's wait. Faults stop; one sweep period later every run has converged with no safety
violation, and every invocation that reached a failure destination was repaired by a later run.

The seeds are fixed (CHAOS_SEEDS); MODELSHARE_HYPOTHESIS_SEED adds one, so a run seen elsewhere
replays here, as does the scenario file a failing run writes (`modelshare simulate <file>`)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.conftest import SEED_ENV
from tests.integration.worlds import run_world, worlds

CHAOS = {"api_fault_rate": 0.2, "lost_event_rate": 0.1, "duplicate_event_rate": 0.2}
CHAOS_SEEDS = [11, 12, 13, 14, 15, 16]
if os.environ.get(SEED_ENV):
    CHAOS_SEEDS.append(int(os.environ[SEED_ENV]) % 2**32)


@pytest.mark.parametrize("chaos_seed", CHAOS_SEEDS)
def test_a_chaos_run_converges_safely_once_faults_stop(chaos_seed: int) -> None:
    print(f"chaos seed {chaos_seed}: replay with {SEED_ENV}={chaos_seed}")

    drawn: list[dict] = []

    # Hypothesis draws the simplest world first, whatever the seed: with one example every seed ran
    # that same world. The second draw is the seed's own.
    @seed(chaos_seed)
    @settings(max_examples=2, phases=(Phase.generate,), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(world=worlds(chaos=CHAOS, eventful=True))
    def one_run(world: dict) -> None:
        drawn.append(world)
        if len(drawn) == 1:
            return
        world["ram_share_delay_seconds"] = 400  # slower than PromoteFunction's wait for RAM
        report = run_world(world, "chaos")
        injected = report["chaos"]["injected"]
        assert sum(n for kind, n in injected.items() if not kind.startswith("event")) > 0, "faults were thrown"
        assert report["safety"]["checked"].get("final group", 0) == len(report["groups"])

    one_run()
    assert len(drawn) == 2, "the seed's own world ran"
