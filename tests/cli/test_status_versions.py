"""`modelshare status --versions` on the local AWS: from the consumer's side, the newest approved
version of each group shared with this account (issue 22 part 2; docs/version-events.md)."""

from __future__ import annotations

import json

from tests.cli.conftest import ALLOWLIST, ME, PEER, REGION

INFERENCE = {"Containers": [{"Image": "img:1", "ModelDataUrl": "s3://m/1.tar.gz"}]}


def accepted_from_peer(cli, *names):
    """PEER shares each group with ME by a policy, promotes the shares; ME accepts them."""
    shares = {cli.promote(cli.share_by_policy(name, [ME], account=PEER), account=PEER) for name in names}
    for invitation in cli.ram(ME).get_resource_share_invitations()["resourceShareInvitations"]:
        if invitation["resourceShareArn"] in shares and invitation["status"] == "PENDING":
            cli.ram(ME).accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    cli.cloud.clock.sleep(5)


def versions(cli, group, *statuses):
    sagemaker = cli.sagemaker(PEER)
    arns = []
    for status in statuses:
        arn = sagemaker.create_model_package(ModelPackageGroupName=group, InferenceSpecification=INFERENCE)[
            "ModelPackageArn"]
        if status != "PendingManualApproval":
            sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
        arns.append(arn)
    return arns


def test_status_versions_shows_the_newest_approved_version_of_each_group_shared_with_this_account(cli):
    cli.put_parameter(ALLOWLIST)
    accepted_from_peer(cli, "their-model", "their-draft")
    first, second, _rejected, _pending = versions(cli, "their-model", "Approved", "Approved", "Rejected",
                                                  "PendingManualApproval")
    versions(cli, "their-draft", "PendingManualApproval")
    cli.create_group("churn-xgb")  # ME's own group: not shared with ME, not shown

    before = len(cli.writes())
    report = json.loads(cli("status", "--versions", "--json").out)
    assert len(cli.writes()) == before, "reads only"
    by_group = {row["group"]: row for row in report["shared_groups"]}
    assert set(by_group) == {"their-model", "their-draft"}
    assert by_group["their-model"]["owner"] == PEER
    assert (by_group["their-model"]["version"], by_group["their-model"]["version_arn"]) == (2, second) != (1, first)
    assert by_group["their-draft"]["version"] is None and by_group["their-draft"]["error"] is None

    result = cli("status", "--versions")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"Account {ME} in {REGION}"
    model_row, = [line for line in lines if "their-model" in line]
    assert model_row.split()[:3] == [PEER, "their-model", "2"] and second in model_row
    draft_row, = [line for line in lines if "their-draft" in line]
    assert draft_row.rstrip().endswith("no approved version")
