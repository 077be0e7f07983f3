"""Cost that does not grow with the number of groups, on the local AWS with its latency and
throttling (the figures at organisation scale are `make bench`'s; these keep the shape)."""

from __future__ import annotations

from localaws.harness import bench


def calls_per_shared_group(result: bench.Result) -> float:
    return sum(sum(c.values()) for c in result.calls.values()) / result.shared


def test_a_burst_of_creations_costs_the_same_per_group_whatever_its_size():
    small, big = bench.burst(10), bench.burst(60)
    assert small.failed_invocations == big.failed_invocations == 0
    assert calls_per_shared_group(big) <= calls_per_shared_group(small) * 1.1, (small.calls, big.calls)
    # Batches: six times the groups, far fewer than six times the runs (runs per group fall).
    assert big.invocations / big.shared < small.invocations / small.shared, (small.invocations, big.invocations)
    assert big.invocations < 6 * small.invocations


def test_a_converged_sweep_reads_about_once_per_group_and_writes_nothing():
    result = bench.sweep(400)
    reads = sum(result.calls["OwnerReconcileFunction"].values())
    assert result.writes == 0 and result.failed_invocations == 0
    # One policy per group without a promoted share of modelshare's (half of them), the
    # listings in pages, the allowlist once per run, the work handed out ten groups a call.
    assert reads / result.groups <= 1.1, result.calls
    # The longest invocation is set against its own function's timeout (the sweep's, 300 s).
    assert (result.longest_function, result.timeout) == ("OwnerReconcileFunction", 300)
    assert result.longest_invocation < result.timeout


def test_an_edit_touching_every_shared_group_converges_through_the_work_queue():
    result = bench.edit(100)
    assert result.failed_invocations == 0
    # RAM lets 20 invitations wait at a time: the work queue brings the rest back as they are
    # accepted, instead of leaving them to the next hourly sweep.
    accepts = result.calls["AcceptInvitationsFunction"]["AcceptResourceShareInvitation"]
    assert accepts == result.shared, "every shared group got the new consumer"
    assert result.calls["OwnerReconcileFunction"]["AssociateResourceShare"] >= result.shared
