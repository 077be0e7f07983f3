"""The docs a newcomer reads name only what exists (issue 21, section 5): every `make TARGET` named
in README.md and docs/*.md is a target of the Makefile, every `modelshare COMMAND [SUBCOMMAND]` is
a command of the CLI's parser, every relative link reaches a file (and a heading, for an anchor),
every alarm of template.yaml has its runbook in docs/operations.md, and every metric the code
counts is described there."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

from modelshare_cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```", re.M | re.S)
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}


def shell_snippets(text: str) -> Iterator[str]:
    """What a reader would type: inline code spans, and the lines of shell and console blocks
    (a console block's commands only, after its `$ `)."""
    for language, body in FENCE.findall(text):
        if language not in SHELL_BLOCKS:
            continue
        for line in body.replace("\\\n", " ").splitlines():
            if language == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            yield line.split(" #", 1)[0]
    for span in re.findall(r"`([^`]+)`", FENCE.sub("", text)):  # a span may wrap a line
        yield " ".join(span.split())


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.M))


def named_make_targets(text: str) -> set[str]:
    found = set()
    for snippet in shell_snippets(text):
        found |= set(re.findall(r"(?:^|[\s;&|(])make ([a-z][\w-]*)", snippet))
    return found


def named_commands(text: str) -> set[tuple[str, ...]]:
    """Each `modelshare ...` as the words that name its command, global options (and their
    values) before the command skipped."""
    commands = set()
    for snippet in shell_snippets(text):
        # The command word where a shell runs it: first, after `;`, `&&`, `|`, `(`, or a path.
        for rest in re.findall(r"(?:^\s*|[;&|(]\s*|/)modelshare ((?:[^\s|;&]+ ?)+)", snippet):
            words = rest.split()
            if words and words[0] in ("--version", "--help", "-h"):
                continue
            commands.add(tuple(words))
    return commands


def _options_taking_a_value(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions if action.nargs != 0 for option in action.option_strings}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return None


def command_problem(words: tuple[str, ...]) -> str | None:
    """None when the parser knows the command the words name (and its subcommand, when it has
    subcommands), else what is wrong."""
    parser = build_parser()
    position = 0
    while True:
        while position < len(words) and words[position].startswith("-"):
            option = words[position].split("=", 1)[0]
            position += 2 if option in _options_taking_a_value(parser) and "=" not in words[position] else 1
        choices = _subcommands(parser)
        if choices is None:
            return None
        if position >= len(words):
            return f"modelshare {' '.join(words)}: no command named"
        name = words[position].rstrip(":,.")
        if name not in choices:
            return f"modelshare {' '.join(words)}: {name!r} is none of {sorted(choices)}"
        parser, position = choices[name], position + 1


def test_the_readme_is_at_most_200_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_every_make_target_named_in_the_docs_exists():
    targets = makefile_targets()
    named = {}
    for page in PAGES:
        for target in named_make_targets(page.read_text()):
            named.setdefault(target, page.name)
    assert {"demo", "test", "build", "lint"} <= set(named), "the docs name the everyday targets"
    missing = {target: page for target, page in named.items() if target not in targets}
    assert not missing, f"make targets the docs name but the Makefile lacks: {missing}"


def test_every_modelshare_command_named_in_the_docs_exists():
    named = {(page.name, words) for page in PAGES for words in named_commands(page.read_text())}
    heads = {words[0] for _, words in named if words and not words[0].startswith("-")}
    assert {"allowlist", "plan", "reconcile", "status", "simulate"} <= heads, "the docs name every command"
    problems = [f"{page}: {problem}" for page, words in sorted(named) if (problem := command_problem(words))]
    assert not problems, problems


def test_the_command_check_refuses_what_the_cli_lacks():
    """The walk over the parser can fail: an unknown command or subcommand is a problem."""
    assert command_problem(("uninstall",)) is not None
    assert command_problem(("allowlist", "edit", "x.json")) is not None
    assert command_problem(("--profile", "consumer", "status")) is None
    assert command_problem(("allowlist", "set", "--path", "/p", "a.json")) is None


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped but '-' and '_', spaces to '-'."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", page.read_text()), re.M):
        anchor = base = github_anchor(heading)
        number = 0
        while anchor in found:
            number += 1
            anchor = f"{base}-{number}"
        found.add(anchor)
    return found


def test_every_relative_link_reaches_a_file_and_its_heading():
    broken = []
    for page in PAGES:
        prose = re.sub(r"`[^`\n]+`", "", FENCE.sub("", page.read_text()))
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            if not destination.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def template_alarms() -> list[str]:
    text = (ROOT / "template.yaml").read_text()
    return re.findall(r"^  (\w+):\n    Type: AWS::CloudWatch::Alarm$", text, re.M)


def test_every_alarm_of_the_template_has_a_runbook():
    alarms = template_alarms()
    assert len(alarms) >= 9
    runbooks = set(re.findall(r"^### `(\w+)`", (ROOT / "docs" / "operations.md").read_text(), re.M))
    assert set(alarms) <= runbooks, sorted(set(alarms) - runbooks)
    assert runbooks <= set(alarms), sorted(runbooks - set(alarms))


def test_every_metric_the_code_counts_is_described():
    counted = set()
    for path in (ROOT / "layers").rglob("*.py"):
        text = path.read_text()
        counted |= set(re.findall(r"\bcount\(\"([A-Z]\w+)\"", text))
        counted |= set(re.findall(r"_METRIC = \"([A-Z]\w+)\"", text))
    assert {"AllowlistInvalid", "RamQuotaReached", "RamQuotaUse"} <= counted
    operations = (ROOT / "docs" / "operations.md").read_text()
    described = set(re.findall(r"^\| `(\w+)` \|", operations, re.M))
    assert counted <= described, sorted(counted - described)


def test_every_stack_parameter_is_in_the_deploying_table():
    template = (ROOT / "template.yaml").read_text()
    parameters = template[template.index("\nParameters:\n"):template.index("\nConditions:\n")]
    names = set(re.findall(r"^  (\w+):$", parameters, re.M))
    assert {"Role", "TrustedOwnerAccounts", "SharingMode"} <= names
    rows = re.findall(r"^\| (`\w+`(?:, `\w+`)*) \|", (ROOT / "docs" / "deploying.md").read_text(), re.M)
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row)}
    assert names <= documented, sorted(names - documented)
