"""Who calls the local AWS and what it recorded: the keys each account's callers sign with, and
one record per API call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiCall:
    """One recorded API call: who called what, with which parameters, and how it ended."""

    time: str
    account: str
    region: str
    service: str
    operation: str
    params: dict[str, Any]
    error_code: str | None
    # The function (template logical ID) whose invocation made the call; None for people and tests.
    caller: str | None = None
    # Which invocation (and attempt) made it: "<request id>#<attempt>"; None for people and tests.
    invocation: str | None = None
    # A fault localaws/runtime/chaos.py injected: the call failed before AWS applied it, or after.
    injected: bool = False


CallObserver = Callable[[ApiCall, dict[str, Any]], None]
"""Told of every call AWS applied (its answer may still be an injected error), with its output."""


EventListener = Callable[[str, str, dict[str, Any]], None]
"""Receives (account, region, EventBridge event) for every event emitted on a default bus."""


@dataclass
class Accounts:
    by_access_key: dict[str, str] = field(default_factory=dict)
    # The keys of the role a person uses in each account (iam.PERSON), governed by its policy.
    by_person_key: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def access_key_for(account: str) -> str:
        return f"AKIALOCAL{account}"

    @staticmethod
    def person_key_for(account: str) -> str:
        return f"ASIAPERSON{account}"
