"""A simulated clock: every delay, retry and expiry in the local AWS runs on it; nothing sleeps.

Two kinds of scheduled work:
- *internal* tasks are AWS's own asynchronous state changes (RAM creating a share, a promotion
  finishing, an invitation expiring). They also run while a function "sleeps" inside an
  invocation, because AWS keeps working while a Lambda waits.
- *delivery* tasks (event deliveries, Lambda invocations and retries) run only from the main loop,
  one at a time, so invocations never nest.

Concurrent work (Lambda invocations) runs in *strands*: threads of which only one, or the main
thread, runs at any moment. A strand that sleeps hands the process back to the main loop with its
wake-up scheduled at (now + seconds), and the loop runs whatever falls due first: other strands'
wake-ups, deliveries, internal tasks. So work that overlaps in simulated time interleaves in true
time order, deterministically (ties go by scheduling order). Process-wide state a strand changes
(environment variables, imported modules) follows it through registered `ProcessState` hooks.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


@dataclass(order=True)
class _Task:
    due: datetime
    seq: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)
    internal: bool = field(compare=False)
    timer: bool = field(compare=False, default=False)
    # The strand this task wakes up; None for an ordinary task.
    wakes: _Strand | None = field(compare=False, default=None)


class ProcessState(Protocol):
    """Process-wide state that belongs to whichever thread runs (sys.modules entries, os.environ):
    captured from the process when a thread stops running, put back when it runs again."""

    def capture(self) -> object: ...

    def restore(self, saved: object) -> None: ...


class _Strand:
    """A thread run by the clock: it runs only when the clock hands it the process."""

    def __init__(self, label: str, run: Callable[[], None]) -> None:
        self.label = label
        self.run = run
        self.turn = threading.Semaphore(0)
        self.saved: list[object] | None = None  # its process state while another thread runs
        self.done = False
        self.error: BaseException | None = None


class QuiescenceNotReached(RuntimeError):
    """The scheduler kept finding work: a loop in the system under test or in the emulator."""


class SimClock:
    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = start
        self._tasks: list[_Task] = []
        self._seq = itertools.count()
        self.process_state: list[ProcessState] = []
        self._local = threading.local()  # .strand: the strand a thread runs, unset in others
        self._main_turn = threading.Semaphore(0)
        # Whose process state is in the process now (None: the main thread's). The main thread puts
        # its own back lazily, only before work of its own: a strand that sleeps and wakes with
        # nothing else run in between keeps its state in place.
        self._installed: _Strand | None = None
        self._main_saved: list[object] | None = None

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

    def spawn(self, run: Callable[[], None], label: str) -> None:
        """Start `run` in a strand now; return when it first sleeps or ends. Its sleeps let the
        main loop run what falls due meanwhile. Only the main thread spawns strands."""
        if getattr(self._local, "strand", None) is not None:
            raise RuntimeError("a strand cannot spawn another")
        self._install(None)  # a strand starts from the main thread's process state
        strand = _Strand(label, run)
        threading.Thread(target=self._run_strand, args=(strand,), name=label, daemon=True).start()
        self._resume(strand)

    def _run_strand(self, strand: _Strand) -> None:
        strand.turn.acquire()
        self._local.strand = strand
        try:
            strand.run()
        except BaseException as error:  # handed to the main thread, which raises it
            strand.error = error
        finally:
            strand.done = True
            self._main_turn.release()

    def _resume(self, strand: _Strand) -> None:
        """Hand the process to `strand` until it sleeps or ends (main thread only)."""
        self._install(strand)
        strand.turn.release()
        self._main_turn.acquire()
        if strand.error is not None:
            error, strand.error = strand.error, None
            raise error

    def _install(self, owner: _Strand | None) -> None:
        """Put `owner`'s process state (None: the main thread's) in the process, keeping the
        current owner's for when it runs again."""
        if self._installed is owner:
            return
        previous = self._installed
        if previous is None or not previous.done:  # a finished strand's state is dropped
            saved = [state.capture() for state in self.process_state]
            if previous is None:
                self._main_saved = saved
            else:
                previous.saved = saved
        wanted = self._main_saved if owner is None else owner.saved
        if wanted is not None:  # None: a new strand, which starts from what is installed
            for state, value in zip(self.process_state, wanted, strict=True):
                state.restore(value)
        self._installed = owner

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass. In a strand: hand the process to the main loop until then. Elsewhere:
        run the internal tasks that fall due meanwhile."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        # The clock counts microseconds: a shorter sleep still lets one pass, so a caller
        # polling until time moves (botocore's rate limiter) gets there.
        target = self._now + timedelta(seconds=max(seconds, 1e-6) if seconds > 0 else 0)
        strand: _Strand | None = getattr(self._local, "strand", None)
        if strand is not None:
            heapq.heappush(self._tasks, _Task(target, next(self._seq), f"wake {strand.label}",
                                              lambda: None, internal=False, wakes=strand))
            self._main_turn.release()
            strand.turn.acquire()
            return
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

    def _run_next(self) -> _Task | None:
        if not self._tasks:
            return None
        task = heapq.heappop(self._tasks)
        self._now = max(self._now, task.due)
        if task.wakes is not None:
            self._resume(task.wakes)
        else:
            # Internal tasks ran inside a sleeping function's state before strands existed, and
            # touch no process-wide state: only the main thread's own work needs its state back.
            if not task.internal:
                self._install(None)
            task.run()
        return task

    def run_next(self) -> bool:
        """Run the earliest task, moving time forward to it. False when nothing is scheduled."""
        try:
            return self._run_next() is not None
        finally:
            self._install(None)

    # In the two loops below a strand's wake-up is no task of its own: it goes on with one already
    # counted (the invocation), as a sleep inside an invocation did before strands.
    def run_until_idle(self, max_tasks: int = 100_000) -> int:
        """Run tasks until none is left; returns how many ran."""
        ran = 0
        try:
            while ran < max_tasks:
                task = self._run_next()
                if task is None:
                    return ran
                if task.wakes is None:
                    ran += 1
        finally:
            self._install(None)
        raise QuiescenceNotReached(f"still busy after {max_tasks} tasks: {self.pending()[:10]}")

    def run_until_quiet(self, max_tasks: int = 100_000) -> int:
        """Run tasks, in time order, until only timers are left (a strand still running has its
        wake-up scheduled, so it keeps the loop going); returns how many ran."""
        ran = 0
        try:
            while any(not t.timer for t in self._tasks):
                if ran >= max_tasks:
                    raise QuiescenceNotReached(f"still busy after {max_tasks} tasks: {self.pending()[:10]}")
                task = self._run_next()
                if task is not None and task.wakes is None:
                    ran += 1
        finally:
            self._install(None)
        return ran

    def run_until(self, when: datetime) -> None:
        """Run every task due up to `when`, then stand at `when`."""
        try:
            while self._tasks and self._tasks[0].due <= when:
                self._run_next()
        finally:
            self._install(None)
        self._now = max(self._now, when)
