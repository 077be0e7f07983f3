"""The owner's forwarding of approved versions and the consumer's bus policy (issue 22;
docs/version-events.md). Every announcement reads the allowlist afresh: a consumer removed by an
edit is told nothing after it. An event is only where to look: the version is read from the
registry before anything is sent."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from modelshare.allowlist_loading import load_allowlist, load_allowlist_in_force
from modelshare.observability import count, logger
from modelshare.ports import AllowlistSource
from modelshare.settings import SettingsError
from modelshare.version_events import Version, forwards, policy_changes
from modelshare.version_ports import BusPolicyReads, BusPolicyWrites, Forward, ModelVersions, VersionBus

VERSION_BUS_ENV = "MODELSHARE_VERSION_BUS"


def version_bus_name(environ: Mapping[str, str] | None = None) -> str:
    """The consumers' version event bus name (the stack's VersionEventBusName)."""
    name = (os.environ if environ is None else environ).get(VERSION_BUS_ENV, "")
    if not name:
        raise SettingsError(f"{VERSION_BUS_ENV} is not set: name the consumers' version event bus")
    return name


class VersionsUnread(RuntimeError):
    """Some versions could not be read (DescribeModelPackage failed); the others were told."""

    def __init__(self, unread: Mapping[str, str]) -> None:
        super().__init__(f"{len(unread)} version(s) could not be read: {dict(unread)}")
        self.unread = dict(unread)


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

    def forward(self, version_arns: Iterable[str], said: Mapping[str, frozenset[str]] | None = None) -> ForwardReport:
        """Announce each version (read now) to the consumers the allowlist grants its group now.
        `said`: the statuses the events said of each version; a version whose status now is none
        of them is left to the event of its change (one is raised for every change, and the
        repair tells approved ones), so a version made and approved at once is told once."""
        allowlist = load_allowlist(self.source, fresh=True)
        if allowlist is None:  # invalid or missing: tell nobody (fail closed), logged and counted
            return ForwardReport()
        planned: list[Forward] = []
        unread: dict[str, str] = {}
        for arn in dict.fromkeys(version_arns):
            try:
                version = Version.from_description(self.versions.describe(arn))
            except Exception as error:  # one version unread must not hold back the others
                unread[arn] = f"{type(error).__name__}: {error}"
                continue
            if version.owner != self.account or (said is not None and version.approval not in said.get(arn, ())):
                continue
            planned.extend(forwards(allowlist, version))
        report = self._send(planned)
        if unread:
            # The others are sent first; then the invocation fails (Errors alarm, and Lambda's
            # retry of the event tells the unread version: duplicates share a forwardId).
            logger.error("Some versions could not be read: not told", extra={"versions": unread, "sent": report.sent})
            count("VersionReadsFailed", len(unread))
            raise VersionsUnread(unread)
        return report

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


def keep_bus_policy(bus: str, policy: BusPolicyReads, changes: BusPolicyWrites, source: AllowlistSource,
                    memberships: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """Bring the consumer's bus policy (`bus`, its ARN; read from `policy`, changed through `changes`: the same
    adapter, or a dry run's plan) to admitting exactly the owners the allowlist names for this
    account. An invalid or missing allowlist admits nobody new; its last valid version's removals
    still apply (an owner an earlier valid edit removed is not left able to post); none valid:
    nothing changes. A person's statement under modelshare's Sid prefix is reported, never
    touched (docs/security.md)."""
    in_force = load_allowlist_in_force(source)
    if in_force is None:
        return {"admitted": [], "taken_out": [], "not_ours": []}
    consumer = bus.split(":")[4]
    found = policy_changes(policy.read(), in_force.allowlist.owners_sharing_with(consumer, memberships), bus)
    admit = [] if in_force.restrict_only else found.admit
    for statement_id in found.take_out:  # removals first: an owner the edit removed is refused at once
        changes.take_out(statement_id)
    for owner in admit:
        changes.admit(owner)
    if found.not_ours:
        # Not what modelshare writes (a wider principal, a condition, another action or bus): a
        # person's, so neither removed nor trusted as admitting its owner; someone must look.
        logger.warning("Statements under modelshare's Sid on the version event bus are not modelshare's: left alone",
                       extra={"statements": found.not_ours})
        count("BusStatementNotOurs", len(found.not_ours))
    if admit or found.take_out:
        logger.info("Version event bus policy brought in step with the allowlist",
                    extra={"admitted": admit, "taken_out": found.take_out})
    return {"admitted": admit, "taken_out": found.take_out, "not_ours": found.not_ours}
