"""`make bench`: what modelshare costs at organisation scale, measured on the local AWS.

Every call pays the cost model's latency and takes a token from its API's bucket
(localaws/runtime/costs.py), so the simulated times and throttled calls below are what the rates allow.
Invocations overlap within the template's concurrency settings, as on Lambda (localaws/runtime/lambdas.py).

Scenarios (one owner and one consumer account, both running the stack with Role=both):
- sweep: a converged organisation of N groups (half shared, half no rule names), seeded in the
  emulator's state (localaws/harness/seed.py), swept once by OwnerReconcileFunction;
- edit: the same organisation after an allowlist edit that adds a consumer to every shared group;
- burst: N groups created in one go by a pipeline (half allowlisted), through the event path;
- invitations: the same organisation, and an edit adding a consumer to every shared group of an
  owner whose pending-invitation quota was raised to let them all wait at once (RAM allows 20 per
  sharing account by default: a burst like this comes from many owners): a burst of invitations
  to one consumer;
- estate: N groups each shared with 15 consumers, RAM's Region quotas divided by 10,000 / N
  (`--large`: 10,000 groups x 30 consumers under RAM's own), in the policy mode (`estate`) and
  in the shares mode (`estate-shares`):
  what the account holds of each quota and what every mode would need (localaws/harness/bench_estate.py);
- versions: one version approved, told to N consumers (100, 1,000) on their own buses: calls per
  approval forwarded (localaws/harness/bench_versions.py);
- central-allowlist: one edit of a central allowlist distributed to N member accounts (100, 1,000),
  N being members, not groups (localaws/harness/bench_central.py).

Prints a table per scenario (what each column counts: localaws/harness/bench_report.py, docs/benchmarks.md),
the cold start against a bare boto3 process and the layer size, writes bench/results.json and
bench/scale.png (git ignores bench/); `python -m localaws.harness.bench_report` writes the figures into
docs/benchmarks.md. Speed goals live here, never in timed tests.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.harness import bench_report
from localaws.harness.deployment import PROJECT_ROOT, Deployment
from localaws.harness.seed import seed_groups, seed_shared_groups
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import DeployedFunction, Invocation
from localaws.services.registry_state import RamQuotas

OWNER = "111111111111"
CONSUMER = "222222222222"
SECOND_CONSUMER = "333333333333"
REGION = "eu-west-1"
OUT = PROJECT_ROOT / "bench"
BUILD_LAYER = PROJECT_ROOT / ".aws-sam" / "build" / "ModelshareLayer"
# Writes to what modelshare manages (SageMaker groups, RAM); handing work to a queue is not one.
# The sweep's listings: every group, and every share with its associations and permissions (pages
# of the account).
_LISTINGS = ("ListModelPackageGroups", "GetResourceShares", "GetResourceShareAssociations",
             "ListPermissionAssociations")
_WRITES = ("Put", "Delete", "Associate", "Disassociate", "Promote", "Accept", "Tag", "Untag", "Add", "Create", "Reject")


@dataclass
class Result:
    scenario: str
    groups: int
    shared: int
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # function -> operation -> calls
    writes: int = 0
    throttled: int = 0
    longest_invocation: float = 0.0
    longest_function: str = ""  # the function of the longest invocation
    timeout: float = 0.0  # that function's timeout
    simulated_seconds: float = 0.0
    invocations: int = 0
    failed_invocations: int = 0
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    budget: dict[str, Any] = field(default_factory=dict)  # RAM's quotas at the end (the estate)

    def per_group(self, function: str) -> float:
        return sum(self.calls.get(function, Counter()).values()) / max(1, self.shared or self.groups)

    @property
    def per_shared_group(self) -> float:
        """Every function's calls, per shared group (the issue's measure for the create flow)."""
        return sum(sum(c.values()) for c in self.calls.values()) / max(1, self.shared or self.groups)

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "groups": self.groups, "shared": self.shared,
                "calls": {f: dict(c) for f, c in self.calls.items()}, "writes": self.writes,
                "throttled": self.throttled, "longest_invocation_seconds": self.longest_invocation,
                "longest_invocation_function": self.longest_function, "timeout_seconds": self.timeout,
                "simulated_seconds": self.simulated_seconds,
                "invocations": self.invocations, "failed_invocations": self.failed_invocations,
                "wall_seconds": self.wall_seconds, "notes": self.notes, **({"budget": self.budget} if self.budget else {})}


def _allowlist(*consumers: str) -> str:
    return json.dumps({"version": 1, "shares": [{"owner": OWNER, "groups": ["shared-*"], "consumers": list(consumers)}]})


class _Bench:
    def __init__(self, scenario: str, groups: int, shared: int, quotas: RamQuotas | None = None, seed: int = 0, *,
                 accounts: tuple[str, ...] = (OWNER, CONSUMER, SECOND_CONSUMER), allowlist: str | None = None,
                 parameters: dict[str, dict[str, str]] | None = None) -> None:
        self.result = Result(scenario, groups, shared)
        self.cloud = LocalCloud(ram_quotas=quotas or RamQuotas(), seed=seed)
        self.started = time.perf_counter()
        self.accounts = accounts
        self.allowlist = allowlist or _allowlist(CONSUMER)
        self.parameters = parameters or {}

    def __enter__(self) -> _Bench:
        self.cloud.__enter__()
        self.deployment = Deployment(self.cloud, REGION)
        for account in self.accounts:
            self.cloud.add_account(account)
        for account in self.accounts:  # each consumer's stack trusts every account added
            self.deployment.install(account, self.parameters.get(account))
            self.deployment.put_allowlist(account, self.allowlist)
        self.deployment.settle()
        self.mark = len(self.cloud.calls)
        self.invocations_mark = len(self.deployment.lambdas.invocations)
        self.clock_mark = self.cloud.clock.now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cloud.__exit__(*exc)

    def function(self, account: str, logical_id: str) -> DeployedFunction:
        return next(f for f in self.deployment.lambdas.functions[account] if f.spec.logical_id == logical_id)

    def measure(self) -> Result:
        result = self.result
        for call in self.cloud.calls[self.mark:]:
            if call.caller is None:
                continue
            result.calls.setdefault(call.caller, Counter())[call.operation] += 1
            if call.error_code == "ThrottlingException":
                result.throttled += 1
            elif call.error_code is None and call.service in ("sagemaker", "ram") and call.operation.startswith(_WRITES):
                result.writes += 1
        invocations: list[Invocation] = self.deployment.lambdas.invocations[self.invocations_mark:]
        result.invocations = len(invocations)
        result.failed_invocations = sum(1 for i in invocations if not i.ok)
        for invocation in invocations:
            if invocation.duration_seconds >= result.longest_invocation:
                function = self.function(invocation.account, invocation.function)
                result.longest_invocation = invocation.duration_seconds
                result.longest_function, result.timeout = invocation.function, function.spec.timeout_seconds
            if not invocation.ok and invocation.error and invocation.error not in result.notes:
                result.notes.append(invocation.error[:160])
        result.simulated_seconds = (self.cloud.clock.now() - self.clock_mark).total_seconds()
        result.wall_seconds = time.perf_counter() - self.started
        return result


def _tasks_for(groups: int) -> int:
    """Simulated tasks (calls, deliveries, wake-ups) a scenario may take before it counts as stuck:
    some dozens per group."""
    return max(100_000, 50 * groups)


def _names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(count)]


def sweep(groups: int) -> Result:
    shared = groups // 2
    with _Bench("sweep", groups, shared) as bench:
        seed_shared_groups(bench.cloud, OWNER, (CONSUMER,), REGION, _names("shared", shared))
        seed_groups(bench.cloud, OWNER, REGION, _names("other", groups - shared))
        # The scheduled sweep, then the workers it hands groups to (SweepQueue).
        bench.deployment.lambdas.invoke(bench.function(OWNER, "OwnerReconcileFunction"), _scheduled())
        bench.deployment.settle(_tasks_for(groups))
        result = bench.measure()
        calls = [c for c in bench.cloud.calls[bench.mark:] if c.caller is not None and c.service != "sqs"]
        listings = sum(1 for c in calls if c.operation in _LISTINGS
                       and not c.params.get("resourceShareArns") and not c.params.get("resourceArn"))
        result.notes.append(f"reads per group (all {groups}) beside the {listings} listing pages: "
                            f"{(len(calls) - listings) / groups:.2f}")
        return result


def edit(groups: int, *, scenario: str = "edit", quotas: RamQuotas | None = None) -> Result:
    shared = groups // 2
    with _Bench(scenario, groups, shared, quotas) as bench:
        seed_shared_groups(bench.cloud, OWNER, (CONSUMER,), REGION, _names("shared", shared))
        seed_groups(bench.cloud, OWNER, REGION, _names("other", groups - shared))
        bench.deployment.put_allowlist(OWNER, _allowlist(CONSUMER, SECOND_CONSUMER))
        bench.deployment.put_allowlist(SECOND_CONSUMER, _allowlist(CONSUMER, SECOND_CONSUMER))
        bench.deployment.settle(_tasks_for(groups))
        result = bench.measure()
        accepted = sum(1 for c in bench.cloud.calls[bench.mark:] if c.account == SECOND_CONSUMER
                       and c.operation == "AcceptResourceShareInvitation" and c.error_code is None)
        result.notes.append(f"invitations accepted by the new consumer: {accepted}")
        return result


def invitations(groups: int) -> Result:
    return edit(groups, scenario="invitations", quotas=RamQuotas(pending_invitations_per_account=max(20, groups)))


def burst(groups: int, seed: int = 0) -> Result:
    shared = groups // 2
    with _Bench("burst", groups, shared, seed=seed) as bench:
        sagemaker = bench.deployment.client(OWNER, "sagemaker")
        for name in _names("shared", shared) + _names("other", groups - shared):
            sagemaker.create_model_package_group(ModelPackageGroupName=name)
        bench.deployment.settle(_tasks_for(groups))
        result = bench.measure()
        discoverable = len(bench.deployment.client(CONSUMER, "sagemaker").list_model_package_groups(
            CrossAccountFilterOption="CrossAccount", MaxResults=100).get("ModelPackageGroupSummaryList", []))
        result.notes.append(f"discoverable by the consumer (first page): {discoverable}")
        return result


def burst_worst_of(groups: int, draws: int = 5) -> Result:
    """A small burst costs what CloudTrail's lag makes of it (how its events fall into batching
    windows): the worst of several seeded draws of the lag, with their mean in the notes."""
    runs = [burst(groups, seed) for seed in range(draws)]
    worst = max(runs, key=lambda r: r.per_shared_group)
    worst.notes.insert(0, f"worst of {draws} draws of CloudTrail's lag; their mean: "
                          f"{statistics.mean(r.per_shared_group for r in runs):.2f} calls per shared group")
    worst.wall_seconds = sum(r.wall_seconds for r in runs)
    return worst


def _scheduled() -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": OWNER, "time": "2026-01-05T09:00:00Z", "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{OWNER}:rule/sweep"], "detail": {}}


# -- cold start ----------------------------------------------------------------------------------
# The floor: a process that imports boto3 and makes the clients a hand-written function would
# (issue 21: ram, sagemaker, ssm and sqs), against a process that imports one handler module and
# builds its services as its first invocation does (the clients among them; no AWS call).
FLOOR_CLIENTS = ("ram", "sagemaker", "ssm", "sqs")
# Each process prints the CPU time it used by the end of its set-up: what Lambda's init phase
# pays. What it uses after (the interpreter's exit: tearing down its modules and objects, some
# 90 ms here, more for more objects) no cold start pays: Lambda freezes the process and later
# discards it. The whole process's CPU is kept beside it.
_SET_UP_CPU = """
import time
print(time.process_time())
"""
_FLOOR = """
import sys
sys.path.insert(0, {layer!r})
import boto3
session = boto3.session.Session()
for service in {clients!r}:
    session.client(service)
""" + _SET_UP_CPU
_HANDLER = """
import importlib.util, sys
sys.path[:0] = [{layer!r}, {code!r}]
spec = importlib.util.spec_from_file_location("app", {code!r} + "/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
class Context:
    invoked_function_arn = "arn:aws:lambda:eu-west-1:111111111111:function:modelshare-bench"
module.services(Context())
""" + _SET_UP_CPU
# The handlers as the template names them (functions/<code>/app.py).
COLD_START_FUNCTIONS = {"ShareOnCreateFunction": "share_on_create", "PromoteFunction": "promote",
                        "OwnerReconcileFunction": "reconcile_owner", "AcceptInvitationsFunction": "accept_invitations"}


def cold_start(runs: int = 11) -> dict[str, Any]:
    """Medians with tracing off, each process fresh: every handler module plus its services,
    against the floor (FLOOR_CLIENTS). They alternate, run after run, so a busy moment of the
    machine weighs on all; each is timed by the CPU time it used by the end of its set-up (the
    ratio: what other processes do barely changes it), by its whole process's CPU time (with the
    interpreter's exit) and by the wall clock. Both find boto3 in the layer first."""
    layer = BUILD_LAYER / "python"
    if not layer.is_dir():
        return {"error": f"no layer build at {layer}: run `make build` first"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MODELSHARE_"))}
    # The stack's settings of an owner function (a consumer ignores the ledger and the queue).
    env.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench", "AWS_LAMBDA_FUNCTION_NAME": "modelshare-bench",
                "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "modelshare",
                "MODELSHARE_ALLOWLIST_PARAMETER": "/modelshare/allowlist", "MODELSHARE_LEDGER_TABLE": "modelshare-ownership",
                "MODELSHARE_SWEEP_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{OWNER}/modelshare-sweep",
                "MODELSHARE_VERSION_BUS": "modelshare-versions",  # the consumer checks its bus's name at load
                "PYTHONDONTWRITEBYTECODE": "1"})
    sources = {"floor": _FLOOR.format(layer=str(layer), clients=FLOOR_CLIENTS),
               **{name: _HANDLER.format(layer=str(layer), code=str(PROJECT_ROOT / "functions" / code))
                  for name, code in COLD_START_FUNCTIONS.items()}}
    set_up: dict[str, list[float]] = {name: [] for name in sources}
    cpu: dict[str, list[float]] = {name: [] for name in sources}
    wall: dict[str, list[float]] = {name: [] for name in sources}
    for _ in range(runs):
        for name, source in sources.items():
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-c", source], env=env, stdout=subprocess.PIPE, text=True)
            assert process.stdout is not None
            printed = process.stdout.read()
            _, status, usage = os.wait4(process.pid, 0)
            if status != 0:
                raise RuntimeError(f"the {name} cold start failed (status {status})")
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
            set_up[name].append(float(printed.split()[-1]))
    floor_set_up, floor_cpu = statistics.median(set_up["floor"]), statistics.median(cpu["floor"])
    floor_wall = statistics.median(wall["floor"])
    functions = {name: {"set_up_cpu_seconds": statistics.median(set_up[name]),
                        "cpu_seconds": statistics.median(cpu[name]), "wall_seconds": statistics.median(wall[name]),
                        "ratio": statistics.median(set_up[name]) / floor_set_up,
                        "process_ratio": statistics.median(cpu[name]) / floor_cpu,
                        "wall_ratio": statistics.median(wall[name]) / floor_wall}
                 for name in COLD_START_FUNCTIONS}
    size = sum(f.stat().st_size for f in BUILD_LAYER.rglob("*") if f.is_file())
    shipped = sorted(p.name for p in layer.iterdir() if p.is_dir() and not p.name.endswith(".dist-info"))
    return {"runs": runs, "floor_clients": list(FLOOR_CLIENTS), "floor_set_up_cpu_seconds": floor_set_up,
            "floor_cpu_seconds": floor_cpu,
            "floor_wall_seconds": floor_wall, "functions": functions,
            "ratio": max(f["ratio"] for f in functions.values()), "layer_bytes": size, "layer_packages": shipped}


# -- report ----------------------------------------------------------------------------------------
def print_table(results: list[Result]) -> None:
    """The scenario's table and notes (localaws/bench_report.py: the same text docs/benchmarks.md holds)."""
    print("\n".join(bench_report.scenario_table(results[0].scenario, [r.as_dict() for r in results])))


def plot(results: list[Result], path: Path) -> None:
    import matplotlib  # a bench dependency only

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (calls, seconds) = plt.subplots(1, 2, figsize=(11, 4))
    for scenario in sorted({r.scenario for r in results}):
        points = sorted((r for r in results if r.scenario == scenario), key=lambda r: r.groups)
        ns = [r.groups for r in points]
        calls.plot(ns, [r.per_shared_group for r in points], marker="o", label=scenario)
        seconds.plot(ns, [max(r.longest_invocation, 1e-3) for r in points], marker="o", label=scenario)
    calls.set(xscale="log", yscale="log", xlabel="groups (N)", ylabel="API calls per shared group",
              title="Calls per shared group")
    seconds.set(xscale="log", yscale="log", xlabel="groups (N)", ylabel="simulated seconds",
                title="Longest invocation (simulated)")
    seconds.axhline(300, color="grey", linestyle="--", label="sweep timeout (300 s)")
    for axis in (calls, seconds):
        axis.legend()
        axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


# Sizes per scenario; small bursts are measured over several draws of CloudTrail's lag. The edit,
# the burst and the invitations at 10,000 groups take some 7 minutes each here (the edit waits
# hours of simulated time for RAM's invitation quota): `--large` adds them, beyond the 10 minutes
# `make bench` keeps to.
def estate(groups: int, mode: str = "policy") -> Result:
    """Many groups x several consumers at RAM's Region quotas (localaws/harness/bench_estate.py)."""
    from localaws.harness import bench_estate  # it builds on this module

    return bench_estate.estate(groups, mode=mode)


def versions(consumers: int) -> Result:
    """One approval told to N consumers (localaws/harness/bench_versions.py)."""
    from localaws.harness import bench_versions  # it builds on this module

    return bench_versions.versions(consumers)


def central_allowlist(members: int) -> Result:
    """One central allowlist edit distributed to N member accounts (localaws/harness/bench_central.py)."""
    from localaws.harness import bench_central  # it builds on this module

    return bench_central.central(members)


SCENARIOS: dict[str, tuple[Callable[[int], Result], tuple[int, ...]]] = {
             "sweep": (sweep, (10, 100, 1000, 10000)), "edit": (edit, (10, 100, 1000)),
             "burst": (lambda n: burst_worst_of(n) if n <= 100 else burst(n), (10, 100, 1000)),
             "invitations": (invitations, (10, 100, 1000)), "estate": (estate, (200, 1000)),
             "estate-shares": (functools.partial(estate, mode="shares"), (200, 1000)),
             "versions": (versions, (100, 1000)),
             "central-allowlist": (central_allowlist, (100, 1000))}
LARGE = 10000
# N counts accounts here, not groups: 10,000 member or consumer accounts would take hours of
# cold starts and say nothing the 1,000 row does not (the cost per account is flat).
NOT_AT_LARGE = frozenset({"versions", "central-allowlist"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the smallest size of each scenario only")
    parser.add_argument("--large", action="store_true", help=f"every scenario at {LARGE:,} groups too (much longer)")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS),
                        help="run only this scenario (repeatable); the cold-start probe is then left out")
    parser.add_argument("--cold-start", action="store_true", help="the cold-start probe only")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    results: list[Result] = []
    print(bench_report.UNITS)
    for name, (run, sizes) in SCENARIOS.items():
        if args.cold_start or (args.scenario and name not in args.scenario):
            continue
        print()
        scenario_results = []
        chosen = sizes[:1] if args.quick else (*sizes, LARGE) if args.large and LARGE not in sizes and name not in NOT_AT_LARGE else sizes
        for size in chosen:
            scenario_results.append(run(size))
            print(f"{name}, N={size}: {scenario_results[-1].wall_seconds:.0f} s on the wall clock", flush=True)
        print_table(scenario_results)
        results.extend(scenario_results)
    cold = cold_start() if not args.scenario else {"skipped": "--scenario"}
    print("\n" + "\n".join(bench_report.cold_start_text(cold)))
    command = " ".join(["python -m localaws.bench", *(argv if argv is not None else sys.argv[1:])])
    (OUT / "results.json").write_text(json.dumps({"results": [r.as_dict() for r in results], "cold_start": cold,
                                                  "machine": _machine(), "command": command,
                                                  "date": time.strftime("%Y-%m-%d", time.gmtime())}, indent=2))
    if results:
        plot(results, OUT / "scale.png")
    print(f"\nWrote {OUT / 'results.json'}" + (f" and {OUT / 'scale.png'}" if results else ""))
    return 0


def _machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}"


if __name__ == "__main__":
    raise SystemExit(main())
