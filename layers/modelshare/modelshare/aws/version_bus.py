"""boto3 adapters for version events (modelshare.version_forwarding): the owner's registry
reads, PutEvents to the consumers' buses, and the consumer's own bus policy."""

from __future__ import annotations

import json
from typing import Any

from modelshare.version_events import ENTRIES_PER_CALL, SOURCE, STATEMENT_PREFIX, bus_arn
from modelshare.version_ports import Forward


class SageMakerVersions:
    def __init__(self, sagemaker: Any) -> None:
        self.sagemaker = sagemaker

    def describe(self, version_arn: str) -> dict[str, Any]:
        described: dict[str, Any] = self.sagemaker.describe_model_package(ModelPackageName=version_arn)
        return described

    def shared_group_names(self) -> list[str]:
        # The largest page (MaxResults 100): the repair lists every group before its deadline-bounded work.
        pages = self.sagemaker.get_paginator("list_model_package_groups").paginate(PaginationConfig={"PageSize": 100})
        return [g["ModelPackageGroupName"] for page in pages for g in page["ModelPackageGroupSummaryList"]]

    def latest_approved(self, group_name: str) -> str | None:
        # A group's name, or its ARN: another account's group shared with this one (a consumer).
        found = self.sagemaker.list_model_packages(
            ModelPackageGroupName=group_name, ModelApprovalStatus="Approved", SortBy="CreationTime",
            SortOrder="Descending", MaxResults=1)["ModelPackageSummaryList"]
        return str(found[0]["ModelPackageArn"]) if found else None


class EventBridgeVersionBus:
    """PutEvents to each consumer's bus `bus_name` in this Region, ten entries a call."""

    def __init__(self, events: Any, region: str, bus_name: str) -> None:
        self.events = events
        self.region = region
        self.bus_name = bus_name

    def put(self, forwards: list[Forward]) -> list[tuple[Forward, str]]:
        failed: list[tuple[Forward, str]] = []
        for start in range(0, len(forwards), ENTRIES_PER_CALL):
            chunk = forwards[start:start + ENTRIES_PER_CALL]
            answer = self.events.put_events(Entries=[
                {"EventBusName": bus_arn(f.consumer, self.region, self.bus_name), "Source": SOURCE,
                 "DetailType": f.detail_type, "Detail": json.dumps(dict(f.detail), sort_keys=True, default=str),
                 "Resources": [str(f.detail["modelPackageArn"])]} for f in chunk])
            failed.extend((f, str(result["ErrorCode"]))
                          for f, result in zip(chunk, answer["Entries"], strict=True) if "ErrorCode" in result)
        return failed


class EventBridgeBusPolicy:
    """The consumer's own bus: one statement per admitted owner (PutPermission adds one,
    RemovePermission takes one out; nobody else's statement is touched)."""

    def __init__(self, events: Any, bus_name: str) -> None:
        self.events = events
        self.bus_name = bus_name

    def read(self) -> str | None:
        policy = self.events.describe_event_bus(Name=self.bus_name).get("Policy")
        return str(policy) if policy else None

    def admit(self, owner: str) -> None:
        self.events.put_permission(EventBusName=self.bus_name, Action="events:PutEvents", Principal=owner,
                                   StatementId=STATEMENT_PREFIX + owner)

    def take_out(self, statement_id: str) -> None:
        self.events.remove_permission(EventBusName=self.bus_name, StatementId=statement_id)
