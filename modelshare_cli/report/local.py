"""`modelshare report` on the local AWS: every account read at once, each in a clock strand, so
the simulated time is the slowest account's, as the CLI's threads make it on AWS."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localaws.runtime.cloud import LocalCloud
from modelshare_cli.report.collect import Runner
from modelshare_cli.report.command import Target, build_report
from modelshare_cli.report.model import AccountRead, Report
from modelshare_cli.report.page import as_html

if TYPE_CHECKING:
    from localaws.harness.simulate import Simulation


def in_strands(cloud: LocalCloud) -> Runner:
    def run(jobs: Sequence[Callable[[], AccountRead]]) -> list[AccountRead]:
        results: list[AccountRead | None] = [None] * len(jobs)

        def job(index: int) -> None:
            results[index] = jobs[index]()
        for index in range(len(jobs)):
            cloud.clock.spawn(functools.partial(job, index), f"report {index}")
        while any(r is None for r in results):
            if not cloud.clock.run_next():
                raise RuntimeError("a report strand waits for nothing scheduled")
        return [r for r in results if r is not None]
    return run


def local_report(cloud: LocalCloud, region: str, accounts: Sequence[str], *, parameter: str,
                 ledger_table: str) -> Report:
    """The report of `accounts`, read with each account's own (administrator's) keys."""
    targets = [Target(account, functools.partial(cloud.session, account, region), account) for account in accounts]
    return build_report(targets, parameter=parameter, ledger_table=ledger_table, runner=in_strands(cloud))


def write_access_report(path: Path, simulation: Simulation, result: dict[str, Any]) -> dict[str, Any]:
    """The demo's last step (`simulate --access-report PATH`): the organization's access report,
    written to `path`; its counts join `result`. Here, not in localaws: the local AWS imports no
    CLI code; the CLI hands this step to the simulation."""
    accounts = [plan.account for plan in simulation.scenario.accounts]
    deployment = simulation.deployment
    report = local_report(simulation.cloud, simulation.scenario.region, accounts,
                          parameter=deployment.allowlist_parameter(accounts[0]),
                          ledger_table=deployment.ledger_table(accounts[0]))
    path.write_text(as_html(report), encoding="utf-8")
    simulation.narrate(f"Access report: {len(report.grants)} grants, {len(report.findings)} beyond the allowlist "
                       f"(modelshare report): {path}")
    return {**result, "access_report": {"path": str(path), "grants": len(report.grants),
                                        "findings": [j.as_json() for j in report.findings]}}
