"""One invocation's deadline: the seconds it has left, handed to the run that works in it (never
kept by a service, which its execution environment keeps for the next invocation)."""

from __future__ import annotations

import math
from collections.abc import Callable

# Seconds the invocation has left, asked whenever a run must decide whether to wait or go on.
type Deadline = Callable[[], float]


def no_deadline() -> float:
    """An admin command's, a test's, the local AWS's direct call: no Lambda timeout."""
    return math.inf
