"""The allowlist sources (the AllowlistSource port): the document in SSM Parameter Store, read
through Powertools parameters (one parameter, or in path mode the parts under one path), or a
document already in hand.

Powertools caches the value per execution environment for POWERTOOLS_PARAMETERS_MAX_AGE seconds
(default 5 minutes), so a warm function costs no SSM call per event. The history of the
parameter (or parts), for the last valid version, is read with the client itself, never cached:
only when the current document is invalid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from modelshare.allowlist import Allowlist, AllowlistError, AllowlistUnreadable
from modelshare.aws import client
from modelshare.ports import AllowlistSource, AllowlistUnavailable
from modelshare.settings import AllowlistLocation

if TYPE_CHECKING:  # a development dependency
    from mypy_boto3_ssm import SSMClient

    from modelshare.allowlist_history import StoredVersion
    from modelshare.port_values import LastValidAllowlist

# GetParametersByPath returns at most 10 parameters a page (docs/aws-behaviour.md, SSM-BY-PATH):
# up to 9 parts cost one call (10 may cost a second, empty page).
PARAMETERS_PER_PAGE = 10
# GetParameterHistory returns at most 50 versions a page, oldest first as far as seen (the order
# is UNVERIFIED: the versions are sorted here); Parameter Store keeps a parameter's 100 most
# recent versions, so a whole history costs two or three calls (docs/aws-behaviour.md, SSM-HISTORY).
VERSIONS_PER_PAGE = 50
# What Parameter Store answers a read it refuses for good: another account's parameter no longer
# shared with this one, or a key KMS will not use for it (which code each case gets is
# UNVERIFIED: docs/aws-behaviour.md, SSM-SHARED). Fail closed, as for an invalid document.
REFUSED_READS = frozenset({"AccessDeniedException", "AccessDenied", "InvalidKeyId", "KMSAccessDeniedException"})


class SsmAllowlistSource:
    """The document in one parameter."""

    def __init__(self, session: boto3.session.Session, parameter_name: str) -> None:
        # One Powertools provider per execution environment (not Powertools' module-wide
        # default), so its cache and credentials belong to this function's session.
        self._ssm = client(session, "ssm")
        self._provider = SSMProvider(boto3_client=self._ssm)
        self.parameter_name = parameter_name

    def load(self, *, fresh: bool = False) -> Allowlist:
        try:
            document = self._provider.get(self.parameter_name, force_fetch=fresh)
        except GetParameterError as error:
            cause = error.__context__
            code = cause.response.get("Error", {}).get("Code") if isinstance(cause, ClientError) else None
            if code == "ParameterNotFound":
                raise AllowlistError([("$", f"allowlist parameter {self.parameter_name} does not exist")]) from None
            if code in REFUSED_READS:
                raise AllowlistUnreadable([("$", f"allowlist parameter {self.parameter_name} cannot be read ({code}): "
                                                 "not shared with this account, or its KMS key refused")]) from None
            raise AllowlistUnavailable(f"cannot read allowlist parameter {self.parameter_name}: {error}") from error
        if not isinstance(document, str):
            raise AllowlistError([("$", "allowlist parameter value is not text")])
        return Allowlist.parse(document)

    def last_valid(self) -> LastValidAllowlist | None:
        # Read only when the document in force is invalid: imported then, not at every cold start.
        from modelshare.allowlist_history import last_valid_of_parameter

        return last_valid_of_parameter(self.parameter_name, _history(self._ssm, self.parameter_name))


class SsmAllowlistPathSource:
    """The document spread over the parameters directly under one path (modelshare.allowlist_parts),
    read with one GetParametersByPath (paged: one call up to 9 parts) and merged as a whole."""

    def __init__(self, session: boto3.session.Session, path: str) -> None:
        self._ssm = client(session, "ssm")
        self._provider = SSMProvider(boto3_client=self._ssm)
        self.path = path

    def load(self, *, fresh: bool = False) -> Allowlist:
        from modelshare.allowlist_parts import merge  # path mode only

        try:
            values = self._provider.get_multiple(self.path, force_fetch=fresh, recursive=False,
                                                 MaxResults=PARAMETERS_PER_PAGE)
        except GetParameterError as error:
            raise AllowlistUnavailable(f"cannot read the allowlist parts under {self.path}: {error}") from error
        return merge(values, self.path).allowlist

    def last_valid(self) -> LastValidAllowlist | None:
        """From the history of each part now under the path (a deleted part's history is gone
        with it): one listing, then each part's history."""
        from modelshare.allowlist_history import last_valid_of_parts
        from modelshare.allowlist_parts import PART_NAME

        try:
            pages = self._ssm.get_paginator("get_parameters_by_path").paginate(
                Path=self.path, Recursive=False, PaginationConfig={"PageSize": PARAMETERS_PER_PAGE})
            names = [str(p["Name"]) for page in pages for p in page.get("Parameters", [])]
        except ClientError as error:
            raise AllowlistUnavailable(f"cannot list the allowlist parts under {self.path}: {error}") from error
        relative = {name.rstrip("/").rpartition("/")[2]: name for name in names}
        histories = {part: _history(self._ssm, name) for part, name in sorted(relative.items())
                     if PART_NAME.fullmatch(part)}
        return last_valid_of_parts(self.path, histories)


class StaticAllowlistSource:
    """An allowlist source holding one parsed document: a file under review, a snapshot."""

    def __init__(self, allowlist: Allowlist) -> None:
        self._allowlist = allowlist

    def load(self, *, fresh: bool = False) -> Allowlist:
        return self._allowlist

    def last_valid(self) -> LastValidAllowlist | None:
        from modelshare.port_values import LastValidAllowlist

        return LastValidAllowlist(self._allowlist, "the document in hand")


def allowlist_source(session: boto3.session.Session, location: AllowlistLocation) -> AllowlistSource:
    """The source the settings name: the parts under the path in path mode, else the one parameter."""
    if location.path:
        return SsmAllowlistPathSource(session, location.path)
    return SsmAllowlistSource(session, location.parameter)


def _history(ssm: SSMClient, name: str) -> list[StoredVersion]:
    """Every version Parameter Store keeps of the parameter (none when it does not exist)."""
    from modelshare.allowlist_history import StoredVersion

    try:
        pages = ssm.get_paginator("get_parameter_history").paginate(
            Name=name, PaginationConfig={"PageSize": VERSIONS_PER_PAGE})
        return [StoredVersion(int(p["Version"]), str(p.get("Value", ""))) for page in pages
                for p in page.get("Parameters", [])]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"ParameterNotFound", *REFUSED_READS}:
            return []  # gone, or no longer shared: no version this account can read
        raise AllowlistUnavailable(f"cannot read the history of allowlist parameter {name}: {error}") from error
