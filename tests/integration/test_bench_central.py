"""`make bench`'s central-allowlist scenario (localaws/harness/bench_central.py), small: one edit
reaches every member through the topic, each member reads the central parameter by ARN, and what
is counted is the members' own work."""

from localaws.harness import bench_central


def test_one_edit_reaches_every_member_and_is_counted_per_member():
    result = bench_central.central(3)
    assert (result.scenario, result.groups, result.shared) == ("central-allowlist", 3, 3)
    assert result.failed_invocations == 0 and result.throttled == 0 and result.writes == 0
    notes = "\n".join(result.notes)
    assert "SNS deliveries: 6 (2.0 per member, one per queue), lost or refused: 0" in notes
    assert "members woken by the change: 3 of 3; the last " in notes
    reads = sum(result.calls.get(f, {}).get("GetParameter", 0) for f in bench_central.WOKEN)
    assert reads >= 3 * 2, "every function a queue woke read the parameter itself"
    assert "reads of the central parameter by ARN: " in notes and "0 refused or throttled" in notes
