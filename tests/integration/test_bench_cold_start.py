"""`make bench`'s cold-start probe runs every handler as Lambda loads it, with the settings the
stack gives it: a setting a handler checks at load time and the probe lacks stops the whole bench
(it did once: the consumer's version bus name). Figures are the bench's, not asserted here."""

from localaws.harness import bench


def test_the_cold_start_probe_loads_every_handler_from_the_layer_build() -> None:
    measured = bench.cold_start(runs=1)

    assert "error" not in measured, measured.get("error")
    assert set(measured["functions"]) == set(bench.COLD_START_FUNCTIONS)
    # Each process said what its set-up used, which is less than its whole run (the exit comes after).
    assert all(0 < f["set_up_cpu_seconds"] < f["cpu_seconds"] for f in measured["functions"].values())
    assert 0 < measured["floor_set_up_cpu_seconds"] < measured["floor_cpu_seconds"]
    assert "modelshare" in measured["layer_packages"]
