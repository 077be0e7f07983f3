"""A cold start imports what its path needs and no more (issue 21: cold start within 1.15x of a
bare boto3 function, measured by `make bench`; docs/benchmarks.md, "Cold start"). Each module
costs milliseconds of every cold start, mostly its dataclasses being built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from modelshare.wiring import OwnerJob

ROOT = Path(__file__).resolve().parents[2]
OWNER_FUNCTIONS = ("share_on_create", "promote", "reconcile_owner")

_PROBE = """
import importlib.util, json, sys
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
class Context:
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111111111111:function:modelshare-probe"
    def get_remaining_time_in_millis(self):
        return 60_000
module.services(Context())
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("modelshare", "botocore.client")))))
print(json.dumps(sorted(f"{{value.__module__}}.{{value.__qualname__}}" for name, mod in list(sys.modules.items())
                        if name.startswith("modelshare") for value in vars(mod).values()
                        if isinstance(value, type) and "__dataclass_fields__" in vars(value)
                        and value.__module__ == name)))
"""


def loaded_after_first_invocation_setup(function: str, **env: str) -> set[str]:
    """The modules loaded once the handler is imported and its services built (no AWS call)."""
    return _cold_start(function, **env)[0]


def dataclasses_at_cold_start(function: str) -> set[str]:
    """The dataclasses (module.name) the loaded modelshare modules define, each built at import."""
    return _cold_start(function)[1]


def _cold_start(function: str, **env: str) -> tuple[set[str], set[str]]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MODELSHARE_"))}
    environment.update({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "x",
                        "AWS_SECRET_ACCESS_KEY": "x", "AWS_LAMBDA_FUNCTION_NAME": f"modelshare-{function}",
                        "POWERTOOLS_TRACE_DISABLED": "true", "MODELSHARE_ALLOWLIST_PARAMETER": "/modelshare/allowlist",
                        "MODELSHARE_LEDGER_TABLE": "modelshare-ownership", "MODELSHARE_VERSION_BUS": "modelshare-versions",
                        "MODELSHARE_SWEEP_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/111111111111/sweep", **env})
    source = _PROBE.format(layer=str(ROOT / "layers" / "modelshare"), app=str(ROOT / "functions" / function / "app.py"))
    done = subprocess.run([sys.executable, "-c", source], env=environment, capture_output=True, text=True, check=True)
    modules, dataclasses = done.stdout.strip().splitlines()[-2:]
    return set(json.loads(modules)), set(json.loads(dataclasses))


# The owner jobs' modules (modelshare.owner.service imports each in its entry point): a function
# loads its own job's, and those its job calls into, no other.
OWNER_JOBS = {"modelshare.owner.create", "modelshare.owner.promote", "modelshare.owner.sweep",
              "modelshare.owner.sweep_work", "modelshare.owner.cleanup", "modelshare.owner.status"}
JOBS_OF = {"share_on_create": {"modelshare.owner.create"}, "promote": {"modelshare.owner.promote"},
           "reconcile_owner": {"modelshare.owner.sweep", "modelshare.owner.sweep_work", "modelshare.owner.cleanup"}}


@pytest.mark.parametrize("function", OWNER_FUNCTIONS)
def test_an_owner_function_loads_neither_the_consumer_side_nor_what_only_rare_paths_need(function: str) -> None:
    loaded = loaded_after_first_invocation_setup(function)
    assert "modelshare.owner" in loaded
    rare = {"modelshare.consumer", "modelshare.received_shares", "modelshare.dry_run", "modelshare.allowlist_history",
            "modelshare.shares_mode", "modelshare.owner.mode_switch",
            # the shares mode's layout, the path mode's parts, the CLI's status of a group, a
            # restricted run's rules (an invalid allowlist, a group switching modes)
            "modelshare.share_layout", "modelshare.allowlist_parts", "modelshare.owner.status",
            "modelshare.restriction"}
    assert loaded & rare == set()


# Values only the consumer, the allowlist's history or the quota planning (CLI) use
# (modelshare.port_values, modelshare.mode_costs): each dataclass built at import costs about
# half a millisecond of every owner cold start.
NOT_THE_OWNERS = {"Invitation", "SharedResource", "LastValidAllowlist", "SharedGroup", "Cost"}


@pytest.mark.parametrize("function", OWNER_FUNCTIONS)
def test_an_owner_function_builds_no_dataclass_only_other_paths_use(function: str) -> None:
    built = dataclasses_at_cold_start(function)
    assert "modelshare.ports.Ownership" in built  # the probe sees them
    assert {name for name in built if name.rsplit(".", 1)[-1] in NOT_THE_OWNERS} == set()
    assert loaded_after_first_invocation_setup(function) & {"modelshare.port_values", "modelshare.mode_costs"} == set()


@pytest.mark.parametrize("function", OWNER_FUNCTIONS)
def test_an_owner_function_loads_its_own_jobs_at_cold_start_and_no_other(function: str) -> None:
    """Its own job at cold start, so that the cold start says what the first invocation costs."""
    assert loaded_after_first_invocation_setup(function) & OWNER_JOBS == JOBS_OF[function]


@pytest.mark.parametrize("function", OWNER_FUNCTIONS)
def test_each_owner_job_brings_only_what_it_calls(function: str) -> None:
    """A job's module, imported as its first run does, loads no other job's (the creation does
    not load the sweep's, ...) nor the rare paths' modules."""
    source = ("import json, sys\nsys.path.insert(0, {layer!r})\n"
              "for name in {jobs!r}:\n    __import__(name)\n"
              "print(json.dumps(sorted(m for m in sys.modules if m.startswith('modelshare'))))\n")
    code = source.format(layer=str(ROOT / "layers" / "modelshare"), jobs=sorted(JOBS_OF[function]))
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MODELSHARE_"))}
    environment.update({"AWS_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "true"})
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    others = OWNER_JOBS - JOBS_OF[function]
    assert loaded & others == set()
    assert loaded & {"modelshare.share_layout", "modelshare.allowlist_parts", "modelshare.shares_mode",
                     "modelshare.owner.mode_switch", "modelshare.allowlist_history", "modelshare.dry_run",
                     "modelshare.restriction"} == set()


def test_the_creation_function_loads_nothing_of_promotion_invitations_or_permissions() -> None:
    """ShareOnCreate writes a statement only (decision.paths, Path.CREATION): promoting, inviting
    and setting a share's permission are other paths' writes."""
    loaded = loaded_after_first_invocation_setup("share_on_create")
    assert "modelshare.owner.apply" in loaded
    assert loaded & {"modelshare.owner.promotion", "modelshare.decision.promotion", "modelshare.owner.permissions",
                     "modelshare.permission_names", "modelshare.owner.quota", "modelshare.region_room"} == set()


def test_the_consumer_function_loads_none_of_the_owner_side() -> None:
    loaded = loaded_after_first_invocation_setup("accept_invitations")
    assert "modelshare.consumer" in loaded
    owner_side = {"modelshare.owner", "modelshare.convergence", "modelshare.aws.ledger", "modelshare.aws.work_queue",
                  "modelshare.dry_run", "modelshare.restriction"}
    assert loaded & owner_side == set()


def test_the_dry_run_loads_its_module_when_it_is_on() -> None:
    assert "modelshare.dry_run" in loaded_after_first_invocation_setup("share_on_create", MODELSHARE_DRY_RUN="true")


def test_the_work_queue_makes_its_sqs_client_when_a_run_first_hands_it_work() -> None:
    """Most runs of ShareOnCreate and Promote hand nothing to the sweep's queue."""
    from unittest import mock

    from modelshare.aws.work_queue import SqsWorkQueue

    session = mock.Mock()
    queue = SqsWorkQueue(session, "https://sqs.eu-west-1.amazonaws.com/111111111111/sweep")
    assert session.client.call_args_list == []
    session.client.return_value.send_message_batch.return_value = {}
    queue.send([{"group": "churn"}])
    queue.send([{"group": "fraud"}])
    assert [c.args[0] for c in session.client.call_args_list] == ["sqs"]
    assert session.client.return_value.send_message_batch.call_count == 2


@pytest.mark.parametrize(("jobs", "at_first_invocation"), [(("create",), {"ram", "sagemaker", "ssm"}),
                                                           (("promote",), {"ram", "sagemaker", "ssm", "dynamodb"}),
                                                           (("sweep", "sweep_work", "cleanup"),
                                                            {"ram", "sagemaker", "ssm", "dynamodb"})])
def test_the_ledger_client_is_made_at_setup_only_by_functions_whose_every_run_reads_it(
        jobs: tuple[OwnerJob, ...], at_first_invocation: set[str]) -> None:
    """The creation function touches the ledger only for a group the allowlist shares (a group
    no rule names costs no call): its DynamoDB client (some 10 ms of CPU) is made then. The
    promotion and the sweep read the ledger on every run: theirs is made with the others."""
    from unittest import mock

    from modelshare import wiring
    from modelshare.settings import AllowlistLocation, Settings

    settings = Settings(allowlist=AllowlistLocation(parameter="/modelshare/allowlist"),
                        ledger_table="modelshare-ownership")
    session = mock.Mock(region_name="eu-west-1")
    with mock.patch.object(wiring.boto3.session, "Session", return_value=session):
        services = wiring.owner_services(settings, None, jobs=jobs)
        context = mock.Mock(invoked_function_arn="arn:aws:lambda:eu-west-1:111111111111:function:f")
        owner = services(context)
    assert {c.args[0] for c in session.client.call_args_list} == at_first_invocation
    owner.ledger.record_full_quota("shares")
    assert [c.args[0] for c in session.client.call_args_list].count("dynamodb") == 1
