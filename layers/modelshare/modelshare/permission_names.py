"""The names and the resource type modelshare's customer managed permissions are made under:
one permission per action set (both modes: modelshare.owner.permissions, share_permissions)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from modelshare.allowlist import access_levels_for
from modelshare.observability import count, logger
from modelshare.ports import ResourceTypeUnknown
from modelshare.ram_ports import OwnerShareReads

PERMISSION_NAME_PREFIX = "modelshare-"


def group_type(shares: OwnerShareReads) -> str:
    """RAM's spelling of a model package group's resource type (docs/aws-behaviour.md, RAM-TYPE);
    when RAM names none, says so loudly and raises ResourceTypeUnknown (fail closed)."""
    try:
        return shares.model_package_group_type()
    except ResourceTypeUnknown as unknown:
        logger.error("RAM names no resource type for model package groups: no permission is made",
                     extra={"reason": str(unknown)})
        count("ResourceTypeUnknown")
        raise


def permission_name(actions: Iterable[str], *, digest: bool = False) -> str:
    """The name of the customer managed permission for an action set: one per set, so every
    group granted the same actions shares it. Named after the allowlist's access levels when the
    actions are exactly theirs (modelshare-discover-register), else (or with `digest`) after a
    digest of the actions."""
    levels = None if digest else access_levels_for(actions)
    if levels is not None:
        return PERMISSION_NAME_PREFIX + "-".join(levels)
    actions_digest = hashlib.sha256(",".join(sorted({a.lower() for a in actions})).encode()).hexdigest()[:16]
    return f"{PERMISSION_NAME_PREFIX}{actions_digest}"
