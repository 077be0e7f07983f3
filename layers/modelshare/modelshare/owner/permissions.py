"""The managed permissions the policy mode gives modelshare's promoted shares: matched by their
actions, never by name; made (customer managed, one per action set, recorded in the ledger
before it exists) only when none grants exactly the allowlist's actions."""

from __future__ import annotations

from collections.abc import Sequence

from modelshare.observability import count, logger
from modelshare.owner.reads import actions_of, trusted
from modelshare.owner.run import Run
from modelshare.permission_names import group_type, permission_name
from modelshare.ports import (
    ATTACHABLE,
    CREATED_FROM_POLICY,
    CUSTOMER_MANAGED_PERMISSIONS_QUOTA,
    ManagedPermission,
    PermissionNameTaken,
    PromotionNotReady,
    PromotionRefused,
    RamQuotaReached,
    ResourceShare,
    ResourceTypeUnknown,
)


def ensure_permission(run: Run, share: ResourceShare) -> tuple[str, str]:
    """The customer managed permission for the actions of the share's CREATED_FROM_POLICY
    permission: promoted from it when missing, reused when it exists with those very actions.
    At most one per action set, whatever the number of groups (RAM allows 10 per resource
    type by default)."""
    shares = run.owner.shares
    for permission in shares.permissions(share.arn):
        if permission.feature_set != CREATED_FROM_POLICY:
            continue
        actions = shares.permission_actions(permission.arn)
        if not actions:
            raise PromotionRefused(f"RAM shows no actions in permission {permission.arn}")
        try:
            # RAM's spelling of the type every call naming one passes (docs/aws-behaviour.md,
            # RAM-TYPE); none named: no permission is looked up or made (fail closed).
            resource_type = group_type(shares)
            name, existing = permission_name_for(run, actions, resource_type)
        except (PermissionNameTaken, ResourceTypeUnknown) as refused:
            raise PromotionRefused(str(refused)) from None
        if name not in existing:
            _promote_permission(run, permission.arn, name, resource_type, len(existing))
        return name, resource_type
    raise PromotionNotReady(f"RAM matched no managed permission to share {share.arn}, and the share has no "
                            "permission of its own to promote; retry later")


def permission_name_for(run: Run, actions: frozenset[str],
                        resource_type: str) -> tuple[str, dict[str, ManagedPermission]]:
    """The name of the customer managed permission for these actions (one per action set),
    and the account's customer managed permissions: the readable name, or (taken for other
    actions: by a person, an older modelshare) the digest one. Raises PermissionNameTaken
    when both are taken for other actions."""
    existing = {p.name: p for p in run.owner.shares.customer_managed_permissions(resource_type)}
    names = dict.fromkeys((permission_name(actions), permission_name(actions, digest=True)))
    # A name in use is reused only for a permission modelshare made with these very actions:
    # one a person made first under modelshare's name is theirs, whatever it grants now.
    name = next((n for n in names if n not in existing
                 or (trusted(run, existing[n].arn) and actions_of(run, existing[n].arn) == actions)), None)
    if name is None:
        raise PermissionNameTaken(f"customer managed permissions {' and '.join(names)} exist, made by someone else "
                                  "or with other actions")
    return name, existing


def _promote_permission(run: Run, permission_arn: str, name: str, resource_type: str, owned: int) -> None:
    run.permission_names = None
    run.owner.ledger.record_permission(name)  # before it exists, as for the shares
    try:
        run.owner.share_writes.promote_permission(permission_arn, name)
    except PermissionNameTaken:
        return  # promoted meanwhile by another run: reuse it
    except PromotionRefused as refusal:
        # Which error RAM gives at its permission quota is UNVERIFIED (docs/aws-behaviour.md,
        # RAM-QUOTAS): a refusal with the account at the default quota is taken for it.
        if owned >= CUSTOMER_MANAGED_PERMISSIONS_QUOTA:
            raise RamQuotaReached("customer managed permissions per resource type",
                                  f"RAM refused ({refusal}) with {owned} customer managed permissions for "
                                  f"{resource_type}, its default quota", account_wide=False) from refusal
        raise
    logger.info("Promoted a permission, shared by every group with these actions",
                extra={"permission": name})
    count("PermissionsPromoted")


def permission_granting(run: Run, actions: Sequence[str], resource_type: str) -> str | None:
    """The ARN of an attachable managed permission granting exactly `actions`; creates the
    customer managed one when none exists, and waits a moment for it. None when it is not
    attachable yet."""
    shares = run.owner.shares
    wanted = frozenset(a.lower() for a in actions)

    def attachable() -> str | None:
        return next((p.arn for p in shares.managed_permissions(resource_type)
                     if p.status == ATTACHABLE and trusted(run, p.arn) and actions_of(run, p.arn) == wanted), None)

    found = attachable()
    if found is not None:
        return found
    name, existing = permission_name_for(run, wanted, resource_type)
    if name not in existing:
        run.permission_names = None  # read again: recorded now, and maybe by a run beside this one
        run.owner.ledger.record_permission(name)  # before it exists: a person can never make it first unrecorded
        run.owner.share_writes.create_permission(name, resource_type, sorted(actions))
        logger.info("Created a permission, shared by every group with these actions", extra={"permission": name})
        count("PermissionsCreated")
    return run.with_backoff(attachable)
