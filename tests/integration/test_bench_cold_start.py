"""`make bench`'s cold-start probe runs every handler as Lambda loads it, with the settings the
stack gives it: a setting a handler checks at load time and the probe lacks stops the whole bench
(it did once: the consumer's version bus name). Figures are the bench's, not asserted here."""

from localaws.harness import bench


def test_the_cold_start_probe_loads_every_handler_from_the_layer_build() -> None:
    measured = bench.cold_start(runs=1)

    assert "error" not in measured, measured.get("error")
    assert set(measured["functions"]) == set(bench.COLD_START_FUNCTIONS)
    assert all(f["cpu_seconds"] > 0 for f in measured["functions"].values())
    assert "modelshare" in measured["layer_packages"]
