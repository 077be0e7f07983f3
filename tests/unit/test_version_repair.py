"""The scheduled repair of version events (docs/version-events.md, "Lost forwards") is bounded by
the invocation's deadline and starts each hour further along the shared groups, so that every
group is told again within a bounded number of runs, however many groups the account has."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from unittest import mock

import pytest

from modelshare import version_forwarding
from modelshare.version_forwarding import (
    REPAIR_RESERVE_SECONDS,
    REPAIR_TURN_GROUPS,
    ForwardReport,
    VersionForwarder,
    repair_turn,
)
from tests.unit.test_version_events import DEPLOYER, OWNER, SHARED, Source
from tests.unit.version_fakes import FakeModelVersions, FakeVersionBus


def registry_of(n: int) -> FakeModelVersions:
    """n groups the allowlist shares (churn-*), each with one approved version."""
    names = tuple(f"churn-{i:05d}" for i in range(n))
    return FakeModelVersions({f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/{name}/1": "Approved"
                              for name in names}, groups=names)


def clock(registry: FakeModelVersions, timeout: float, per_call: float) -> version_forwarding.Deadline:
    """An invocation's seconds left: every registry read takes `per_call` seconds."""
    return lambda: timeout - per_call * len(registry.calls)


def told_groups(bus: FakeVersionBus) -> set[str]:
    return {str(f.detail["modelPackageGroupName"]) for f in bus.sent}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    said: list[tuple[str, int]] = []
    monkeypatch.setattr(version_forwarding, "count", lambda name, value=1: said.append((name, value)))
    return said


def test_a_repair_whose_deadline_runs_out_midway_stops_before_it_reports_and_counts_the_rest(counted):
    registry, bus = registry_of(40), FakeVersionBus()
    deadline = clock(registry, timeout=60.0, per_call=1.0)
    report = VersionForwarder(OWNER, registry, bus, Source(SHARED)).repair(deadline, turn=0)
    assert deadline() >= REPAIR_RESERVE_SECONDS - 2.0  # it never spent the reserve (one group's reads at most)
    assert 0 < report.repaired < 40 and report.unreached == 40 - report.repaired
    assert len(told_groups(bus)) == report.repaired
    assert ("VersionRepairIncomplete", report.unreached) in counted


def test_a_repair_that_reaches_every_group_counts_nothing_left(counted):
    registry, bus = registry_of(30), FakeVersionBus()
    report = VersionForwarder(OWNER, registry, bus, Source(SHARED)).repair(clock(registry, 60.0, 0.1), turn=7)
    assert report.repaired == 30 and report.unreached == 0
    assert len(told_groups(bus)) == 30
    assert [name for name, _ in counted if name == "VersionRepairIncomplete"] == []


def test_successive_runs_start_further_along_and_cover_every_group_within_the_bound():
    """Each run reaches more than a turn's groups (the bound's premise); ceil(n / turn) runs in a
    row tell every group, whatever hour they start at."""
    n = 2 * REPAIR_TURN_GROUPS + 37
    runs = -(-n // REPAIR_TURN_GROUPS)
    per_call = (60.0 - REPAIR_RESERVE_SECONDS) / (2 * REPAIR_TURN_GROUPS + 20)  # about a turn and a bit a run
    for first in (0, 1, 491_000):
        told: set[str] = set()
        starts: list[str] = []
        for turn in range(first, first + runs):
            registry, bus = registry_of(n), FakeVersionBus()
            report = VersionForwarder(OWNER, registry, bus, Source(SHARED)).repair(
                clock(registry, 60.0, per_call), turn=turn)
            assert REPAIR_TURN_GROUPS <= report.repaired < n
            starts.append(registry.calls[1][1])  # the first group this run read
            told |= told_groups(bus)
        assert len(set(starts)) == runs
        assert len(told) == n


def test_the_turn_is_the_hour_of_the_scheduled_event():
    assert repair_turn("2026-12-06T08:00:00Z") == repair_turn("2026-12-06T07:00:00Z") + 1
    assert repair_turn("2026-12-06T07:59:59Z") == repair_turn("2026-12-06T07:00:00Z")
    assert repair_turn("not a time") >= repair_turn("2026-12-06T07:00:00Z")  # falls back to now


# -- the handler hands the repair its invocation's deadline and the scheduled event's turn --------
ROOT = Path(__file__).resolve().parents[2]


class Context:
    function_name = "modelshare-ForwardVersionsFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/modelshare"
    log_stream_name = "local"
    invoked_function_arn = f"arn:aws:lambda:eu-west-1:{OWNER}:function:modelshare-ForwardVersionsFunction"

    def get_remaining_time_in_millis(self) -> int:
        return 42_000


class RecordingForwarder:
    def __init__(self) -> None:
        self.asked: list[tuple[float, int]] = []

    def repair(self, deadline: version_forwarding.Deadline, turn: int) -> ForwardReport:
        self.asked.append((deadline(), turn))
        return ForwardReport(repaired=3, unreached=2)


def test_the_scheduled_invocation_repairs_within_its_deadline_from_the_event_s_hour(monkeypatch):
    spec = importlib.util.spec_from_file_location("_repair_app", ROOT / "functions" / "forward_versions" / "app.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ, {"MODELSHARE_ALLOWLIST_PARAMETER": "/modelshare/allowlist",
                                      "MODELSHARE_VERSION_BUS": "modelshare-versions"}):
        os.environ.pop("MODELSHARE_ALLOWLIST_PATH", None)
        spec.loader.exec_module(app)
    recording = RecordingForwarder()
    monkeypatch.setattr(app, "forwarder", lambda context: recording)
    tick = {**json.loads((ROOT / "events" / "scheduled.json").read_text()), "time": "2026-12-06T09:00:00Z"}
    result = app.lambda_handler(tick, Context())
    assert recording.asked == [(42.0, repair_turn("2026-12-06T09:00:00Z"))]
    assert result["repaired"] == 3 and result["unreached"] == 2


@pytest.mark.parametrize("scheduled_time", ["2026-12-06T08:00:00Z", "9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z",
                                            "-1", "not a time", ""])
def test_whatever_time_the_tick_carries_the_repair_tells_only_the_shared_groups_granted_consumers(scheduled_time):
    """The scheduled event's time picks where a run starts, nothing else: a tick with any time
    (forged, far off, unreadable) tells no group the allowlist does not share, and no consumer it
    does not grant (docs/security.md: a message is a hint where to look)."""
    shared = tuple(f"churn-{i:03d}" for i in range(5))
    unshared = ("private-a", "private-b")
    registry = FakeModelVersions({f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package/{name}/1": "Approved"
                                  for name in shared + unshared}, groups=shared + unshared)
    bus = FakeVersionBus()
    VersionForwarder(OWNER, registry, bus, Source(SHARED)).repair(clock(registry, 60.0, 0.1), turn=repair_turn(scheduled_time))
    assert told_groups(bus) == set(shared)
    assert {f.consumer for f in bus.sent} == {DEPLOYER}
