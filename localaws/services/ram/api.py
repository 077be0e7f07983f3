"""Emulated AWS RAM (rest-json protocol), owner and consumer sides, for model package groups.

The API is three groups of operations (shares.py, permissions.py, consumer.py) over one state
machine (state.py) that changes RAM's data model (model.py). AWS's own asynchronous work
(creating a share from a policy, finishing a promotion, expiring an invitation) runs as internal
tasks on the SimClock. Each behaviour follows the RAM API reference (botocore's `ram` model
documentation) and the RAM user guide, as listed in docs/aws-behaviour.md; where AWS does not
document it, the stricter reading is taken and the place says so.
"""

from __future__ import annotations

from typing import Any

from localaws.core.clock import SimClock
from localaws.services.ram import conditions
from localaws.services.ram.consumer import ConsumerOperations
from localaws.services.ram.permissions import PermissionOperations
from localaws.services.ram.shares import ShareOperations
from localaws.services.ram.state import DependentCheck, Emit, ManagedPermissionTable, RamStateMachine
from localaws.services.registry_state import AWS_MANAGED_GROUP_PERMISSIONS, Group, RegistryState

__all__ = ["ManagedPermissionTable", "Ram"]


class Ram:
    """RAM as the other services and the cloud see it: its operations, what SageMaker tells it,
    what IAM asks of it, and the quota use `modelshare simulate` reports."""

    def __init__(self, state: RegistryState, clock: SimClock, emit: Emit, *,
                 promotion_delay_seconds: float, invitation_ttl_seconds: float,
                 aws_managed_permissions: ManagedPermissionTable = AWS_MANAGED_GROUP_PERMISSIONS,
                 share_from_policy_event: bool = False) -> None:
        self.machine = RamStateMachine(state, clock, emit, promotion_delay_seconds=promotion_delay_seconds,
                                       invitation_ttl_seconds=invitation_ttl_seconds,
                                       aws_managed_permissions=aws_managed_permissions,
                                       share_from_policy_event=share_from_policy_event)
        self.state = state
        self.operations = (ShareOperations(self.machine), PermissionOperations(self.machine),
                           ConsumerOperations(self.machine))

    @property
    def authorize_dependent(self) -> DependentCheck:
        """The IAM check of the calling function for a dependent action (set by LocalCloud)."""
        return self.machine.authorize_dependent

    @authorize_dependent.setter
    def authorize_dependent(self, check: DependentCheck) -> None:
        self.machine.authorize_dependent = check

    # -- what SageMaker tells RAM (run as clock tasks) -------------------------------------------
    def sync_share_from_policy(self, group: Group) -> None:
        self.machine.sync_share_from_policy(group)

    def on_group_deleted(self, group: Group) -> None:
        self.machine.on_group_deleted(group)

    # -- what the cloud and the reports read -----------------------------------------------------
    def usage(self, account: str, region: str) -> dict[str, int]:
        """What the account uses of RAM's quotas (for `modelshare simulate`'s report)."""
        return self.machine.usage(account, region)

    def condition_context(self, account: str, region: str, params: dict[str, Any]) -> dict[str, list[str]]:
        return conditions.condition_context(self.state, account, region, params)

    def member_contexts(self, account: str, region: str, params: dict[str, Any]) -> list[dict[str, list[str]]]:
        return conditions.member_contexts(self.state, account, region, params)
