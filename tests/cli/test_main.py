"""The command line itself: help and exit codes, usage errors, AWS errors as one line."""

from __future__ import annotations

import pytest

from modelshare_cli.main import main
from tests.cli.conftest import ALLOWLIST

CREDENTIAL_SOURCES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                      "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                      "AWS_CONTAINER_CREDENTIALS_FULL_URI")


def test_help_documents_every_command_and_the_exit_codes(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("allowlist validate", "allowlist show", "allowlist diff", "allowlist set", "plan",
                    "status", "simulate"):
        assert f"modelshare {command}" in out
    for code in ("0  done", "1  invalid", "2  usage", "3  concurrent change"):
        assert code in out


def test_set_help_says_ssm_has_no_conditional_put(capsys):
    assert main(["allowlist", "set", "--help"]) == 0
    assert "no conditional update" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("argv", [[], ["allowlist"], ["allowlist", "validate"], ["status", "--bogus"],
                                  ["allowlist", "set", "f.json", "--expected-version", "two"]])
def test_usage_errors_exit_2(capsys, argv):
    assert main(argv) == 2
    assert "modelshare" in capsys.readouterr().err


def test_no_credentials_is_one_line(cli, monkeypatch):
    for name in CREDENTIAL_SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = cli("allowlist", "show")
    assert result.code == 1
    assert result.err_lines == ["modelshare: error: Unable to locate credentials"]


def test_aws_refusal_is_one_line(cli, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALOCAL999999999999")  # an account the local AWS does not know
    result = cli("status")
    assert result.code == 1
    assert result.err_lines == ["modelshare: error: GetParameter failed: UnrecognizedClientException: "
                                "The security token included in the request is invalid."]


def test_unknown_profile_is_one_line(cli):
    result = cli("--profile", "nope", "allowlist", "show")
    assert result.code == 1
    assert result.err_lines == ["modelshare: error: The config profile (nope) could not be found"]


def test_region_option_is_used(cli):
    cli.put_parameter(ALLOWLIST)
    assert cli("allowlist", "show").code == 0
    result = cli("allowlist", "show", "--region", "us-east-1")  # a region without the parameter
    assert result.code == 1
    assert "does not exist" in result.err
