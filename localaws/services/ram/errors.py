"""RAM's errors: the error type, which code says why a share cannot be changed (per operation,
as each documents them), and the checks of an ARN's format that every operation makes first."""

from __future__ import annotations

from localaws.core.errors import AwsError
from localaws.services.registry_state import SHARE_ARN

# Why a share cannot be changed -> the error: as Associate/Disassociate document them, and as
# TagResource documents them (it lists neither OperationNotPermitted nor InvalidStateTransition).
CHANGE_ERRORS = {"from-policy": "OperationNotPermittedException", "promoting": "InvalidStateTransitionException",
                 "inactive": "InvalidStateTransitionException"}
PERMISSION_CHANGE_ERRORS = {"from-policy": "OperationNotPermittedException", "promoting": "OperationNotPermittedException",
                            "inactive": "UnknownResourceException"}
TAG_ERRORS = {"from-policy": "InvalidParameterException", "promoting": "InvalidParameterException",
              "inactive": "UnknownResourceException"}


def error(code: str, message: str) -> AwsError:
    return AwsError(code, message)


def check_share_arn(arn: str) -> None:
    if SHARE_ARN.fullmatch(arn) is None:
        raise error("MalformedArnException", f"The format of ARN {arn} is not valid.")
