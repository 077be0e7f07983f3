"""`make bench`'s tables say what they count, and docs/benchmarks.md holds what the report script
makes of the results file it names (issue 21: the old README.md's "edit" table took its total and
failed columns from the invitations scenario, copied by hand)."""

from __future__ import annotations

import json
from typing import Any

from localaws.harness import bench_report


def result(scenario: str, groups: int, *, calls: dict[str, dict[str, int]], failed: int, invocations: int,
           longest: tuple[float, str, float] = (1.0, "OwnerReconcileFunction", 300)) -> dict[str, Any]:
    seconds, function, timeout = longest
    return {"scenario": scenario, "groups": groups, "shared": groups // 2, "calls": calls, "writes": 3,
            "throttled": 0, "longest_invocation_seconds": seconds, "longest_invocation_function": function,
            "timeout_seconds": timeout, "simulated_seconds": 68.0, "invocations": invocations,
            "failed_invocations": failed, "wall_seconds": 1.0, "notes": [f"a note of {scenario}"]}


def rows(lines: list[str]) -> list[list[str]]:
    table = [line for line in lines if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table]


def test_the_pages_figures_are_what_the_script_makes_of_the_results_file_it_names() -> None:
    page = bench_report.PAGE.read_text()
    current, results_path = bench_report.generated_block(page)
    document = json.loads((bench_report.ROOT / results_path).read_text())
    assert current == bench_report.block(results_path, document)
    assert document["results"] and "functions" in document["cold_start"], "the page comes from a whole `make bench`"


def test_each_scenario_has_its_own_figures() -> None:
    edit = result("edit", 100, calls={"OwnerReconcileFunction": {"GetResourceShares": 127}}, failed=0, invocations=11)
    burst = result("invitations", 100, calls={"AcceptInvitationsFunction": {"AcceptResourceShareInvitation": 104}},
                   failed=1, invocations=33)
    lines = bench_report.report({"results": [edit, burst], "cold_start": {"skipped": "--scenario"}})
    edit_part = lines[:lines.index(next(line for line in lines if line.startswith("### invitations")))]
    [head, _, row] = rows(edit_part)
    assert dict(zip(head, row, strict=True))["all calls"] == "2.54"
    assert dict(zip(head, row, strict=True))["failed"] == "0/11"
    assert "- N=100: a note of edit" in edit_part and "a note of invitations" not in "\n".join(edit_part)


def test_every_table_has_every_function_in_one_order_with_its_unit() -> None:
    only_consumer = result("burst", 10, calls={"AcceptInvitationsFunction": {"ListResourceShareInvitations": 5}},
                           failed=0, invocations=2)
    [head, _, row] = rows(bench_report.scenario_table("burst", [only_consumer]))
    assert head[2:7] == ["ShareOnCreate calls", "Promote calls", "OwnerReconcile calls", "AcceptInvitations calls",
                         "all calls"]
    assert row[2:7] == ["0.00", "0.00", "0.00", "1.00", "1.00"]
    assert "per shared group" in bench_report.UNITS and "simulated seconds" in bench_report.UNITS


def test_the_longest_invocation_is_set_against_its_own_functions_timeout() -> None:
    consumer_run = result("estate-shares", 200, calls={}, failed=0, invocations=65,
                          longest=(2.0, "AcceptInvitationsFunction", 60))
    [head, _, row] = rows(bench_report.scenario_table("estate-shares", [consumer_run]))
    cells = dict(zip(head, row, strict=True))
    assert (cells["longest invocation (s)"], cells["of function"], cells["its timeout (s)"]) == (
        "2.0", "AcceptInvitations", "60")


def test_the_cold_start_reads_as_a_sentence_with_its_floor_and_the_slowest_handler() -> None:
    cold = {"runs": 11, "floor_clients": ["ram", "sagemaker", "ssm", "sqs"], "floor_set_up_cpu_seconds": 0.300,
            "floor_cpu_seconds": 0.400, "floor_wall_seconds": 0.41, "layer_bytes": 40_000_000,
            "layer_packages": ["boto3", "modelshare"],
            "functions": {"ShareOnCreateFunction": {"set_up_cpu_seconds": 0.339, "cpu_seconds": 0.452, "wall_seconds": 0.46,
                                                    "ratio": 1.13, "process_ratio": 1.13, "wall_ratio": 1.12},
                          "PromoteFunction": {"set_up_cpu_seconds": 0.330, "cpu_seconds": 0.464, "wall_seconds": 0.47,
                                              "ratio": 1.10, "process_ratio": 1.16, "wall_ratio": 1.15},
                          "AcceptInvitationsFunction": {"set_up_cpu_seconds": 0.27, "cpu_seconds": 0.36, "wall_seconds": 0.37,
                                                        "ratio": 0.9, "process_ratio": 0.9, "wall_ratio": 0.9}}}
    text = "\n".join(bench_report.cold_start_text(cold))
    assert "makes the ram, sagemaker, ssm and sqs clients (0.300 s of CPU by the end of that set-up, what Lambda's " \
           "init phase pays): at most 1.13 times as long (ShareOnCreate, +39 ms)" in text
    assert "the whole process: at most 1.16 times the floor's (0.400 s; Promote)" in text
    assert "{" not in text


def test_a_later_cold_start_run_says_when_and_how_it_was_measured() -> None:
    run = {"results": [], "date": "2026-12-06", "command": "python -m localaws.harness.bench", "cold_start": {"runs": 11}}
    later = {"results": [], "date": "2026-12-07", "command": "python -m localaws.harness.bench --cold-start",
             "cold_start": {"skipped": "an example"}}
    merged = bench_report.with_cold_start_of(run, later)
    lines = bench_report.report(merged)
    assert lines[0].startswith("Run: 2026-12-06, `python -m localaws.harness.bench`")
    start = lines.index("### cold start")
    assert lines[start + 2] == "Measured by a later run: 2026-12-07, `python -m localaws.harness.bench --cold-start`."
