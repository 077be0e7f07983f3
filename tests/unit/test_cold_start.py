"""A cold start does only what it must: importing a handler makes no AWS call and, with tracing
off, does not import the X-Ray SDK (issue: cold start within 1.15x of bare boto3, measured by
`make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())

_PROBE = """
import importlib.util, json, sys
sys.path.insert(0, {layer!r})
import botocore.endpoint
calls = []
original = botocore.endpoint.Endpoint.make_request
botocore.endpoint.Endpoint.make_request = lambda self, *a, **k: calls.append(a) or original(self, *a, **k)
spec = importlib.util.spec_from_file_location("app", {app!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({{"calls": len(calls), "xray": "aws_xray_sdk" in sys.modules,
                  "handler": callable(module.lambda_handler)}}))
"""


def probe(function: str, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "MODELSHARE_"))}
    environment.update({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
                        # Any call would go here and fail: nothing listens on the discard port.
                        "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x",
                        "AWS_SECRET_ACCESS_KEY": "x", "AWS_LAMBDA_FUNCTION_NAME": f"modelshare-{function}",
                        "MODELSHARE_ALLOWLIST_PARAMETER": "/modelshare/allowlist",
                        "MODELSHARE_LEDGER_TABLE": "modelshare-ownership",
                        "MODELSHARE_VERSION_BUS": "modelshare-versions", **env})
    source = _PROBE.format(layer=str(ROOT / "layers" / "modelshare"), app=str(ROOT / "functions" / function / "app.py"))
    done = subprocess.run([sys.executable, "-c", source], env=environment, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_importing_a_handler_makes_no_aws_call_and_skips_the_tracer_when_tracing_is_off(function):
    assert probe(function, POWERTOOLS_TRACE_DISABLED="true") == {"calls": 0, "xray": False, "handler": True}


def test_the_tracer_is_there_when_tracing_is_on():
    assert probe(FUNCTIONS[0], POWERTOOLS_TRACE_DISABLED="false")["xray"] is True


def test_an_owner_handler_without_its_ledger_fails_at_import_naming_it():
    with pytest.raises(subprocess.CalledProcessError) as failed:
        probe("promote", MODELSHARE_LEDGER_TABLE="")
    assert "SettingsError: MODELSHARE_LEDGER_TABLE is not set" in failed.value.stderr


def test_a_handler_with_an_invalid_setting_fails_at_import_naming_it():
    with pytest.raises(subprocess.CalledProcessError) as failed:
        probe(FUNCTIONS[0], MODELSHARE_DRY_RUN="yes")
    assert "SettingsError: MODELSHARE_DRY_RUN is 'yes': it must be 'true' or 'false'" in failed.value.stderr
