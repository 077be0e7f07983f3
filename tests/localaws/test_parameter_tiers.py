"""Parameter Store's value limits per tier, which moto does not check (docs/aws-behaviour.md,
SSM-TIER): the allowlist must fit its parameter's tier."""

import pytest
from botocore.exceptions import ClientError

from localaws.runtime.cloud import LocalCloud

OWNER = "111122223333"


def test_a_value_must_fit_its_tier_and_an_advanced_parameter_stays_advanced():
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        ssm = cloud.session(OWNER, "eu-west-1").client("ssm")
        ssm.put_parameter(Name="/a", Value="x" * 4096, Type="String")
        with pytest.raises(ClientError) as refused:
            ssm.put_parameter(Name="/a", Value="x" * 4097, Type="String", Overwrite=True)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "maximum parameter value of 4096 characters" in refused.value.response["Error"]["Message"]
        ssm.put_parameter(Name="/b", Value="x" * 8192, Type="String", Tier="Advanced")
        ssm.put_parameter(Name="/b", Value="y" * 8000, Type="String", Overwrite=True)  # still advanced
        with pytest.raises(ClientError):
            ssm.put_parameter(Name="/b", Value="x" * 8193, Type="String", Overwrite=True)
        assert ssm.get_parameter(Name="/b")["Parameter"]["Value"] == "y" * 8000
