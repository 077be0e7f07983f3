"""The SageMaker model package group + AWS RAM emulator that LocalCloud routes requests to.

`handle` receives botocore input dicts and returns botocore output dicts; errors are `AwsError`.
Operations are implemented in services/sagemaker, services/ram and services/organizations over one
`RegistryState`.
Anything not implemented raises UnknownOperationException, so nothing silently passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import botocore.session

from localaws.core import wire
from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.services.organizations.api import Organizations
from localaws.services.ram.api import ManagedPermissionTable, Ram
from localaws.services.registry_state import AWS_MANAGED_GROUP_PERMISSIONS, GROUP_TYPE, RamQuotas, RegistryState
from localaws.services.sagemaker.api import SageMakerGroups
from localaws.services.sagemaker.packages import SageMakerPackages

Emit = Callable[[str, str, str, str, dict[str, Any], list[str]], None]
Fault = Callable[[str, str], None]
"""A fault hook: called with (account, operation) before every call; may raise AwsError."""

_models = botocore.session.get_session()


class _EmulatedService(Protocol):
    """A service (or one part of one) `handle` routes to: a method per operation it names in
    OPERATIONS, each taking (account, region, params) and returning the output dict."""

    OPERATIONS: frozenset[str]


class ModelRegistryEmulator:
    def __init__(
        self,
        clock: SimClock,
        emit: Emit,
        *,
        ram_share_delay_seconds: float = 20.0,
        promotion_delay_seconds: float = 5.0,
        invitation_ttl_seconds: float = 12 * 3600,
        quotas: RamQuotas | None = None,
        aws_managed_permissions: ManagedPermissionTable = AWS_MANAGED_GROUP_PERMISSIONS,
        group_type: str = GROUP_TYPE,
        share_from_policy_event: bool = False,
    ) -> None:
        self.clock = clock
        self.state = RegistryState(quotas=quotas or RamQuotas(), group_type=group_type)
        self.faults: list[Fault] = []
        self.ram = Ram(self.state, clock, emit,
                       promotion_delay_seconds=promotion_delay_seconds,
                       invitation_ttl_seconds=invitation_ttl_seconds,
                       aws_managed_permissions=aws_managed_permissions,
                       share_from_policy_event=share_from_policy_event)
        self.sagemaker = SageMakerGroups(self.state, clock, self.ram,
                                         ram_share_delay_seconds=ram_share_delay_seconds)
        self.packages = SageMakerPackages(self.state, clock, emit)
        self.organizations = Organizations(self.state)
        self._services: dict[str, tuple[_EmulatedService, ...]] = {
            "sagemaker": (self.sagemaker, self.packages), "ram": self.ram.operations, "organizations": (self.organizations,)}

    def add_other_resource(self, arn: str, resource_type: str) -> None:
        """Make a resource of a service localaws does not emulate shareable through RAM (as if
        its owner had created it), so a share can hold something other than model package groups."""
        self.state.other_resources[arn] = resource_type

    def handle(self, *, account: str, region: str, service: str, operation: str,
               params: dict[str, Any]) -> dict[str, Any]:
        for fault in self.faults:
            fault(account, operation)
        implementation = next((part for part in self._services.get(service, ()) if operation in part.OPERATIONS), None)
        method = getattr(implementation, operation, None) if implementation is not None else None
        if implementation is None or method is None:
            raise AwsError("UnknownOperationException",
                           f"{service} {operation} is not emulated by localaws", 400)
        self._validate(service, operation, params)
        output: dict[str, Any] = method(account, region, params)
        return output

    @staticmethod
    def _validate(service: str, operation: str, params: dict[str, Any]) -> None:
        """The model's constraints that the server (not botocore) checks: enums, maximums, patterns."""
        input_shape = _models.get_service_model(service).operation_model(operation).input_shape
        problems = wire.violations(input_shape, params)
        if not problems:
            return
        if service == "sagemaker":
            count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
            raise AwsError("ValidationException", count + "; ".join(problems), 400)
        if service == "organizations":
            raise AwsError("InvalidInputException", "; ".join(problems), 400)
        if operation == "GetResourceShareInvitations" and any("maxResults" in p for p in problems):
            raise AwsError("InvalidMaxResultsException", "; ".join(problems))
        raise AwsError("InvalidParameterException", "; ".join(problems))
