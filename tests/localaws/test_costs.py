"""The local AWS charges every call its latency and throttles per account, Region and API, as
AWS does (docs/aws-behaviour.md, COST-LATENCY, COST-RATES)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.runtime.cloud import LocalCloud
from localaws.runtime.costs import DEFAULT_COSTS, CostModel, Rate
from modelshare.aws import client as modelshare_client
from modelshare.ports import ApiThrottled

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


def test_modelshare_clients_pace_before_the_call_reaches_aws_and_report_throttling_past_retries():
    """botocore's adaptive limiter runs before the request is sent (the local AWS answers last);
    a call still throttled once retries are spent raises ApiThrottled (BOTOCORE-RETRY-QUOTA)."""
    costs = CostModel(default_latency=0.0, rates={"sagemaker": Rate(per_second=0.01, burst=1)})
    with LocalCloud(costs=costs) as cloud:
        cloud.add_account(OWNER)
        sagemaker = modelshare_client(cloud.session(OWNER, REGION), "sagemaker")
        order: list[str] = []
        sagemaker.meta.events.register("before-send", lambda **_: order.append("client") and None)
        cloud.caller = "OwnerReconcileFunction"
        with mock.patch.object(time, "sleep", cloud.clock.sleep):
            sagemaker.list_model_package_groups()
            calls_before = len(cloud.calls)
            with pytest.raises(ApiThrottled, match="ThrottlingException after retries"):
                sagemaker.list_model_package_groups()
        attempts = cloud.calls[calls_before:]
        assert [c.error_code for c in attempts] == ["ThrottlingException"] * 6, "the call and five retries"
        assert order == ["client"] * 7, "the client's own handlers ran before each request was answered"


def test_throttled_retries_drain_botocore_s_retry_quota_and_then_throttles_surface_at_once():
    """The retry quota (500, 5 per throttled retry) is refilled only by 2xx answers (botocore's
    retries/standard.py): a sweep reading policies of groups without one gets ValidationException
    for most reads, so under steady throttling it drains, and a throttle then surfaces at the
    first attempt (BOTOCORE-RETRY-QUOTA): the domain must back off, not press on."""
    costs = CostModel(default_latency=0.0, rates={"sagemaker": Rate(per_second=0.001, burst=1)})
    with LocalCloud(costs=costs) as cloud:
        cloud.add_account(OWNER)
        sagemaker = modelshare_client(cloud.session(OWNER, REGION), "sagemaker")
        cloud.caller = "OwnerReconcileFunction"
        attempts_per_read = []
        with mock.patch.object(time, "sleep", cloud.clock.sleep):
            for _ in range(30):
                calls_before = len(cloud.calls)
                with pytest.raises((ApiThrottled, ClientError)):
                    sagemaker.get_model_package_group_policy(ModelPackageGroupName="no-policy")
                attempts_per_read.append(len(cloud.calls) - calls_before)
        retries = sum(attempts - 1 for attempts in attempts_per_read)
        assert retries == 500 // 5, attempts_per_read
        assert attempts_per_read[-5:] == [1] * 5, "quota dry: no retry at all"
