"""A random world that breaks is written where a person finds it, named in the failure, and two
workers of a parallel run (pytest-xdist) never write or remove each other's world."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tests.integration import worlds

SCENARIO: dict[str, Any] = {"region": "eu-west-1", "allowlist": {"version": 1, "shares": []},
                            "accounts": {"111111111111": {"groups": ["churn-a"]}}, "chaos": {"seed": 7}, "timeline": []}
HOLDS: dict[str, Any] = {"safety": {"violations": [], "unconverged": [], "checked": {}}}
BROKEN = {"safety": {"violations": ["a grant beyond the allowlist"], "unconverged": [], "checked": {}}}


@pytest.fixture
def failures(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(worlds, "FAILURES_DIR", tmp_path / "failed-worlds")
    return tmp_path / "failed-worlds"


def test_a_broken_world_is_written_and_the_failure_names_its_file(failures, monkeypatch):
    monkeypatch.setattr(worlds.Simulation, "run", lambda self: BROKEN)
    with pytest.raises(AssertionError) as failed:
        worlds.run_world(SCENARIO, "world")
    written, = failures.iterdir()
    assert f"replay: modelshare simulate {written}" in str(failed.value)
    assert json.loads(written.read_text()) == SCENARIO


def test_a_world_that_raises_is_written_and_the_error_names_its_file(failures, monkeypatch):
    def crash(self: Any) -> dict[str, Any]:
        raise RuntimeError("the emulator broke")

    monkeypatch.setattr(worlds.Simulation, "run", crash)
    with pytest.raises(RuntimeError) as failed:
        worlds.run_world(SCENARIO, "world")
    written, = failures.iterdir()
    assert f"replay: modelshare simulate {written}" in failed.value.__notes__


def test_worlds_of_one_name_and_seed_get_their_own_files(failures, monkeypatch):
    monkeypatch.setattr(worlds.Simulation, "run", lambda self: BROKEN)
    other = {**SCENARIO, "accounts": {"111111111111": {"groups": ["fraud"]}}}
    for scenario in (SCENARIO, other):
        with pytest.raises(AssertionError):
            worlds.run_world(scenario, "world")
    assert sorted(json.loads(p.read_text())["accounts"]["111111111111"]["groups"][0]
                  for p in failures.iterdir()) == ["churn-a", "fraud"]


def test_a_world_that_holds_leaves_no_file(failures, monkeypatch):
    monkeypatch.setattr(worlds.Simulation, "run", lambda self: HOLDS)

    @settings(max_examples=1, phases=(Phase.generate,))
    @given(st.just(SCENARIO))  # run_world records Hypothesis events: it runs inside a test
    def holds(scenario: dict[str, Any]) -> None:
        assert worlds.run_world(scenario, "world") is HOLDS

    holds()
    assert not failures.exists()
