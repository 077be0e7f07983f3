"""Tests marked with one `xdist_group` run on one pytest-xdist worker under --dist loadgroup
(tests/conftest.py, _keep_xdist_groups): the expensive fixture such a group shares (the IAM tour)
is built once, not once per worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GROUPED = '''
import os
import pytest

pytestmark = pytest.mark.xdist_group("shared")


@pytest.mark.parametrize("n", range(8))
def test_grouped(n):
    with open(os.path.join(os.environ["GROUP_OUT"], f"pid-{n}"), "w") as out:
        out.write(str(os.getpid()))
'''


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    folder = tmp_path / "tests" / "integration"
    folder.mkdir(parents=True)
    (tmp_path / "tests" / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (folder / "test_grouped.py").write_text(GROUPED)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                           "--dist", "loadgroup", str(folder)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "GROUP_OUT": str(out)})
    assert done.returncode == 0, done.stdout + done.stderr
    pids = {p.read_text() for p in out.glob("pid-*")}
    assert len(list(out.glob("pid-*"))) == 8
    assert len(pids) == 1, f"the group ran in {len(pids)} workers"
