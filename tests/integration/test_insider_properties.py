"""The insider property (issue 19): random worlds as in test_safety_properties.py, with a person of
ordinary rights acting between the allowlist edits and the faults (localaws/harness/insider.py): tagging
shares and groups with modelshare's tag keys, making shares of their own under any managed
permission, adding groups and accounts to modelshare's shares, writing statements with modelshare's
Sid, accepting invitations by hand and forging messages to the SweepQueue. The oracle
(localaws/harness/oracle.py) judges every function's write, and the final state, as in every world: nothing
a person does may make modelshare grant beyond the allowlist or change what the person made.

`make test` runs WORLDS_DEFAULT worlds, the same ones every run (tests/conftest.py fixes the seed);
MODELSHARE_HYPOTHESIS_PROFILE=long runs WORLDS_LONG from a fresh seed. A failing world is written
out and replays with `modelshare simulate <file>`."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from tests.conftest import PROFILE_ENV
from tests.integration.worlds import run_world, worlds

WORLDS_DEFAULT, WORLDS_LONG = 10, 200
EXAMPLES = WORLDS_LONG if os.environ.get(PROFILE_ENV) == "long" else WORLDS_DEFAULT
_INSIDER_STEPS = {"create_share", "tag_share", "tag_group", "associate_share", "associate_permission", "add_statement", "put_policy",
                  "accept_invitations", "send_message"}


@settings(max_examples=EXAMPLES, phases=(Phase.explicit, Phase.generate), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds(insider=True))
def test_an_insider_with_ordinary_rights_never_widens_what_modelshare_grants(world: dict[str, Any]) -> None:
    assert sum(step["do"] in _INSIDER_STEPS for step in world["timeline"]) >= 3
    report = run_world(world, "insider")
    assert report["safety"]["checked"].get("final group", 0) == len(report["groups"])
