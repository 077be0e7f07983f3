"""Each function hands its invocation's deadline to the job it starts (issue 21, section 2: no
class holds per-run state in its fields): every call of an owner or consumer job in a function's
handler passes `deadline=` (modelshare.wiring.remaining_time), else that job would run as if it
had all the time in the world and be cut off by Lambda's timeout."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from modelshare.consumer import ConsumerService
from modelshare.owner.service import OwnerService

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def _jobs(service: type) -> set[str]:
    return {name for name, member in vars(service).items() if inspect.isfunction(member) and not name.startswith("_")
            and "deadline" in inspect.signature(member).parameters}


JOBS = _jobs(OwnerService) | _jobs(ConsumerService)


def test_every_job_takes_a_deadline() -> None:
    assert {"share_groups", "promote_pending_shares", "sweep", "reconcile_items", "delete_orphaned_shares",
            "accept_allowed_invitations"} <= JOBS


def test_every_handler_hands_its_deadline_to_the_job() -> None:
    calls = []
    for app in sorted(FUNCTIONS.glob("*/app.py")):
        for node in ast.walk(ast.parse(app.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in JOBS:
                calls.append((app.parent.name, node.func.attr, any(k.arg == "deadline" for k in node.keywords)))
    assert {"share_on_create", "promote", "reconcile_owner", "accept_invitations"} <= {name for name, _, _ in calls}
    assert [(name, job) for name, job, passed in calls if not passed] == []
