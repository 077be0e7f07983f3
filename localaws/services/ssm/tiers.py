"""Parameter Store's tiers: the largest value each takes, which moto does not check."""

from __future__ import annotations

from typing import Any

from moto.ssm.models import ssm_backends

from localaws.core.errors import AwsError

# Parameter Store's value limits per tier (docs/aws-behaviour.md, SSM-TIER); moto does not check them.
_PARAMETER_LIMITS = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}


def check_parameter_size(account: str, region: str, params: dict[str, Any]) -> None:
    """A value too large for its tier is refused. Without `Tier`, an update keeps an advanced
    parameter advanced and anything else is standard (the account's default tier)."""
    tier = params.get("Tier")
    if tier is None:
        # moto keys parameters by name without the leading "/".
        existing = ssm_backends[account][region]._parameters.get(str(params.get("Name", "")).lstrip("/"))
        tier = existing[-1].tier if existing else "Standard"
    limit = _PARAMETER_LIMITS.get(str(tier), 4096)
    if len(str(params.get("Value", ""))) > limit:
        raise AwsError("ValidationException",
                       f"{tier} tier parameters support a maximum parameter value of {limit} characters. To create a "
                       "larger parameter value, upgrade the parameter to use the advanced-parameter tier.")
