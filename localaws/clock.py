"""A simulated clock: every delay, retry and expiry in the local AWS runs on it; nothing sleeps.

Two kinds of scheduled work:
- *internal* tasks are AWS's own asynchronous state changes (RAM creating a share, a promotion
  finishing, an invitation expiring). They also run while a function "sleeps" inside an
  invocation, because AWS keeps working while a Lambda waits.
- *delivery* tasks (event deliveries, Lambda invocations and retries) run only from the main loop,
  one at a time, so invocations never nest.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@dataclass(order=True)
class _Task:
    due: datetime
    seq: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)
    internal: bool = field(compare=False)
    timer: bool = field(compare=False, default=False)


class QuiescenceNotReached(RuntimeError):
    """The scheduler kept finding work: a loop in the system under test or in the emulator."""


class SimClock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = start
        self._tasks: list[_Task] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def call_later(
        self, delay_seconds: float, run: Callable[[], None], label: str, *, internal: bool,
        timer: bool = False,
    ) -> None:
        """Schedule `run`. A `timer` (an invitation's expiry, say) is a far-off deadline rather
        than work in progress: it does not keep `run_until_quiet` going."""
        if delay_seconds < 0:
            raise ValueError("delay must not be negative")
        due = self._now + timedelta(seconds=delay_seconds)
        heapq.heappush(self._tasks, _Task(due, next(self._seq), label, run, internal, timer))

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass, running the internal tasks that fall due meanwhile."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        # The clock counts microseconds: a shorter sleep still lets one pass, so a caller
        # polling until time moves (botocore's rate limiter) gets there.
        target = self._now + timedelta(seconds=max(seconds, 1e-6) if seconds > 0 else 0)
        while True:
            task = self._next_internal_due_by(target)
            if task is None:
                break
            self._now = max(self._now, task.due)
            task.run()
        self._now = target

    def _next_internal_due_by(self, target: datetime) -> _Task | None:
        candidates = [t for t in self._tasks if t.internal and t.due <= target]
        if not candidates:
            return None
        task = min(candidates)
        self._tasks.remove(task)
        heapq.heapify(self._tasks)
        return task

    def pending(self) -> list[str]:
        return [t.label for t in sorted(self._tasks)]

    def run_next(self) -> bool:
        """Run the earliest task, moving time forward to it. False when nothing is scheduled."""
        if not self._tasks:
            return False
        task = heapq.heappop(self._tasks)
        self._now = max(self._now, task.due)
        task.run()
        return True

    def run_until_idle(self, max_tasks: int = 100_000) -> int:
        """Run tasks until none is left; returns how many ran."""
        for ran in itertools.count():
            if ran >= max_tasks:
                raise QuiescenceNotReached(f"still busy after {max_tasks} tasks: {self.pending()[:10]}")
            if not self.run_next():
                return ran
        raise AssertionError("unreachable")

    def run_until_quiet(self, max_tasks: int = 100_000) -> int:
        """Run tasks, in time order, until only timers are left; returns how many ran."""
        for ran in itertools.count():
            if not any(not t.timer for t in self._tasks):
                return ran
            if ran >= max_tasks:
                raise QuiescenceNotReached(f"still busy after {max_tasks} tasks: {self.pending()[:10]}")
            self.run_next()
        raise AssertionError("unreachable")

    def run_until(self, when: datetime) -> None:
        """Run every task due up to `when`, then stand at `when`."""
        while self._tasks and self._tasks[0].due <= when:
            self.run_next()
        self._now = max(self._now, when)
