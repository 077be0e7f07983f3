"""`modelshare report`: the options, the accounts to read, the progress bar and the outputs."""

from __future__ import annotations

import argparse
import functools
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3

from modelshare.account_ids import is_account_id
from modelshare.allowlist import Allowlist
from modelshare.aws import account_id, client
from modelshare_cli.common import INVALID, OK, USAGE, CliError, ledger_table, parameter_name, parse_file_or_exit, read_file
from modelshare_cli.report.collect import AccountReader, Progress, Runner, in_threads
from modelshare_cli.report.model import AccountRead, Report
from modelshare_cli.report.page import as_html
from modelshare_cli.report.render import as_csv, as_json, as_table

HELP = """\
Who can see what across the organization: for every shared model package group of the accounts
read, its owner, each consumer, the access the grant gives (the actions of the share's
permission or of the policy statement), whether the consumer accepted, who made the grant
(modelshare, as its ownership ledger proves, else a person) and whether the owner's allowlist
gives that consumer that access: a grant beyond it is a finding. Reads only (list, describe and
get calls; docs/report.md gives the IAM policy). Accounts are read in parallel, each through a
named profile (--profiles) or a role assumed from the current credentials (--accounts and
--role). Exit 1 when an account could not be read (its picture is missing), else 0."""
FORMATS = ("table", "json", "csv", "html")


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    report = commands.add_parser("report", parents=[common], help="the organization's sharing picture, read-only",
                                 description=HELP)
    where = report.add_mutually_exclusive_group(required=True)
    where.add_argument("--profiles", metavar="P1,P2", help="named AWS profiles, one per account to read")
    where.add_argument("--accounts", metavar="ID,ID", help="account IDs to read through --role")
    report.add_argument("--role", metavar="NAME", help="the role to assume in each of --accounts (its name)")
    report.add_argument("--allowlist", metavar="FILE",
                        help="judge every owner against this allowlist file (default: each account's own parameter)")
    report.add_argument("--format", choices=FORMATS, default="table", help="what to write (default: table)")
    report.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: stdout)")
    report.add_argument("--workers", type=int, default=8, help="accounts read at once (default: 8)")
    report.set_defaults(handler=report_command)


@dataclass(frozen=True)
class Target:
    """An account to read and how to reach it."""

    label: str  # the profile, or the account ID
    session: Callable[[], boto3.session.Session]
    account: str | None = None  # known before signing in (an assumed role's); else STS says


def targets(args: argparse.Namespace) -> list[Target]:
    region = getattr(args, "region", None)
    if args.profiles:
        names = _listed(args.profiles, "--profiles")
        return [Target(name, functools.partial(boto3.session.Session, profile_name=name, region_name=region)) for name in names]
    if not args.role:
        raise CliError("--accounts needs --role, the role to assume in each account", USAGE)
    accounts = _listed(args.accounts, "--accounts")
    bad = [a for a in accounts if not is_account_id(a)]
    if bad:
        raise CliError(f"not account IDs: {', '.join(bad)}", USAGE)
    base = boto3.session.Session(profile_name=getattr(args, "profile", None), region_name=region)
    return [Target(account, functools.partial(assumed, base, account, args.role), account) for account in accounts]


def _listed(value: str, option: str) -> list[str]:
    items = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not items:
        raise CliError(f"{option} names nothing", USAGE)
    return items


def assumed(base: boto3.session.Session, account: str, role: str) -> boto3.session.Session:
    """A session as `role` in `account`, assumed from `base`'s credentials."""
    partition = base.get_partition_for_region(base.region_name or "us-east-1")
    credentials = client(base, "sts").assume_role(
        RoleArn=f"arn:{partition}:iam::{account}:role/{role}", RoleSessionName="modelshare-report")["Credentials"]
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"], region_name=base.region_name)


def build_report(targets: Sequence[Target], *, parameter: str, ledger_table: str, allowlist: Allowlist | None = None,
                 runner: Runner | None = None, progress: Progress = lambda *_: None) -> Report:
    """Every target read (in parallel by `runner`), then judged."""
    def job(target: Target) -> Callable[[], AccountRead]:
        def read() -> AccountRead:
            try:
                session = target.session()
                account = target.account or account_id(session)
            except Exception as error:  # any failure to sign in: this account is unread, said
                return AccountRead(target.label, error=f"cannot sign in: {error}")
            reader = AccountReader(account, session, parameter=parameter, ledger_table=ledger_table, allowlist=allowlist)
            return reader.read(progress)
        return read
    return Report.of((runner or in_threads(8))([job(t) for t in targets]))


class ProgressBar:
    """Groups read so far across the accounts, redrawn in place on a terminal."""

    def __init__(self, stream: TextIO, accounts: int, width: int = 30) -> None:
        self._stream, self._accounts, self._width = stream, accounts, width
        self._seen: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, account: str, done: int, total: int) -> None:
        with self._lock:
            self._seen[account] = (done, total)
            read = sum(d for d, _ in self._seen.values())
            known = sum(t for _, t in self._seen.values())
            finished = sum(1 for d, t in self._seen.values() if d == t)
            filled = self._width * read // known if known else 0
            self._stream.write(f"\r[{'#' * filled}{'.' * (self._width - filled)}] {read}/{known} groups, "
                               f"{finished}/{self._accounts} accounts")
            self._stream.flush()

    def end(self) -> None:
        self._stream.write("\n")
        self._stream.flush()


def report_command(args: argparse.Namespace) -> int:
    if args.role and not args.accounts:
        raise CliError("--role goes with --accounts", USAGE)
    if args.workers < 1:
        raise CliError("--workers must be at least 1", USAGE)
    given = parse_file_or_exit(read_file(args.allowlist)) if args.allowlist else None
    chosen = targets(args)
    bar = ProgressBar(sys.stderr, len(chosen)) if args.format == "table" or args.output else None
    report = build_report(chosen, parameter=parameter_name(args), ledger_table=ledger_table(args), allowlist=given,
                          runner=in_threads(args.workers), progress=bar or (lambda *_: None))
    if bar is not None:
        bar.end()
    text = {"table": lambda: "\n".join(as_table(report)) + "\n", "json": lambda: as_json(report) + "\n",
            "csv": lambda: as_csv(report), "html": lambda: as_html(report)}[args.format]()
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CliError(f"cannot write {args.output}: {error.strerror}", USAGE) from None
        print(f"{len(report.grants)} grants, {len(report.findings)} beyond the allowlist: {args.format} in {args.output}",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    unread = [r.account for r in report.accounts if r.error]
    for read in report.accounts:
        if read.error:
            print(f"modelshare: error: {read.account} could not be read: {read.error}", file=sys.stderr)
    return INVALID if unread else OK
