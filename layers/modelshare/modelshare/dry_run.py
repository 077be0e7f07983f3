"""Dry run: the real adapters for every read, a recorder for every write.

Replacing the write ports (rather than sprinkling `if dry_run` through the domain) means a dry
run takes exactly the decisions a real run takes, and its plan is the list of writes it would
have made. What the run would have made is read back by the same run (`PlannedShareReads`, the
ledger's records), so it goes on as a real one would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from modelshare import policy as policies
from modelshare.observability import logger
from modelshare.ports import (
    ATTACHABLE,
    STANDARD,
    LedgerContents,
    ManagedPermission,
    Ownership,
    OwnershipLedger,
    ResourceShare,
)
from modelshare.ram_ports import OwnerShareReads
from modelshare.version_ports import Forward

# What a permission a dry run would create is called until RAM gives it an ARN.
_PLANNED_PERMISSION = "(planned) permission/"
# And a share it would make.
_PLANNED_SHARE = "(planned) resource-share/"
# The owner's RAM reads, which PlannedShareReads passes to the adapter.
_SHARE_READS = frozenset(name for name in dir(OwnerShareReads) if not name.startswith("_"))


@dataclass(frozen=True)
class PlannedWrite:
    action: str
    target: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.target}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Plan:
    writes: list[PlannedWrite] = field(default_factory=list)

    def start(self) -> None:
        """A new invocation: forget the previous one's writes."""
        self.writes.clear()

    def record(self, action: str, target: str, detail: str = "") -> None:
        write = PlannedWrite(action, target, detail)
        self.writes.append(write)
        logger.info("Dry run: would write", extra={"action": action, "target": target, "detail": detail})


class DryRunRegistryWrites:
    """A group's policy writes, planned."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan

    def put_policy(self, group_name: str, policy: dict[str, Any]) -> None:
        accounts = sorted({a for s in policies.statements(policy) for p in policies.principals_of(s)
                           if (a := policies.account_of(p))})
        self._plan.record("put-policy", group_name, f"principals {', '.join(accounts) or 'none'}")

    def delete_policy(self, group_name: str) -> None:
        self._plan.record("delete-policy", group_name)


class DryRunShareWrites:
    """The owner's RAM writes, planned; what they would have made is kept for the reads
    (PlannedShareReads)."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        # Shares this run would have promoted: read back as promoted, so the run goes on as a
        # real one would (checking their consumers once promoted).
        self.promoted: set[str] = set()
        # Permissions this run would have created: ARN (a placeholder) -> actions.
        self.created: dict[str, frozenset[str]] = {}
        # Shares this run would have made (the shares mode), read back as made.
        self.made: dict[str, ResourceShare] = {}

    def promote_permission(self, permission_arn: str, name: str) -> None:
        self._plan.record("promote-permission", permission_arn, f"as {name}")

    def create_permission(self, name: str, resource_type: str, actions: Sequence[str]) -> None:
        self._plan.record("create-permission", name, ", ".join(actions))
        self.created[f"{_PLANNED_PERMISSION}{name}"] = frozenset(a.lower() for a in actions)

    def create_share(self, name: str, permission_arn: str, client_token: str) -> ResourceShare:
        self._plan.record("create-share", name, f"with {permission_arn}")
        # Read back as made, empty, so the run goes on as a real one would (it adds nothing to
        # a share that does not exist: each addition is planned too).
        share = self.made[f"{_PLANNED_SHARE}{name}"] = ResourceShare(f"{_PLANNED_SHARE}{name}", name, STANDARD, "ACTIVE")
        return share

    def associate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        self._plan.record("add-resources", share_arn, ", ".join(resource_arns))

    def replace_permission(self, share_arn: str, permission_arn: str) -> None:
        self._plan.record("replace-permission", share_arn, f"with {permission_arn}")

    def disassociate_permission(self, share_arn: str, permission_arn: str) -> None:
        self._plan.record("take-off-permission", share_arn, permission_arn)

    def promote_share(self, share_arn: str) -> bool:
        self._plan.record("promote-share", share_arn)
        self.promoted.add(share_arn)
        return True

    def associate_principals(self, share_arn: str, principals: list[str]) -> None:
        self._plan.record("add-consumers", share_arn, ", ".join(principals))

    def disassociate_principals(self, share_arn: str, principals: list[str]) -> None:
        self._plan.record("remove-consumers", share_arn, ", ".join(principals))

    def delete_share(self, share_arn: str) -> None:
        self._plan.record("delete-share", share_arn)

    def disassociate_resources(self, share_arn: str, resource_arns: list[str]) -> None:
        self._plan.record("remove-resources", share_arn, ", ".join(resource_arns))


class PlannedShareReads:
    """The owner's RAM reads with the writes a dry run planned read back: its promoted shares as
    promoted, its made shares as made, its created permissions as attachable. Every other read
    is the adapter's own, unchanged."""

    def __init__(self, inner: OwnerShareReads, writes: DryRunShareWrites) -> None:
        self._inner = inner
        self._writes = writes

    def __getattr__(self, name: str) -> Any:
        # Only the reads the plan does not change get here (those it changes are defined below);
        # never a write, even of an adapter that has both.
        if name not in _SHARE_READS:
            raise AttributeError(f"{type(self).__name__} has no {name!r}: not a read of OwnerShareReads")
        return getattr(self._inner, name)

    def shares_by_arn(self, share_arns: Sequence[str]) -> list[ResourceShare]:
        made, promoted = self._writes.made, self._writes.promoted
        planned = [made[arn] for arn in dict.fromkeys(share_arns) if arn in made]
        return [replace(s, feature_set=STANDARD) if s.arn in promoted else s
                for s in self._inner.shares_by_arn([a for a in share_arns if a not in made])] + planned

    def permission_actions(self, permission_arn: str) -> frozenset[str]:
        if permission_arn in self._writes.created:
            return self._writes.created[permission_arn]
        return self._inner.permission_actions(permission_arn)

    def managed_permissions(self, resource_type: str) -> list[ManagedPermission]:
        # Permissions this run would have created read back as attachable, so it goes on as a
        # real one would (and never waits for them).
        planned = [ManagedPermission(arn, arn.rpartition("/")[2], ATTACHABLE) for arn in self._writes.created]
        return self._inner.managed_permissions(resource_type) + planned


class DryRunConsumerWrites:
    """The consumer's one write, planned."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan

    def accept(self, invitation_arn: str) -> bool:
        self._plan.record("accept-invitation", invitation_arn)
        return True


class DryRunLedger:
    """The ledger's records a dry run would write are planned, and read back by the same run, so
    it goes on as a real one would."""

    def __init__(self, inner: OwnershipLedger, plan: Plan) -> None:
        self._inner = inner
        self._plan = plan
        self._shares: dict[str, set[str]] = {}
        self._statements: dict[str, set[str]] = {}
        self._permissions: set[str] = set()
        self._made: dict[str, str] = {}
        self._unmade: set[str] = set()
        self._full_quota: tuple[str | None] | None = None  # planned: (quota or None,)

    def everything(self) -> LedgerContents:
        found = self._inner.everything()
        made = {arn: name for arn, name in {**found.made_shares, **self._made}.items() if arn not in self._unmade}
        return LedgerContents({arn: self._with_planned(arn, found.get(arn)) for arn in {*found, *self._shares, *self._statements}},
                              made, found.full_quota if self._full_quota is None else self._full_quota[0])

    def of_groups(self, group_arns: Sequence[str]) -> dict[str, Ownership]:
        found = self._inner.of_groups(group_arns)
        return {arn: self._with_planned(arn, found.get(arn)) for arn in group_arns
                if arn in found or arn in self._shares or arn in self._statements}

    def _with_planned(self, group_arn: str, recorded: Ownership | None) -> Ownership:
        recorded = recorded or Ownership()
        return Ownership(recorded.shares | self._shares.get(group_arn, set()),
                         recorded.statements | self._statements.get(group_arn, set()))

    def record_share(self, group_arn: str, share_arn: str) -> None:
        self._plan.record("record-share", group_arn, share_arn)
        self._shares.setdefault(group_arn, set()).add(share_arn)

    def forget_share(self, group_arn: str, share_arn: str) -> None:
        self._plan.record("forget-share", group_arn, share_arn)

    def record_statement(self, group_arn: str, digest: str) -> None:
        self._plan.record("record-statement", group_arn, digest[:12])
        self._statements.setdefault(group_arn, set()).add(digest)

    def forget_statements(self, group_arn: str, digests: Sequence[str]) -> None:
        if digests:
            self._plan.record("forget-statements", group_arn, ", ".join(d[:12] for d in digests))

    def permissions(self) -> frozenset[str]:
        return self._inner.permissions() | self._permissions

    def record_permission(self, name: str) -> None:
        self._plan.record("record-permission", name)
        self._permissions.add(name)

    def made_shares(self) -> dict[str, str]:
        found = {**self._inner.made_shares(), **self._made}
        return {arn: name for arn, name in found.items() if arn not in self._unmade}

    def record_made_share(self, share_arn: str, name: str) -> None:
        self._plan.record("record-made-share", share_arn, name)
        self._made[share_arn] = name
        self._unmade.discard(share_arn)

    def forget_made_share(self, share_arn: str) -> None:
        self._plan.record("forget-made-share", share_arn)
        self._unmade.add(share_arn)

    def full_quota(self) -> str | None:
        return self._inner.full_quota() if self._full_quota is None else self._full_quota[0]

    def record_full_quota(self, quota: str) -> None:
        self._plan.record("record-full-quota", quota)
        self._full_quota = (quota,)

    def forget_full_quota(self) -> None:
        # Named, so `plan` never prints an empty target: the quota recorded (a read), else words.
        self._plan.record("forget-full-quota", self.full_quota() or "the Region quota recorded as full")
        self._full_quota = (None,)


class DryRunVersionBus:
    """The owner's version events, planned: one per consumer it would have been put on the bus of
    (docs/version-events.md); none fails."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan

    def put(self, forwards: list[Forward]) -> list[tuple[Forward, str]]:
        for forward in forwards:
            self._plan.record("send-version-event", forward.consumer,
                              f"{forward.detail_type} {forward.detail['modelPackageArn']}")
        return []


class DryRunBusPolicyWrites:
    """The consumer's version event bus policy changes, planned (its reads are the adapter's)."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan

    def admit(self, owner: str) -> None:
        self._plan.record("admit-owner", owner, "to the version event bus")

    def take_out(self, statement_id: str) -> None:
        self._plan.record("take-out-bus-statement", statement_id, "from the version event bus")


def with_plan(result: dict[str, Any], plan: Plan | None) -> dict[str, Any]:
    """`result`, plus the writes a dry run held back."""
    if plan is None:
        return result
    return {**result, "dry_run_plan": [str(write) for write in plan.writes]}
