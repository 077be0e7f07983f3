"""Builds the domain services from boto3 adapters: the composition root every function uses."""

from __future__ import annotations

import boto3

from modelshare.aws import account_id, allowlist_parameter_name
from modelshare.aws.allowlist_store import SsmAllowlistSource
from modelshare.aws.ram import RamShares
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.consumer import ConsumerService
from modelshare.owner import OwnerService


def owner_service(session: boto3.session.Session) -> OwnerService:
    return OwnerService(
        account=account_id(session),
        registry=SageMakerRegistry(session),
        shares=RamShares(session),
        allowlist_source=SsmAllowlistSource(session, allowlist_parameter_name()),
    )


def consumer_service(session: boto3.session.Session) -> ConsumerService:
    return ConsumerService(
        account=account_id(session),
        shares=RamShares(session),
        allowlist_source=SsmAllowlistSource(session, allowlist_parameter_name()),
    )
