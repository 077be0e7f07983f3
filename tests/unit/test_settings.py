"""A function's settings are read once, at cold start, and a missing or invalid one fails there,
naming the variable, what is wrong and what it may be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localaws.runtime.template import StackTemplate
from modelshare.settings import AllowlistLocation, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
PARAMETER = {"MODELSHARE_ALLOWLIST_PARAMETER": "/modelshare/allowlist"}
QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/modelshare-SweepQueue"


def test_one_parameter_and_nothing_else_is_a_plain_run_sweeping_in_one_go() -> None:
    assert Settings.from_environment(PARAMETER) == Settings(AllowlistLocation(parameter="/modelshare/allowlist"))


def test_path_mode_names_the_path_without_its_trailing_slash() -> None:
    settings = Settings.from_environment({"MODELSHARE_ALLOWLIST_PARAMETER": "", "MODELSHARE_ALLOWLIST_PATH": "/org/allowlist/"})
    assert settings.allowlist == AllowlistLocation(path="/org/allowlist")


@pytest.mark.parametrize(("environment", "message"), [
    ({}, "set exactly one of MODELSHARE_ALLOWLIST_PARAMETER (the allowlist parameter's name or ARN) and "
         "MODELSHARE_ALLOWLIST_PATH (path mode: the path its parts are under); neither is set"),
    ({**PARAMETER, "MODELSHARE_ALLOWLIST_PATH": "/org/allowlist"}, "; both are set"),
    ({"MODELSHARE_ALLOWLIST_PATH": "org/allowlist"}, "MODELSHARE_ALLOWLIST_PATH is 'org/allowlist': it must start with '/'"),
    ({"MODELSHARE_ALLOWLIST_PATH": "/"}, "MODELSHARE_ALLOWLIST_PATH is '/': it must start with '/' and name a level below"),
    ({**PARAMETER, "MODELSHARE_DRY_RUN": "yes"}, "MODELSHARE_DRY_RUN is 'yes': it must be 'true' or 'false'"),
    ({**PARAMETER, "MODELSHARE_SHARING_MODE": "share"},
     "MODELSHARE_SHARING_MODE is 'share': it must be 'policy' or 'shares'"),
    ({**PARAMETER, "MODELSHARE_ORGANIZATION_PATH": "ou-ab12-examplou"},
     "MODELSHARE_ORGANIZATION_PATH must be an OU path o-.../r-.../ou-.../"),
    ({**PARAMETER, "MODELSHARE_SWEEP_QUEUE_URL": "modelshare-SweepQueue"},
     "MODELSHARE_SWEEP_QUEUE_URL is 'modelshare-SweepQueue': it must be the queue's URL"),
])
def test_a_missing_or_invalid_setting_names_the_variable_and_what_it_may_be(environment: dict[str, str],
                                                                           message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_environment(environment)


@pytest.mark.parametrize(("value", "dry_run"), [("true", True), ("TRUE ", True), ("false", False), ("", False)])
def test_dry_run_is_true_or_false_and_unset_is_false(value: str, dry_run: bool) -> None:
    assert Settings.from_environment({**PARAMETER, "MODELSHARE_DRY_RUN": value}).dry_run is dry_run


@pytest.mark.parametrize(("value", "mode"), [("", "policy"), ("policy", "policy"), ("shares", "shares"), (" shares ", "shares")])
def test_the_sharing_mode_is_policy_or_shares_and_unset_is_policy(value: str, mode: str) -> None:
    assert Settings.from_environment({**PARAMETER, "MODELSHARE_SHARING_MODE": value}).sharing_mode == mode


def test_the_organization_path_is_an_ou_path_and_unset_is_none() -> None:
    path = "o-exampleorg1/r-ab12/ou-ab12-examplou/"
    assert Settings.from_environment({**PARAMETER, "MODELSHARE_ORGANIZATION_PATH": path}).organization_path == path
    assert Settings.from_environment(PARAMETER).organization_path is None


def test_every_function_of_every_configuration_starts_with_the_environment_the_template_gives_it() -> None:
    """The template and Settings agree: each function's MODELSHARE_* variables are all read,
    and valid, in every configuration."""
    template = StackTemplate(ROOT / "template.yaml")
    read = {"MODELSHARE_ALLOWLIST_PARAMETER", "MODELSHARE_ALLOWLIST_PATH", "MODELSHARE_DRY_RUN", "MODELSHARE_SWEEP_QUEUE_URL",
            "MODELSHARE_LEDGER_TABLE", "MODELSHARE_RAM_QUOTAS", "MODELSHARE_SHARING_MODE", "MODELSHARE_ORGANIZATION_PATH",
            "MODELSHARE_VERSION_BUS"}  # the last read by modelshare.version_forwarding.version_bus_name
    for parameters in ({}, {"AllowlistPath": "/org/allowlist"}, {"DryRun": "true"}):
        for function in template.render("111122223333", "eu-west-1", parameters).functions():
            environment = {k: str(v) for k, v in function.environment.items()}
            assert {k for k in environment if k.startswith("MODELSHARE_")} <= read, function.logical_id
            settings = Settings.from_environment(environment)
            assert settings.dry_run is (parameters.get("DryRun") == "true")
            assert settings.sweep_queue_url in (None, QUEUE)
            # Every owner function that writes knows its ledger (wiring refuses to build the owner
            # side without it); the version forwarder writes nothing of the owner's.
            assert (settings.ledger_table == "modelshare-ownership") is (
                function.logical_id not in ("AcceptInvitationsFunction", "ForwardVersionsFunction"))


def test_ram_quotas_are_ram_s_defaults_unless_the_stack_names_raised_ones() -> None:
    assert Settings.from_environment(PARAMETER).ram_quotas["principal_associations"] == 25_000
    raised = Settings.from_environment({**PARAMETER, "MODELSHARE_RAM_QUOTAS": "principal_associations=50000, shares=30000"})
    assert (raised.ram_quotas["principal_associations"], raised.ram_quotas["shares"]) == (50_000, 30_000)
    assert raised.ram_quotas["resource_associations"] == 25_000


@pytest.mark.parametrize(("value", "message"), [("principals=5", "unknown quota 'principals'"),
                                                ("shares=0", "a quota is a positive integer"),
                                                ("shares=\u0663", "a quota is a positive integer")])
def test_a_malformed_ram_quota_fails_at_cold_start(value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_environment({**PARAMETER, "MODELSHARE_RAM_QUOTAS": value})
