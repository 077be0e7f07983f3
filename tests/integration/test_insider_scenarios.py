"""Issue 19's scenarios, one deterministic scenario file each (tests/integration/scenarios/, replay
one with `modelshare simulate <file>`): an insider with ordinary rights, a forged message or an
edit order that broke modelshare's promise on the local AWS. The independent oracle
(localaws/harness/oracle.py) judges each run: no violation, and converged one sweep period after the last
step."""

from __future__ import annotations

from pathlib import Path

import pytest

from localaws.harness.scenario import load_scenario
from localaws.harness.simulate import Simulation

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
# scenario file -> the issue-19 item it pins
ITEMS = {
    "forged-ownership-by-tag": "1. forged ownership, by tag",
    "adoption-without-reading-permission": "2. adoption without reading the permission",
    "promotion-of-a-wider-statement": "3. promotion judges principals, not actions",
    "consumer-accepts-a-wider-share": "3. the consumer accepts a share granting more than its access",
    "foreign-group-in-an-accepted-share": "5. accepted shares never re-checked",
    "forged-sweep-message": "6. forged work items",
    "statement-with-modelshare-sid": "7. a person's statement lost",
    "removal-then-invalid-edit": "8. a removal that never happens",
    # What the review that attacked the fix found (each broke the promise before its own fix).
    "a-second-permission-hides-deploy": "5. a share given a second permission, then a wider one",
    "a-second-permission-then-an-edit-adds-a-consumer": "5. an edit adds a consumer to a share with two permissions",
    "a-person-reputs-modelshare-s-old-statement": "7. a person's copy of an old statement of modelshare's",
    "a-taken-sid-freezes-no-removal": "7. a statement under modelshare's Sid freezing a removal",
    "a-person-restores-a-saved-policy-on-a-group-made-again": "7. a person's copy of modelshare's statement "
                                                              "put on a group made again under its name",
    # Issue 20: the shares mode's own shares, and people's shares of several groups, with an OU.
    "a-person-widens-a-made-share": "20. a person adds groups, an account, the organization, a role and "
                                    "permissions to a share modelshare made, and shares with an OU",
}


def test_every_scenario_file_is_run() -> None:
    assert sorted(p.stem for p in SCENARIOS.glob("*.json")) == sorted(ITEMS)


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_the_oracle_finds_nothing_beyond_the_allowlist(name: str) -> None:
    told: list[str] = []
    report = Simulation(load_scenario(SCENARIOS / f"{name}.json"), narrate=told.append).run()
    # Every step the person takes found what it names (a selector that finds nothing skips it).
    assert not [line for line in told if "finds no" in line], told
    safety = report["safety"]
    assert safety["convergence_judged"]
    assert safety["violations"] == [] and safety["unconverged"] == [], \
        f"{ITEMS[name]}: modelshare simulate {SCENARIOS / name}.json\n  " + \
        "\n  ".join(safety["violations"] + safety["unconverged"])
