"""The allowlist sources (the AllowlistSource port): the document in SSM Parameter Store, read
through Powertools parameters (one parameter, or in path mode the parts under one path), or a
document already in hand.

Powertools caches the value per execution environment for POWERTOOLS_PARAMETERS_MAX_AGE seconds
(default 5 minutes), so a warm function costs no SSM call per event.
"""

from __future__ import annotations

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_parts import merge
from modelshare.aws import client
from modelshare.ports import AllowlistSource, AllowlistUnavailable
from modelshare.settings import AllowlistLocation

# GetParametersByPath returns at most 10 parameters a page (docs/aws-behaviour.md, SSM-BY-PATH):
# up to 9 parts cost one call (10 may cost a second, empty page).
PARAMETERS_PER_PAGE = 10


class SsmAllowlistSource:
    """The document in one parameter."""

    def __init__(self, session: boto3.session.Session, parameter_name: str) -> None:
        self._provider = _provider(session)
        self.parameter_name = parameter_name

    def load(self, *, fresh: bool = False) -> Allowlist:
        try:
            document = self._provider.get(self.parameter_name, force_fetch=fresh)
        except GetParameterError as error:
            cause = error.__context__
            if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise AllowlistError([("$", f"allowlist parameter {self.parameter_name} does not exist")]) from None
            raise AllowlistUnavailable(f"cannot read allowlist parameter {self.parameter_name}: {error}") from error
        if not isinstance(document, str):
            raise AllowlistError([("$", "allowlist parameter value is not text")])
        return Allowlist.parse(document)


class SsmAllowlistPathSource:
    """The document spread over the parameters directly under one path (modelshare.allowlist_parts),
    read with one GetParametersByPath (paged: one call up to 9 parts) and merged as a whole."""

    def __init__(self, session: boto3.session.Session, path: str) -> None:
        self._provider = _provider(session)
        self.path = path

    def load(self, *, fresh: bool = False) -> Allowlist:
        try:
            values = self._provider.get_multiple(self.path, force_fetch=fresh, recursive=False,
                                                 MaxResults=PARAMETERS_PER_PAGE)
        except GetParameterError as error:
            raise AllowlistUnavailable(f"cannot read the allowlist parts under {self.path}: {error}") from error
        return merge(values, self.path).allowlist


class StaticAllowlistSource:
    """An allowlist source holding one parsed document: a file under review, a snapshot."""

    def __init__(self, allowlist: Allowlist) -> None:
        self._allowlist = allowlist

    def load(self, *, fresh: bool = False) -> Allowlist:
        return self._allowlist


def allowlist_source(session: boto3.session.Session, location: AllowlistLocation) -> AllowlistSource:
    """The source the settings name: the parts under the path in path mode, else the one parameter."""
    if location.path:
        return SsmAllowlistPathSource(session, location.path)
    return SsmAllowlistSource(session, location.parameter)


def _provider(session: boto3.session.Session) -> SSMProvider:
    # One provider per execution environment (not Powertools' module-wide default), so its
    # cache and credentials belong to this function's session.
    return SSMProvider(boto3_client=client(session, "ssm"))
