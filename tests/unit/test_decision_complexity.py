"""Issue 21, section 1: the decision is small named rules, none above radon's grade C (cyclomatic
complexity 20 or less), so a newcomer can read each rule on its own."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

import modelshare

LAYER = Path(modelshare.__file__).parent
DECISION_MODULES = (*sorted((LAYER / "decision").glob("*.py")), LAYER / "restriction.py", LAYER / "shares_mode.py",
                    LAYER / "shares_writes.py")


def test_the_decision_modules_are_found() -> None:
    names = {p.relative_to(LAYER).as_posix() for p in DECISION_MODULES}
    assert {"decision/rules.py", "decision/share_rules.py", "decision/facts.py", "decision/shares.py",
            "restriction.py", "shares_mode.py"} <= names


def test_no_function_of_the_decision_is_above_grade_c() -> None:
    too_complex = [f"{path.relative_to(LAYER)}:{block.lineno} {block.fullname} {cc_rank(block.complexity)} "
                   f"({block.complexity})"
                   for path in DECISION_MODULES for block in cc_visit(path.read_text())
                   if cc_rank(block.complexity) not in "ABC"]
    assert too_complex == []
