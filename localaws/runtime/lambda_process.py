"""What an invocation owns of the process while it runs: its execution environment's own import
of the packages a Lambda artifact carries (and what that import registered with botocore), its
environment variables, time.sleep, sys.stdout and
the warnings settings, the wall clock its caches read, and Lambda's context object."""

from __future__ import annotations

import datetime
import io
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, SupportsIndex
from unittest import mock

import botocore

from localaws.core.clock import ProcessState, SimClock
from localaws.runtime.functions import DeployedFunction, ExecutionEnvironment

# Packages imported afresh in each execution environment (what the layer ships).
ISOLATED_PACKAGES = ("modelshare", "aws_lambda_powertools")


class _Output(io.TextIOBase):
    """Stands in for sys.stdout while any function runs. Loggers made inside an invocation keep
    a reference to it, so it routes each write to the invocation of the thread writing."""

    def __init__(self) -> None:
        self._thread = threading.local()

    @property
    def target(self) -> io.StringIO | None:
        target: io.StringIO | None = getattr(self._thread, "target", None)
        return target

    @target.setter
    def target(self, buffer: io.StringIO | None) -> None:
        self._thread.target = buffer

    def write(self, text: str) -> int:
        target = self.target if self.target is not None else sys.__stderr__  # outside any invocation
        if target is not None:
            target.write(text)
        return len(text)

    def writable(self) -> bool:
        return True


OUTPUT = _Output()


def _is_isolated(module_name: str) -> bool:
    return module_name.partition(".")[0] in ISOLATED_PACKAGES


def isolated_modules() -> dict[str, ModuleType]:
    # startswith first (speed only: the clock scans sys.modules, ~1,500 names, at every switch
    # between invocations); _is_isolated then tells `modelshare_cli` from `modelshare`.
    return {n: m for n, m in sys.modules.items() if n.startswith(ISOLATED_PACKAGES) and _is_isolated(n)}


def _install_modules(modules: dict[str, ModuleType]) -> None:
    """Make `modules` the isolated packages in sys.modules."""
    for name in isolated_modules():
        del sys.modules[name]
    sys.modules.update(modules)


def _session_initializers() -> list[Callable[..., None]]:
    """botocore's list of session initializers (botocore.register_initializer appends to it)."""
    initializers: list[Callable[..., None]] = vars(botocore)["_INITIALIZERS"]
    return initializers


def _install_session_initializers(initializers: list[Callable[..., None]]) -> None:
    vars(botocore)["_INITIALIZERS"] = initializers


def _initializers_of_shared_packages() -> list[Callable[..., None]]:
    """botocore's session initializers but those a copy of an isolated package registered."""
    return [i for i in _session_initializers() if not _is_isolated(getattr(i, "__module__", None) or "")]


@contextmanager
def own_packages(environment: ExecutionEnvironment) -> Iterator[None]:
    """Give the execution environment its own copies of the isolated packages for the duration
    of an invocation (a cold start imports them afresh), then put the host's back.

    With them, the session initializers their import registered with botocore (which every
    environment shares): Powertools registers one (a User-Agent handler) each time it is
    imported, so without this every cold start added one more handler to every botocore session
    made afterwards in the process, by any function or test, and one more tag to its requests'
    User-Agent, as no Lambda process does (tests/localaws/test_environment_imports.py)."""
    host, host_initializers = isolated_modules(), _session_initializers()
    _install_modules(environment.packages)
    if environment.botocore_initializers is None:  # a cold start: botocore's own, none of another copy
        environment.botocore_initializers = _initializers_of_shared_packages()
    _install_session_initializers(environment.botocore_initializers)
    try:
        yield
    finally:
        # What the invocation imported stays imported in its environment, as in a Lambda
        # process: a module a handler imports lazily is not imported afresh (a second copy,
        # with classes of its own) by the next invocation.
        environment.packages = isolated_modules()
        environment.botocore_initializers = _session_initializers()
        _install_modules(host)
        _install_session_initializers(host_initializers)


@dataclass(frozen=True)
class _SavedProcess:
    modules: dict[str, ModuleType]
    botocore_initializers: list[Callable[..., None]]
    environ: dict[str, str]
    sleep: Callable[[float | SupportsIndex], None]
    stdout: Any
    warning_filters: Any
    showwarning: Any


class InvocationProcessState(ProcessState):
    """What an invocation changes process-wide while it runs: its environment's packages in
    sys.modules and botocore's session initializers, its environment variables, time.sleep, sys.stdout and the warnings settings. The
    clock saves and restores them whenever it hands the process to another thread, so overlapping
    invocations each see their own. (The output target and the calling function are per thread;
    the simulated cache clock patches the environment's own module, which travels with it.)"""

    def capture(self) -> object:
        return _SavedProcess(isolated_modules(), _session_initializers(), dict(os.environ), time.sleep, sys.stdout,
                             warnings.filters, warnings.showwarning)

    def restore(self, saved: object) -> None:
        assert isinstance(saved, _SavedProcess)
        _install_modules(saved.modules)
        _install_session_initializers(saved.botocore_initializers)
        for name in [n for n in os.environ if n not in saved.environ]:
            del os.environ[name]
        for name, value in saved.environ.items():
            if os.environ.get(name) != value:  # only what differs: each change is a putenv
                os.environ[name] = value
        time.sleep = saved.sleep
        sys.stdout = saved.stdout
        warnings.filters = saved.warning_filters
        warnings._filters_mutated()  # type: ignore[attr-defined]  # the cached filter version
        warnings.showwarning = saved.showwarning


# Modules that read the wall clock to expire caches: within an invocation they read the
# simulated clock instead, so a cache age (POWERTOOLS_PARAMETERS_MAX_AGE) means simulated seconds.
_CACHE_CLOCK_MODULES = ("aws_lambda_powertools.utilities.parameters.base",)


@contextmanager
def simulated_cache_clock(clock: SimClock) -> Iterator[None]:
    class SimulatedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]  # a plain datetime, not Self
            now = clock.now()
            return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

    with ExitStack() as stack:
        for name in _CACHE_CLOCK_MODULES:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "datetime", None) is datetime.datetime:
                stack.enter_context(mock.patch.object(module, "datetime", SimulatedDatetime))
        yield


def capture_stdout_handlers(service: str | None = None) -> None:
    """Point the handlers an invocation's lines go through at the invocation output: those that
    hold the real stdout (loggers configured before the first invocation, by an import elsewhere in
    this process), and every plain stream handler of the function's own loggers (its Powertools
    service logger and the layer's packages) whatever stream it holds: a test process may have
    configured that logger while pytest held another stdout (a `capsys` test, an xdist worker's
    collection), and Lambda sends both stdout and stderr to the function's log. pytest's own
    handlers (subclasses) are left alone."""
    own = {*ISOLATED_PACKAGES, *([service] if service else [])}
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        name = getattr(logger, "name", "")
        for handler in getattr(logger, "handlers", []):
            if not isinstance(handler, logging.StreamHandler) or handler.stream is OUTPUT:
                continue
            function_s_own = type(handler) is logging.StreamHandler and name.partition(".")[0] in own
            if function_s_own or handler.stream in (sys.__stdout__, sys.stdout):
                handler.setStream(OUTPUT)


class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function: DeployedFunction, request_id: str, started: Any, clock: Any) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = 256
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{request_id}"
        self._deadline = started.timestamp() + function.spec.timeout_seconds
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now().timestamp()) * 1000))
