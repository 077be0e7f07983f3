"""`make aws-smoke`'s first step: the two sandbox profiles resolve to credentials that AWS accepts,
in two different accounts, or one line says which does not (exit 2), before pytest starts.

    python -m tests.smoke.preflight
"""

from __future__ import annotations

import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

OWNER_PROFILE = "MODELSHARE_SMOKE_OWNER_PROFILE"
CONSUMER_PROFILE = "MODELSHARE_SMOKE_CONSUMER_PROFILE"
REGION_ENV = "MODELSHARE_SMOKE_REGION"
DEFAULT_REGION = "eu-west-1"


class PreflightError(Exception):
    pass


def account_of(variable: str, region: str) -> str:
    """The account the profile named by `variable` signs in to (STS GetCallerIdentity)."""
    profile = os.environ.get(variable, "")
    if not profile:
        raise PreflightError(f"set {OWNER_PROFILE} and {CONSUMER_PROFILE} (and {REGION_ENV}) to two sandbox accounts")
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        if session.get_credentials() is None:
            raise PreflightError(f"{variable}={profile}: the profile has no credentials")
        return str(session.client("sts").get_caller_identity()["Account"])
    except ClientError as error:
        info = error.response.get("Error", {})
        raise PreflightError(f"{variable}={profile}: {info.get('Code', 'error')}: {info.get('Message', error)}") from None
    except BotoCoreError as error:  # unknown profile, expired SSO token, no region, unreachable
        raise PreflightError(f"{variable}={profile}: {error}") from None


def main() -> int:
    region = os.environ.get(REGION_ENV) or DEFAULT_REGION
    try:
        owner = account_of(OWNER_PROFILE, region)
        consumer = account_of(CONSUMER_PROFILE, region)
        if owner == consumer:
            raise PreflightError(f"{OWNER_PROFILE} and {CONSUMER_PROFILE} are both account {owner}: "
                                 "the smoke test needs two accounts")
    except PreflightError as error:
        print(f"make aws-smoke: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
