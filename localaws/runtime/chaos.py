"""Faults the local AWS can throw at the functions: failed API calls, lost and duplicated events.

Everything is drawn from one seeded generator, and the clock runs strands one at a time in a fixed
order, so the same scenario with the same seed meets the same faults at the same calls: a chaos
run replays exactly (`modelshare simulate` on the scenario file a failing test writes).

API faults are what AWS answers under load (docs/aws-behaviour.md, CHAOS-FAULTS): throttling, and
5xx errors, half of which come *after* AWS applied the call (the caller cannot tell a write that
failed from one whose answer was lost, so it must retry it safely). They hit only the calls the
functions make: people's and tests' calls set a scene and always go through.

A conflict is what SageMaker answers a policy write that another write of the same group's
policy ran beside (ConflictException, SM-POLICY-CONFLICT). The local AWS applies each call in
one instant (the clock runs one strand at a time), so two writes are never in flight together
and it cannot tell when a real one would conflict: it throws the conflict as a fault, at its own
rate, before applying the call (a refused write writes nothing).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from localaws.core.errors import AwsError

# service -> (throttling code, [(5xx code, status)]): the error shapes each service's botocore model
# defines, and AWS's common errors where it defines none (SageMaker, SQS).
_CODES: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "ram": ("ThrottlingException", [("ServerInternalException", 500), ("ServiceUnavailableException", 503)]),
    "sagemaker": ("ThrottlingException", [("InternalFailure", 500), ("ServiceUnavailable", 503)]),
    "ssm": ("ThrottlingException", [("InternalServerError", 500), ("ServiceUnavailable", 503)]),
    "sqs": ("RequestThrottled", [("InternalFailure", 500), ("ServiceUnavailable", 503)]),
}


# service -> operations SageMaker documents ConflictException for, as concurrent writes.
_CONFLICTS: dict[str, frozenset[str]] = {"sagemaker": frozenset({"PutModelPackageGroupPolicy"})}


@dataclass(frozen=True)
class ApiFault:
    error: AwsError
    # True: AWS applies the call, then the answer is an error (a 5xx whose write took effect).
    after_applying: bool

    @property
    def kind(self) -> str:
        if self.error.status is None:
            return self.error.code
        return f"{self.error.code} ({'after' if self.after_applying else 'before'} applying)"


@dataclass
class ChaosSettings:
    seed: int = 0
    api_fault_rate: float = 0.0
    lost_event_rate: float = 0.0
    duplicate_event_rate: float = 0.0
    # Of the functions' calls that can meet a conflict (_CONFLICTS) and meet no other fault.
    policy_conflict_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("api_fault_rate", "lost_event_rate", "duplicate_event_rate", "policy_conflict_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.lost_event_rate + self.duplicate_event_rate > 1.0:
            raise ValueError("lost_event_rate + duplicate_event_rate must not exceed 1")


@dataclass
class Chaos:
    """Draws faults while `on`; counts what it injected."""

    settings: ChaosSettings
    on: bool = True
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # Generators of their own: whether an event is lost must not shift which calls fail, and
        # back; conflicts shift neither (a scenario without them replays as before).
        self._calls = random.Random(f"{self.settings.seed}/calls")
        self._events = random.Random(f"{self.settings.seed}/events")
        self._conflicts = random.Random(f"{self.settings.seed}/conflicts")

    def api_fault(self, service: str, operation: str = "") -> ApiFault | None:
        """The fault a function's call to `service` (`operation`) is to meet, or None (`count`
        it once it took effect: a call AWS refuses anyway keeps AWS's own answer)."""
        codes = _CODES.get(service)
        if not self.on or codes is None:
            return None
        if self._calls.random() >= self.settings.api_fault_rate:
            if operation in _CONFLICTS.get(service, ()) and self.settings.policy_conflict_rate \
                    and self._conflicts.random() < self.settings.policy_conflict_rate:
                return ApiFault(AwsError("ConflictException", "Another write of the resource policy is in progress."),
                                after_applying=False)
            return None
        throttle, server_errors = codes
        if self._calls.random() < 0.5:
            return ApiFault(AwsError(throttle, "Rate exceeded"), after_applying=False)
        code, status = self._calls.choice(server_errors)
        after = self._calls.random() < 0.5
        return ApiFault(AwsError(code, "We encountered an internal error. Please try again.", status), after)

    def count(self, fault: ApiFault) -> None:
        self.injected[fault.kind] += 1

    def copies(self) -> int:
        """How many copies of an event are delivered: 0 (lost), 1, or 2 (duplicated)."""
        if not self.on:
            return 1
        draw = self._events.random()
        if draw < self.settings.lost_event_rate:
            self.injected["event lost"] += 1
            return 0
        if draw < self.settings.lost_event_rate + self.settings.duplicate_event_rate:
            self.injected["event duplicated"] += 1
            return 2
        return 1
