"""The local AWS charges every call its latency and throttles per account, Region and API, as
AWS does (docs/aws-behaviour.md, COST-LATENCY, COST-RATES)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.cloud import LocalCloud
from localaws.costs import DEFAULT_COSTS, CostModel, Rate

OWNER = "111122223333"
OTHER = "444455556666"
REGION = "eu-west-1"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


def client(cloud: LocalCloud, service: str, account: str = OWNER):
    return cloud.session(account, REGION).client(service, config=NO_RETRY)


def test_every_call_takes_its_latency_in_simulated_time():
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        sagemaker = client(cloud, "sagemaker")
        before = cloud.clock.now()
        for _ in range(5):
            sagemaker.list_model_package_groups()
        elapsed = (cloud.clock.now() - before).total_seconds()
        assert elapsed == pytest.approx(5 * DEFAULT_COSTS.latency_of("sagemaker"))


def test_a_function_past_its_bucket_is_throttled_as_aws_words_it_and_the_bucket_refills():
    costs = CostModel(default_latency=0.0, rates={"sagemaker": Rate(per_second=2, burst=3)})
    with LocalCloud(costs=costs) as cloud:
        cloud.add_account(OWNER)
        cloud.add_account(OTHER)
        sagemaker = client(cloud, "sagemaker")
        cloud.caller = "ShareOnCreateFunction"
        for _ in range(3):
            sagemaker.list_model_package_groups()
        with pytest.raises(ClientError) as throttled:
            sagemaker.list_model_package_groups()
        assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
        assert throttled.value.response["Error"]["Message"] == "Rate exceeded"
        # Buckets are per account and per operation.
        client(cloud, "sagemaker", OTHER).list_model_package_groups()
        with pytest.raises(ClientError):
            # Another operation has its own bucket: answered (the group is missing), not throttled.
            sagemaker.describe_model_package_group(ModelPackageGroupName="missing")
        cloud.clock.sleep(0.5)  # one token back
        sagemaker.list_model_package_groups()
        assert cloud.buckets.throttled == {("sagemaker", "ListModelPackageGroups"): 1}


def test_parameter_reads_share_one_bucket_also_when_moto_serves_them():
    costs = CostModel(default_latency=0.0, rates={"ssm": Rate(per_second=40, burst=2)},
                      shared_buckets={("ssm", "GetParameter"): "reads", ("ssm", "GetParameters"): "reads"})
    with LocalCloud(costs=costs) as cloud:
        cloud.add_account(OWNER)
        ssm = client(cloud, "ssm")
        ssm.put_parameter(Name="/p", Value="v", Type="String")
        cloud.caller = "AcceptInvitationsFunction"
        ssm.get_parameter(Name="/p")
        ssm.get_parameters(Names=["/p"])
        with pytest.raises(ClientError) as throttled:
            ssm.get_parameter(Name="/p")
        assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
        assert [c.error_code for c in cloud.calls if c.operation.startswith("GetParameter")] == [
            None, None, "ThrottlingException"]


def test_people_use_tokens_but_are_never_refused():
    costs = CostModel(default_latency=0.0, rates={"sagemaker": Rate(per_second=1, burst=1)})
    with LocalCloud(costs=costs) as cloud:
        cloud.add_account(OWNER)
        sagemaker = client(cloud, "sagemaker")
        for _ in range(3):
            sagemaker.list_model_package_groups()
        cloud.caller = "OwnerReconcileFunction"
        with pytest.raises(ClientError):
            sagemaker.list_model_package_groups()


def test_botocore_retries_a_throttled_call_on_the_simulated_clock():
    costs = CostModel(default_latency=0.0, rates={"ram": Rate(per_second=1, burst=1)})
    with LocalCloud(costs=costs) as cloud:
        cloud.add_account(OWNER)
        ram = cloud.session(OWNER, REGION).client("ram", config=Config(retries={"mode": "standard", "max_attempts": 5}))
        cloud.caller = "PromoteFunction"
        with mock.patch.object(time, "sleep", cloud.clock.sleep):  # as inside an invocation
            ram.get_resource_shares(resourceOwner="SELF")
            ram.get_resource_shares(resourceOwner="SELF")
        codes = [c.error_code for c in cloud.calls]
        assert codes[0] is None and codes[-1] is None and "ThrottlingException" in codes
