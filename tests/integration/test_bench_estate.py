"""`make bench`'s estate (localaws/harness/bench_estate.py), small: the policy mode meets RAM's principal
association quota, the second sweep tries nothing again, and the budget says what each mode needs."""

from __future__ import annotations

import pytest

from localaws.harness import bench, bench_estate


def test_a_small_estate_fills_the_principal_association_quota_and_the_next_sweep_tries_nothing():
    # 20 groups x 3 consumers, Region quotas / 500 (50 each): 16 groups fit, 2 more principals.
    result = bench_estate.estate(20, consumers=3)
    held = {use["quota"]: use for use in result.budget["held"]}
    assert (held["principal_associations"]["used"], held["principal_associations"]["limit"]) == (50, 50)
    assert held["resource_associations"]["used"] == 20  # every group is in its share made from its policy
    assert result.failed_invocations == 0
    [periods] = [n for n in result.notes if "granting calls in the sweep periods" in n]
    first, second = (int(n) for n in periods.rsplit(": ", 1)[1].split(", "))
    assert first > 0 and second == 0
    assert ("principal associations per Region: holds 50 of 50 (100 %); every group shared needs 60 in the policy "
            "mode (120 %), 3 in the shares mode (6 %)") in result.notes


def test_the_same_estate_in_the_shares_mode_shares_every_group_within_every_quota():
    # The policy mode's 60 principal associations pass the quota of 50; one share of 20 groups
    # for the 3 consumers costs 3.
    result = bench_estate.estate(20, consumers=3, mode="shares")
    held = {use["quota"]: use for use in result.budget["held"]}
    assert result.failed_invocations == 0
    assert (held["shares"]["used"], held["resource_associations"]["used"], held["principal_associations"]["used"]) \
        == (1, 20, 3)
    assert all(use["used"] <= use["limit"] for use in held.values())
    assert "invitations sent (any status): 3; by the end of each period: 3, 3" in result.notes
    [holding] = [n for n in result.notes if n.startswith("consumers holding every group: ")]
    assert holding.startswith("consumers holding every group: 3 of 3, after 1 sweep period(s), ")
    assert "; 3 invitations, 20 waiting at a time, take at least 1 rounds of acceptances; " in holding
    assert holding.endswith(" minutes"), holding
    [periods] = [n for n in result.notes if "granting calls in the sweep periods" in n]
    first, *later = (int(n) for n in periods.rsplit(": ", 1)[1].split(", "))
    assert first > 0 and later == [0], "two periods at least: the second changes nothing"
    [runs] = [n for n in result.notes if n.startswith("consumer runs: ")]
    assert ", 0 failed (0 timed out); calls per run: mean " in runs
    with pytest.raises(ValueError, match=r"sharing mode 'sideways': the estate runs \['policy', 'shares'\]"):
        bench.estate(20, mode="sideways")
