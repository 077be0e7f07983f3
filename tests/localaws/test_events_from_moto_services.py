"""SSM Parameter Store Change events and caller identity for the services moto serves."""

import pytest
from botocore.exceptions import ClientError
from conftest import CONSUMER, OWNER


def ssm_events(aws, account):
    return [e for a, e in aws.events if a == account and e["source"] == "aws.ssm"]


def test_parameter_changes_are_announced_per_account(aws):
    ssm = aws.client("ssm", OWNER)
    ssm.put_parameter(Name="/modelshare/allowlist", Value="{}", Type="String")
    ssm.put_parameter(Name="/modelshare/allowlist", Value="{ }", Type="String", Overwrite=True)
    with pytest.raises(ClientError):
        ssm.put_parameter(Name="/modelshare/allowlist", Value="x", Type="String")  # exists, no Overwrite
    ssm.delete_parameter(Name="/modelshare/allowlist")

    events = ssm_events(aws, OWNER)
    assert [e["detail"]["operation"] for e in events] == ["Create", "Update", "Delete"]
    assert all(e["detail-type"] == "Parameter Store Change" and e["detail"]["name"] == "/modelshare/allowlist"
               for e in events)
    assert events[0]["resources"] == [f"arn:aws:ssm:eu-west-1:{OWNER}:parameter/modelshare/allowlist"]
    assert ssm_events(aws, CONSUMER) == []


def test_sts_reports_the_calling_account(aws):
    assert aws.client("sts", CONSUMER).get_caller_identity()["Account"] == CONSUMER
    assert aws.client("sts", OWNER).get_caller_identity()["Account"] == OWNER


def test_unknown_access_key_gets_aws_error_code_on_moto_services(aws):
    import boto3
    session = boto3.session.Session(aws_access_key_id="AKIAUNKNOWN000000000", aws_secret_access_key="x",
                                    region_name="eu-west-1")
    with pytest.raises(ClientError) as info:
        session.client("ssm").get_parameter(Name="/x")
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
