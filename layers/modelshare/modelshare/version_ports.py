"""The ports of version events (issue 22 part 2; docs/version-events.md): what the owner reads of
its registry's versions, what it sends to the consumers' buses, and the consumer's own bus policy.
What a side reads and what it writes are separate interfaces (a dry run replaces the writes only:
modelshare.dry_run). The boto3 adapters are in `modelshare.aws.version_bus`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Forward:
    """One announcement: to `consumer`'s bus, an event of `detail_type` with this `detail`."""

    consumer: str
    detail: Mapping[str, Any]
    detail_type: str = "Model Version Approved"


class ModelVersions(Protocol):
    """What the owner reads of its registry's versions (reads only: a dry run reads as a real run)."""

    def describe(self, version_arn: str) -> dict[str, Any]:
        """DescribeModelPackage of the version (by ARN)."""
        ...
    def shared_group_names(self) -> list[str]:
        """The names of every group of this account (the caller keeps those the allowlist shares)."""
        ...
    def latest_approved(self, group_name: str) -> str | None:
        """The ARN of the group's newest approved version, or None. `group_name` may be a group's
        ARN, another account's too (what a consumer reads of a group shared with it)."""
        ...


class VersionBus(Protocol):
    """The owner's one write: events put on the consumers' buses."""

    def put(self, forwards: list[Forward]) -> list[tuple[Forward, str]]:
        """Send each to its consumer's bus; the ones that failed, with the error code."""
        ...


class BusPolicyReads(Protocol):
    """What the consumer reads of its own version event bus."""

    def read(self) -> str | None:
        """The bus's resource policy (JSON), or None when it has none."""
        ...


class BusPolicyWrites(Protocol):
    """The consumer's writes of its bus policy, one statement per owner."""

    def admit(self, owner: str) -> None:
        """Let `owner` put events on the bus (statement `modelshare-owner-<owner>`)."""
        ...
    def take_out(self, statement_id: str) -> None:
        """Remove the statement of this id."""
        ...


class BusPolicy(BusPolicyReads, BusPolicyWrites, Protocol):
    """Both: what the consumer's EventBridge adapter implements."""
