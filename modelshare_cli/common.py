"""What every admin command shares: exit codes, errors, the AWS session, the allowlist parameter
and allowlist files."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from modelshare import strict_json
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_conflicts import conflicts
from modelshare.aws.allowlist_parts_store import read_parts
from modelshare.aws.allowlist_store import REFUSED_READS
from modelshare.settings import (
    ALLOWLIST_PARAMETER_ENV,
    ALLOWLIST_PATH_ENV,
    DEFAULT_LEDGER_TABLE,
    LEDGER_TABLE_ENV,
    Settings,
    SettingsError,
)

if TYPE_CHECKING:  # a development dependency
    from mypy_boto3_ssm import SSMClient

OK = 0
INVALID = 1  # invalid document, missing parameter, AWS error, write not confirmed
USAGE = 2  # bad arguments, unreadable or non-JSON input file
CONCURRENT_CHANGE = 3  # the parameter changed under us: refused or detected
INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as a shell reports it

# The functions' settings (modelshare.settings) name the allowlist the same way; here they are
# only defaults for --parameter and --path.
PARAMETER_ENV = ALLOWLIST_PARAMETER_ENV
PATH_ENV = ALLOWLIST_PATH_ENV
TIER_ENV = "MODELSHARE_ALLOWLIST_TIER"
DEFAULT_PARAMETER = "/modelshare/allowlist"


class CliError(Exception):
    """Ends the command: `message` on stderr as one line, then exit with `code`."""

    def __init__(self, message: str, code: int = INVALID) -> None:
        super().__init__(message)
        self.code = code


def error_line(message: str) -> None:
    print(f"modelshare: error: {message}", file=sys.stderr)


def print_problems(error: AllowlistError, *, prefix: str = "") -> None:
    """Each problem of an invalid document on its own line of stderr, as `PATH: message`."""
    for path, message in error.problems:
        print(f"{prefix}{path}: {message}", file=sys.stderr)


def parameter_name(args: argparse.Namespace) -> str:
    return getattr(args, "parameter", None) or os.environ.get(PARAMETER_ENV) or DEFAULT_PARAMETER


def sharing_mode(args: argparse.Namespace) -> str:
    """How an owner the allowlist's `modes` does not name shares (--sharing-mode, else
    $MODELSHARE_SHARING_MODE, else policy): the stack's SharingMode, which the CLI cannot read."""
    given = getattr(args, "sharing_mode", None)
    if given:
        return str(given)
    try:
        return Settings.sharing_mode_of(os.environ)
    except SettingsError as error:
        raise CliError(str(error), USAGE) from error


def ledger_table(args: argparse.Namespace, *, required: bool = False) -> str:
    """The ownership ledger's table (--ledger-table, else $MODELSHARE_LEDGER_TABLE): what
    modelshare made, which reconcile and plan need to tell its shares and statements from
    people's. A command that writes (`required`) takes no default: a table of that name a person
    made in an account whose stack is named otherwise would otherwise decide what is modelshare's.
    Reading commands default to the default stack's."""
    given = getattr(args, "ledger_table", None) or os.environ.get(LEDGER_TABLE_ENV)
    if given:
        return str(given)
    if required:
        raise CliError("name the stack's ownership ledger with --ledger-table (the stack's OwnershipTable output) or "
                       f"${LEDGER_TABLE_ENV}: it says which shares and statements are modelshare's", USAGE)
    return DEFAULT_LEDGER_TABLE


def allowlist_path(args: argparse.Namespace) -> str | None:
    """The path whose parts hold the document (path mode: --path, else $MODELSHARE_ALLOWLIST_PATH),
    or None for the one parameter. An explicit --parameter wins over the environment's path."""
    given = getattr(args, "path", None)
    if given and getattr(args, "parameter", None):
        raise CliError("give --parameter or --path, not both", USAGE)
    path = given or (None if getattr(args, "parameter", None) else os.environ.get(PATH_ENV))
    if not path:
        return None
    if not path.startswith("/") or path.rstrip("/") == "":
        raise CliError(f"allowlist path {path!r} must start with '/' and name a level below the root", USAGE)
    return path.rstrip("/")


def session(args: argparse.Namespace) -> boto3.session.Session:
    """The normal boto3 credential chain, narrowed by --profile and --region."""
    return boto3.session.Session(profile_name=getattr(args, "profile", None), region_name=getattr(args, "region", None))


# -- the allowlist parameter -----------------------------------------------------------------
@dataclass(frozen=True)
class StoredDocument:
    name: str  # as given: a name, or a central parameter's ARN
    text: str
    version: int
    stored_name: str = ""  # the name Parameter Store gives it in its own account (PutParameter takes no ARN)


class ParameterUnreadable(CliError):
    """Parameter Store refuses the read: a central parameter not (or no longer) shared with this
    account, or its KMS key refused (docs/central-allowlist.md). Fail closed, as for an invalid one."""


def read_parameter(ssm: SSMClient, name: str) -> StoredDocument | None:
    """The parameter's current value and version (by name, or another account's by ARN), or None
    when it does not exist; ParameterUnreadable when Parameter Store refuses the read."""
    try:
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ParameterNotFound":
            return None
        if code in REFUSED_READS:
            raise ParameterUnreadable(f"allowlist parameter {name} cannot be read ({code}): not shared with this "
                                      "account, or its KMS key refused") from None
        raise
    return StoredDocument(name, parameter["Value"], int(parameter["Version"]), str(parameter.get("Name", name)))


def require_parameter(ssm: SSMClient, name: str) -> StoredDocument:
    stored = read_parameter(ssm, name)
    if stored is None:
        raise CliError(f"allowlist parameter {name} does not exist (wrong --parameter, --region or account?)")
    return stored


def parse_stored(stored: StoredDocument) -> Allowlist:
    """The stored allowlist; raises AllowlistError when it is invalid."""
    return Allowlist.parse(stored.text)


def stored_allowlist_or_exit(stored: StoredDocument) -> Allowlist:
    """The stored allowlist, or its problems on stderr and exit 1: the system shares nothing."""
    try:
        return parse_stored(stored)
    except AllowlistError as error:
        error_line(f"allowlist parameter {stored.name} (version {stored.version}) is invalid; "
                   "nothing is shared or accepted until it is fixed:")
        print_problems(error)
        raise CliError("fix the allowlist first (modelshare allowlist validate / set)") from None


def stored_allowlist_or_exit_where(args: argparse.Namespace, ssm: SSMClient) -> tuple[Allowlist, str]:
    """The stored allowlist and where it is ("parameter NAME version N", or in path mode "the
    parts under PATH, revision R"); missing or invalid: its problems on stderr and exit 1."""
    path = allowlist_path(args)
    if path is None:
        stored = require_parameter(ssm, parameter_name(args))
        return stored_allowlist_or_exit(stored), f"parameter {stored.name} version {stored.version}"
    parts = read_parts(ssm, path)
    if not parts.exists:
        raise CliError(f"no allowlist parts under {path} (wrong --path, --region or account?)")
    try:
        merged = parts.merged()
    except AllowlistError as error:
        error_line(f"the parts under {path} are not one valid document; nothing is shared or accepted until it is fixed:")
        print_problems(error)
        raise CliError("fix the allowlist first (modelshare allowlist validate / set)") from None
    return merged.allowlist, f"the parts under {path}, revision {merged.revision[:12]}"


# -- allowlist files -------------------------------------------------------------------------
@dataclass(frozen=True)
class FileDocument:
    path: str
    text: str
    data: Any


def read_file(path: str) -> FileDocument:
    """The file's text and JSON ("-" reads stdin). Unreadable or not JSON: CliError, exit 2."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise CliError(f"cannot read {path}: {reason}", USAGE) from None
    try:
        data = strict_json.loads(text)  # keeps which keys an object repeats: the parser refuses them
    except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than json decodes
        raise CliError(f"{path} is not JSON: {error}", USAGE) from None
    return FileDocument(path, text, data)


def parse_file_or_exit(document: FileDocument) -> Allowlist:
    """The file's allowlist, or each problem on stderr and exit 1."""
    try:
        return Allowlist.parse(document.data)
    except AllowlistError as error:
        print_problems(error)
        raise CliError(f"{document.path} is not a valid allowlist ({len(error.problems)} "
                       f"problem{'s' if len(error.problems) != 1 else ''})") from None


def print_conflicts(allowlist: Allowlist) -> None:
    """A warning on stderr for each pair of rules that conflict: the document is valid, and the
    groups both rules match are shared with nobody."""
    for conflict in conflicts(allowlist):
        print(f"modelshare: warning: {conflict.describe()}", file=sys.stderr)


# -- the domain's Lambda observability, kept out of a terminal ---------------------------------
class _NoMetrics:
    def add_metric(self, **_: Any) -> None:
        pass


@contextlib.contextmanager
def quiet_domain() -> Iterator[None]:
    """Run domain code without its Powertools JSON logs and EMF metrics on stdout: the command
    reports every outcome itself, and Powertools would print metrics (and fail without a
    namespace) once 100 values of one metric pile up."""
    from modelshare import observability

    saved_metrics, saved_gauge = observability.metrics, observability.gauge
    domain_logger = logging.getLogger(observability.logger.name)
    saved_level = domain_logger.level
    observability.metrics = _NoMetrics()  # type: ignore[assignment]  # a stand-in: count() only calls add_metric
    observability.gauge = lambda *_args: None
    domain_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        observability.metrics, observability.gauge = saved_metrics, saved_gauge
        domain_logger.setLevel(saved_level)
