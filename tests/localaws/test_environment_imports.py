"""An execution environment keeps what its invocations imported, as a Lambda process does: a
module a handler imports lazily (modelshare's cold-start work, tests/unit/test_lazy_imports.py)
is imported once per environment, never afresh (a second copy, with classes of its own, that an
`isinstance` against the first copy would miss)."""

from __future__ import annotations

import importlib
import sys

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
