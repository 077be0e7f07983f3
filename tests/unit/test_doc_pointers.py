"""Pointers from the code to the docs reach something: `docs/x.md` a page, `docs/x.md#anchor` and
`docs/x.md, "Heading"` a heading of it. The README is 140 lines of links since issue 21; what its
sections said moved to docs/, so the code points there: a bare "README" in the code is a pointer
to a section that is gone (`README.md, "Heading"` must name one of its headings)."""

import re
from pathlib import Path

from tests.unit.test_docs_commands import anchors

ROOT = Path(__file__).resolve().parents[2]
CODE = [
    *ROOT.glob("layers/modelshare/modelshare/**/*.py"), *ROOT.glob("functions/*/app.py"),
    *ROOT.glob("modelshare_cli/**/*.py"), *ROOT.glob("localaws/**/*.py"), *ROOT.glob("tests/**/*.py"),
    *(ROOT / name for name in ("template.yaml", "samconfig.toml", "Makefile", "pyproject.toml",
                               "requirements-dev.txt", "layers/modelshare/Makefile",
                               "layers/modelshare/requirements.txt")),
]
POINTER = re.compile(r'(?<![\w/.])(docs/[\w-]+\.md|README\.md)(?:#([\w-]+))?(?:,\s*"([^"\n]+)")?')
BARE_README = re.compile(r"\bREADME\b(?!\.md)")


def headings(page: Path) -> set[str]:
    return {line.lstrip("#").strip() for line in page.read_text().splitlines() if line.startswith("#")}


def pointers() -> list[tuple[str, str, str | None, str | None]]:
    found = []
    for path in CODE:
        if path == Path(__file__) or not path.exists():
            continue
        for match in POINTER.finditer(path.read_text()):
            found.append((str(path.relative_to(ROOT)), match[1], match[2], match[3]))
    return found


def test_the_code_points_to_the_docs_at_all():
    # The scan must see the pointers it checks (a broken pattern would pass everything).
    assert len(pointers()) > 50
    assert any(heading for *_, heading in pointers())


def test_every_page_anchor_and_heading_the_code_points_to_exists():
    broken = []
    for source, page, anchor, heading in pointers():
        target = ROOT / page
        if not target.is_file():
            broken.append((source, page))
        elif anchor and anchor not in anchors(target):
            broken.append((source, f"{page}#{anchor}"))
        elif heading and heading not in headings(target):
            broken.append((source, f'{page}, "{heading}"'))
    assert broken == []


def test_the_code_points_to_no_readme_section_that_moved():
    stale = [f"{path.relative_to(ROOT)}:{number}" for path in CODE if path != Path(__file__) and path.exists()
             for number, line in enumerate(path.read_text().splitlines(), 1) if BARE_README.search(line)]
    assert stale == []
