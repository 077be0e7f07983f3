"""`modelshare status`: where each group of this account stands, and the pending invitations."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import boto3

from modelshare import wiring
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.aws.allowlist_store import allowlist_source
from modelshare.consumer import ConsumerService
from modelshare.owner.service import OwnerService
from modelshare.port_values import LastValidAllowlist
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PENDING,
    PROMOTING_TO_STANDARD,
    STANDARD,
    AllowlistUnavailable,
    ApiThrottled,
    InvitationAlreadyAccepted,
    InvitationClosed,
)
from modelshare.quota_budget import QuotaUse
from modelshare.received_shares import GrantReader, recheck
from modelshare.settings import AllowlistLocation
from modelshare_cli import quotas, version_status
from modelshare_cli.allowlist_where import AllowlistApplied
from modelshare_cli.common import (
    INVALID,
    OK,
    CliError,
    ParameterUnreadable,
    allowlist_path,
    error_line,
    ledger_table,
    parameter_name,
    parse_stored,
    print_problems,
    quiet_domain,
    read_parameter,
    session,
    sharing_mode,
    stored_allowlist_or_exit_where,
)
from modelshare_cli.output import duration, table

# Model package groups are not on RAM's 7-day list: an invitation must be accepted within 12 hours.
INVITATION_TTL = timedelta(hours=12)
# RAM's default quotas (docs/aws-behaviour.md, RAM-QUOTAS); an account may have had them raised.
DEFAULT_QUOTAS = {"customer_managed_permissions_per_resource_type": 10, "pending_invitations_per_account": 20,
                  "resource_shares_per_region": 25_000}
FEATURE_SETS = {CREATED_FROM_POLICY: "created-from-policy", PROMOTING_TO_STANDARD: "promoting", STANDARD: "standard"}
EMPTY_ALLOWLIST = Allowlist(1, ())
QUOTAS_HEADING = ("RAM quotas, what this account holds now (limits: RAM's defaults unless --ram-quotas or "
                  "$MODELSHARE_RAM_QUOTAS raise them; Service Quotas shows this account's):")

now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - replaced by tests

HELP = """\
First the allowlist this account applies: its parameter (by name, or a central one's ARN:
--parameter or $MODELSHARE_ALLOWLIST_PARAMETER, as the stack's functions have it) and the version
read, or the path's revision, which account holds it, and whether it is valid. Then, per
model package group of this account: its consumers, whether it has a resource policy, the
feature set of the RAM share(s) holding it, and its status (discoverable, invited,
accessible-not-discoverable, not-shared, conflict) with the reason, including shares holding it
that modelshare leaves alone (made or changed by people). Then what the account uses of RAM's
quotas, and the pending RAM invitations of this account: sender, share, age, time left before
they expire (12 hours) and whether the allowlist would accept them (what the share holds and what
it grants). Then the shares this account accepted from allowlisted owners that now hold or grant
more than the allowlist gives it (reported, never left: model package groups cannot be left).
Reads only. Exit 1 when the allowlist parameter is missing, unreadable or invalid: nothing new is shared or
accepted, and the owner's sweep applies only what the last valid version in Parameter Store's
history takes away (the most restrictive of that version and what is live); the groups are then
shown as that sweep sees them, the invitations against an empty allowlist."""


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser("status", parents=[common], help="groups and pending invitations of this account",
                                 description=HELP)
    status.add_argument("--json", action="store_true",
                        help='print one JSON object {"allowlist": {...}, "groups": [...], "pending_invitations": [...], '
                             '"shared_beyond_allowlist": [...]}')
    quotas.add_option(status)
    version_status.add_option(status)
    status.set_defaults(handler=status_command)


def status_command(args: argparse.Namespace) -> int:
    if args.versions:
        return version_status.versions_command(args)
    aws = session(args)
    allowlist, code, applied_in = _allowlist(aws, args)
    owner_allowlist: Allowlist = allowlist
    in_force: str | None = "the current version"
    last = _last_valid(aws, args) if code == INVALID else None
    if code == INVALID:
        owner_allowlist, in_force = (last.allowlist, last.version) if last is not None else (EMPTY_ALLOWLIST, None)
    quota_limits = quotas.limits(args)
    services = wiring.account_services(aws, allowlist, ledger_table=ledger_table(args), quota_limits=quota_limits,
                                       sharing_mode=sharing_mode(args))
    account = services.account
    applied = applied_in(account)
    with quiet_domain():
        usage = services.ram.usage()
        held = quotas.held_now(services.owner, usage, quota_limits)
        groups = _groups(services.owner, owner_allowlist, usage, held, restrict_only=last is not None)
        reader = GrantReader(services.consumer.shares)
        invitations = _pending_invitations(services.consumer, allowlist, now(), reader)
        beyond = [{"share_arn": f.share_arn, "owner": f.owner, "problems": list(f.problems), "unreadable": f.unreadable}
                  for f in recheck(account, services.consumer.shares, allowlist, reader)]
    ram_usage = {**usage, "default_quotas": DEFAULT_QUOTAS}
    if args.json:
        print(json.dumps({"account": account, "region": aws.region_name, "allowlist": applied.as_json(),
                          "allowlist_in_force": in_force,
                          "restrict_only": last is not None, "groups": groups, "ram_usage": ram_usage,
                          "ram_quotas": quotas.as_json(held),
                          "pending_invitations": invitations, "shared_beyond_allowlist": beyond}, indent=2))
    else:
        _print(account, aws.region_name, applied, groups, held, invitations)
        _print_beyond(beyond)
    return code


def _allowlist(aws: boto3.session.Session,
               args: argparse.Namespace) -> tuple[Allowlist, int, Callable[[str], AllowlistApplied]]:
    """The stored allowlist and which it is (given this account's ID), or (missing, unreadable or
    invalid, said on stderr) the empty one and exit 1. A central allowlist (--parameter or
    $MODELSHARE_ALLOWLIST_PARAMETER its ARN) is read by ARN, as the member's functions read it."""
    path = allowlist_path(args)
    if path is not None:
        try:
            allowlist, where = stored_allowlist_or_exit_where(args, aws.client("ssm"))
        except CliError as error:
            error_line(f"{error}: nothing new is shared or accepted")
            return EMPTY_ALLOWLIST, INVALID, partial(AllowlistApplied.of_path, path, state="invalid")
        return allowlist, OK, partial(AllowlistApplied.of_path, path, state="valid",
                                       revision=where.rpartition("revision ")[2])
    name = parameter_name(args)
    try:
        stored = read_parameter(aws.client("ssm"), name)
    except ParameterUnreadable as error:
        error_line(f"{error}: nothing new is shared or accepted")
        return EMPTY_ALLOWLIST, INVALID, partial(AllowlistApplied.of_parameter, name, state="unreadable")
    if stored is None:
        error_line(f"allowlist parameter {name} does not exist: nothing new is shared or accepted")
        return EMPTY_ALLOWLIST, INVALID, partial(AllowlistApplied.of_parameter, name, state="missing")
    try:
        return parse_stored(stored), OK, partial(AllowlistApplied.of_parameter, name, state="valid",
                                                version=stored.version)
    except AllowlistError as error:
        error_line(f"allowlist parameter {name} (version {stored.version}) is invalid: nothing new is shared or accepted")
        print_problems(error)
        return EMPTY_ALLOWLIST, INVALID, partial(AllowlistApplied.of_parameter, name, state="invalid",
                                                           version=stored.version)


def _last_valid(aws: boto3.session.Session, args: argparse.Namespace) -> LastValidAllowlist | None:
    """The last valid version in the allowlist's history, as the owner's sweep finds it, said on
    stderr; None (said) when there is none or it cannot be read."""
    path = allowlist_path(args)
    location = AllowlistLocation(path=path) if path else AllowlistLocation(parameter=parameter_name(args))
    try:
        last = allowlist_source(aws, location).last_valid()
    except (AllowlistUnavailable, ApiThrottled) as error:
        error_line(f"the allowlist's history cannot be read ({error}): the groups are shown against an empty allowlist")
        return None
    if last is None:
        error_line("no valid version in the allowlist's history: the owner's sweep changes nothing until it is fixed")
    else:
        error_line(f"the owner's sweep applies only what {last.version}, the last valid one, takes away (the most "
                   "restrictive of it and what is live); the groups are shown so")
    return last


def _groups(owner: OwnerService, allowlist: Allowlist, usage: dict[str, Any], held: list[QuotaUse], *,
            restrict_only: bool = False) -> list[dict[str, Any]]:
    registry, shares = owner.registry, owner.shares
    found = []
    for name, _arn in sorted(registry.groups()):
        state = owner.group_state(name, allowlist, restrict_only=restrict_only, region_use=held)
        if state is None:  # deleted meanwhile
            continue
        holding = shares.shares_holding(state.arn)
        feature_sets = sorted({FEATURE_SETS.get(s.feature_set, s.feature_set.lower()) for s in holding})
        reason = state.reason
        if any(s.feature_set == CREATED_FROM_POLICY for s in holding) and state.reason.endswith("promotion pending"):
            reason += _quota_hint(usage)
        found.append({
            "name": name,
            "arn": state.arn,
            "consumers": list(state.consumers),
            "policy": registry.get_policy(name) is not None,
            "share_feature_set": ", ".join(feature_sets) or "none",
            "status": state.status,
            "reason": reason,
            "other_shares": list(state.other_shares),
        })
    return found


def _quota_hint(usage: dict[str, Any]) -> str:
    """Why a promotable group may be waiting: a RAM quota the account is at (default values)."""
    hints = []
    pending, limit = usage["pending_invitations_sent"], DEFAULT_QUOTAS["pending_invitations_per_account"]
    if pending >= limit:
        hints.append(f"{pending} invitations pending, RAM allows {limit} by default: waiting for consumers to accept")
    permission_limit = DEFAULT_QUOTAS["customer_managed_permissions_per_resource_type"]
    full = [kind for kind, n in usage["customer_managed_permissions"].items() if n >= permission_limit]
    if full:
        hints.append(f"{permission_limit} customer managed permissions for {', '.join(sorted(full))}, RAM's default "
                     "quota: a new action set cannot get one")
    return "".join(f"; {hint}" for hint in hints)


def _pending_invitations(consumer: ConsumerService, allowlist: Allowlist, at: datetime,
                         reader: GrantReader) -> list[dict[str, Any]]:
    found = []
    for invitation in consumer.shares.invitations():
        if invitation.status != PENDING:
            continue
        try:
            refusal = consumer.invitation_refusal(invitation, allowlist, reader)
        except InvitationClosed as closed:
            refusal = f"can no longer be accepted: {closed}"
        except InvitationAlreadyAccepted:
            continue  # accepted meanwhile
        sent = invitation.sent_at
        expires = sent + INVITATION_TTL if sent is not None else None
        found.append({
            "invitation_arn": invitation.arn,
            "sender": invitation.sender,
            "share_name": invitation.share_name,
            "share_arn": invitation.share_arn,
            "sent_at": sent.isoformat() if sent is not None else None,
            "age_seconds": int((at - sent).total_seconds()) if sent is not None else None,
            "expires_at": expires.isoformat() if expires is not None else None,
            "expires_in_seconds": int((expires - at).total_seconds()) if expires is not None else None,
            "would_accept": refusal is None,
            "reason": refusal or "allowlisted sender and groups",
        })
    return found


def _print(account: str, region: str | None, applied: AllowlistApplied, groups: list[dict[str, Any]],
           held: list[QuotaUse], invitations: list[dict[str, Any]]) -> None:
    print(f"Account {account} in {region}")
    print(f"Allowlist: {applied.describe()}")
    print()
    print("Groups:")
    if groups:
        rows = [(g["name"], ", ".join(g["consumers"]) or "-", "yes" if g["policy"] else "no", g["share_feature_set"],
                 g["status"], g["reason"]) for g in groups]
        for line in table(("GROUP", "CONSUMERS", "POLICY", "SHARE", "STATUS", "REASON"), rows):
            print(line)
        for group in groups:
            for share in group["other_shares"]:
                print(f"  {group['name']}: also in {share}, which modelshare leaves alone")
    else:
        print("  (no model package groups)")
    print()
    quotas.print_uses(QUOTAS_HEADING, held)
    print()
    print("Pending invitations:")
    if not invitations:
        print("  (none)")
        return
    invitation_rows = []
    for item in invitations:
        age = "?" if item["age_seconds"] is None else duration(timedelta(seconds=item["age_seconds"]))
        left = item["expires_in_seconds"]
        expiry = "?" if left is None else "expired" if left <= 0 else duration(timedelta(seconds=left))
        share = f"{item['share_name']} ({item['share_arn']})" if item["share_name"] else item["share_arn"]
        accept = "yes" if item["would_accept"] else f"no: {item['reason']}"
        invitation_rows.append((item["sender"], share, age, expiry, accept))
    for line in table(("SENDER", "SHARE", "AGE", "EXPIRES IN", "WOULD ACCEPT"), invitation_rows):
        print(line)


def _print_beyond(beyond: list[dict[str, Any]]) -> None:
    print()
    print("Accepted shares beyond the allowlist (reported only: model package groups cannot be left):")
    if not beyond:
        print("  (none)")
    for finding in beyond:
        print(f"  {finding['share_arn']} (owner {finding['owner']})")
        for problem in finding["problems"]:
            print(f"      {problem}")
        if finding["unreadable"]:
            print("      RAM did not let this account read what the share grants")
