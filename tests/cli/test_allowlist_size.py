"""An allowlist must fit the parameter that holds it: Standard 4,096, Advanced 8,192 (SSM-TIER,
docs/aws-behaviour.md). `validate` says so and points to the Advanced tier or path mode; `set`
refuses before it prints a diff or calls AWS; a long diff leads with its count."""

from __future__ import annotations

import json

from modelshare.allowlist import Allowlist
from modelshare.allowlist_diff import describe, diff
from tests.cli.conftest import ME, PARAMETER, PEER


def document_of(rules: int) -> dict[str, object]:
    return {"version": 1, "shares": [
        {"owner": ME, "groups": [f"group-{i:05d}"], "consumers": [PEER]} for i in range(rules)]}


def sized(cli, rules: int) -> tuple[str, int]:
    path = cli.file(json.dumps(document_of(rules)))
    with open(path, encoding="utf-8") as handle:
        return path, len(handle.read().encode())


def test_a_document_for_the_advanced_tier_only_is_refused_in_the_standard_tier(cli):
    path, size = sized(cli, 90)
    assert 4096 < size <= 8192
    result = cli("allowlist", "validate", path)
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines == [
        f"modelshare: error: {path} is {size:,} bytes, more than a Standard parameter holds (4,096): "
        "an Advanced parameter holds 8,192 (--tier Advanced, the stack's AllowlistTier), or path mode "
        "(--path, the stack's AllowlistPath) splits it into parts"]
    assert cli("allowlist", "validate", path, "--tier", "Advanced").code == 0


def test_a_document_no_tier_holds_points_to_path_mode(cli, monkeypatch):
    path, size = sized(cli, 400)
    assert size > 8192
    monkeypatch.setenv("MODELSHARE_ALLOWLIST_TIER", "Advanced")
    result = cli("allowlist", "validate", path)
    assert result.code == 1
    assert result.err_lines == [
        f"modelshare: error: {path} is {size:,} bytes, more than any parameter tier holds (Advanced: 8,192): "
        "path mode (--path, the stack's AllowlistPath) splits it into parts"]
    assert cli("allowlist", "validate", path, "--path", "/modelshare/allowlist-parts").code == 0


def test_set_refuses_before_the_diff_and_before_aws(cli):
    cli.put_parameter(document_of(1))
    path, _ = sized(cli, 400)
    calls = len(cli.cloud.calls)
    result = cli("allowlist", "set", path, "--yes")
    assert result.code == 1
    assert result.out == ""  # no diff
    assert len(result.err_lines) == 1 and "path mode" in result.err_lines[0]
    assert len(cli.cloud.calls) == calls
    assert cli.parameter()[1] == 1


def test_set_writes_a_document_that_fits(cli):
    path, _ = sized(cli, 20)
    assert cli("allowlist", "set", path, "--yes").code == 0
    assert cli.parameter()[1] == 1


def test_a_long_diff_leads_with_its_count():
    old = Allowlist.parse(document_of(30))
    changed = document_of(45)
    changed["shares"][0]["consumers"] = ["777788889999"]  # type: ignore[index]
    del changed["shares"][1]  # type: ignore[attr-defined]
    lines = describe(diff(old, Allowlist.parse(changed)))
    assert lines[0] == "17 rule changes: 15 added, 1 removed, 1 changed"
    assert len(lines) > 40


def test_a_short_diff_has_no_count_line():
    old = Allowlist.parse(document_of(2))
    lines = describe(diff(old, Allowlist.parse(document_of(3))))
    assert lines[0].startswith("+ added")


def test_the_cli_diff_prints_the_count_first(cli):
    cli.put_parameter(document_of(1))
    path, _ = sized(cli, 40)
    result = cli("allowlist", "diff", path)
    assert result.code == 0
    assert result.out.splitlines()[:2] == [f"{PARAMETER} (version 1) -> {path}:", "39 rule changes: 39 added"]
