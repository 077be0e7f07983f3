"""`modelshare` admin CLI.

    modelshare simulate SCENARIO.json [--json]   run a scenario on the local multi-account AWS
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelshare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    simulate = commands.add_parser("simulate", help="run a scenario on the local multi-account AWS")
    simulate.add_argument("scenario", type=Path, help="scenario JSON file")
    simulate.add_argument("--json", action="store_true", help="print one JSON report instead of the story")
    args = parser.parse_args(argv)
    if args.command == "simulate":
        return _simulate(args.scenario, as_json=args.json)
    parser.error(f"unknown command {args.command}")
    return 2


def _simulate(path: Path, *, as_json: bool) -> int:
    # The local AWS (and moto) load only for this command: never part of a Lambda artifact.
    from localaws.simulate import ScenarioError, Simulation, load_scenario

    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        print(f"modelshare simulate: {error}", file=sys.stderr)
        return 2
    narrate = (lambda line: None) if as_json else print
    report = Simulation(scenario, narrate=narrate).run()
    if as_json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        _print_summary(report)
    return 0


def _print_summary(report: dict) -> None:
    print("\nWhat each account discovers (ListModelPackageGroups, CrossAccount):")
    for account, arns in report["discoverable"].items():
        print(f"  {account}: {', '.join(arns) if arns else '(nothing)'}")
    print("\nInvitations left pending:")
    pending = [(a, i) for a, items in report["pending_invitations"].items() for i in items]
    for account, item in pending:
        print(f"  {account}: from {item['sender']} ({item['resourceShareArn']})")
    if not pending:
        print("  (none)")
    print("\nGroups:")
    for arn, state in report["groups"].items():
        consumers = ", ".join(state["consumers"]) or "-"
        print(f"  {arn}\n      {state['status']}; consumers: {consumers}; {state['reason']}")
    if report["failed_invocations"]:
        print("\nInvocations sent to the on-failure destination:")
        for failure in report["failed_invocations"]:
            print(f"  {failure['account']} {failure['function']}: {failure['error']}")


if __name__ == "__main__":
    sys.exit(main())
