"""`modelshare allowlist validate | set | show` are strict (issue 19, "Strict means strict"): an
account ID that only looks like one and a key given twice are problems at their JSON paths, and
rules that conflict are reported with a group name both match."""

from __future__ import annotations

import copy
import io
import json

import pytest

from modelshare.org_principals import ORG_PRINCIPAL_MESSAGE as NOT_AN_ACCOUNT
from tests.cli.conftest import ALLOWLIST, ME, PEER, STRANGER

PATH = "/modelshare/allowlist"
LOOKALIKE = "44445555666\uff16"  # PEER with a full-width last digit
REPEATED = json.dumps({"version": 1, "shares": [{"owner": ME, "groups": ["churn-*"], "consumers": [STRANGER],
                                                   "consumers ": [PEER]}]}).replace('"consumers "', '"consumers"')
CONFLICTING = {"version": 1, "shares": [
    *ALLOWLIST["shares"],
    {"owner": ME, "groups": ["*-xgb"], "consumers": [STRANGER], "access": ["deploy"]},
]}
WARNING = (f'modelshare: warning: $.shares[0].groups[0] "churn-*" (access discover) and $.shares[2].groups[0] '
           f'"*-xgb" (access discover, deploy) of owner {ME} both match group "churn-xgb": a group both match is '
           "shared with nobody")


def ssm_writes(cli):
    return [c for c in cli.writes() if c.service == "ssm"]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(params=["parameter", "path"])
def mode(request, monkeypatch):
    if request.param == "path":
        monkeypatch.setenv("MODELSHARE_ALLOWLIST_PATH", PATH)
    return request.param


def test_validate_refuses_an_account_id_that_only_looks_like_one_and_shows_the_difference(cli, mode):
    document = copy.deepcopy(ALLOWLIST)
    document["shares"][0]["consumers"] = [LOOKALIKE]
    result = cli("allowlist", "validate", cli.file(json.dumps(document, ensure_ascii=False)))
    assert result.code == 1 and result.out == ""
    assert result.err_lines[0] == f'$.shares[0].consumers[0]: {NOT_AN_ACCOUNT}: "44445555666\\uff16"'
    assert cli.cloud.calls == []


def test_validate_refuses_a_repeated_key_with_its_json_path(cli, mode):
    json.loads(REPEATED)  # json takes it: the last one wins
    result = cli("allowlist", "validate", cli.file(REPEATED))
    assert result.code == 1 and result.out == ""
    assert result.err_lines[0] == ("$.shares[0].consumers: duplicate key (2 times in one object): a reader cannot "
                                   "tell which one counts")
    assert result.err_lines[-1].startswith("modelshare: error: ") and "(1 problem)" in result.err_lines[-1]


def test_set_never_writes_a_document_with_a_repeated_key(cli, mode):
    result = cli("allowlist", "set", cli.file(REPEATED), "--yes")
    assert result.code == 1
    assert result.err_lines[0].startswith("$.shares[0].consumers: duplicate key")
    assert ssm_writes(cli) == []


def test_show_prints_a_stored_document_with_a_repeated_key_as_stored(cli):
    cli.put_parameter(REPEATED)
    result = cli("allowlist", "show")
    assert result.code == 1
    assert result.out == REPEATED + "\n", "pretty-printing it would drop the first of the two"
    assert result.err_lines[-1].startswith("$.shares[0].consumers: duplicate key")


def test_validate_warns_of_conflicting_rules_and_still_exits_0(cli, mode):
    result = cli("allowlist", "validate", cli.file(CONFLICTING))
    assert result.code == 0
    assert result.out.startswith(f"{cli.file(CONFLICTING)}: OK, a valid allowlist with 3 rules")
    assert result.err_lines == [WARNING]
    assert cli.cloud.calls == []


def test_validate_of_an_invalid_document_lists_its_problems_only(cli):
    document = copy.deepcopy(CONFLICTING)
    document["version"] = 2
    result = cli("allowlist", "validate", cli.file(document))
    assert result.code == 1
    assert result.err_lines[0] == "$.version: must be 1, not 2"
    assert not any("warning" in line for line in result.err_lines)


def test_set_shows_the_conflicts_before_it_asks(cli, mode, monkeypatch):
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    result = cli("allowlist", "set", cli.file(CONFLICTING))
    assert result.code == 1 and ssm_writes(cli) == []
    assert WARNING in result.err_lines
    assert result.err.index(WARNING) < result.err.index("[y/N]")
    written = cli("allowlist", "set", cli.file(CONFLICTING), "--yes")
    assert written.code == 0 and WARNING in written.err_lines
