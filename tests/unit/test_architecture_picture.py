"""docs/architecture.md draws the house; the imports the code makes must be the picture's arrows.

The picture's boxes are mapped to modules here (`BOXES`); every import from one box into another
(found by ast, type-only imports too) must be an arrow of the picture, and every arrow must be an
import somewhere, so neither can drift from the other. An arrow to a subgraph stands for arrows to
each box in it. The local AWS's floors are checked the same way: nothing imports a floor above it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "modelshare"
DOC = ROOT / "docs" / "architecture.md"

# The pure modules every box may import ("vocabulary" in the picture): they import only each other.
VOCABULARY = ("account_ids", "strict_json", "org_principals", "allowlist", "allowlist_parts", "policy",
              "outcomes", "share_layout", "observability", "quota_budget", "mode_costs", "settings")

# Box of the picture -> the module prefixes it holds; a module belongs to its longest prefix.
BOXES: dict[str, tuple[str, ...]] = {
    "handlers": ("functions", "modelshare.handler"),
    "cli": ("modelshare_cli",),
    "localaws": ("localaws",),
    "wiring": ("modelshare.wiring",),
    "dryrun": ("modelshare.dry_run",),
    "ports": ("modelshare.ports", "modelshare.ram_ports", "modelshare.port_values", "modelshare.version_ports"),
    "adapters": ("modelshare.aws",),
    "decision": ("modelshare.decision",),
    "vocabulary": tuple(f"modelshare.{name}" for name in VOCABULARY),
    "domain": ("modelshare",),
}

FLOORS = ("core", "services", "runtime", "harness")

EDGE = re.compile(r"^\s*(\w+)\s*(?:-->|-\.->)\s*(?:\|[^|]*\|\s*)?(\w+)\s*$")
NODE = re.compile(r"^\s*(\w+)\[")
SUBGRAPH = re.compile(r"^\s*subgraph\s+(\w+)")


def module_files() -> dict[str, Path]:
    files = [*LAYER.glob("modelshare/**/*.py"), *ROOT.glob("functions/*/app.py"),
             *ROOT.glob("modelshare_cli/**/*.py"), *ROOT.glob("localaws/**/*.py")]
    modules = {}
    for path in files:
        relative = path.relative_to(LAYER if LAYER in path.parents else ROOT).with_suffix("")
        parts = [part for part in relative.parts if part != "__init__"]
        modules[".".join(parts)] = path
    return modules


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules `module` imports (`from a import b` names a.b when b is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in found if name in known}


def box_of(module: str) -> str:
    matches = [(len(prefix), box) for box, prefixes in BOXES.items() for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is in no box of the picture: add it to BOXES (and to the picture)"
    return max(matches)[1]


def import_graph() -> dict[tuple[str, str], set[str]]:
    modules = module_files()
    edges: dict[tuple[str, str], set[str]] = {}
    for module, path in modules.items():
        for target in imports_of(module, path, set(modules)):
            if box_of(module) != box_of(target):
                edges.setdefault((box_of(module), box_of(target)), set()).add(f"{module} -> {target}")
    return edges


def the_picture() -> tuple[set[str], dict[str, set[str]], set[tuple[str, str]]]:
    """The boxes, the subgraphs (name -> boxes) and the arrows of the doc's first Mermaid block."""
    block = DOC.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    boxes, subgraphs, arrows = set(), {}, set()
    open_subgraph = None
    for line in block.splitlines():
        if match := SUBGRAPH.match(line):
            open_subgraph = match[1]
            subgraphs[open_subgraph] = set()
        elif line.strip() == "end":
            open_subgraph = None
        elif match := EDGE.match(line):
            arrows.add((match[1], match[2]))
        elif match := NODE.match(line):
            boxes.add(match[1])
            if open_subgraph:
                subgraphs[open_subgraph].add(match[1])
    return boxes, subgraphs, arrows


def test_the_picture_draws_every_box_and_no_other():
    boxes, _, _ = the_picture()
    assert boxes == set(BOXES)


def test_every_import_across_boxes_is_an_arrow_of_the_picture():
    _, subgraphs, arrows = the_picture()
    drawn = {(a, b) for source, target in arrows
             for a in subgraphs.get(source, {source}) for b in subgraphs.get(target, {target})}
    undrawn = {edge: sorted(examples)[:3] for edge, examples in import_graph().items() if edge not in drawn}
    assert undrawn == {}, "imports docs/architecture.md does not draw"


def test_every_arrow_of_the_picture_is_an_import():
    _, subgraphs, arrows = the_picture()
    real = set(import_graph())
    idle = {(source, target) for source, target in arrows
            if not any((a, b) in real for a in subgraphs.get(source, {source})
                       for b in subgraphs.get(target, {target}))}
    assert idle == set(), "arrows docs/architecture.md draws that no import makes"


def test_only_the_adapters_and_the_wiring_of_the_deployed_code_import_the_sdk():
    sdk_users = set()
    for module, path in module_files().items():
        if box_of(module) in ("cli", "localaws"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] in ("boto3", "botocore") for name in names):
                sdk_users.add(box_of(module))
    assert sdk_users <= {"adapters", "wiring"}, sdk_users


def test_the_local_aws_floors_import_only_downwards():
    modules = module_files()
    upward = []
    for module, path in modules.items():
        parts = module.split(".")
        if parts[0] != "localaws" or len(parts) < 2 or parts[1] not in FLOORS:
            continue
        for target in imports_of(module, path, set(modules)):
            top, _, rest = target.partition(".")
            floor = rest.partition(".")[0]
            if top == "modelshare_cli" or (top == "localaws" and floor in FLOORS
                                           and FLOORS.index(floor) > FLOORS.index(parts[1])):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_floors_are_the_ones_the_architecture_doc_names():
    folders = sorted(p.name for p in (ROOT / "localaws").iterdir() if (p / "__init__.py").exists())
    assert folders == sorted(FLOORS)
    assert "`core/`" in DOC.read_text() and all(f"`{floor}/`" in DOC.read_text() for floor in FLOORS)
