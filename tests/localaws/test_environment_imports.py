"""An execution environment keeps what its invocations imported, as a Lambda process does: a
module a handler imports lazily (modelshare's cold-start work, tests/unit/test_lazy_imports.py)
is imported once per environment, never afresh (a second copy, with classes of its own, that an
`isinstance` against the first copy would miss)."""

from __future__ import annotations

import importlib
import sys

import botocore
import botocore.session

from localaws.runtime.functions import ExecutionEnvironment
from localaws.runtime.lambda_process import isolated_modules, own_packages

LAZY = "modelshare.allowlist_history"


def test_a_module_an_invocation_imports_lazily_stays_for_the_environment_s_next_invocation() -> None:
    importlib.import_module("modelshare.allowlist")
    environment = ExecutionEnvironment(number=1)
    environment.packages = {n: m for n, m in isolated_modules().items() if n != LAZY}

    with own_packages(environment):
        assert LAZY not in sys.modules
        first = importlib.import_module(LAZY)
    assert environment.packages.get(LAZY) is first

    with own_packages(environment):
        assert importlib.import_module(LAZY) is first


def test_the_host_keeps_its_own_modules_around_an_invocation() -> None:
    host = importlib.import_module("modelshare.allowlist")
    environment = ExecutionEnvironment(number=2)

    with own_packages(environment):
        assert sys.modules.get("modelshare.allowlist") is not host
        importlib.import_module("modelshare.allowlist")
    assert sys.modules["modelshare.allowlist"] is host


def _powertools_initializers() -> int:
    return sum(1 for i in vars(botocore)["_INITIALIZERS"] if i.__module__.startswith("aws_lambda_powertools"))


def test_what_a_cold_start_registers_with_botocore_stays_in_its_environment() -> None:
    """Importing Powertools registers a botocore session initializer (a User-Agent handler).
    Each environment's own import registers its own: one per environment, never piling up in
    the process (every session made later would run them all, the User-Agent growing by one tag
    per cold start ever made), and never reaching the host or another environment."""
    importlib.import_module("aws_lambda_powertools")
    host = list(vars(botocore)["_INITIALIZERS"])
    environments = [ExecutionEnvironment(number=number) for number in (3, 4, 5)]
    for environment in environments:  # each a cold start: imports Powertools afresh
        with own_packages(environment):
            importlib.import_module("aws_lambda_powertools")
            assert _powertools_initializers() == 1
            session = botocore.session.Session()
            handlers = session.get_component("event_emitter")._emitter._handlers.prefix_search("request-created")
            assert sum(1 for h in handlers if h.__module__.startswith("aws_lambda_powertools")) == 1
    with own_packages(environments[0]):  # its next invocation: the same one, no second
        assert _powertools_initializers() == 1
    assert vars(botocore)["_INITIALIZERS"] == host
