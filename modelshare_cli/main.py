"""`modelshare` admin CLI.

    modelshare allowlist validate FILE             check an allowlist file (no AWS call)
    modelshare allowlist show | get                print the document in the allowlist parameter
    modelshare allowlist diff FILE                 what FILE changes compared with the parameter
    modelshare allowlist set FILE [--expected-version N | --expected-revision REV] [--tier T] [--yes]
                                                   validate, diff, then write FILE to the parameter
                                                   (path mode: to the parts under --path)
    modelshare plan [--allowlist FILE] [--ram-quotas N=V,...]
                                                   what reconcile would change here (writes nothing),
                                                   and what the allowlist holds of RAM's quotas
    modelshare status [--json] [--ram-quotas N=V,...]
                                                   groups, RAM quotas and pending invitations here
    modelshare report (--profiles P1,P2 | --accounts ID,ID --role NAME) [--format table|json|csv|html] [-o FILE]
                                                   who can see what across the accounts read, against
                                                   the allowlist (reads only)
    modelshare simulate SCENARIO.json [--json] [--template FILE]
                                                   run a scenario on the local multi-account AWS

AWS commands use the normal boto3 credential chain, narrowed by --profile and --region, and the
allowlist parameter named by --parameter (default: $MODELSHARE_ALLOWLIST_PARAMETER, else
/modelshare/allowlist) or, in path mode, the parts under --path (default:
$MODELSHARE_ALLOWLIST_PATH). Global options go before or after the command.

exit status:
  0  done (a diff or a plan with changes is still 0)
  1  invalid allowlist document, parameter not found, AWS error, write not confirmed, an
     allowlist whose policy mode passes a RAM quota (plan)
  2  usage error, unreadable or non-JSON input file
  3  concurrent change: the parameter's version or the parts' revision moved (set refused, or
     another write detected)
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from modelshare import __version__
from modelshare.quota_budget import QuotaUse
from modelshare_cli import allowlist_commands, plan, status
from modelshare_cli.common import INTERRUPTED, INVALID, USAGE, CliError, error_line
from modelshare_cli.report import command as report

if TYPE_CHECKING:
    from localaws.harness.scenario import Scenario


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has printed already
        return exit_.code if isinstance(exit_.code, int) else USAGE
    try:
        if args.command == "simulate":
            return _simulate(args.scenario, as_json=args.json, template=args.template, access_report=args.access_report)
        handler: Callable[[argparse.Namespace], int] = args.handler  # set by each command's parser
        return handler(args)
    except KeyboardInterrupt:  # Ctrl-C: one line, and the shell's code for SIGINT (128 + 2)
        print("modelshare: interrupted", file=sys.stderr)
        return INTERRUPTED
    except CliError as error:
        error_line(str(error))
        return error.code
    except ClientError as error:
        info = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "") or "AWS call"
        error_line(f"{operation} failed: {info.get('Code', 'error')}: {info.get('Message', error)}")
        return INVALID
    except BotoCoreError as error:  # no credentials, no region, unknown profile, endpoint unreachable
        error_line(str(error))
        return INVALID


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelshare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"modelshare {__version__}")
    _add_global_options(parser, default=None)
    # The same options after the command; SUPPRESS keeps a command's parser from resetting a
    # value given before the command.
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    allowlist_commands.add_parser(commands, common)
    plan.add_parser(commands, common)
    status.add_parser(commands, common)
    report.add_parser(commands, common)
    simulate = commands.add_parser("simulate", help="run a scenario on the local multi-account AWS")
    simulate.add_argument("scenario", type=Path, help="scenario JSON file")
    simulate.add_argument("--json", action="store_true", help="print one JSON report instead of the story")
    simulate.add_argument("--template", type=Path, metavar="FILE",
                          help="simulate this SAM template instead of the project's (CodeUri paths resolve as "
                               "for the project's own), to try a template change before deploying it")
    simulate.add_argument("--access-report", type=Path, metavar="FILE",
                          help="end by writing `modelshare report`'s HTML page of the simulated accounts to FILE")
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_argument_group("AWS options")
    group.add_argument("--region", default=default, help="AWS region (default: the credential chain's)")
    group.add_argument("--profile", default=default, help="named AWS profile (default: the credential chain's)")
    group.add_argument("--parameter", metavar="NAME", default=default,
                       help="allowlist SSM parameter (default: $MODELSHARE_ALLOWLIST_PARAMETER, else /modelshare/allowlist)")
    group.add_argument("--ledger-table", metavar="TABLE", default=default,
                       help="the stack's ownership ledger, what modelshare made (default: $MODELSHARE_LEDGER_TABLE, "
                            "else modelshare-ownership: the table of a stack named modelshare)")
    group.add_argument("--sharing-mode", choices=("policy", "shares"), default=default,
                       help="how an owner the allowlist's `modes` does not name shares, as the stack's SharingMode "
                            "parameter says (default: $MODELSHARE_SHARING_MODE, else policy)")
    group.add_argument("--path", metavar="PATH", default=default,
                       help="path mode: the allowlist is the parts part-001... under PATH (default: "
                            "$MODELSHARE_ALLOWLIST_PATH; unset: one parameter)")


def _simulate(path: Path, *, as_json: bool, template: Path | None, access_report: Path | None = None) -> int:
    # The local AWS (and moto) load only for this command: never part of a Lambda artifact.
    from localaws.harness.deployment import TEMPLATE_PATH
    from localaws.harness.scenario import ScenarioError, load_scenario
    from localaws.harness.simulate import Simulation

    try:
        scenario = load_scenario(path)
        Simulation.check(scenario)
        template_path = _template(template or TEMPLATE_PATH, scenario)
    except ScenarioError as error:
        print(f"modelshare simulate: {error}", file=sys.stderr)
        return 2
    narrate = (lambda line: None) if as_json else print
    last_step = None
    if access_report is not None:  # the demo's last step: who can see what
        from modelshare_cli.report.local import write_access_report

        last_step = functools.partial(write_access_report, access_report)
    report = Simulation(scenario, narrate=narrate, template_path=template_path, last_step=last_step).run()
    if as_json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        _print_summary(report)
    # A safety violation fails the run, and so does a timed scenario that did not converge: a
    # scenario file a failing test wrote replays it.
    safety = report["safety"]
    return 1 if safety["violations"] or (safety["convergence_judged"] and safety["unconverged"]) else 0


def _template(path: Path, scenario: Scenario) -> Path:
    """The template to simulate: readable YAML that installs in every account of the scenario, or
    a ScenarioError (exit 2) before anything runs."""
    from localaws.harness.scenario import ScenarioError
    from localaws.runtime.template import StackTemplate

    try:
        template = StackTemplate(path)
    except OSError as error:
        raise ScenarioError(f"cannot read template {path}: {error.strerror}") from None
    except Exception as error:  # YAML or structure errors of the admin's file
        raise ScenarioError(f"{path} is not a readable template: {_first_line(error)}") from None
    try:
        declared = template.document.get("Parameters") or {}
        for account, parameters in _install_parameters(scenario, declared).items():
            missing = [name for name in parameters if name not in declared]
            if missing:
                raise ValueError(f"it declares no parameter {', '.join(missing)}, which the simulation sets")
            template.render(account, scenario.region, parameters).validate()
    except Exception as error:  # CloudFormation would refuse the stack: a parameter, a rule
        raise ScenarioError(f"{path} cannot be installed: {_first_line(error)}") from None
    return path


def _install_parameters(scenario: Scenario, declared: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per account, the stack parameters the simulation installs with, as
    localaws.harness.deployment.Deployment.install sets them: Role both, every account of the scenario a
    trusted owner, the account's OU path in an organization."""
    accounts = [plan.account for plan in scenario.accounts]
    wanted: dict[str, dict[str, str]] = {}
    for account in accounts:
        path = scenario.organization.path(account) if scenario.organization is not None else None
        parameters = {"Role": "both", **({"OrganizationPath": path} if path else {})}
        if "TrustedOwnerAccounts" in declared:
            parameters["TrustedOwnerAccounts"] = ",".join(accounts)
        wanted[account] = parameters
    return wanted


def _first_line(error: Exception) -> str:
    """An error's message on one line: YAML's own spans several, with the text it quotes."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _print_summary(report: dict[str, Any]) -> None:
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
    for edit in report.get("edits", []):
        verdict = "valid" if edit["valid"] else "INVALID, changed nothing: " + "; ".join(edit["problems"])
        print(f"\nAllowlist edit #{edit['edit']}: {verdict}", end="")
    if report.get("edits"):
        print()
    if report["failed_invocations"]:
        print("\nInvocations sent to the on-failure destination:")
        for failure in report["failed_invocations"]:
            print(f"  {failure['account']} {failure['function']}: {failure['error']}")
    if "chaos" in report:
        injected = ", ".join(f"{count} {kind}" for kind, count in report["chaos"]["injected"].items()) or "none"
        print(f"\nChaos (seed {report['chaos']['seed']}): {injected}")
    safety = report["safety"]
    checked = ", ".join(f"{count} {what}" for what, count in safety["checked"].items()) or "nothing"
    print(f"\nSafety (an independent oracle; checked {checked}): "
          + (f"{len(safety['violations'])} VIOLATION(S)" if safety["violations"] else "no violation"))
    for line in safety["violations"]:
        print(f"  {line}")
    if safety["unconverged"]:
        judged = "" if safety["convergence_judged"] else " (not judged: no sweep period was waited for)"
        print(f"Not converged{judged}:")
    for line in [*safety["unconverged"], *safety["notes"]]:
        print(f"  {line}")
    print(f"\nWhat it cost, in {report['simulated_seconds']:.0f} simulated seconds:")
    for account, callers in report["api_calls"].items():
        usage = report["ram_usage"].get(account, {})
        total = sum(sum(ops.values()) for caller, ops in callers.items() if caller != "-")
        print(f"  {account}: {total} API calls by the functions; RAM: {usage.get('customer_managed_permissions', 0)} "
              f"customer managed permissions, {usage.get('resource_shares', 0)} shares, "
              f"{usage.get('pending_invitations_sent', 0)} invitations pending")
    print("\nRAM quotas per account (the local AWS's; `ram_quotas` of the scenario lowers them):")
    for account, uses in report["ram_quotas"].items():
        print(f"  {account}:")
        for use in uses:
            print(f"      {QuotaUse(use['quota'], use['used'], use['limit']).line()}")


if __name__ == "__main__":
    sys.exit(main())
