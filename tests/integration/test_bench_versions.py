"""`make bench`'s versions (localaws/harness/bench_versions.py), small: one approval reaches every
consumer's bus, ten to a PutEvents call, and its table counts the forwarder's calls per approval."""

from __future__ import annotations

from localaws.harness import bench_report, bench_versions


def test_one_approval_to_25_consumers_takes_three_put_events_calls_and_reaches_each_bus():
    result = bench_versions.versions(25)
    forwarder = result.calls["ForwardVersionsFunction"]
    assert forwarder["PutEvents"] == 3 and result.failed_invocations == 0
    assert set(result.calls) == {"ForwardVersionsFunction"}, "an approval runs nothing else of the owner's"
    assert "consumers told: 25 of 25, in 3 PutEvents calls" in result.notes
    table = bench_report.scenario_table("versions", [result.as_dict()])
    head = [cell.strip() for cell in table[2].strip("|").split("|")]
    assert head[:4] == ["N", "shared", "ForwardVersions calls", "all calls"]
    row = [cell.strip() for cell in table[4].strip("|").split("|")]
    assert row[:4] == ["25", "1", f"{sum(forwarder.values()):.2f}", f"{sum(forwarder.values()):.2f}"]
