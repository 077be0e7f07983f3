"""`modelshare plan`: what a reconcile run would change in this account, without changing it.

The real domain services run on the real adapters for every read, wrapped in the dry-run ports
that record each write in a Plan instead of making it: the plan is exactly the list of writes a
real run would make now.
"""

from __future__ import annotations

import argparse
from typing import Any

from modelshare import wiring
from modelshare.consumer import InvitationOutcome
from modelshare.dry_run import Plan
from modelshare.owner.outcome import GroupOutcome
from modelshare_cli import quotas
from modelshare_cli.common import (
    INVALID,
    OK,
    error_line,
    ledger_table,
    parse_file_or_exit,
    quiet_domain,
    read_file,
    session,
    sharing_mode,
    stored_allowlist_or_exit_where,
)
from modelshare_cli.output import plural, table
from modelshare_cli.switch_summary import switch_lines

HELP = """\
What reconcile would change in this account now, per group and per pending invitation, without
writing anything: every read is real, every write is only recorded. Uses the allowlist parameter,
or FILE with --allowlist (to preview an edit before 'allowlist set'). First, what the account will
hold of each RAM quota once the allowlist's groups are shared; an allowlist whose policy-mode cost
passes a quota is refused (exit 1), saying whether the shares mode would fit."""


RECONCILE_HELP = """\
Reconcile this account now, as the scheduled sweep would: bring every group to what the allowlist
parameter says and accept the invitations it allows. With --dry-run, the same as 'plan'."""


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    plan = commands.add_parser("plan", parents=[common], help="what reconcile would change here (writes nothing)",
                               description=HELP)
    plan.add_argument("--allowlist", metavar="FILE", help="use this allowlist file instead of the parameter")
    quotas.add_option(plan)
    plan.set_defaults(handler=plan_command)
    reconcile = commands.add_parser("reconcile", parents=[common], description=RECONCILE_HELP,
                                    help="converge this account now (--dry-run: plan only)")
    reconcile.add_argument("--dry-run", action="store_true", help="compute and print the plan, write nothing")
    quotas.add_option(reconcile)
    reconcile.set_defaults(handler=reconcile_command, allowlist=None)


def reconcile_command(args: argparse.Namespace) -> int:
    if args.dry_run:
        return plan_command(args)
    table = ledger_table(args, required=True)
    aws = session(args)
    allowlist, origin = stored_allowlist_or_exit_where(args, aws.client("ssm"))
    services = wiring.account_services(aws, allowlist, ledger_table=table, quota_limits=quotas.limits(args),
                                       sharing_mode=sharing_mode(args))
    account, group_outcomes, invitation_outcomes = _converge(services)
    print(f"Reconciled account {account} in {aws.region_name} with {origin}")
    _print_outcomes(group_outcomes, invitation_outcomes)
    return OK


def plan_command(args: argparse.Namespace) -> int:
    aws = session(args)
    if args.allowlist:
        allowlist = parse_file_or_exit(read_file(args.allowlist))
        origin = f"file {args.allowlist}"
    else:
        allowlist, origin = stored_allowlist_or_exit_where(args, aws.client("ssm"))
    plan = Plan()
    quota_limits = quotas.limits(args)
    services = wiring.account_services(aws, allowlist, plan, ledger_table=ledger_table(args), quota_limits=quota_limits,
                                       sharing_mode=sharing_mode(args))
    with quiet_domain():
        projection = quotas.project(services.owner, allowlist, services.ram.usage(), quota_limits,
                                    quotas.mode_in_use(allowlist, services.account, sharing_mode(args)))
    print(f"Plan for account {services.account} in {aws.region_name}, allowlist from {origin} (nothing is written)")
    print()
    quotas.print_uses(f"RAM quotas once this allowlist's {plural(projection.groups, 'group')} are shared "
                      f"({projection.mode} mode; what RAM holds besides modelshare's sharing included):", projection.uses)
    refused = quotas.refusal(projection)
    if refused is not None:
        error_line(f"{refused}. Nothing planned; share fewer groups or consumers, or raise the quota")
        return INVALID
    _account, group_outcomes, invitation_outcomes = _converge(services)
    _print_outcomes(group_outcomes, invitation_outcomes)
    for line in switch_lines(group_outcomes):
        print(line)
    if not plan.writes:
        print("Planned writes: nothing to change")
        return OK
    print(f"Planned writes ({plural(len(plan.writes), 'write')}):")
    by_target: dict[str, list[str]] = {}
    for write in plan.writes:
        by_target.setdefault(write.target, []).append(write.action + (f": {write.detail}" if write.detail else ""))
    for target, actions in by_target.items():
        print(f"  {target}")
        for action in actions:
            print(f"    {action}")
    return OK


def _converge(services: wiring.AccountServices) -> tuple[str, list[GroupOutcome], list[InvitationOutcome]]:
    """Reconcile both sides of the account (built with a plan: writes recorded only)."""
    with quiet_domain():
        return services.account, services.owner.reconcile(), services.consumer.accept_allowed_invitations()


def _print_outcomes(group_outcomes: list[GroupOutcome], invitation_outcomes: list[InvitationOutcome]) -> None:
    print()
    print("Groups:")
    if group_outcomes:
        for line in table(("GROUP", "OUTCOME", "DETAIL"), [(o.group, o.action, o.reason) for o in group_outcomes]):
            print(line)
    else:
        print("  (no model package groups)")
    print()
    print("Pending invitations:")
    if invitation_outcomes:
        rows = [(o.sender, o.invitation_arn, o.action, o.reason) for o in invitation_outcomes]
        for line in table(("SENDER", "INVITATION", "OUTCOME", "REASON"), rows):
            print(line)
    else:
        print("  (none)")
    print()
