"""`make bench`'s estate (localaws/bench_estate.py), small: the policy mode meets RAM's principal
association quota, the second sweep tries nothing again, and the budget says what each mode needs."""

from __future__ import annotations

import pytest

from localaws import bench, bench_estate


def test_a_small_estate_fills_the_principal_association_quota_and_the_next_sweep_tries_nothing():
    # 20 groups x 3 consumers, Region quotas / 500 (50 each): 16 groups fit, 2 more principals.
    result = bench_estate.estate(20, consumers=3)
    held = {use["quota"]: use for use in result.budget["held"]}
    assert (held["principal_associations"]["used"], held["principal_associations"]["limit"]) == (50, 50)
    assert held["resource_associations"]["used"] == 20  # every group is in its share made from its policy
    assert result.failed_invocations == 0
    [periods] = [n for n in result.notes if "granting calls in the two sweep periods" in n]
    first, second = (int(n) for n in periods.rsplit(": ", 1)[1].split(", "))
    assert first > 0 and second == 0
    assert ("principal associations per Region: holds 50 of 50 (100 %); every group shared needs 60 in the policy "
            "mode (120 %), 3 in the shares mode (6 %)") in result.notes


def test_the_estate_takes_the_sharing_mode_and_names_those_it_runs():
    with pytest.raises(ValueError, match=r"sharing mode 'shares': the estate runs \['policy'\]"):
        bench.estate(20, mode="shares")
