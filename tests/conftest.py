"""Shared test set-up: Powertools needs a namespace to flush metrics, and no test may reach AWS.
And the Hypothesis profiles of the property-based tests (malformed events and allowlists)."""

import gc
import os
import random
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.internal.conjecture import providers

os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ModelshareTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "modelshare")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing-no-real-aws"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing-no-real-aws"
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

# `make test` runs the bounded default profile, the same examples every run (a fixed seed: CI
# never flakes, and a failure replays by running the test again). MODELSHARE_HYPOTHESIS_PROFILE=long
# runs many more, from a fresh seed each run unless MODELSHARE_HYPOTHESIS_SEED names one. A failing
# test prints the seed and the command that replays it, and Hypothesis the @reproduce_failure blob.
PROFILE_ENV = "MODELSHARE_HYPOTHESIS_PROFILE"
SEED_ENV = "MODELSHARE_HYPOTHESIS_SEED"
DEFAULT_SEED = 9  # issue 9
# No deadline: a slow CI machine must not fail a test that is only slow; a hang still fails it.
# No example database: the seed alone replays a run, and the work tree gets no .hypothesis folder.
settings.register_profile("default", max_examples=200, deadline=None, print_blob=True, database=None)
settings.register_profile("long", max_examples=3000, deadline=None, print_blob=True, database=None)
PROFILE = os.environ.get(PROFILE_ENV) or "default"
settings.load_profile(PROFILE)
if PROFILE == "default":
    # Hypothesis mixes literal constants of the project's own modules into what it draws, so every
    # change to the code drew other worlds under the same seed, and CI met worlds no local run had
    # (stop 17). The default profile draws from the seed alone; the long profile keeps the mix.
    providers._get_local_constants = lambda: providers.Constants()


# The local AWS makes and drops a great many objects (a botocore request, a moto response, a
# simulated cold start's modules): with Python's default thresholds the cyclic collector ran
# ~1,600 times per integration file and took a fifth of its time. Collect less often, and leave
# out of every collection what the session imported before its first test (gc.freeze). Speed only.
GC_THRESHOLDS = (50_000, 20, 20)


def pytest_sessionstart(session: pytest.Session) -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Free what the test dropped in cycles before pytest checks it raised nothing unraisable
    (pyproject.toml makes that an error): with the default thresholds the collector ran within
    most tests; with these a finalizer that fails would be blamed on a later test, or lost in a
    worker's exit (tests/unit/test_gc_settings.py). The young generations only: cheap."""
    gc.collect(1)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The seed for every Hypothesis test, handed to Hypothesis' own --hypothesis-seed (which
    wins when given) before its plugin reads it."""
    if config.getoption("--hypothesis-seed") is None:
        seed = os.environ.get(SEED_ENV) or str(DEFAULT_SEED if PROFILE == "default" else random.getrandbits(64))
        config.option.hypothesis_seed = seed


@pytest.fixture(autouse=True)
def _no_metrics_from_another_test() -> None:
    """Powertools keeps one metrics buffer per process: a test starts without the metrics another
    test added and never published (each pytest-xdist worker runs its own mix of tests)."""
    from modelshare.observability import metrics

    metrics.clear_metrics()


# The tiers (pyproject.toml's markers), by folder; `slow` by file: the long property runs.
TIERS = {"unit": "unit", "localaws": "local_aws", "cli": "local_aws", "smoke": "local_aws", "integration": "e2e"}
SLOW_FILES = {"test_safety_properties.py", "test_insider_properties.py", "test_chaos.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        tier = TIERS.get(item.path.relative_to(tests).parts[0]) if item.path.is_relative_to(tests) else None
        if tier is not None:
            item.add_marker(tier)
        if item.path.name in SLOW_FILES:
            item.add_marker("slow")
    if getattr(config.option, "loadgroup", False):  # set in xdist workers only
        _keep_xdist_groups(items)


def _keep_xdist_groups(items: list[pytest.Item]) -> None:
    """In an xdist worker with --dist loadgroup: suffix each grouped test's node id with its
    `xdist_group`, which is what sends a group to one worker. pytest-xdist 3.8 writes the suffix
    to `item._nodeid`, which pytest 9.2 no longer reads (a node id is `item._id`): without this,
    a group is spread over the workers and each builds the group's fixture again (the IAM
    tour: twice). tests/unit/test_xdist_groups.py checks it."""
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)  # type: ignore[attr-defined]  # see above


def _replay(config: pytest.Config) -> str:
    return f"{PROFILE_ENV}={PROFILE} {SEED_ENV}={config.getoption('--hypothesis-seed')}"


def pytest_report_header(config: pytest.Config) -> str:
    return f"modelshare hypothesis: {_replay(config)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed and getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        report.sections.append(("hypothesis seed", f"replay: {_replay(item.config)} "
                                                   f".venv/bin/python -m pytest '{item.nodeid}'"))
    return report
