"""`modelshare allowlist validate | show | get | diff | set`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_diff import describe, diff
from modelshare_cli.common import (
    CONCURRENT_CHANGE,
    INVALID,
    OK,
    USAGE,
    CliError,
    StoredDocument,
    error_line,
    parameter_name,
    parse_file_or_exit,
    parse_stored,
    print_problems,
    read_file,
    read_parameter,
    require_parameter,
    session,
)
from modelshare_cli.output import plural

SET_HELP = """\
Validate FILE, show what changes, then write it to the allowlist parameter.

An invalid document is never written. The parameter's version is read first; with
--expected-version N the write is refused (exit 3) unless the parameter is still at version N
(0: it must not exist yet). SSM PutParameter has no conditional update, so a write by someone
else between that read and this write cannot be prevented: it is detected afterwards (the new
version is not the read version + 1), reported, and the command exits 3. Creating a missing
parameter is atomic (PutParameter without Overwrite)."""


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    allowlist = commands.add_parser("allowlist", help="validate, show, diff or set the allowlist document",
                                    description="Work with the allowlist document.")
    actions = allowlist.add_subparsers(dest="allowlist_command", required=True, metavar="ACTION")

    validate = actions.add_parser("validate", parents=[common], help="check an allowlist file (no AWS call)",
                                  description="Check FILE. Exit 0 when valid, 1 with each problem as "
                                              "'PATH: message', 2 when FILE is unreadable or not JSON.")
    validate.add_argument("file", metavar="FILE", help="allowlist JSON file ('-' for stdin)")
    validate.set_defaults(handler=validate_command)

    for name in ("show", "get"):
        show = actions.add_parser(name, parents=[common],
                                  help="print the current document" + (" (alias of show)" if name == "get" else ""),
                                  description="Print the document stored in the allowlist parameter (its version on "
                                              "stderr). Exit 1 when it is missing or invalid (problems on stderr).")
        show.set_defaults(handler=show_command)

    diff_parser = actions.add_parser("diff", parents=[common], help="what FILE changes compared with the parameter",
                                     description="Rule by rule, what changes from the parameter's document to FILE. "
                                                 "Exit 0 whether or not they differ; 1 when FILE is invalid.")
    diff_parser.add_argument("file", metavar="FILE", help="allowlist JSON file ('-' for stdin)")
    diff_parser.set_defaults(handler=diff_command)

    set_parser = actions.add_parser("set", parents=[common], help="validate, diff and write FILE to the parameter",
                                    description=SET_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    set_parser.add_argument("file", metavar="FILE", help="allowlist JSON file ('-' for stdin)")
    set_parser.add_argument("--expected-version", type=int, metavar="N",
                            help="refuse unless the parameter is at version N (0: does not exist yet)")
    set_parser.add_argument("--yes", "-y", action="store_true", help="write without asking")
    set_parser.set_defaults(handler=set_command)


# -- validate -------------------------------------------------------------------------------
def validate_command(args: argparse.Namespace) -> int:
    document = read_file(args.file)
    allowlist = parse_file_or_exit(document)
    print(f"{document.path}: OK, a valid allowlist with {plural(len(allowlist.rules), 'rule')}")
    return OK


# -- show / get -----------------------------------------------------------------------------
def show_command(args: argparse.Namespace) -> int:
    stored = require_parameter(session(args).client("ssm"), parameter_name(args))
    print(_pretty(stored.text))
    print(f"{stored.name}: version {stored.version}", file=sys.stderr)
    try:
        parse_stored(stored)
    except AllowlistError as error:
        error_line(f"the stored document is invalid; nothing is shared or accepted until it is fixed "
                   f"({plural(len(error.problems), 'problem')}):")
        print_problems(error)
        return INVALID
    return OK


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text  # not JSON: show it as stored


# -- diff -----------------------------------------------------------------------------------
def diff_command(args: argparse.Namespace) -> int:
    document = read_file(args.file)
    new = parse_file_or_exit(document)
    stored = read_parameter(session(args).client("ssm"), parameter_name(args))
    _print_diff(stored, parameter_name(args), new, document.path)
    return OK


def _print_diff(stored: StoredDocument | None, name: str, new: Allowlist, path: str) -> None:
    old: Allowlist | None = None
    if stored is None:
        print(f"{name} does not exist yet: every rule of {path} is new")
    else:
        try:
            old = parse_stored(stored)
        except AllowlistError as error:
            print(f"{name} (version {stored.version}) holds an invalid document "
                  f"({plural(len(error.problems), 'problem')}): every rule of {path} is new")
        else:
            print(f"{name} (version {stored.version}) -> {path}:")
    for line in describe(diff(old, new)):
        print(line)


# -- set ------------------------------------------------------------------------------------
def set_command(args: argparse.Namespace) -> int:
    document = read_file(args.file)
    new = parse_file_or_exit(document)  # never write an invalid document
    name = parameter_name(args)
    ssm = session(args).client("ssm")
    stored = read_parameter(ssm, name)
    current = stored.version if stored is not None else 0
    if args.expected_version is not None and args.expected_version != current:
        now = f"version {current}" if stored is not None else "missing"
        raise CliError(f"refused: {name} is {now}, not version {args.expected_version}; someone changed it since "
                       f"(who and what is unknown: compare with 'modelshare allowlist diff {args.file}')",
                       CONCURRENT_CHANGE)
    _print_diff(stored, name, new, document.path)
    if stored is not None and stored.text == document.text:
        print(f"{name} already holds exactly this document: nothing written")
        return OK
    if not args.yes:
        _confirm(name)
    # SSM has no conditional update (no "only if still at version N"): this read-then-write
    # leaves a window in which another writer can slip in. It is detected afterwards, from the
    # version PutParameter returns. Creating is conditional: without Overwrite, PutParameter
    # fails with ParameterAlreadyExists if someone created the parameter meanwhile.
    try:
        written = ssm.put_parameter(Name=name, Value=document.text, Type="String", Overwrite=stored is not None)
    except ssm.exceptions.ParameterAlreadyExists:
        raise CliError(f"{name} was created by someone else since it was read; nothing written "
                       f"(run 'modelshare allowlist diff {args.file}' and try again)", CONCURRENT_CHANGE) from None
    version = int(written["Version"])
    if version != current + 1:
        raise CliError(f"wrote {name} version {version}, but it was at version {current} when read: "
                       f"{_between(current, version)}; this write replaced that change, check "
                       f"'aws ssm get-parameter-history --name {name}'", CONCURRENT_CHANGE)
    print(f"wrote {name} version {version}")
    return OK


def _between(read: int, written: int) -> str:
    if written <= read:
        return "someone deleted and re-created it in between"
    if written == read + 2:
        return f"someone else wrote version {read + 1} in between"
    return f"someone else wrote versions {read + 1} to {written - 1} in between"


def _confirm(name: str) -> None:
    if not sys.stdin.isatty():
        raise CliError("stdin is not a terminal: pass --yes to write without asking", USAGE)
    print(f"Write this to {name}? [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CliError("not confirmed: nothing written", INVALID)
