"""Safety properties on random worlds (issue 9, section 2): random accounts, groups, allowlists,
people's policies, edits, deletions and creations mid-flight, random losses, duplicates and faults.
An independent oracle (localaws/harness/oracle.py) judges every write the functions make against the
allowlist the same invocation read, and the final state against the final allowlists.

`make test` runs WORLDS_DEFAULT worlds, the same ones every run (tests/conftest.py fixes the seed);
MODELSHARE_HYPOTHESIS_PROFILE=long runs WORLDS_LONG from a fresh seed. No shrinking: a world takes
seconds, and the failing world's scenario file replays it as it is."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from tests.conftest import PROFILE_ENV
from tests.integration.worlds import run_world, worlds

WORLDS_DEFAULT, WORLDS_LONG = 20, 300
EXAMPLES = WORLDS_LONG if os.environ.get(PROFILE_ENV) == "long" else WORLDS_DEFAULT


@settings(max_examples=EXAMPLES, phases=(Phase.explicit, Phase.generate), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds())
def test_no_write_grants_beyond_the_allowlist_read_and_every_world_converges(world: dict[str, Any]) -> None:
    report = run_world(world, "world")
    # The oracle judged the final state of every group the world holds, not nothing.
    assert report["safety"]["checked"].get("final group", 0) == len(report["groups"])
