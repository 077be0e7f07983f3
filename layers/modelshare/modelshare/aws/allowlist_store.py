"""The allowlist document in SSM Parameter Store, read through Powertools parameters.

Powertools caches the value per execution environment for POWERTOOLS_PARAMETERS_MAX_AGE seconds
(default 5 minutes), so a warm function costs no SSM call per event.
"""

from __future__ import annotations

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.aws import client
from modelshare.ports import AllowlistUnavailable


class SsmAllowlistSource:
    def __init__(self, session: boto3.session.Session, parameter_name: str) -> None:
        # One provider per execution environment (not Powertools' module-wide default), so its
        # cache and credentials belong to this function's session.
        self._provider = SSMProvider(boto3_client=client(session, "ssm"))
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
