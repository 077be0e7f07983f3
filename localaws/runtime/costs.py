"""What an AWS call costs: simulated time, and a token bucket per account, Region and API.

Every call the local AWS answers (the model-registry/RAM emulator and what moto serves alike)
first waits its latency on the simulated clock, then takes a token from its bucket; an empty
bucket answers `ThrottlingException` ("Rate exceeded"), as AWS does, and botocore's retry mode
backs off (on the simulated clock inside a function) and tries again.

Rates and latencies are in `DEFAULT_COSTS` and documented in docs/aws-behaviour.md (COST-RATES,
COST-LATENCY). Where AWS publishes no rate the default is a guess on the strict side: marked
UNVERIFIED there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from localaws.core.errors import AwsError


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float


@dataclass(frozen=True)
class CostModel:
    """latency: seconds per call, by service (default: `default_latency`). rates: by
    (service, operation), else by service. buckets: operations that share one bucket."""

    default_latency: float = 0.05
    latency: dict[str, float] = field(default_factory=dict)
    rates: dict[tuple[str, str] | str, Rate] = field(default_factory=dict)
    shared_buckets: dict[tuple[str, str], str] = field(default_factory=dict)

    def latency_of(self, service: str) -> float:
        return self.latency.get(service, self.default_latency)

    def rate_of(self, service: str, operation: str) -> Rate | None:
        return self.rates.get((service, operation)) or self.rates.get(service)

    def bucket_of(self, service: str, operation: str) -> str:
        return self.shared_buckets.get((service, operation), operation)


_PARAMETER_READS = ("GetParameter", "GetParameters", "GetParametersByPath")

# docs/aws-behaviour.md, COST-RATES: SSM's 40 TPS for parameter reads is documented (shared by
# the three reads); the SageMaker and RAM rates are not published per API: 10 per second with a
# burst of 20 is a guess on the strict side (UNVERIFIED).
DEFAULT_COSTS = CostModel(
    default_latency=0.05,
    latency={"sagemaker": 0.08, "ram": 0.08, "ssm": 0.03},
    rates={
        "sagemaker": Rate(10, 20),
        "ram": Rate(10, 20),
        "ssm": Rate(40, 40),
        ("ssm", "PutParameter"): Rate(3, 3),
        "sqs": Rate(300, 300),
    },
    shared_buckets={("ssm", name): "parameter-reads" for name in _PARAMETER_READS},
)

# No cost at all: for tests that pin an emulator behaviour and nothing else.
FREE = CostModel(default_latency=0.0)


class TokenBuckets:
    """One bucket per (account, region, service, bucket); full at first use."""

    def __init__(self, model: CostModel) -> None:
        self.model = model
        self._levels: dict[tuple[str, str, str, str], tuple[float, datetime]] = {}
        self.throttled: dict[tuple[str, str], int] = {}  # (service, operation) -> throttled calls

    def take(self, account: str, region: str, service: str, operation: str, now: datetime) -> None:
        """Take a token, or raise ThrottlingException."""
        rate = self.model.rate_of(service, operation)
        if rate is None:
            return
        key = (account, region, service, self.model.bucket_of(service, operation))
        level, since = self._levels.get(key, (rate.burst, now))
        level = min(rate.burst, level + max(0.0, (now - since).total_seconds()) * rate.per_second)
        if level < 1:
            self._levels[key] = (level, now)
            self.throttled[(service, operation)] = self.throttled.get((service, operation), 0) + 1
            raise AwsError("ThrottlingException", "Rate exceeded")
        self._levels[key] = (level - 1, now)
