"""`modelshare allowlist` in path mode: the document over the parts under one path, diffed and
written whole, in an order that never leaves a valid-looking mix."""

from __future__ import annotations

import json

import pytest

from modelshare.allowlist import AllowlistError
from modelshare.allowlist_parts import merge, part_name, split
from modelshare.aws import allowlist_parts_store
from modelshare_cli import allowlist_commands
from tests.cli.conftest import ME, PEER, STRANGER

PATH = "/modelshare/allowlist"


def document(count: int, consumer: str = PEER) -> dict:
    return {"version": 1, "shares": [
        {"owner": ME, "groups": [f"team-{i:03d}-*", f"model-{i:03d}", f"model-{i:03d}-v?"], "consumers": [consumer], "access": ["register"]}
        for i in range(count)]}


def parts(cli) -> dict[str, str]:
    answer = cli.ssm().get_parameters_by_path(Path=PATH, MaxResults=10)
    found = {p["Name"].removeprefix(PATH + "/"): p["Value"] for p in answer["Parameters"]}
    while answer.get("NextToken"):
        answer = cli.ssm().get_parameters_by_path(Path=PATH, MaxResults=10, NextToken=answer["NextToken"])
        found |= {p["Name"].removeprefix(PATH + "/"): p["Value"] for p in answer["Parameters"]}
    return found


def ssm_writes(cli):
    return [c for c in cli.writes() if c.service == "ssm"]


@pytest.fixture
def path_mode(monkeypatch):
    monkeypatch.setenv("MODELSHARE_ALLOWLIST_PATH", PATH)


def test_set_splits_three_hundred_rules_into_parts_then_show_and_diff_read_them_whole(cli, path_mode):
    big = document(300)
    for rule in big["shares"]:
        rule["consumers"].append(STRANGER)
    result = cli("allowlist", "set", cli.file(big), "--yes")
    assert result.code == 0, result.err
    stored = parts(cli)
    assert len(stored) > 10 and all(len(v) <= 4096 for v in stored.values())
    assert merge(stored, PATH).data == big
    assert result.out.splitlines()[-1].startswith(f"wrote {PATH}: revision ")
    shown = cli("allowlist", "show")
    assert shown.code == 0 and json.loads(shown.out) == big
    assert shown.err_lines == [f"{PATH}: revision {merge(stored, PATH).revision[:12]} in {len(stored)} parts"]
    edited = document(300)
    edited["shares"][150]["consumers"] = [STRANGER]
    diffed = cli("allowlist", "diff", cli.file(edited))
    assert diffed.code == 0 and "model-150" in diffed.out and STRANGER in diffed.out
    assert ssm_writes(cli)[-1].operation == "PutParameter", "diff writes nothing"


def test_an_advanced_tier_holds_the_same_document_in_fewer_parts(cli, path_mode):
    result = cli("allowlist", "set", cli.file(document(300)), "--yes", "--tier", "Advanced")
    assert result.code == 0, result.err
    assert 1 < len(parts(cli)) <= 10


def test_a_smaller_document_writes_every_part_first_then_deletes_the_rest(cli, path_mode):
    assert cli("allowlist", "set", cli.file(document(200)), "--yes").code == 0
    before = sorted(parts(cli))
    cli.cloud.calls.clear()
    assert cli("allowlist", "set", cli.file(document(40)), "--yes").code == 0
    after = sorted(parts(cli))
    operations = [(c.operation, c.params["Name"].removeprefix(PATH + "/")) for c in ssm_writes(cli)]
    puts = [name for op, name in operations if op == "PutParameter"]
    deletes = [name for op, name in operations if op == "DeleteParameter"]
    assert puts == after and deletes == sorted(set(before) - set(after))
    assert operations == [("PutParameter", n) for n in puts] + [("DeleteParameter", n) for n in deletes]
    assert merge(parts(cli), PATH).data == document(40)


def test_every_moment_of_a_write_but_the_last_is_refused_by_readers(cli, path_mode, monkeypatch):
    """Whatever the order of sizes, each state between the first and the last call merges to an
    error: a half-finished edit never looks like a document."""
    original = allowlist_parts_store.write_parts
    states: list[dict[str, str]] = []
    monkeypatch.setattr("modelshare_cli.allowlist_commands.write_parts",
                        lambda *a, **k: original(*a, **{**k, "progress": lambda _line: states.append(parts(cli))}))
    for old, new in ((200, 40), (40, 200), (100, 101)):
        assert cli("allowlist", "set", cli.file(document(old)), "--yes").code == 0
        states.clear()
        assert cli("allowlist", "set", cli.file(document(new, consumer=STRANGER)), "--yes").code == 0
        assert len(states) >= 2
        for state in states[:-1]:
            with pytest.raises(AllowlistError):
                merge(state, PATH)
        assert merge(states[-1], PATH).data == document(new, consumer=STRANGER)


def test_set_never_writes_an_invalid_document_or_one_that_cannot_be_split(cli, path_mode):
    invalid = document(50)
    invalid["shares"][42]["consumers"] = ["12"]
    result = cli("allowlist", "set", cli.file(invalid), "--yes")
    assert result.code == 1
    assert result.err_lines[0].startswith("$.shares[42].consumers[0]: ")
    repeated = document(50)
    repeated["shares"].append(dict(repeated["shares"][7]))
    result = cli("allowlist", "set", cli.file(repeated), "--yes")
    assert (result.code, result.err_lines[0]) == (1, "$.shares[50]: repeats $.shares[7]")
    huge = {"version": 1, "shares": [{"owner": ME, "groups": [f"g{i:05d}-*" for i in range(400)], "consumers": [PEER]}]}
    result = cli("allowlist", "set", cli.file(huge), "--yes")
    assert result.code == 1 and result.err_lines[0].startswith("$.shares[0]: too large for one parameter")
    assert cli("allowlist", "diff", cli.file(huge)).code == 1
    assert ssm_writes(cli) == []


def test_show_names_every_problem_of_a_half_written_document(cli, path_mode):
    assert cli("allowlist", "set", cli.file(document(100)), "--yes").code == 0
    newer = split(document(100, consumer=STRANGER), 4096)
    cli.ssm().put_parameter(Name=f"{PATH}/{part_name(1)}", Value=newer[0], Type="String", Overwrite=True)
    result = cli("allowlist", "show")
    assert result.code == 1
    assert any(line.startswith(f"{PATH}: parts of different revisions") for line in result.err_lines)
    diffed = cli("allowlist", "diff", cli.file(document(100)))
    assert "not one valid document" in diffed.out
    assert cli("allowlist", "set", cli.file(document(100)), "--yes").code == 0, "writing it whole repairs it"
    assert cli("allowlist", "show").code == 0


def test_expected_revision_guards_against_a_change_since_it_was_read(cli, path_mode):
    assert cli("allowlist", "set", cli.file(document(5)), "--yes", "--expected-revision", "none").code == 0
    revision = merge(parts(cli), PATH).revision
    result = cli("allowlist", "set", cli.file(document(6)), "--yes", "--expected-revision", "none")
    assert result.code == 3 and f"revision {revision[:12]}" in result.err
    assert cli("allowlist", "set", cli.file(document(6)), "--yes", "--expected-revision", revision[:12]).code == 0
    result = cli("allowlist", "set", cli.file(document(7)), "--yes", "--expected-revision", revision[:12])
    assert result.code == 3
    assert cli("allowlist", "set", cli.file(document(7)), "--yes", "--expected-version", "1").code == 2


def test_setting_the_same_document_again_writes_nothing(cli, path_mode):
    assert cli("allowlist", "set", cli.file(document(60)), "--yes").code == 0
    cli.cloud.calls.clear()
    result = cli("allowlist", "set", cli.file(document(60)), "--yes")
    assert result.code == 0 and "nothing written" in result.out
    assert ssm_writes(cli) == []


def test_path_from_option_or_environment_and_never_with_a_parameter(cli, monkeypatch):
    assert cli("allowlist", "set", cli.file(document(3)), "--yes", "--path", "/team/allowlist").code == 0
    assert cli.ssm().get_parameter(Name="/team/allowlist/part-001")["Parameter"]["Version"] == 1
    assert cli("allowlist", "show", "--path", "/team/allowlist", "--parameter", "/x").code == 2
    monkeypatch.setenv("MODELSHARE_ALLOWLIST_PATH", "/team/allowlist")
    assert json.loads(cli("allowlist", "show").out) == document(3)
    assert cli("allowlist", "validate", cli.file(document(3))).out.endswith("1 part under a path (Standard tier)\n")


def test_plan_reconcile_and_status_read_the_whole_document_under_the_path(cli, path_mode):
    assert cli("allowlist", "set", cli.file(document(60)), "--yes").code == 0
    cli.create_group("team-042-a")
    planned = cli("plan")
    assert planned.code == 0, planned.err
    assert f"allowlist from the parts under {PATH}, revision " in planned.out
    assert "team-042-a" in planned.out and "put-policy" in planned.out
    assert cli("status").code == 0
    # Half written: nothing is planned or reported against it.
    newer = split(document(60, consumer=STRANGER), 4096)
    cli.ssm().put_parameter(Name=f"{PATH}/{part_name(1)}", Value=newer[0], Type="String", Overwrite=True)
    for command in ("plan", "reconcile", "status"):
        result = cli(command)
        assert result.code == 1
        assert any("parts of different revisions" in line for line in result.err_lines), result.err


def test_a_write_by_someone_else_between_read_and_write_is_detected(cli, path_mode, monkeypatch):
    assert cli("allowlist", "set", cli.file(document(60)), "--yes").code == 0
    real_read = allowlist_commands.read_parts
    reads = []

    def read_then_someone_writes(ssm, path):
        stored = real_read(ssm, path)
        if not reads:  # the other admin writes part-001 just after this command read it
            cli.ssm().put_parameter(Name=f"{PATH}/part-001", Value=split(document(60, consumer=STRANGER), 4096)[0],
                                    Type="String", Overwrite=True)
        reads.append(stored)
        return stored

    monkeypatch.setattr(allowlist_commands, "read_parts", read_then_someone_writes)
    result = cli("allowlist", "set", cli.file(document(61)), "--yes")
    assert result.code == 3
    assert "someone else changed /modelshare/allowlist during this write (part-001)" in result.err


def test_a_part_created_by_someone_else_meanwhile_stops_the_write(cli, path_mode, monkeypatch):
    assert cli("allowlist", "set", cli.file(document(10)), "--yes").code == 0
    real_read = allowlist_commands.read_parts

    def read_then_someone_creates(ssm, path):
        stored = real_read(ssm, path)
        cli.ssm().put_parameter(Name=f"{PATH}/part-002", Value="{}", Type="String")
        return stored

    monkeypatch.setattr(allowlist_commands, "read_parts", read_then_someone_creates)
    result = cli("allowlist", "set", cli.file(document(100)), "--yes")
    assert result.code == 3 and "created by someone else" in result.err and "nothing is shared" in result.err
