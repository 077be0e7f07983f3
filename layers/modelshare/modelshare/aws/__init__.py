"""boto3 adapters for the domain ports, and the client they all use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from modelshare.ports import ApiThrottled

if TYPE_CHECKING:  # the service stubs are development dependencies, never in the layer
    from botocore.awsrequest import AWSResponse
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ram import RAMClient
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

# The services modelshare calls. STS (one call: which account is this) and Organizations (one:
# which organization) have no stubs installed, so their clients stay untyped.
type Service = Literal["dynamodb", "organizations", "ram", "sagemaker", "sqs", "ssm", "sts"]

# botocore's adaptive retry mode: standard's backoff with jitter on throttling and 5xx, plus a
# client-side rate limiter that slows the client down while AWS throttles it.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, user_agent_extra="modelshare")
# What botocore's retry modes call throttling (their own list of error codes), so a throttle
# that outlived the retries is recognised exactly as the retries recognised it.
_THROTTLED = ThrottledRetryableChecker()


@overload
def client(session: boto3.session.Session, service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def client(session: boto3.session.Session, service: Literal["ram"]) -> RAMClient: ...
@overload
def client(session: boto3.session.Session, service: Literal["sagemaker"]) -> SageMakerClient: ...
@overload
def client(session: boto3.session.Session, service: Literal["sqs"]) -> SQSClient: ...
@overload
def client(session: boto3.session.Session, service: Literal["ssm"]) -> SSMClient: ...
@overload
def client(session: boto3.session.Session, service: Literal["sts"]) -> Any: ...
@overload
def client(session: boto3.session.Session, service: Literal["organizations"]) -> Any: ...
def client(session: boto3.session.Session, service: Service) -> Any:
    """A client of `service` with modelshare's retry configuration. A call AWS still throttles
    once botocore's retries are spent raises `ApiThrottled`, so the domain can back off."""
    made = session.client(service, config=CLIENT_CONFIG)
    made.meta.events.register(f"after-call.{made.meta.service_model.service_id.hyphenize()}", _raise_throttled)
    return made


def _raise_throttled(http_response: AWSResponse, parsed: dict[str, Any], model: OperationModel, **_: Any) -> None:
    if http_response.status_code >= 400 and _THROTTLED.is_retryable(
            RetryContext(attempt_number=1, operation_model=model, parsed_response=parsed, http_response=http_response)):
        error = parsed["Error"]
        raise ApiThrottled(f"{model.name}: {error.get('Code')} after retries: {error.get('Message', '')}")


def account_id(session: boto3.session.Session) -> str:
    return str(client(session, "sts").get_caller_identity()["Account"])
