"""`make test` draws the same Hypothesis examples on every machine and at every commit: from the
fixed seed alone (tests/conftest.py), not from constants Hypothesis would otherwise collect from
the project's own modules, which change with every edit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_same_seed_draws_the_same_worlds_whatever_else_is_loaded(tmp_path: Path) -> None:
    """Two pytest runs with the same seed, one of them having imported a project module full of
    constants first, draw the same integers."""
    (tmp_path / "project_constants.py").write_text(
        "NUMBERS = (" + ", ".join(str(7919 * k) for k in range(1, 200)) + ")\n")
    test = tmp_path / "test_draw.py"
    test.write_text(textwrap.dedent("""
        import json, os, sys
        from hypothesis import given, settings, strategies as st
        if os.environ.get("LOAD_CONSTANTS"):
            import project_constants  # noqa: F401
        DRAWN = []
        @settings(max_examples=30, database=None)
        @given(st.integers(0, 2**31))
        def test_draw(n):
            DRAWN.append(n)
        def test_zz_report():
            print("DRAWN=" + json.dumps(DRAWN))
    """))
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())

    def drawn(load: bool) -> list[int]:
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), **({"LOAD_CONSTANTS": "1"} if load else {})}
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(test)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
        return list(json.loads(next(line.split("DRAWN=", 1)[1] for line in out.splitlines() if "DRAWN=" in line)))

    assert drawn(load=False) == drawn(load=True)
