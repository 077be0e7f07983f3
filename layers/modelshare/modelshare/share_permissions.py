"""The managed permission of an action set, for the shares mode (issue 20): found by its actions
(GetPermission's document), never by its name: an AWS managed one, else the customer managed one
modelshare made for the set (recorded in its ledger before it was created), created when
missing. Kept per execution environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from modelshare.observability import count, logger
from modelshare.permission_names import group_type, permission_name
from modelshare.ports import (
    ATTACHABLE,
    OwnershipLedger,
    PermissionNameTaken,
    ResourceTypeUnknown,
    SharePermission,
)
from modelshare.ram_ports import OwnerShareReads, OwnerShareWrites

# Waits for a customer managed permission modelshare just created to become attachable.
PERMISSION_WAIT_SECONDS: Sequence[float] = (1, 2, 4)


@dataclass
class SharePermissions:
    account: str
    shares: OwnerShareReads
    share_writes: OwnerShareWrites
    ledger: OwnershipLedger
    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    permission_wait: Sequence[float] = field(default=PERMISSION_WAIT_SECONDS)
    # Per execution environment: the permission granting each action set (found by its actions).
    _found: dict[frozenset[str], str] = field(default_factory=dict, init=False, repr=False)

    def trusted(self, permission_arn: str) -> bool:
        """AWS managed, or a customer managed permission of this account the ledger records."""
        parts = permission_arn.split(":", 5)
        if len(parts) != 6:
            return False
        if parts[4] == "aws":
            return True
        return parts[4] == self.account and parts[5].removeprefix("permission/") in self.ledger.permissions()

    def take_off_other_types(self, share_arn: str) -> tuple[SharePermission, ...] | None:
        """For one of modelshare's own shares (the caller proves it by the ledger) holding more
        than one permission (RAM holds one per resource type: a person attached one for another
        type): take every permission that is not for model package groups off it, which only
        narrows what the share grants. The permissions it keeps, or None when it cannot be
        brought to one: RAM refused (it holds a resource of that type, which the sweep takes out,
        so a later run tries again), or not exactly one is for model package groups. None means
        the share offers nothing (fail closed)."""
        try:
            resource_type = group_type(self.shares).lower()
            held = self.shares.permissions(share_arn)
        except Exception as error:  # unread: cannot be judged
            logger.warning("The permissions of modelshare's share could not be read", extra={
                "share": share_arn, "reason": f"{type(error).__name__}: {error}"})
            return None
        ours = [p for p in held if p.resource_type.lower() == resource_type]
        if len(ours) != 1:
            return None
        for other in (p for p in held if p is not ours[0]):
            try:
                self.share_writes.disassociate_permission(share_arn, other.arn)
            except Exception as error:  # refused or failed: the share offers nothing this run
                logger.warning("A permission for another resource type on modelshare's share could not be taken off",
                               extra={"share": share_arn, "permission": other.arn,
                                      "reason": f"{type(error).__name__}: {error}"})
                count("SharePermissionKept")
                return None
            logger.warning("Took a permission for another resource type off modelshare's share",
                           extra={"share": share_arn, "permission": other.arn, "resource_type": other.resource_type})
            count("ShareActionsChanged")
        return tuple(ours)

    def for_actions(self, actions: Sequence[str], *, create: bool = True) -> str | None:
        """The attachable managed permission granting exactly `actions`: an AWS managed one,
        else the customer managed one modelshare made for the set (recorded in its ledger),
        created when missing. Found by its actions, never by its name; kept per execution
        environment. None while none is attachable."""
        wanted = frozenset(a.lower() for a in actions)
        if wanted in self._found:
            return self._found[wanted]
        try:
            resource_type = group_type(self.shares)
        except ResourceTypeUnknown:
            return None  # no permission is looked up or made: the share offers nothing (fail closed)
        found = self._attachable(wanted, resource_type)
        if found is None and create:
            found = self._create_permission(wanted, resource_type)
        if found is not None:
            self._found[wanted] = found
        return found

    def _attachable(self, wanted: frozenset[str], resource_type: str) -> str | None:
        ours = self.ledger.permissions()
        for permission in self.shares.managed_permissions(resource_type):
            parts = permission.arn.split(":", 5)
            aws_managed = len(parts) == 6 and parts[4] == "aws"
            made = permission.name in ours and (len(parts) != 6 or parts[4] == self.account)
            if permission.status == ATTACHABLE and (aws_managed or made) \
                    and self.shares.permission_actions(permission.arn) == wanted:
                return permission.arn
        return None

    def _create_permission(self, wanted: frozenset[str], resource_type: str) -> str | None:
        """Create the customer managed permission for the action set under its name (the
        readable one, else the digest one when a person took it), recorded in the ledger before it
        exists, and wait a moment for it to become attachable. A name in use is waited for only
        when modelshare made it with these very actions; one a person made first is theirs."""
        existing = {p.name: p for p in self.shares.customer_managed_permissions(resource_type)}
        ours = self.ledger.permissions()
        for name in dict.fromkeys((permission_name(wanted), permission_name(wanted, digest=True))):
            if name in existing:
                if name not in ours or self.shares.permission_actions(existing[name].arn) != wanted:
                    continue  # a person's, or for other actions: never given to a share
            else:
                self.ledger.record_permission(name)  # before it exists: a person can never make it first unrecorded
                try:
                    self.share_writes.create_permission(name, resource_type, sorted(wanted))
                    logger.info("Created a permission for the shares mode", extra={"permission": name})
                    count("PermissionsCreated")
                except PermissionNameTaken:
                    pass  # made meanwhile: by a run beside this one (then waited for) or a person (never attachable here)
            for wait in self.permission_wait:
                found = self._attachable(wanted, resource_type)
                if found is not None:
                    return found
                self.sleep(wait)
            return self._attachable(wanted, resource_type)
        logger.warning("No permission for these actions: both of modelshare's names are taken",
                       extra={"actions": sorted(wanted)})
        return None
