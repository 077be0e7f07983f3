"""`modelshare allowlist validate | show | get | diff | set` on the local AWS."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest

from modelshare.org_principals import ORG_PRINCIPAL_MESSAGE as NOT_AN_ACCOUNT
from modelshare_cli import allowlist_commands
from tests.cli.conftest import ALLOWLIST, ME, PARAMETER, PEER, STRANGER

INVALID_DOC = {"version": 2, "shares": [{"owner": ME, "groups": ["churn-*"], "consumers": [ME, "12"]}]}
INVALID_PROBLEMS = [
    "$.version: must be 1, not 2",
    f'$.shares[0].consumers[1]: {NOT_AN_ACCOUNT}: "12"',
    "$.shares[0].consumers[0]: the owner cannot be its own consumer",
]


def edited(**changes):
    document = copy.deepcopy(ALLOWLIST)
    document["shares"][0].update(changes)
    return document


def ssm_writes(cli):
    return [c for c in cli.writes() if c.service == "ssm"]


# -- validate ---------------------------------------------------------------------------------
def test_validate_ok_in_one_line_without_calling_aws(cli):
    result = cli("allowlist", "validate", cli.file(ALLOWLIST))
    assert result.code == 0
    assert result.out.splitlines() == [f"{cli.file(ALLOWLIST)}: OK, a valid allowlist with 2 rules"]
    assert cli.cloud.calls == []


def test_validate_lists_every_problem_with_its_path(cli):
    result = cli("allowlist", "validate", cli.file(INVALID_DOC))
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines[:3] == INVALID_PROBLEMS
    assert result.err_lines[3].startswith("modelshare: error: ") and "3 problems" in result.err_lines[3]


@pytest.mark.parametrize("content", ["{not json", ""])
def test_validate_not_json_is_one_line_exit_2(cli, content):
    result = cli("allowlist", "validate", cli.file(content))
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err.startswith("modelshare: error: ") and "is not JSON" in result.err


def test_validate_json_nested_deeper_than_json_decodes_is_one_line_exit_2(cli):
    """Regression (issue 9 fuzzing): json's RecursionError was no ValueError, and ended the
    command with a traceback."""
    result = cli("allowlist", "validate", cli.file("[" * 100_000))
    assert (result.code, len(result.err_lines), result.out) == (2, 1, "")
    assert result.err.startswith("modelshare: error: ") and "is not JSON" in result.err
    assert cli.cloud.calls == []


def test_validate_unreadable_file_is_exit_2(cli, tmp_path):
    result = cli("allowlist", "validate", str(tmp_path / "missing.json"))
    assert (result.code, len(result.err_lines)) == (2, 1)
    assert "cannot read" in result.err and "No such file" in result.err


def test_validate_reads_stdin(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(ALLOWLIST)))
    assert cli("allowlist", "validate", "-").code == 0


# -- show / get -------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["show", "get"])
def test_show_prints_the_document_and_its_version(cli, command):
    cli.put_parameter({"version": 1, "shares": []})
    cli.put_parameter(ALLOWLIST)
    result = cli("allowlist", command)
    assert result.code == 0
    assert json.loads(result.out) == ALLOWLIST
    assert result.out.startswith('{\n  "version": 1')  # pretty
    assert result.err_lines == [f"{PARAMETER}: version 2"]


def test_show_missing_parameter_is_one_error_line(cli):
    result = cli("allowlist", "show")
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines == [f"modelshare: error: allowlist parameter {PARAMETER} does not exist "
                                "(wrong --parameter, --region or account?)"]


def test_show_invalid_document_prints_it_then_the_problems(cli):
    cli.put_parameter(INVALID_DOC)
    result = cli("allowlist", "show")
    assert result.code == 1
    assert json.loads(result.out) == INVALID_DOC
    assert result.err_lines[0] == f"{PARAMETER}: version 1"
    assert result.err_lines[1].startswith("modelshare: error: the stored document is invalid")
    assert result.err_lines[2:] == INVALID_PROBLEMS


def test_show_not_json_prints_it_as_stored(cli):
    cli.put_parameter("{oops")
    result = cli("allowlist", "show")
    assert (result.code, result.out) == (1, "{oops\n")
    assert result.err_lines[-1].startswith("$: not valid JSON")


def test_parameter_name_from_option_then_environment(cli, monkeypatch):
    cli.put_parameter(ALLOWLIST, name="/team/allowlist")
    assert cli("allowlist", "show").code == 1  # the default name does not exist
    assert cli("--parameter", "/team/allowlist", "allowlist", "show").code == 0
    assert cli("allowlist", "show", "--parameter", "/team/allowlist").code == 0  # after the command too
    monkeypatch.setenv("MODELSHARE_ALLOWLIST_PARAMETER", "/team/allowlist")
    assert cli("allowlist", "show").err_lines == ["/team/allowlist: version 1"]


# -- diff -------------------------------------------------------------------------------------
def test_diff_equal_documents_say_no_changes(cli):
    cli.put_parameter(ALLOWLIST)
    reordered = copy.deepcopy(ALLOWLIST)
    reordered["shares"].reverse()
    result = cli("allowlist", "diff", cli.file(reordered))
    assert result.code == 0
    assert result.out.splitlines()[-1] == "no changes"


def test_diff_in_words(cli):
    cli.put_parameter(ALLOWLIST)
    new = edited(consumers=[STRANGER], access=["register"])
    new["shares"].pop(1)
    new["shares"].append({"owner": ME, "groups": ["fraud-*"], "consumers": [PEER], "access": ["deploy"]})
    result = cli("allowlist", "diff", cli.file(new))
    assert result.code == 0
    assert result.out.splitlines() == [
        f"{PARAMETER} (version 1) -> {cli.file(new)}:",
        f"~ changed rule $.shares[0] (owner {ME}, groups churn-*, fraud-detector, promo-*)",
        f"    + consumer {STRANGER}",
        f"    - consumer {PEER}",
        "    access: discover -> discover, register",
        f"+ added rule $.shares[1] (owner {ME}, groups fraud-*)",
        f"    consumers: {PEER}",
        "    access: discover, deploy",
        f"- removed rule $.shares[1] (owner {PEER}, groups their-*)",
        f"    consumers lost: {ME}",
        "    access was: discover",
    ]


def test_diff_against_a_missing_or_invalid_parameter_adds_every_rule(cli):
    result = cli("allowlist", "diff", cli.file(ALLOWLIST))
    assert result.code == 0
    assert result.out.splitlines()[0] == f"{PARAMETER} does not exist yet: every rule of {cli.file(ALLOWLIST)} is new"
    assert sum(line.startswith("+ added rule") for line in result.out.splitlines()) == 2
    cli.put_parameter(INVALID_DOC)
    result = cli("allowlist", "diff", cli.file(ALLOWLIST))
    assert "holds an invalid document (3 problems)" in result.out.splitlines()[0]


def test_diff_invalid_file_lists_problems(cli):
    cli.put_parameter(ALLOWLIST)
    result = cli("allowlist", "diff", cli.file(INVALID_DOC))
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines[:3] == INVALID_PROBLEMS


# -- set --------------------------------------------------------------------------------------
def test_set_creates_then_updates_the_parameter(cli):
    path = cli.file(ALLOWLIST)
    result = cli("allowlist", "set", path, "--yes")
    assert result.code == 0
    assert result.out.splitlines()[-1] == f"wrote {PARAMETER} version 1"
    assert cli.parameter() == (Path(path).read_text(), 1)  # the file as written, formatting kept

    path = cli.file(edited(consumers=[PEER, STRANGER]), "edited.json")
    result = cli("allowlist", "set", path, "--expected-version", "1", "--yes")
    assert result.code == 0
    assert f"    + consumer {STRANGER}" in result.out.splitlines()
    assert result.out.splitlines()[-1] == f"wrote {PARAMETER} version 2"
    assert cli.parameter() == (Path(path).read_text(), 2)
    put = ssm_writes(cli)[-1]
    assert (put.operation, put.params["Type"], put.params["Overwrite"]) == ("PutParameter", "String", True)


def test_set_never_writes_an_invalid_document(cli):
    cli.put_parameter(ALLOWLIST)
    before = len(ssm_writes(cli))
    result = cli("allowlist", "set", cli.file(INVALID_DOC), "--yes")
    assert result.code == 1
    assert result.err_lines[:3] == INVALID_PROBLEMS
    assert len(ssm_writes(cli)) == before
    assert cli.parameter()[1] == 1


def test_set_unreadable_file_is_exit_2_and_writes_nothing(cli, tmp_path):
    result = cli("allowlist", "set", str(tmp_path / "nope.json"), "--yes")
    assert result.code == 2
    assert ssm_writes(cli) == []


def test_set_refuses_when_the_expected_version_moved(cli):
    cli.put_parameter(ALLOWLIST)
    cli.put_parameter(edited(consumers=[STRANGER]))  # someone else: version 2
    result = cli("allowlist", "set", cli.file(ALLOWLIST), "--expected-version", "1", "--yes")
    assert result.code == 3
    assert len(result.err_lines) == 1
    assert result.err.startswith(f"modelshare: error: refused: {PARAMETER} is version 2, not version 1")
    assert "unknown" in result.err
    assert cli.parameter()[1] == 2


def test_set_expected_version_0_means_it_must_not_exist(cli):
    cli.put_parameter(ALLOWLIST)
    result = cli("allowlist", "set", cli.file(ALLOWLIST), "--expected-version", "0", "--yes")
    assert result.code == 3
    assert cli.parameter()[1] == 1
    result = cli("--parameter", "/fresh", "allowlist", "set", cli.file(ALLOWLIST), "--expected-version", "0", "--yes")
    assert result.code == 0
    assert cli.parameter("/fresh")[1] == 1


def test_set_detects_a_write_between_read_and_write(cli, monkeypatch):
    cli.put_parameter(ALLOWLIST)
    read = allowlist_commands.read_parameter

    def read_then_someone_writes(ssm, name):
        stored = read(ssm, name)
        cli.put_parameter(edited(consumers=[STRANGER]))  # lands between our read and our write
        return stored

    monkeypatch.setattr(allowlist_commands, "read_parameter", read_then_someone_writes)
    result = cli("allowlist", "set", cli.file(edited(consumers=[PEER, STRANGER])), "--yes")
    assert result.code == 3
    assert result.err_lines == [
        f"modelshare: error: wrote {PARAMETER} version 3, but it was at version 1 when read: someone else wrote "
        f"version 2 in between; this write replaced that change, check "
        f"'aws ssm get-parameter-history --name {PARAMETER}'"]


def test_set_create_loses_to_a_concurrent_create(cli, monkeypatch):
    read = allowlist_commands.read_parameter
    theirs = edited(consumers=[STRANGER])

    def read_then_someone_creates(ssm, name):
        stored = read(ssm, name)
        cli.put_parameter(theirs)
        return stored

    monkeypatch.setattr(allowlist_commands, "read_parameter", read_then_someone_creates)
    result = cli("allowlist", "set", cli.file(ALLOWLIST), "--yes")
    assert result.code == 3
    assert "was created by someone else" in result.err
    assert json.loads(cli.parameter()[0]) == theirs


def test_set_identical_document_writes_nothing(cli):
    cli("allowlist", "set", cli.file(ALLOWLIST), "--yes")
    result = cli("allowlist", "set", cli.file(ALLOWLIST), "--yes")
    assert result.code == 0
    assert "no changes" in result.out.splitlines()
    assert result.out.splitlines()[-1].endswith("nothing written")
    assert cli.parameter()[1] == 1


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_set_asks_before_writing(cli, monkeypatch):
    cli.put_parameter(ALLOWLIST)
    new = cli.file(edited(consumers=[STRANGER]))
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    result = cli("allowlist", "set", new)
    assert result.code == 1
    assert "[y/N]" in result.err and "not confirmed: nothing written" in result.err
    assert cli.parameter()[1] == 1
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert cli("allowlist", "set", new).code == 0
    assert cli.parameter()[1] == 2


def test_set_without_a_terminal_needs_yes(cli, monkeypatch):
    cli.put_parameter(ALLOWLIST)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    result = cli("allowlist", "set", cli.file(edited(consumers=[STRANGER])))
    assert result.code == 2
    assert result.err_lines == ["modelshare: error: stdin is not a terminal: pass --yes to write without asking"]
    assert cli.parameter()[1] == 1
