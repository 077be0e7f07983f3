"""The owner's forwarding of approved versions and the consumer's bus policy (issue 22;
docs/version-events.md). Every announcement reads the allowlist afresh: a consumer removed by an
edit is told nothing after it. An event is only where to look: the version is read from the
registry before anything is sent."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from modelshare.allowlist import Allowlist
from modelshare.allowlist_loading import load_allowlist, load_allowlist_in_force
from modelshare.deadline import Deadline, no_deadline
from modelshare.observability import count, logger
from modelshare.ports import AllowlistSource
from modelshare.settings import SettingsError
from modelshare.version_events import ENTRIES_PER_CALL, Version, forwards, policy_changes
from modelshare.version_ports import BusPolicyReads, BusPolicyWrites, Forward, ModelVersions, VersionBus

VERSION_BUS_ENV = "MODELSHARE_VERSION_BUS"

# The repair stops taking on groups with this much of the invocation left (a group costs two
# SageMaker reads and its share of a PutEvents, ~0.24 s at worst; botocore's
# retries of a throttled call take seconds), so it ends well before the function's timeout.
REPAIR_RESERVE_SECONDS = 15.0
# How far each hour's run starts beyond the last hour's, in shared groups (sorted by name): less
# than one run reaches in the 45 s before its reserve (~0.24 s a group at worst: ~185 groups, ~145
# at 10,000 groups with their listing), so successive runs leave no gap and every shared group is
# told again within ceil(shared groups / REPAIR_TURN_GROUPS) hours (docs/version-events.md).
REPAIR_TURN_GROUPS = 120


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
    repaired: int = 0  # the repair: shared groups it reached this run
    unreached: int = 0  # the repair: shared groups left to the next runs (the deadline came first)


def repair_turn(scheduled_time: str) -> int:
    """The repair's turn: the hour of the scheduled event's `time` since the epoch (stateless;
    successive hourly runs take successive turns). An unreadable time: the hour now."""
    try:
        when = datetime.fromisoformat(scheduled_time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        when = time.time()
    return int(when // 3600)


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
            planned.extend(self._plan(allowlist, arn, said, unread))
        report = ForwardReport()
        self._send(planned, report)
        return self._done(report, unread)

    def repair(self, deadline: Deadline = no_deadline, turn: int = 0) -> ForwardReport:
        """Announce again the newest approved version of every group the allowlist shares (same
        forwardId: a consumer that had it drops it; one that missed it learns it now), starting
        `turn` x REPAIR_TURN_GROUPS groups along (by name, round), until `deadline` leaves only
        REPAIR_RESERVE_SECONDS: the groups not reached are the next runs' (logged, counted)."""
        allowlist = load_allowlist(self.source, fresh=True)
        if allowlist is None:
            return ForwardReport()
        names = sorted(n for n in self.versions.shared_group_names() if allowlist.decide(self.account, n).shared)
        start = turn * REPAIR_TURN_GROUPS % len(names) if names else 0
        report = ForwardReport()
        planned: list[Forward] = []
        unread: dict[str, str] = {}
        for name in names[start:] + names[:start]:
            if deadline() < REPAIR_RESERVE_SECONDS:
                break
            report.repaired += 1
            arn = self.versions.latest_approved(name)
            if arn is not None:
                planned.extend(self._plan(allowlist, arn, None, unread))
            if len(planned) >= ENTRIES_PER_CALL:  # sent as it goes: the deadline covers the sending too
                self._send(planned, report)
                planned = []
        self._send(planned, report)
        report.unreached = len(names) - report.repaired
        if report.unreached:
            # Not a failure (a retry would only repeat this run): the next hours' runs start
            # further along. Fewer than a turn reached leaves a gap until the next round: warned.
            log = logger.warning if report.repaired < REPAIR_TURN_GROUPS else logger.info
            log("The repair reached part of the shared groups before its deadline; the next runs go on",
                extra={"reached": report.repaired, "unreached": report.unreached, "turn": turn,
                       "first": names[start]})
            count("VersionRepairIncomplete", report.unreached)
        return self._done(report, unread)

    def _plan(self, allowlist: Allowlist, arn: str, said: Mapping[str, frozenset[str]] | None,
              unread: dict[str, str]) -> list[Forward]:
        """The announcements of one version, read now; one unread is noted in `unread`."""
        try:
            version = Version.from_description(self.versions.describe(arn))
        except Exception as error:  # one version unread must not hold back the others
            unread[arn] = f"{type(error).__name__}: {error}"
            return []
        if version.owner != self.account or (said is not None and version.approval not in said.get(arn, ())):
            return []
        return forwards(allowlist, version)

    def _send(self, planned: list[Forward], report: ForwardReport) -> None:
        if not planned:
            return
        failed = self.bus.put(planned)
        report.sent += len(planned) - len(failed)
        report.failed.extend({"consumer": f.consumer, "version": str(f.detail["modelPackageArn"]), "error": code}
                             for f, code in failed)

    def _done(self, report: ForwardReport, unread: Mapping[str, str]) -> ForwardReport:
        if report.sent:
            count("VersionsForwarded", report.sent)
        if report.failed:
            # A consumer whose bus refuses (not deployed, its policy not yet in step) is told by
            # the next repair; the failure is logged and counted, never retried in a loop.
            logger.warning("Some consumers' buses refused the version event", extra={"failed": report.failed})
            count("VersionForwardsFailed", len(report.failed))
        if unread:
            # The others are sent first; then the invocation fails (Errors alarm, and Lambda's
            # retry of the event tells the unread version: duplicates share a forwardId).
            logger.error("Some versions could not be read: not told", extra={"versions": dict(unread),
                                                                             "sent": report.sent})
            count("VersionReadsFailed", len(unread))
            raise VersionsUnread(unread)
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
