"""`pip install -e .` (or pipx) gives a CLI that runs: pyproject.toml declares every third-party
distribution the CLI imports, compatible with the pinned versions the Makefile installs, and the
version has one source.

No install is made here (no network in tests): a child process imports the CLI with every
third-party module outside the declared dependencies hidden, as a fresh virtualenv would be."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from setuptools.config.expand import read_attr

import modelshare
from modelshare_cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FIRST_PARTY = ("modelshare", "modelshare_cli", "localaws", "tests")

# The child: hide every third-party top-level module whose distribution the allowed ones do not
# reach (ModuleNotFoundError, as in a virtualenv without it), then run what argv[1] says.
CHILD = r"""
import importlib.abc, importlib.metadata as metadata, json, sys
from packaging.requirements import Requirement

allowed_requirements, first_party, script = json.loads(sys.argv[1])

def closure(requirements):
    seen, todo = {}, [Requirement(text) for text in requirements]
    while todo:
        req = todo.pop()
        name = req.name.lower().replace("_", "-")
        extras = seen.setdefault(name, set())
        if req.extras <= extras and extras:
            continue
        extras |= req.extras
        for text in metadata.requires(req.name) or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append(sub)
    return set(seen)

reachable = closure(allowed_requirements)
owners = metadata.packages_distributions()

class Hidden(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in sys.stdlib_module_names or top in first_party or top in sys.modules:
            return None
        dists = {d.lower().replace("_", "-") for d in owners.get(top, [])}
        if dists & reachable:
            return None
        raise ModuleNotFoundError(f"No module named {top!r} (not a declared dependency)", name=top)

sys.meta_path.insert(0, Hidden())
exec(script)
"""


def run_child(requirements: list[str], script: str) -> subprocess.CompletedProcess[str]:
    argument = json.dumps([requirements, list(FIRST_PARTY), script])
    return subprocess.run([sys.executable, "-c", CHILD, argument], capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_declared_dependencies_run_the_cli(tmp_path):
    document = tmp_path / "allowlist.json"
    document.write_text(json.dumps({"version": 1, "shares": [
        {"owner": "111122223333", "groups": ["churn-*"], "consumers": ["444455556666"]}]}))
    script = ("from modelshare_cli.main import main\n"
              "assert main(['--version']) == 0\n"
              f"raise SystemExit(main(['allowlist', 'validate', {str(document)!r}]))\n")
    result = run_child(PYPROJECT["dependencies"], script)
    assert result.returncode == 0, result.stderr
    assert f"modelshare {modelshare.__version__}" in result.stdout
    assert "OK, a valid allowlist" in result.stdout


def test_without_the_declared_dependencies_the_check_fails():
    """The hiding is real: with nothing declared, the CLI's first import of botocore fails."""
    result = run_child([], "import modelshare_cli.main")
    assert result.returncode != 0
    assert "not a declared dependency" in result.stderr


def test_the_local_extra_runs_simulate(tmp_path):
    """`pip install -e '.[local]'` adds the local AWS `simulate` runs on."""
    local = PYPROJECT.get("optional-dependencies", {}).get("local", [])
    missing = tmp_path / "missing.json"
    script = ("from modelshare_cli.main import main\n"
              "import localaws.harness.deployment, localaws.harness.simulate, localaws.runtime.template\n"
              f"raise SystemExit(main(['simulate', {str(missing)!r}]))\n")
    result = run_child(PYPROJECT["dependencies"] + local, script)
    assert result.returncode == 2, result.stderr  # the missing scenario: the imports went through
    assert "not a declared dependency" not in result.stderr


def pinned_versions() -> dict[str, str]:
    pins: dict[str, str] = {}
    for name in ("requirements-dev.txt", "layers/modelshare/requirements.txt"):
        for line in (ROOT / name).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^]]*\])?==(\S+)", line)
            if match:
                pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


@pytest.mark.parametrize("text", PYPROJECT["dependencies"] + PYPROJECT.get("optional-dependencies", {}).get("local", []))
def test_each_declared_dependency_admits_the_pinned_version(text):
    requirement = Requirement(text)
    pinned = pinned_versions()[requirement.name.lower().replace("_", "-")]
    assert requirement.specifier, f"{text}: no version bound"
    assert requirement.specifier.contains(pinned), f"{text} refuses the pinned {pinned}"


def test_version_has_one_source(capsys):
    assert "version" not in PYPROJECT
    assert "version" in PYPROJECT["dynamic"]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "modelshare.__version__"}
    package_dir = setuptools["package-dir"]
    assert read_attr("modelshare.__version__", package_dir, str(ROOT)) == modelshare.__version__
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"modelshare {modelshare.__version__}\n"


def test_console_script_points_at_main():
    assert PYPROJECT["scripts"]["modelshare"] == "modelshare_cli.main:main"
