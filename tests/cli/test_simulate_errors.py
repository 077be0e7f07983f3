"""`modelshare simulate` says what went wrong in one line, with the documented exit code, never a
traceback: a template the simulation cannot install (exit 2, before anything runs) and Ctrl-C
(exit 130)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import localaws.harness.simulate
from modelshare_cli.main import main

ROOT_DIR = Path(__file__).resolve().parents[2]
DEMO = ROOT_DIR / "examples" / "demo.json"
ORGANIZATION = {"id": "o-exampleorg1", "management_account": "999988887777", "ous": {"ou-ab12-examplou": None},
                "accounts": {"444455556666": "ou-ab12-examplou"}, "ram_sharing_enabled": True}
ROLE_PARAMETER = """  Role:
    Type: String
    Default: both
    AllowedValues: [owner, consumer, both]
    Description: owner shares and promotes this account's groups; consumer accepts invitations; both does both.
"""


def changed_template(tmp_path, old: str, new: str):
    text = (ROOT_DIR / "template.yaml").read_text()
    assert old in text
    path = tmp_path / "template.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the simulation starts: a refused template must be refused before."""
    def run(self):
        raise AssertionError("the simulation ran")
    monkeypatch.setattr(localaws.harness.simulate.Simulation, "run", run)


def test_a_template_without_role_is_refused_in_one_line(capsys, tmp_path, no_run):
    template = changed_template(tmp_path, ROLE_PARAMETER, "")
    assert main(["simulate", str(DEMO), "--template", str(template)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"modelshare simulate: {template} cannot be installed: it declares no parameter Role, which the simulation sets"]
    assert "Traceback" not in captured.err + captured.out


def test_a_template_whose_role_refuses_both_is_refused(capsys, tmp_path, no_run):
    template = changed_template(tmp_path, "AllowedValues: [owner, consumer, both]", "AllowedValues: [owner, consumer]")
    assert main(["simulate", str(DEMO), "--template", str(template)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"modelshare simulate: {template} cannot be installed: parameter Role='both' is not one of "
                   "['owner', 'consumer']"]


def test_a_template_whose_rule_refuses_the_stack_is_refused(capsys, tmp_path, no_run):
    text = (ROOT_DIR / "template.yaml").read_text()
    assert "\nRules:\n" in text
    template = tmp_path / "template.yaml"
    template.write_text(text.replace("\nRules:\n", "\nRules:\n  NeverInstalls:\n    Assertions:\n"
                                     "      - Assert: !Equals [a, b]\n        AssertDescription: never\n", 1))
    assert main(["simulate", str(DEMO), "--template", str(template)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"modelshare simulate: {template} cannot be installed: rule NeverInstalls: never"]


@pytest.mark.parametrize("organization", [False, True])
def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch, tmp_path, organization):
    """With the project's template, which passes the install check (a member of an organization
    gets its OU path), the run is interrupted."""
    def interrupted(self):
        raise KeyboardInterrupt
    monkeypatch.setattr(localaws.harness.simulate.Simulation, "run", interrupted)
    scenario = json.loads(DEMO.read_text())
    if organization:
        scenario["organization"] = ORGANIZATION
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    assert main(["simulate", str(path)]) == 130
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["modelshare: interrupted"]
    assert "Traceback" not in captured.out


def test_ctrl_c_in_any_command_is_one_line(capsys, monkeypatch):
    """Ctrl-C while `allowlist validate -` waits for its document on stdin."""
    class Stdin:
        def read(self):
            raise KeyboardInterrupt
    monkeypatch.setattr("sys.stdin", Stdin())
    assert main(["allowlist", "validate", "-"]) == 130
    assert capsys.readouterr().err.splitlines() == ["modelshare: interrupted"]


def test_a_template_that_is_not_yaml_is_one_line(capsys, tmp_path, no_run):
    template = tmp_path / "template.yaml"
    template.write_text("Resources: [unclosed\n  - x: {\n")
    assert main(["simulate", str(DEMO), "--template", str(template)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"modelshare simulate: {template} is not a readable template: ")
