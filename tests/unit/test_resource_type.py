"""RAM's spelling of a model package group's resource type is read from ListResourceTypes at run
time, never taken from the code's constant: CreatePermission's `resourceType` is case sensitive
and must be ListResourceTypes' spelling (docs/aws-behaviour.md, RAM-TYPE)."""

import boto3
import pytest
from botocore.stub import Stubber

from modelshare.aws.ram_owner import RamOwnerShares
from modelshare.dry_run import DryRunShareWrites, Plan, PlannedShareReads
from modelshare.outcomes import GroupAction
from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE, ResourceTypeUnknown
from tests.unit.fakes import CONSUMER, FakeShares
from tests.unit.test_reconcile import RULE, deploy_share, owner_with, promoted


def _ram() -> RamOwnerShares:
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
    return RamOwnerShares(session)


def _types(*names: str) -> list[dict[str, str]]:
    return [{"resourceType": n, "serviceName": n.split(":")[0], "resourceRegionScope": "REGIONAL"} for n in names]


def test_the_adapter_takes_ram_s_spelling_of_the_type_and_reads_it_once():
    ram = _ram()
    spelled = "SageMaker:MODELPACKAGEGROUP"
    assert spelled != MODEL_PACKAGE_GROUP_TYPE
    with Stubber(ram._client) as stub:
        stub.add_response("list_resource_types", {"resourceTypes": _types("ec2:Subnet", "sagemaker:Pipeline"),
                                                  "nextToken": "2"}, {})
        stub.add_response("list_resource_types", {"resourceTypes": _types(spelled)},
                          {"nextToken": "2"})
        assert ram.model_package_group_type() == spelled
        # Cached for the adapter's life (an execution environment): no second call is stubbed.
        assert ram.model_package_group_type() == spelled
        stub.assert_no_pending_responses()


def test_the_adapter_fails_closed_when_ram_lists_no_group_type_and_asks_again_later():
    ram = _ram()
    with Stubber(ram._client) as stub:
        stub.add_response("list_resource_types", {"resourceTypes": _types("ec2:Subnet", "sagemaker:ModelPackageGroups")},
                          {})
        with pytest.raises(ResourceTypeUnknown, match="ListResourceTypes"):
            ram.model_package_group_type()
        stub.add_response("list_resource_types", {"resourceTypes": _types("sagemaker:ModelPackageGroup")},
                          {})
        assert ram.model_package_group_type() == "sagemaker:ModelPackageGroup"


def test_two_spellings_that_differ_only_in_case_are_ambiguous_and_refused():
    ram = _ram()
    with Stubber(ram._client) as stub:
        stub.add_response("list_resource_types", {"resourceTypes": _types("sagemaker:ModelPackageGroup",
                                                                          "sagemaker:modelpackagegroup")},
                          {})
        with pytest.raises(ResourceTypeUnknown, match="ambiguous"):
            ram.model_package_group_type()


def test_the_dry_run_reads_the_type_through():
    shares = FakeShares(group_type="sagemaker:MoDeLpAcKaGeGrOuP")
    assert PlannedShareReads(shares, DryRunShareWrites(Plan())).model_package_group_type() == "sagemaker:MoDeLpAcKaGeGrOuP"


def test_a_permission_is_created_for_ram_s_spelling_of_the_type():
    """The share's permission says the type in the code's spelling; RAM's ListResourceTypes in
    another: CreatePermission gets RAM's (the fake refuses any other, as RAM would)."""
    service, _registry, shares = owner_with({**RULE, "access": ["discover", "register", "deploy"]})
    shares.group_type = "sagemaker:ModelPackagegroup"
    promoted(shares)
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.ACCESS_CHANGED, outcome
    assert [name for name, _ in shares.created_permissions] == ["modelshare-discover-register-deploy"]
    assert set(shares.types_asked) == {"sagemaker:ModelPackagegroup"}


def test_without_the_type_no_permission_is_made_and_a_wider_share_loses_its_consumers():
    service, _registry, shares = owner_with(RULE)
    shares.group_type = None
    share = deploy_share(shares)  # grants deploy; the allowlist: discover, which no permission grants alone
    outcome, = service.reconcile()
    assert outcome.action == GroupAction.CONSUMERS_CHANGED
    assert "ListResourceTypes" in outcome.reason
    assert shares.created_permissions == [] and shares.principal_changes == [("remove", share, (CONSUMER,))]


def test_promoting_a_permission_looks_permissions_up_by_ram_s_spelling():
    from tests.unit.test_owner import make_owner, with_policy

    service, registry, shares, _ = make_owner()
    shares.group_type = "SAGEMAKER:ModelPackageGroup"
    with_policy(registry, shares)
    assert service.promote_group("churn-xgb").action == GroupAction.PROMOTED
    assert shares.promoted_permissions and set(shares.types_asked) == {"SAGEMAKER:ModelPackageGroup"}


def test_promotion_needing_a_permission_is_refused_without_the_type():
    from tests.unit.test_owner import make_owner, with_policy

    service, registry, shares, _ = make_owner()
    shares.group_type = None
    with_policy(registry, shares)
    outcome = service.promote_group("churn-xgb")
    assert outcome.action == GroupAction.NOT_PROMOTABLE, outcome
    assert "ListResourceTypes" in outcome.reason
    assert shares.promoted_permissions == [] and shares.promoted_shares == []
