"""Which allowlist a command works on: this account's parameter (by name), or a central one in
another account, read by its ARN through a RAM share (docs/central-allowlist.md), and what
`modelshare status` says of the version it applies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from modelshare.aws import account_id
from modelshare_cli.common import USAGE, CliError

if TYPE_CHECKING:
    from modelshare_cli.common import StoredDocument

# arn:<partition>:ssm:<region>:<account>:parameter/<name without its leading '/'>
_PARAMETER_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):ssm:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
                            r"parameter/(?P<rest>.+)")

State = Literal["valid", "invalid", "missing", "unreadable"]


@dataclass(frozen=True)
class ParameterArn:
    arn: str
    region: str
    account: str
    rest: str  # what follows "parameter/"

    def name(self) -> str:
        """The name PutParameter takes in the owning account: a hierarchy's leading '/' is not in
        the ARN ("/a/b" -> "parameter/a/b"); a one-level name is taken without it (a "/x" and an
        "x" have the same ARN)."""
        return f"/{self.rest}" if "/" in self.rest else self.rest


def parameter_arn(given: str) -> ParameterArn | None:
    """The parts of a parameter ARN, or None for a name (this account's parameter)."""
    match = _PARAMETER_ARN.fullmatch(given)
    if match is None:
        return None
    return ParameterArn(given, match["region"], match["account"], match["rest"])


def name_in_its_account(stored: StoredDocument | None, central: ParameterArn) -> str:
    """The name PutParameter takes for `central` in its own account: the one the read returned,
    unless that was the ARN."""
    returned = stored.stored_name if stored is not None else ""
    return returned if returned and not returned.startswith("arn:") else central.name()


def check_central_writer(aws: Any, central: ParameterArn) -> None:
    """A central allowlist is written only in its own account and Region: a member reads it
    through RAM (read only), and a PutParameter by its name there would make a local parameter
    the member's functions never read."""
    caller = account_id(aws)
    if caller != central.account:
        raise CliError(f"refused: {central.arn} is account {central.account}'s; this is account {caller}, which "
                       f"can only read it: run 'modelshare allowlist set' with credentials of account "
                       f"{central.account} (nothing written)")
    if aws.region_name != central.region:
        raise CliError(f"refused: {central.arn} is in {central.region}, not {aws.region_name} (--region "
                       f"{central.region}); nothing written", USAGE)


@dataclass(frozen=True)
class AllowlistApplied:
    """The allowlist this account's functions read, as a command found it."""

    location: str  # the parameter's name or ARN, or (path mode) the path of its parts
    holder: str  # the account whose Parameter Store holds it
    central: bool  # held by another account (a central allowlist, read by ARN)
    state: State
    version: int | None = None  # the parameter's version read (None: path mode, missing, unreadable)
    revision: str | None = None  # path mode: the document's revision
    path_mode: bool = False  # `location` is the path the parts are under

    @classmethod
    def of_parameter(cls, given: str, account: str, state: State, version: int | None = None) -> AllowlistApplied:
        arn = parameter_arn(given)
        holder = arn.account if arn is not None else account
        return cls(given, holder, holder != account, state, version)

    @classmethod
    def of_path(cls, path: str, account: str, state: State, revision: str | None = None) -> AllowlistApplied:
        return cls(path, account, False, state, revision=revision, path_mode=True)

    def describe(self) -> str:
        """One line: what, which version, whose, and in what state."""
        if self.path_mode:
            what = f"the parts under {self.location}"
            what += f", revision {self.revision[:12]}" if self.revision is not None else ""
        else:
            what = f"{'central parameter' if self.central else 'parameter'} {self.location}"
            what += f" version {self.version}" if self.version is not None else ""
        whose = f"account {self.holder}'s, shared through RAM" if self.central else "this account's"
        said = {"valid": "", "invalid": ": INVALID", "missing": ": MISSING", "unreadable": ": UNREADABLE"}[self.state]
        return f"{what} ({whose}){said}"

    def as_json(self) -> dict[str, Any]:
        return {"location": self.location, "path_mode": self.path_mode, "account": self.holder,
                "central": self.central, "state": self.state, "version": self.version, "revision": self.revision}
