"""The layer ships the AWS SDK the tests run on (docs/aws-behaviour.md, BOTOCORE-PINNED): the
versions pinned in layers/modelshare/requirements.txt are the ones installed here, so no test
passes on a botocore that Lambda would not run."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

LAYER_REQUIREMENTS = Path(__file__).resolve().parents[2] / "layers" / "modelshare" / "requirements.txt"
SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def pins() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in LAYER_REQUIREMENTS.read_text().splitlines()]
    return {name.lower(): version for line in lines if "==" in line for name, version in [line.split("==")]}


@pytest.mark.parametrize("package", SDK)
def test_the_layer_pins_the_sdk_the_tests_run_on(package):
    assert package in pins(), f"{package} is not pinned in the layer: the runtime's would be used"
    assert metadata.version(package) == pins()[package]
