"""What every RAM operation does with its request: the names and tags it accepts, paging, and
idempotency by client token."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from localaws.services.ram.errors import error
from localaws.services.registry_state import RegistryState, page

ANY_ARN = re.compile(r"arn:aws[a-z\-]*:[a-z0-9\-]+:[a-z0-9\-]*:([0-9]{12}|aws)?:.+")
PERMISSION_NAME = re.compile(r"[A-Za-z0-9_\-]{1,36}")
SHARE_NAME = re.compile(r".{1,255}", re.DOTALL)
TAG_KEY = re.compile(r"[\w.:/=+\-@ ]{1,128}")
# UNVERIFIED: RAM's default page size is operation specific; a small one makes callers page.
DEFAULT_MAX_RESULTS = 10


def page_of(items: list[Any], scope: str, params: dict[str, Any]) -> tuple[list[Any], str | None]:
    return page(items, scope=scope, token=params.get("nextToken"), max_results=params.get("maxResults"),
                default_max=DEFAULT_MAX_RESULTS,
                invalid_token=lambda: error("InvalidNextTokenException", "The specified value for nextToken is not valid."))


def idempotent(state: RegistryState, account: str, operation: str, params: dict[str, Any],
               run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    token = params.get("clientToken")
    if token is None:
        return run()
    key = (account, operation, token)
    fingerprint = json.dumps({k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True, default=str)
    if key in state.idempotency:
        seen, response = state.idempotency[key]
        if seen != fingerprint:
            raise error("IdempotentParameterMismatchException",
                        f"The client token {token} was already used with different parameters.")
        return response
    response = run()
    state.idempotency[key] = (fingerprint, response)
    return response


def check_tags(state: RegistryState, tags: list[dict[str, str]], existing: dict[str, str]) -> dict[str, str]:
    found = {}
    for tag in tags:
        key = tag.get("key", "")
        if not TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
            raise error("InvalidParameterException", f"Tag key {key!r} is not valid.")
        found[key] = tag.get("value", "")
    if len({**existing, **found}) > state.quotas.tags_per_resource:
        raise error("TagLimitExceededException",
                    f"A resource can have at most {state.quotas.tags_per_resource} tags.")
    return found
