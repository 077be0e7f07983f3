"""The report as a terminal table, JSON and CSV (the HTML page: modelshare_cli.report.page)."""

from __future__ import annotations

import csv
import io
import json

from modelshare_cli.output import table
from modelshare_cli.report.model import Report

COLUMNS = ("owner", "group", "consumer", "via", "source", "access", "allowlist_access", "accepted", "made_by",
           "finding")


def as_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2, sort_keys=True)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, "actions"])
    for judged in report.grants:
        row = judged.as_json()
        writer.writerow([_cell(row[c]) for c in COLUMNS] + [" ".join(judged.grant.actions)])
    return out.getvalue()


def _cell(value: object) -> str:
    """A spreadsheet cell: text that would start a formula is quoted (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def as_table(report: Report) -> list[str]:
    lines = []
    for read in report.accounts:
        state = f"error: {read.error}" if read.error else f"{read.groups} groups, {len(read.grants)} grants"
        problem = f"; allowlist: {read.allowlist_problem}" if read.allowlist_problem else ""
        lines.append(f"Account {read.account}: {state}{problem}")
    lines.append("")
    if not report.grants:
        return [*lines, "(no group of these accounts is shared)"]
    rows = [(j.grant.owner, j.grant.group, j.grant.consumer, j.access, j.allowlist_access or "-", j.grant.accepted,
             j.grant.made_by, f"{j.grant.via} {j.grant.source}", "FINDING: " + j.finding if j.finding else "ok")
            for j in report.grants]
    lines.extend(table(("OWNER", "GROUP", "CONSUMER", "ACCESS", "ALLOWLIST", "ACCEPTED", "MADE BY", "VIA", "VERDICT"),
                       rows))
    lines.append("")
    lines.append(f"{len(report.grants)} grants, {len(report.findings)} beyond the allowlist")
    return lines
