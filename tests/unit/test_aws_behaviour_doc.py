"""docs/aws-behaviour.md matches the code: each line names real tests, every ID the code points
to exists, and the code points nowhere outside the repository."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "aws-behaviour.md"
SOURCES = [p for folder in ("layers", "functions", "localaws", "modelshare_cli", "tests") for p in (ROOT / folder).rglob("*.py")]
SOURCES += [ROOT / "template.yaml", ROOT / "Makefile", ROOT / "README.md"]
SOURCES += [page for page in sorted((ROOT / "docs").glob("*.md")) if page != ROOT / "docs" / "aws-behaviour.md"]
ROW = re.compile(r"^\| ([A-Z][A-Z0-9-]+) \| (.+?) \| (.+?) \| (VERIFIED|UNVERIFIED)[^|]* \| (.+?) \|$")


def rows():
    found = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} twice"
            found[match.group(1)] = match.groups()
    return found


def test_every_line_names_its_source_status_and_tests_that_exist():
    table = rows()
    assert len(table) >= 40
    for key, (_, behaviour, source, _status, pinned) in table.items():
        assert behaviour.strip() and source.strip(), key
        if pinned.strip() == "none (not emulated)":
            continue
        tests = re.findall(r"`(tests/[^`:]+)::(\w+)`", pinned)
        assert tests, f"{key}: no test pins it"
        for path, name in tests:
            module = ast.parse((ROOT / path).read_text())
            names = {node.name for node in ast.walk(module) if isinstance(node, ast.FunctionDef)}
            assert name in names, f"{key}: {path}::{name} does not exist"


def test_every_id_the_code_points_to_is_in_the_document():
    table = rows()
    pointed = set()
    for path in SOURCES:
        text = path.read_text()
        pointed |= set(re.findall(r"aws-behaviour\.md[,:]?\s+([A-Z][A-Z0-9]+(?:-[A-Z0-9]+)+)", text))
    assert pointed, "the code points at the document"
    assert pointed <= set(table), sorted(pointed - set(table))


def test_nothing_points_outside_the_repository():
    for path in [*SOURCES, DOC]:
        text = path.read_text()
        if path == Path(__file__):
            continue
        assert "AWS_FACTS" not in text and "../shared" not in text, path


def test_the_domain_never_names_a_managed_permission():
    """RAM matches managed permissions to a policy's actions by itself: the deployed code names
    none (docs/aws-behaviour.md, RAM-AWS-MANAGED)."""
    for path in list((ROOT / "layers").rglob("*.py")) + list((ROOT / "functions").rglob("*.py")):
        assert "AWSRAM" not in path.read_text(), path
