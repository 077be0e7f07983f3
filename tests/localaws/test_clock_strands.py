"""Strands of the simulated clock: threads that run one at a time, each sleep a wake-up in the
clock's heap, so work overlapping in simulated time interleaves in time order."""

from __future__ import annotations

from localaws.core.clock import SimClock


def test_strands_interleave_in_time_order_ties_by_scheduling_order():
    clock = SimClock()
    start = clock.now()
    woke: list[tuple[float, str]] = []

    def ticking(name: str, period: float, ticks: int) -> None:
        for _ in range(ticks):
            clock.sleep(period)
            woke.append(((clock.now() - start).total_seconds(), name))

    clock.call_later(0, lambda: clock.spawn(lambda: ticking("a", 2.0, 150), "a"), "start a", internal=False)
    clock.call_later(0, lambda: clock.spawn(lambda: ticking("b", 3.0, 100), "b"), "start b", internal=False)
    # 250 wake-ups, yet two tasks ran: a strand's sleeps belong to the task that started it.
    assert clock.run_until_quiet(max_tasks=10) == 2

    assert woke[:5] == [(2.0, "a"), (3.0, "b"), (4.0, "a"), (6.0, "b"), (6.0, "a")]
    assert [when for when, _ in woke] == sorted(when for when, _ in woke)
    assert len(woke) == 250 and (clock.now() - start).total_seconds() == 300.0


def test_internal_tasks_run_while_a_strand_sleeps():
    clock = SimClock()
    seen: list[str] = []
    clock.call_later(5, lambda: seen.append("RAM made the share"), "share", internal=True)

    def waiting() -> None:
        clock.sleep(10)
        seen.append("the function looks again")

    clock.call_later(0, lambda: clock.spawn(waiting, "waiting"), "invoke", internal=False)
    clock.run_until_quiet()
    assert seen == ["RAM made the share", "the function looks again"]
