"""boto3 adapters for the domain ports, and the wiring that builds the services from them."""

from __future__ import annotations

import os

import boto3
from botocore.config import Config

# botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="modelshare")

ALLOWLIST_PARAMETER_ENV = "MODELSHARE_ALLOWLIST_PARAMETER"


def allowlist_parameter_name() -> str:
    name = os.environ.get(ALLOWLIST_PARAMETER_ENV, "")
    if not name:
        raise RuntimeError(f"{ALLOWLIST_PARAMETER_ENV} is not set")
    return name


def account_id(session: boto3.session.Session) -> str:
    return session.client("sts", config=CLIENT_CONFIG).get_caller_identity()["Account"]
