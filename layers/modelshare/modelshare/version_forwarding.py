"""The owner's forwarding of approved versions and the consumer's bus policy (issue 22;
docs/version-events.md). Every announcement reads the allowlist afresh: a consumer removed by an
edit is told nothing after it. An event is only where to look: the version is read from the
registry before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from modelshare.allowlist_loading import load_allowlist
from modelshare.observability import count, logger
from modelshare.ports import AllowlistSource
from modelshare.settings import SettingsError
from modelshare.version_events import Forward, Version, forwards, policy_changes


class ModelVersions(Protocol):
    def describe(self, version_arn: str) -> dict[str, Any]: ...
    def shared_group_names(self) -> list[str]: ...
    def latest_approved(self, group_name: str) -> str | None:
        """The ARN of the group's newest approved version, or None."""
        ...


class VersionBus(Protocol):
    def put(self, forwards: list[Forward]) -> list[tuple[Forward, str]]:
        """Send each to its consumer's bus; the ones that failed, with the error code."""
        ...


class BusPolicy(Protocol):
    def read(self) -> str | None: ...
    def admit(self, owner: str) -> None: ...
    def take_out(self, statement_id: str) -> None: ...


VERSION_BUS_ENV = "MODELSHARE_VERSION_BUS"


def version_bus_name(environ: Mapping[str, str] | None = None) -> str:
    """The consumers' version event bus name (the stack's VersionEventBusName)."""
    name = (os.environ if environ is None else environ).get(VERSION_BUS_ENV, "")
    if not name:
        raise SettingsError(f"{VERSION_BUS_ENV} is not set: name the consumers' version event bus")
    return name


class LoggedOnlyBus:
    """The dry run's bus: logs what would be sent, sends nothing."""

    def put(self, forwards: list[Forward]) -> list[tuple[Forward, str]]:
        logger.info("Dry run: would send version events", extra={"forwards": [
            {"consumer": f.consumer, "version": str(f.detail["modelPackageArn"])} for f in forwards]})
        return []


@dataclass
class ForwardReport:
    sent: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)


class VersionForwarder:
    def __init__(self, account: str, versions: ModelVersions, bus: VersionBus, source: AllowlistSource) -> None:
        self.account = account
        self.versions = versions
        self.bus = bus
        self.source = source

    def forward(self, version_arns: Iterable[str]) -> ForwardReport:
        """Announce each version (read now) to the consumers the allowlist grants its group now."""
        allowlist = load_allowlist(self.source, fresh=True)
        if allowlist is None:  # invalid or missing: tell nobody (fail closed), logged and counted
            return ForwardReport()
        planned: list[Forward] = []
        for arn in dict.fromkeys(version_arns):
            version = Version.from_description(self.versions.describe(arn))
            if version.owner != self.account:
                continue
            planned.extend(forwards(allowlist, version))
        return self._send(planned)

    def repair(self) -> ForwardReport:
        """Announce again the newest approved version of every group the allowlist shares (same
        forwardId: a consumer that had it drops it; one that missed it learns it now)."""
        allowlist = load_allowlist(self.source, fresh=True)
        if allowlist is None:
            return ForwardReport()
        names = [n for n in self.versions.shared_group_names() if allowlist.decide(self.account, n).shared]
        latest = [arn for arn in (self.versions.latest_approved(n) for n in names) if arn is not None]
        return self.forward(latest)

    def _send(self, planned: list[Forward]) -> ForwardReport:
        if not planned:
            return ForwardReport()
        failed = self.bus.put(planned)
        report = ForwardReport(sent=len(planned) - len(failed),
                               failed=[{"consumer": f.consumer, "version": str(f.detail["modelPackageArn"]),
                                        "error": code} for f, code in failed])
        count("VersionsForwarded", report.sent)
        if failed:
            # A consumer whose bus refuses (not deployed, its policy not yet in step) is told by
            # the next repair; the failure is logged and counted, never retried in a loop.
            logger.warning("Some consumers' buses refused the version event", extra={"failed": report.failed})
            count("VersionForwardsFailed", len(failed))
        return report


def keep_bus_policy(consumer: str, bus: BusPolicy, source: AllowlistSource,
                    memberships: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Bring the consumer's bus policy to admitting exactly the owners the allowlist names for
    this account. An invalid or missing allowlist admits nobody new and takes nobody out (the
    owner side already tells nobody then)."""
    allowlist = load_allowlist(source, fresh=True)
    if allowlist is None:
        return {"admitted": [], "taken_out": []}
    admit, take_out = policy_changes(bus.read(), allowlist.owners_sharing_with(consumer, memberships))
    for statement_id in take_out:  # removals first: an owner the edit removed is refused at once
        bus.take_out(statement_id)
    for owner in admit:
        bus.admit(owner)
    if admit or take_out:
        logger.info("Version event bus policy brought in step with the allowlist",
                    extra={"admitted": admit, "taken_out": take_out})
    return {"admitted": admit, "taken_out": take_out}
