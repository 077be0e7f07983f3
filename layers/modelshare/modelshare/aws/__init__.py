"""boto3 adapters for the domain ports, and the wiring that builds the services from them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3
from botocore.config import Config

# botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="modelshare")

ALLOWLIST_PARAMETER_ENV = "MODELSHARE_ALLOWLIST_PARAMETER"
ALLOWLIST_PATH_ENV = "MODELSHARE_ALLOWLIST_PATH"


@dataclass(frozen=True)
class AllowlistLocation:
    """Where the allowlist is: one parameter, or (path mode) the parts under a path."""

    parameter: str = ""
    path: str = ""


def allowlist_location() -> AllowlistLocation:
    """Exactly one of MODELSHARE_ALLOWLIST_PARAMETER and MODELSHARE_ALLOWLIST_PATH names it."""
    parameter = os.environ.get(ALLOWLIST_PARAMETER_ENV, "")
    path = os.environ.get(ALLOWLIST_PATH_ENV, "").rstrip("/")
    if bool(parameter) == bool(path):
        raise RuntimeError(f"set exactly one of {ALLOWLIST_PARAMETER_ENV} and {ALLOWLIST_PATH_ENV}")
    return AllowlistLocation(parameter, path)


def account_id(session: boto3.session.Session) -> str:
    return session.client("sts", config=CLIENT_CONFIG).get_caller_identity()["Account"]
