"""The suite runs the garbage collector less often (tests/conftest.py, speed only): a finalizer
that fails must still fail the test that dropped its object (pyproject.toml makes an
unraisable exception an error), not a later test, nor be lost when an xdist worker exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = '''
class FailsWhenFinalized:
    def __init__(self):
        self.me = self  # a cycle: only the cyclic collector frees it

    def __del__(self):
        raise RuntimeError("finalizer failed")


def test_drops_an_object_whose_finalizer_fails():
    FailsWhenFinalized()
    kept = [[i] for i in range(10_000)]  # allocations, fewer than one collection's threshold
    assert len(kept) == 10_000


def test_a_later_test():
    assert True
'''


def test_a_finalizer_that_fails_fails_the_test_that_dropped_it(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
                             "--rootdir", str(ROOT), "-p", "tests.conftest", str(tmp_path / "test_probe.py")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ERROR" in result.stdout and "test_drops_an_object_whose_finalizer_fails" in result.stdout, result.stdout
    assert "2 passed, 1 error" in result.stdout, result.stdout  # the error at its teardown; the later test passes
