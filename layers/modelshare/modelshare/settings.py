"""A function's settings: the MODELSHARE_* environment variables the template sets, read and
checked once, at cold start (when a handler module is imported), so a stack with a missing or
invalid setting fails there, saying which variable is wrong and what it may be, instead of at
some later event. Reading them makes no AWS call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from modelshare.allowlist import SHARING_MODES
from modelshare.org_principals import parse_org_path
from modelshare.quota_budget import QuotaLimits, QuotaLimitsError

ALLOWLIST_PARAMETER_ENV = "MODELSHARE_ALLOWLIST_PARAMETER"
ALLOWLIST_PATH_ENV = "MODELSHARE_ALLOWLIST_PATH"
DRY_RUN_ENV = "MODELSHARE_DRY_RUN"
SWEEP_QUEUE_URL_ENV = "MODELSHARE_SWEEP_QUEUE_URL"
LEDGER_TABLE_ENV = "MODELSHARE_LEDGER_TABLE"
# The account's RAM quotas where raised above RAM's defaults (the stack's RamQuotas parameter).
RAM_QUOTAS_ENV = "MODELSHARE_RAM_QUOTAS"
SHARING_MODE_ENV = "MODELSHARE_SHARING_MODE"
# The consumer account's OU path, `o-…/r-…/ou-…/` (the stack's OrganizationPath): a member
# account cannot read its own OU (docs/security.md, "Organization and OU consumers (shares mode)").
ORGANIZATION_PATH_ENV = "MODELSHARE_ORGANIZATION_PATH"
# The ledger's table when nothing names it: the stack's (`<stack>-ownership`) for the default
# stack name, modelshare.
DEFAULT_LEDGER_TABLE = "modelshare-ownership"
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_BOOLEANS = {"true": True, "false": False}


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names the variable and what it may be."""


@dataclass(frozen=True)
class AllowlistLocation:
    """Where the allowlist is: one parameter (its name or ARN), or (path mode) the parts
    directly under a path. Exactly one of the two is set."""

    parameter: str = ""
    path: str = ""


@dataclass(frozen=True)
class Settings:
    """A function's settings, from its environment (`from_environment`), checked at cold start."""

    allowlist: AllowlistLocation
    # Every write recorded in a plan and logged instead of made (the stack's DryRun parameter).
    dry_run: bool = False
    # The owner sweep's work queue (SweepQueue); unset: the sweep converges every group in one run.
    sweep_queue_url: str | None = None
    # The ownership ledger's DynamoDB table (the owner side's proof of what it made); the owner
    # functions need it (wiring.owner_services refuses to start without it).
    ledger_table: str | None = None
    # RAM's quotas as this account has them (RAM's defaults unless raised): the sweep waits for
    # room under a full Region quota instead of trying, and reports each quota's use.
    ram_quotas: QuotaLimits = field(default_factory=QuotaLimits)
    # How an owner the allowlist's `modes` does not name shares (the stack's SharingMode).
    sharing_mode: str = "policy"
    # The account's OU path (the consumer's re-check of groups given to OUs); None: no OU.
    organization_path: str | None = None

    @staticmethod
    def sharing_mode_of(environ: Mapping[str, str]) -> str:
        """The stack's SharingMode as the environment says it (policy when unset)."""
        return _sharing_mode(environ)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in `environ` (the process environment by default); SettingsError when
        one is missing or invalid."""
        env = os.environ if environ is None else environ
        return cls(allowlist=_allowlist_location(env), dry_run=_boolean(env, DRY_RUN_ENV),
                   sweep_queue_url=_queue_url(env), ledger_table=_ledger_table(env), ram_quotas=_ram_quotas(env),
                   sharing_mode=_sharing_mode(env), organization_path=_organization_path(env))


def _allowlist_location(env: Mapping[str, str]) -> AllowlistLocation:
    parameter = env.get(ALLOWLIST_PARAMETER_ENV, "").strip()
    path = env.get(ALLOWLIST_PATH_ENV, "").strip()
    if bool(parameter) == bool(path):
        given = "both are set" if parameter else "neither is set"
        raise SettingsError(f"set exactly one of {ALLOWLIST_PARAMETER_ENV} (the allowlist parameter's name or ARN) and "
                            f"{ALLOWLIST_PATH_ENV} (path mode: the path its parts are under); {given}")
    if path and (not path.startswith("/") or not path.strip("/")):
        raise SettingsError(f"{ALLOWLIST_PATH_ENV} is {path!r}: it must start with '/' and name a level below the root, "
                            "such as /modelshare/allowlist")
    # GetParametersByPath and the change events name the path without its trailing '/'.
    return AllowlistLocation(parameter=parameter, path=path.rstrip("/"))


def _boolean(env: Mapping[str, str], name: str) -> bool:
    """Unset or empty is false; otherwise "true" or "false", in any case."""
    value = env.get(name, "").strip()
    if not value:
        return False
    if value.lower() not in _BOOLEANS:
        raise SettingsError(f"{name} is {value!r}: it must be 'true' or 'false'")
    return _BOOLEANS[value.lower()]


def _organization_path(env: Mapping[str, str]) -> str | None:
    value = env.get(ORGANIZATION_PATH_ENV, "")
    if not value:
        return None
    if parse_org_path(value) is None:
        raise SettingsError(f"{ORGANIZATION_PATH_ENV} must be an OU path o-.../r-.../ou-.../ (as aws:PrincipalOrgPaths "
                            f"spells it), not {value!r}")
    return value


def _sharing_mode(env: Mapping[str, str]) -> str:
    """Unset or empty is policy (the mode before issue 20); else policy or shares, as written."""
    mode = env.get(SHARING_MODE_ENV, "").strip()
    if not mode:
        return "policy"
    if mode not in SHARING_MODES:
        raise SettingsError(f"{SHARING_MODE_ENV} is {mode!r}: it must be {' or '.join(repr(m) for m in SHARING_MODES)}")
    return mode


def _ledger_table(env: Mapping[str, str]) -> str | None:
    table = env.get(LEDGER_TABLE_ENV, "").strip()
    if table and not _TABLE_NAME.fullmatch(table):
        raise SettingsError(f"{LEDGER_TABLE_ENV} is {table!r}: it must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)")
    return table or None


def _queue_url(env: Mapping[str, str]) -> str | None:
    url = env.get(SWEEP_QUEUE_URL_ENV, "").strip()
    if not url:
        return None
    if not url.startswith(("https://", "http://")):
        raise SettingsError(f"{SWEEP_QUEUE_URL_ENV} is {url!r}: it must be the queue's URL (https://sqs....)")
    return url


def _ram_quotas(env: Mapping[str, str]) -> QuotaLimits:
    try:
        return QuotaLimits.parse(env.get(RAM_QUOTAS_ENV, ""))
    except QuotaLimitsError as error:
        raise SettingsError(f"{RAM_QUOTAS_ENV}: {error} (name=value,... such as principal_associations=50000)") from None
