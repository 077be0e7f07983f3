"""GetParameterHistory as the Parameter Store API reference documents it, over the versions moto
stores (docs/aws-behaviour.md, SSM-HISTORY).

moto answers the call, but only for a parameter's name (the API takes its name or its ARN), and
a NextToken it did not hand out makes it fail with an internal error where SSM answers
InvalidNextToken. moto keeps a parameter's 100 most recent versions and deletes the history with
the parameter, as Parameter Store does; this answers from those versions, oldest first (the
order SSM returns is UNVERIFIED: modelshare sorts them), at most `MaxResults` (1 to 50, default
50) a page.

Stricter where unsure: the local AWS shares no parameter between accounts, so an ARN of another
account's (or Region's) parameter is not found.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from moto.ssm.models import ssm_backends

from localaws.core.errors import AwsError

MAX_RESULTS = 50
_ARN = re.compile(r"arn:aws[a-z-]*:ssm:([a-z0-9-]+):([0-9]{12}):parameter(/.*)")
_TOKEN = re.compile(r"history-([0-9]{1,3})")


def parameter_history(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """The GetParameterHistory output for `params` (already shaped by botocore's serializer)."""
    given = str(params.get("Name", "")).strip()
    name = given
    arn = _ARN.fullmatch(given)
    if arn is not None:
        if (arn.group(1), arn.group(2)) != (region, account):
            raise AwsError("ParameterNotFound", f"Parameter {given} not found.")
        name = arn.group(3)
    limit = params.get("MaxResults", MAX_RESULTS)
    if not 1 <= int(limit) <= MAX_RESULTS:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{limit}' at 'maxResults' failed "
                                              f"to satisfy constraint: Member must have value less than or equal to "
                                              f"{MAX_RESULTS}.")
    stored = ssm_backends[account][region]._parameters
    if name not in stored:
        raise AwsError("ParameterNotFound", f"Parameter {given} not found.")
    versions = list(stored[name])
    start = 0
    if params.get("NextToken") is not None:
        token = _TOKEN.fullmatch(str(params["NextToken"]))
        if token is None or not 0 < int(token.group(1)) < len(versions):
            raise AwsError("InvalidNextToken", "The specified token is not valid.")
        start = int(token.group(1))
    end = start + int(limit)
    output: dict[str, Any] = {"Parameters": [_version(v, bool(params.get("WithDecryption"))) for v in versions[start:end]]}
    if end < len(versions):
        output["NextToken"] = f"history-{end}"
    return output


def _version(parameter: Any, decrypt: bool) -> dict[str, Any]:
    """One ParameterHistory member (botocore `ssm` model), from moto's stored version."""
    found: dict[str, Any] = {
        "Name": parameter.name,
        "Type": parameter.parameter_type,
        "LastModifiedDate": _aware(parameter.last_modified_date),
        # SSM names the writer's ARN; moto does not record it.
        "LastModifiedUser": "N/A",
        "Value": parameter.decrypt(parameter.value) if decrypt else parameter.value,
        "Version": parameter.version,
        "Labels": list(parameter.labels),
        "Tier": parameter.tier,
        "DataType": parameter.data_type,
    }
    for key, value in (("KeyId", parameter.keyid), ("Description", parameter.description),
                       ("AllowedPattern", parameter.allowed_pattern)):
        if value:
            found[key] = value
    return found


def _aware(moment: datetime) -> datetime:
    """moto keeps a version's time without its zone: UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
