"""`make bench`'s figures for `modelshare report`: the API calls and the simulated time the report
of an organization takes at 1,000 and 10,000 groups (an owner sharing every group with three
consumers as modelshare converges them; the four accounts read at once).

    python -m modelshare_cli.report.bench [N ...]
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass

from moto.dynamodb.models import dynamodb_backends

from localaws.harness.seed import seed_shared_groups
from localaws.runtime.cloud import LocalCloud
from modelshare.settings import DEFAULT_LEDGER_TABLE
from modelshare_cli.report.local import local_report

OWNER, CONSUMERS, REGION = "111122223333", ("444455556666", "555566667777", "666677778888"), "eu-west-1"
PARAMETER = "/modelshare/allowlist"
SIZES = (1000, 10000)


@dataclass(frozen=True)
class ReportCost:
    groups: int
    calls: Counter[str]
    simulated_seconds: float
    wall_seconds: float
    grants: int
    findings: int


def report_cost(groups: int) -> ReportCost:
    with LocalCloud() as cloud:
        for account in (OWNER, *CONSUMERS):
            cloud.add_account(account)
        dynamodb_backends[OWNER][REGION].create_table(
            DEFAULT_LEDGER_TABLE, schema=[{"AttributeName": "group", "KeyType": "HASH"}], throughput=None,
            attr=[{"AttributeName": "group", "AttributeType": "S"}], global_indexes=None, indexes=None, streams=None,
            billing_mode="PAY_PER_REQUEST", sse_specification=None, tags=[], deletion_protection_enabled=None,
            warm_throughput=None)
        allowlist = json.dumps({"version": 1, "shares": [{"owner": OWNER, "groups": ["g-*"], "consumers": list(CONSUMERS)}]})
        for account in (OWNER, *CONSUMERS):
            cloud.session(account, REGION).client("ssm").put_parameter(Name=PARAMETER, Value=allowlist, Type="String")
        seed_shared_groups(cloud, OWNER, CONSUMERS, REGION, [f"g-{i:05d}" for i in range(groups)])
        before, started, wall = len(cloud.calls), cloud.clock.now(), time.monotonic()
        report = local_report(cloud, REGION, [OWNER, *CONSUMERS], parameter=PARAMETER, ledger_table=DEFAULT_LEDGER_TABLE)
        calls = Counter(f"{c.service}:{c.operation}" for c in cloud.calls[before:])
        return ReportCost(groups, calls, (cloud.clock.now() - started).total_seconds(), time.monotonic() - wall,
                          len(report.grants), len(report.findings))


def print_report_bench(sizes: tuple[int, ...] = SIZES) -> list[ReportCost]:
    print("\nmodelshare report: an owner's N groups each shared with 3 consumers, 4 accounts read at once")
    print("| N | API calls | calls per group | simulated seconds | grants | findings | most calls |")
    print("|---|---|---|---|---|---|---|")
    costs = []
    for size in sizes:
        cost = report_cost(size)
        top = ", ".join(f"{name} {count}" for name, count in cost.calls.most_common(3))
        print(f"| {size} | {cost.calls.total()} | {cost.calls.total() / size:.2f} | {cost.simulated_seconds:.0f} | "
              f"{cost.grants} | {cost.findings} | {top} |", flush=True)
        costs.append(cost)
    return costs


if __name__ == "__main__":
    print_report_bench(tuple(int(a) for a in sys.argv[1:]) or SIZES)
