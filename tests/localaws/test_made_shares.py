"""The adapters the shares mode (issue 20) writes through, against the local AWS: shares made by
modelshare itself (RamOwnerShares.create_share / associate_resources) and their record in the ledger
(DynamoDbLedger.record_made_share / made_shares / forget_made_share)."""

from __future__ import annotations

import pytest

from localaws.harness.deployment import Deployment
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.costs import FREE
from modelshare.aws.ledger import DynamoDbLedger
from modelshare.aws.ram_owner import RamOwnerShares
from modelshare.ports import GroupNotFound

OWNER, CONSUMER = "111122223333", "444455556666"
REGION = "eu-west-1"


def group(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{OWNER}:model-package-group/{name}"


def test_a_made_share_is_recorded_read_back_and_forgotten_and_is_never_taken_for_a_group() -> None:
    with LocalCloud(costs=FREE) as cloud:
        deployment = Deployment(cloud, REGION)
        deployment.install(OWNER)
        ledger = DynamoDbLedger(cloud.session(OWNER, REGION), deployment.ledger_table(OWNER))
        assert ledger.made_shares() == {}
        ledger.record_share(group("a"), "share-of-a")
        ledger.record_made_share("arn:share/1", "modelshare-0123456789ab-1")
        ledger.record_made_share("arn:share/1", "modelshare-0123456789ab-1")  # twice is once
        ledger.record_made_share("arn:share/2", "modelshare-0123456789ab-2")
        assert ledger.made_shares() == {"arn:share/1": "modelshare-0123456789ab-1",
                                        "arn:share/2": "modelshare-0123456789ab-2"}
        scans = sum(1 for c in cloud.calls if c.operation == "Scan")
        everything = ledger.everything()
        assert set(everything) == {group("a")}, "a made share's record is no group's"
        assert everything.made_shares == ledger.made_shares(), "the same read tells the shares made"
        assert sum(1 for c in cloud.calls if c.operation == "Scan") == scans + 2, "one scan each"
        ledger.forget_made_share("arn:share/1")
        ledger.forget_made_share("arn:share/never")  # forgetting what is not there is harmless
        assert ledger.made_shares() == {"arn:share/2": "modelshare-0123456789ab-2"}
        assert set(ledger.everything()) == {group("a")}
        writes = {c.operation for c in cloud.calls if c.service == "dynamodb" and c.account == OWNER
                  and c.operation not in ("Scan", "BatchGetItem", "GetItem", "Query", "DescribeTable")}
        assert writes <= {"UpdateItem", "CreateTable", "PutResourcePolicy", "UpdateContinuousBackups", "TagResource"}, \
            "the functions' roles may only UpdateItem the table"


def test_a_share_is_made_empty_with_its_permission_once_per_token_and_filled_a_hundred_at_a_time() -> None:
    with LocalCloud(costs=FREE) as cloud:
        Deployment(cloud, REGION).install(OWNER)
        session = cloud.session(OWNER, REGION)
        sagemaker = session.client("sagemaker")
        names = [f"g{n:03d}" for n in range(230)]
        for name in names:
            sagemaker.create_model_package_group(ModelPackageGroupName=name)
        ram = RamOwnerShares(session)
        register = next(p for p in ram.managed_permissions("sagemaker:modelpackagegroup")
                        if p.name.endswith("AllowRegister"))
        made = ram.create_share("modelshare-0123456789ab-1", register.arn, "token-1")
        again = ram.create_share("modelshare-0123456789ab-1", register.arn, "token-1")
        assert again.arn == made.arn and made.name == "modelshare-0123456789ab-1" and made.feature_set == "STANDARD"
        assert len([s for s in ram.owned_shares()]) == 1, "the same token makes one share"
        assert ram.share_resources([made.arn]) == {made.arn: ()} and ram.share_principals([made.arn]) == {made.arn: ()}
        assert [p.arn for p in ram.permissions(made.arn)] == [register.arn]
        before = len(cloud.calls)
        ram.associate_resources(made.arn, [group(n) for n in names])
        batches = [len(c.params.get("resourceArns", [])) for c in cloud.calls[before:]
                   if c.operation == "AssociateResourceShare"]
        assert batches == [100, 100, 30]
        assert sorted(ram.share_resources([made.arn])[made.arn]) == [group(n) for n in names]


def test_associating_a_deleted_group_is_group_not_found_and_puts_in_none_of_the_call() -> None:
    """RAM refuses a call naming a group that no longer exists (UnknownResourceException), the
    whole call: the adapter says which kind of refusal it is, so the shares mode can go on."""
    with LocalCloud(costs=FREE) as cloud:
        Deployment(cloud, REGION).install(OWNER)
        session = cloud.session(OWNER, REGION)
        sagemaker = session.client("sagemaker")
        for name in ("kept", "deleted"):
            sagemaker.create_model_package_group(ModelPackageGroupName=name)
        sagemaker.delete_model_package_group(ModelPackageGroupName="deleted")
        ram = RamOwnerShares(session)
        permission = next(iter(ram.managed_permissions("sagemaker:modelpackagegroup")))
        made = ram.create_share("modelshare-0123456789ab-1", permission.arn, "token-1")
        with pytest.raises(GroupNotFound):
            ram.associate_resources(made.arn, [group("kept"), group("deleted")])
        assert ram.share_resources([made.arn]) == {made.arn: ()}
        ram.associate_resources(made.arn, [group("kept")])
        assert ram.share_resources([made.arn]) == {made.arn: (group("kept"),)}
