"""The ownership ledger in the local AWS: the stack's table, through modelshare's own adapter
(docs/aws-behaviour.md, LEDGER-DYNAMODB)."""

from __future__ import annotations

from localaws.harness.deployment import Deployment
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.costs import FREE
from modelshare.aws.ledger import DynamoDbLedger
from modelshare.ports import Ownership

OWNER = "111122223333"
REGION = "eu-west-1"


def group(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{OWNER}:model-package-group/{name}"


def test_the_ledger_records_and_reads_back_what_modelshare_made() -> None:
    with LocalCloud(costs=FREE) as cloud:
        deployment = Deployment(cloud, REGION)
        deployment.install(OWNER)
        ledger = DynamoDbLedger(cloud.session(OWNER, REGION), deployment.ledger_table(OWNER))
        assert ledger.everything() == {} and ledger.of_groups([group("a")]) == {}
        ledger.record_share(group("a"), "share-1")
        ledger.record_share(group("a"), "share-1")  # a set: recording twice is recording once
        ledger.record_share(group("a"), "share-2")
        ledger.record_statement(group("a"), "digest-1")
        ledger.record_statement(group("b"), "digest-2")
        ledger.forget_share(group("a"), "share-1")
        assert ledger.of_groups([group("a"), group("missing")]) == {
            group("a"): Ownership(frozenset({"share-2"}), frozenset({"digest-1"}))}
        ledger.forget_share(group("b"), "never-recorded")  # forgetting what is not there is harmless
        # More groups than one BatchGetItem call takes (100 keys), and a scan over all of them.
        names = [f"g{n}" for n in range(150)]
        for name in names:
            ledger.record_share(group(name), f"share-{name}")
        found = ledger.of_groups([group(n) for n in names])
        assert len(found) == 150 and found[group("g149")].shares == frozenset({"share-g149"})
        everything = ledger.everything()
        assert len(everything) == 152 and everything[group("b")] == Ownership(frozenset(), frozenset({"digest-2"}))
        # The permissions modelshare made: one item of their own, never taken for a group's.
        assert ledger.permissions() == frozenset()
        ledger.record_permission("modelshare-discover")
        ledger.record_permission("modelshare-discover-deploy")
        assert ledger.permissions() == {"modelshare-discover", "modelshare-discover-deploy"}
        assert len(ledger.everything()) == 152
        # Statements modelshare replaced are forgotten, the others kept.
        ledger.record_statement(group("b"), "digest-3")
        ledger.forget_statements(group("b"), ["digest-2", "never-recorded"])
        assert ledger.of_groups([group("b")])[group("b")].statements == frozenset({"digest-3"})
        calls = [c.operation for c in cloud.calls if c.service == "dynamodb" and c.operation == "BatchGetItem"]
        assert len(calls) >= 3, "150 keys take two BatchGetItem calls (and the first read one more)"


def test_the_full_region_quota_a_run_said_is_recorded_read_in_the_one_scan_and_forgotten() -> None:
    with LocalCloud(costs=FREE) as cloud:
        deployment = Deployment(cloud, REGION)
        deployment.install(OWNER)
        ledger = DynamoDbLedger(cloud.session(OWNER, REGION), deployment.ledger_table(OWNER))
        assert ledger.full_quota() is None and ledger.everything().full_quota is None
        ledger.record_share(group("a"), "share-1")
        ledger.record_full_quota("principal_associations")
        assert ledger.full_quota() == "principal_associations"
        everything = ledger.everything()
        assert everything.full_quota == "principal_associations"
        assert set(everything) == {group("a")}, "the record is no group's"
        ledger.forget_full_quota()
        assert ledger.full_quota() is None and ledger.everything().full_quota is None
        assert set(ledger.everything()) == {group("a")}, "the key it keeps is no group's either"
