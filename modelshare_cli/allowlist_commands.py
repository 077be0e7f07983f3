"""`modelshare allowlist validate | show | get | diff | set`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from modelshare import strict_json
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_diff import describe, diff
from modelshare.allowlist_parts import TIER_LIMITS, revision_of, split
from modelshare.aws.allowlist_parts_store import StoredParts, read_parts, write_parts
from modelshare_cli.allowlist_where import check_central_writer, name_in_its_account, parameter_arn
from modelshare_cli.common import (
    CONCURRENT_CHANGE,
    INVALID,
    OK,
    TIER_ENV,
    USAGE,
    CliError,
    FileDocument,
    StoredDocument,
    allowlist_path,
    error_line,
    parameter_name,
    parse_file_or_exit,
    parse_stored,
    print_conflicts,
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
parameter is atomic (PutParameter without Overwrite).

A central allowlist (docs/central-allowlist.md) is named by its ARN (--parameter ARN): `diff` and
`show` read it from any account it is shared with; `set` writes it only with credentials of the
account that holds it (members read it only), by its name there, and keeps it in the advanced
tier (sharing needs it); it never creates one (the central stack does).

Path mode (--path or $MODELSHARE_ALLOWLIST_PATH): the document is split, rule by rule, into parts
that fit the --tier's size (Standard 4,096 characters, Advanced 8,192), each carrying the
document's revision and the number of parts. Parts are written from part-001 on, then parameters
no longer needed are deleted. Until the last call the readers see parts of two revisions, or too
few or too many, and share and accept nothing; a write that stops half way is repaired by writing
the whole document again. --expected-revision REV refuses unless the stored document's revision
starts with REV (none: nothing is stored under the path yet)."""


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    allowlist = commands.add_parser("allowlist", help="validate, show, diff or set the allowlist document",
                                    description="Work with the allowlist document.")
    actions = allowlist.add_subparsers(dest="allowlist_command", required=True, metavar="ACTION")

    validate = actions.add_parser("validate", parents=[common], help="check an allowlist file (no AWS call)",
                                  description="Check FILE. Exit 0 when valid, 1 with each problem as "
                                              "'PATH: message', 2 when FILE is unreadable or not JSON.")
    validate.add_argument("file", metavar="FILE", help="allowlist JSON file ('-' for stdin)")
    validate.add_argument("--tier", choices=sorted(TIER_LIMITS), default=None,
                          help="the Parameter Store tier that holds the document, or its parts in path mode "
                               "(default: $MODELSHARE_ALLOWLIST_TIER, else Standard)")
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
    diff_parser.add_argument("--tier", choices=sorted(TIER_LIMITS), default=None,
                             help="path mode: the tier that sizes the parts (default: $MODELSHARE_ALLOWLIST_TIER, "
                                  "else Standard)")
    diff_parser.set_defaults(handler=diff_command)

    set_parser = actions.add_parser("set", parents=[common], help="validate, diff and write FILE to the parameter",
                                    description=SET_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    set_parser.add_argument("file", metavar="FILE", help="allowlist JSON file ('-' for stdin)")
    set_parser.add_argument("--expected-version", type=int, metavar="N",
                            help="refuse unless the parameter is at version N (0: does not exist yet)")
    set_parser.add_argument("--expected-revision", metavar="REV",
                            help="path mode: refuse unless the stored revision starts with REV (none: no parts yet)")
    set_parser.add_argument("--tier", choices=sorted(TIER_LIMITS), default=None,
                            help="the parameter's Parameter Store tier, which sets the size it holds (path mode: "
                                 "the parts') (default: $MODELSHARE_ALLOWLIST_TIER, else Standard)")
    set_parser.add_argument("--yes", "-y", action="store_true", help="write without asking")
    set_parser.set_defaults(handler=set_command)


# -- validate -------------------------------------------------------------------------------
def validate_command(args: argparse.Namespace) -> int:
    document = read_file(args.file)
    allowlist = parse_file_or_exit(document)
    fits = ""
    tier = _tier(args)
    if allowlist_path(args) is not None:
        fits = f", {plural(len(_split_or_exit(document, tier)), 'part')} under a path ({tier} tier)"
    else:
        _check_size(document, tier)
    print(f"{document.path}: OK, a valid allowlist with {plural(len(allowlist.rules), 'rule')}{fits}")
    print_conflicts(allowlist)
    return OK


# -- show / get -----------------------------------------------------------------------------
def show_command(args: argparse.Namespace) -> int:
    path = allowlist_path(args)
    if path is not None:
        return _show_parts(read_parts(session(args).client("ssm"), path))
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


def _show_parts(stored: StoredParts) -> int:
    if not stored.exists:
        raise CliError(f"no allowlist parts under {stored.path} (wrong --path, --region or account?)")
    try:
        merged = stored.merged()
    except AllowlistError as error:
        print(json.dumps({name: _part_shown(value) for name, value in sorted(stored.values.items())}, indent=2))
        error_line(f"the parts under {stored.path} are not one valid document; nothing is shared or accepted "
                   f"until it is fixed ({plural(len(error.problems), 'problem')}):")
        print_problems(error)
        return INVALID
    print(json.dumps(merged.data, indent=2))
    print(f"{stored.path}: revision {merged.revision[:12]} in {plural(merged.parts, 'part')}", file=sys.stderr)
    return OK


def _part_shown(value: str) -> Any:
    """A part's value as JSON inside the listing of the parts, or as stored when it is not JSON or
    repeats a key (as JSON it would lose all but the last)."""
    try:
        data = strict_json.loads(value)
    except (ValueError, RecursionError):
        return value
    return value if strict_json.repeated_keys(data) else data


def _pretty(text: str) -> str:
    try:
        data = strict_json.loads(text)
    except (ValueError, RecursionError):
        return text  # not JSON: show it as stored
    if strict_json.repeated_keys(data):
        return text  # reformatted, it would lose all but the last of a repeated key: shown as stored
    return json.dumps(data, indent=2)


# -- diff -----------------------------------------------------------------------------------
def diff_command(args: argparse.Namespace) -> int:
    document = read_file(args.file)
    new = parse_file_or_exit(document)
    path = allowlist_path(args)
    if path is not None:
        tier = _tier(args)
        values = _split_or_exit(document, tier)
        _print_parts_diff(read_parts(session(args).client("ssm"), path), new, document.path)
        print(f"{document.path} is written as {plural(len(values), 'part')} ({tier} tier)")
        return OK
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
    _print_rule_changes(old, new)


def _print_parts_diff(stored: StoredParts, new: Allowlist, path: str) -> str | None:
    """Prints what changes; returns the stored revision, None when nothing valid is stored."""
    old: Allowlist | None = None
    revision: str | None = None
    if not stored.exists:
        print(f"no allowlist parts under {stored.path} yet: every rule of {path} is new")
    else:
        try:
            merged = stored.merged()
        except AllowlistError as error:
            print(f"the parts under {stored.path} are not one valid document "
                  f"({plural(len(error.problems), 'problem')}): every rule of {path} is new")
        else:
            old, revision = merged.allowlist, merged.revision
            print(f"{stored.path} (revision {revision[:12]}, {plural(merged.parts, 'part')}) -> {path}:")
    _print_rule_changes(old, new)
    return revision


def _print_rule_changes(old: Allowlist | None, new: Allowlist) -> None:
    for line in describe(diff(old, new)):
        print(line)


def _tier(args: argparse.Namespace) -> str:
    tier = getattr(args, "tier", None) or os.environ.get(TIER_ENV) or "Standard"
    if tier not in TIER_LIMITS:
        raise CliError(f"{TIER_ENV}={tier!r} is not one of {sorted(TIER_LIMITS)}", USAGE)
    return tier


def _check_size(document: FileDocument, tier: str) -> None:
    """CliError (exit 1) when the document is larger than a parameter of `tier` holds (SSM-TIER,
    docs/aws-behaviour.md), naming the tier or the path mode that would hold it. Counted in UTF-8
    bytes, the stricter reading of "4 KB" where the project's parts count characters: a valid
    allowlist is ASCII, where both agree."""
    size = len(document.text.encode("utf-8"))
    limit = TIER_LIMITS[tier]
    if size <= limit:
        return
    path_mode = "path mode (--path, the stack's AllowlistPath) splits it into parts"
    largest_tier, largest = max(TIER_LIMITS.items(), key=lambda item: item[1])
    if size <= largest:
        raise CliError(f"{document.path} is {size:,} bytes, more than a {tier} parameter holds ({limit:,}): "
                       f"an {largest_tier} parameter holds {largest:,} (--tier {largest_tier}, the stack's "
                       f"AllowlistTier), or {path_mode}")
    raise CliError(f"{document.path} is {size:,} bytes, more than any parameter tier holds "
                   f"({largest_tier}: {largest:,}): {path_mode}")


def _split_or_exit(document: FileDocument, tier: str) -> list[str]:
    """The part values of a valid document, or each problem on stderr and exit 1 (a rule
    repeated, or one too large for a part of the tier)."""
    try:
        return split(document.data, TIER_LIMITS[tier])
    except AllowlistError as error:
        print_problems(error)
        raise CliError(f"{document.path} cannot be stored under a path ({plural(len(error.problems), 'problem')})") \
            from None


# -- set ------------------------------------------------------------------------------------
def set_command(args: argparse.Namespace) -> int:
    document = read_file(args.file)
    new = parse_file_or_exit(document)  # never write an invalid document
    path = allowlist_path(args)
    if path is not None:
        return _set_parts(args, path, document, new)
    if args.expected_revision is not None:
        raise CliError("--expected-revision is for path mode (--path); one parameter has --expected-version", USAGE)
    name = parameter_name(args)
    central = parameter_arn(name)
    # A central parameter is shared only while it is advanced tier (SSM-SHARED): sized and kept so.
    _check_size(document, _tier(args) if central is None else "Advanced")  # before the diff: AWS would refuse it after
    aws = session(args)
    ssm = aws.client("ssm")
    if central is not None:
        check_central_writer(aws, central)
    stored = read_parameter(ssm, name)
    if central is not None and stored is None:
        raise CliError(f"{name} does not exist: the central stack creates it (docs/central-allowlist.md); "
                       "nothing written")
    current = stored.version if stored is not None else 0
    if args.expected_version is not None and args.expected_version != current:
        now = f"version {current}" if stored is not None else "missing"
        raise CliError(f"refused: {name} is {now}, not version {args.expected_version}; someone changed it since "
                       f"(who and what is unknown: compare with 'modelshare allowlist diff {args.file}')",
                       CONCURRENT_CHANGE)
    _print_diff(stored, name, new, document.path)
    print_conflicts(new)
    if stored is not None and stored.text == document.text:
        print(f"{name} already holds exactly this document: nothing written")
        return OK
    if not args.yes:
        _confirm(name)
    # SSM has no conditional update (no "only if still at version N"): this read-then-write
    # leaves a window in which another writer can slip in. It is detected afterwards, from the
    # version PutParameter returns. Creating is conditional: without Overwrite, PutParameter
    # fails with ParameterAlreadyExists if someone created the parameter meanwhile.
    # PutParameter takes the name, never an ARN (botocore's ssm model): the name the read returned
    # (whether a read by ARN returns the name or the ARN there is UNVERIFIED: then the ARN's).
    target = name if central is None else name_in_its_account(stored, central)
    tier: dict[str, Any] = {"Tier": "Advanced"} if central is not None else {}
    try:
        written = ssm.put_parameter(Name=target, Value=document.text, Type="String", Overwrite=stored is not None,
                                    **tier)
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


def _set_parts(args: argparse.Namespace, path: str, document: FileDocument, new: Allowlist) -> int:
    if args.expected_version is not None:
        raise CliError("--expected-version is for one parameter; in path mode use --expected-revision", USAGE)
    tier = _tier(args)
    values = _split_or_exit(document, tier)  # never write what a reader would refuse
    ssm = session(args).client("ssm")
    stored = read_parts(ssm, path)
    revision = _print_parts_diff(stored, new, document.path)
    print_conflicts(new)
    _check_expected_revision(args, stored, revision)
    wanted = revision_of(document.data)
    if revision == wanted and len(stored.values) == len(values):
        print(f"{path} already holds exactly this document (revision {wanted[:12]}): nothing written")
        return OK
    extra = len(stored.values) - len(values)
    print(f"{document.path} is written as {plural(len(values), 'part')} ({tier} tier)"
          + (f", then {plural(extra, 'parameter')} under {path} deleted" if extra > 0 else ""))
    if not args.yes:
        _confirm(path)
    try:
        done = write_parts(ssm, stored, values, advanced_tier=tier == "Advanced", progress=print)
    except ssm.exceptions.ParameterAlreadyExists as error:
        raise CliError(f"a part was created by someone else meanwhile ({error}); the parts under {path} are now "
                       f"mixed and nothing is shared until the whole document is written again", CONCURRENT_CHANGE) \
            from None
    check = read_parts(ssm, path)
    try:
        now = check.merged().revision
    except AllowlistError as error:
        now = f"not one valid document ({error})"
    if done.overtaken or now != wanted:
        raise CliError(f"someone else changed {path} during this write ({', '.join(done.overtaken) or 'parts'}); "
                       f"it now holds {now[:12] if now == wanted else now}: check 'modelshare allowlist show' "
                       "and write the whole document again", CONCURRENT_CHANGE)
    print(f"wrote {path}: revision {wanted[:12]} in {plural(len(values), 'part')}")
    return OK


def _check_expected_revision(args: argparse.Namespace, stored: StoredParts, revision: str | None) -> None:
    expected = args.expected_revision
    if expected is None:
        return
    if expected == "none" and not stored.exists:
        return
    if revision is not None and expected != "none" and len(expected) >= 8 and revision.startswith(expected):
        return
    now = (f"revision {revision[:12]}" if revision else "not one valid document") if stored.exists else "empty"
    raise CliError(f"refused: {stored.path} is {now}, not revision {expected}; someone changed it since "
                   f"(compare with 'modelshare allowlist diff {args.file}')", CONCURRENT_CHANGE)


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
