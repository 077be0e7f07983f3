"""`make aws-smoke` with a profile that does not exist says so in one line (exit 2), not in
pytest's 88 lines of fixture traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.smoke import preflight

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_config(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile sandbox-a]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return config


def test_a_profile_that_does_not_exist_is_one_line(aws_config, monkeypatch, capsys):
    monkeypatch.setenv(preflight.OWNER_PROFILE, "sandbox-a")
    monkeypatch.setenv(preflight.CONSUMER_PROFILE, "nope")
    monkeypatch.setattr(preflight, "account_of", _resolve_only)
    assert preflight.main() == 2
    assert capsys.readouterr().err.splitlines() == [
        "make aws-smoke: MODELSHARE_SMOKE_CONSUMER_PROFILE=nope: The config profile (nope) could not be found"]


def test_a_profile_without_credentials_is_one_line(aws_config, monkeypatch, capsys):
    monkeypatch.setenv(preflight.OWNER_PROFILE, "sandbox-a")
    monkeypatch.setenv(preflight.CONSUMER_PROFILE, "sandbox-a")
    assert preflight.main() == 2
    assert capsys.readouterr().err.splitlines() == [
        "make aws-smoke: MODELSHARE_SMOKE_OWNER_PROFILE=sandbox-a: the profile has no credentials"]


def test_the_same_account_twice_is_refused(monkeypatch, capsys):
    monkeypatch.setenv(preflight.OWNER_PROFILE, "a")
    monkeypatch.setenv(preflight.CONSUMER_PROFILE, "b")
    monkeypatch.setattr(preflight, "account_of", lambda variable, region: "111122223333")
    assert preflight.main() == 2
    assert "both account 111122223333" in capsys.readouterr().err


_real_account_of = preflight.account_of


def _resolve_only(variable, region):
    """The real lookup up to the AWS call: a profile that resolves stands for an account."""
    try:
        return _real_account_of(variable, region)
    except preflight.PreflightError as error:
        if "no credentials" in str(error):
            return "111122223333" if variable == preflight.OWNER_PROFILE else "444455556666"
        raise


def test_make_aws_smoke_runs_the_preflight_before_pytest():
    recipe = re.search(r"^aws-smoke:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None
    lines = recipe[1].splitlines()
    preflight_line = next(i for i, line in enumerate(lines) if "-m tests.smoke.preflight" in line)
    pytest_line = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert preflight_line < pytest_line


def test_the_preflight_runs_as_a_module(aws_config):
    """What the Makefile runs: one line on stderr, exit 2, no traceback."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), "AWS_CONFIG_FILE": str(aws_config),
           "AWS_EC2_METADATA_DISABLED": "true", preflight.OWNER_PROFILE: "nope", preflight.CONSUMER_PROFILE: "nope"}
    result = subprocess.run([sys.executable, "-m", "tests.smoke.preflight"], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "make aws-smoke: MODELSHARE_SMOKE_OWNER_PROFILE=nope: The config profile (nope) could not be found"]
