"""An OU as a consumer of a shares-mode owner (issue 20; docs/security.md, "Organization and OU consumers (shares mode)") end
to end on the local AWS, from template.yaml: OWNER, CONSUMER and STRANGER are in one organization
with RAM sharing enabled, CONSUMER in an OU under the OU the allowlist names, STRANGER directly
under the root. CONSUMER discovers every group the rule names, and one made later, with no
invitation at all; STRANGER discovers none; the safety oracle judges every write and the final
state and finds nothing wrong."""

from __future__ import annotations

from typing import Any

from localaws.harness.oracle import SafetyOracle
from localaws.harness.oracle_final import judge_final_state
from localaws.services.organizations.api import OrganizationModel
from modelshare.aws.ledger import DynamoDbLedger
from tests.integration.conftest import CONSUMER, OWNER, REGION, STRANGER, World, group_arn

MANAGEMENT = "121212121212"
ORG_ID, OU, CHILD = "o-exampleorg1", "ou-ab12-examplou", "ou-ab12-childou1"
OU_ARN = f"arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/{OU}"
GROUPS = ["churn-a", "churn-b", "churn-c", "churn-d"]
ALLOWLIST: dict[str, Any] = {"version": 1, "modes": {OWNER: "shares"}, "shares": [
    {"owner": OWNER, "groups": ["churn-*"], "consumers": [OU_ARN]}]}


def organization() -> OrganizationModel:
    model = OrganizationModel(ORG_ID, MANAGEMENT, ram_sharing_enabled=True)
    model.add_ou(OU)
    model.add_ou(CHILD, OU)
    model.move_account(OWNER)
    model.move_account(CONSUMER, CHILD)
    model.move_account(STRANGER)
    return model


def test_an_ou_consumer_discovers_every_group_of_a_shares_mode_owner_with_no_invitation(world: World) -> None:
    world.cloud.registry.state.organization = organization()
    oracle = SafetyOracle(world.cloud, REGION, dict.fromkeys((OWNER, CONSUMER, STRANGER), "/modelshare/allowlist"))
    for account in (OWNER, CONSUMER, STRANGER):  # every consumer stack trusts the owner
        world.cloud.add_account(account)
    paths = {OWNER: f"{ORG_ID}/r-ab12/", CONSUMER: f"{ORG_ID}/r-ab12/{OU}/{CHILD}/", STRANGER: f"{ORG_ID}/r-ab12/"}
    for account, path in paths.items():
        world.install(account, allowlist=ALLOWLIST, parameters={"OrganizationPath": path})
    for name in [*GROUPS, "private"]:
        world.create_group(OWNER, name)
    world.settle()
    world.run_for(hours=1)  # a sweep too

    everything = sorted(group_arn(n) for n in GROUPS)
    assert sorted(world.discoverable(CONSUMER)) == everything
    assert world.discoverable(STRANGER) == []
    assert world.invitations(CONSUMER) == [] and world.invitations(STRANGER) == [], "an OU gets no invitation"
    made = DynamoDbLedger(world.cloud.session(OWNER, REGION), world.deployment.ledger_table(OWNER)).made_shares()
    assert len(made) == 1, made
    share_arn, = made
    principals = {a["associatedEntity"] for a in world.client(OWNER, "ram").get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[share_arn])["resourceShareAssociations"]
        if a["status"] == "ASSOCIATED"}
    assert principals == {OU_ARN}, "the OU is named once, not account by account"

    # A group made later reaches the OU's accounts through the same share, still with no invitation.
    world.create_group(OWNER, "churn-e")
    world.settle()
    world.run_for(hours=1)
    assert sorted(world.discoverable(CONSUMER)) == sorted([*everything, group_arn("churn-e")])
    assert world.discoverable(STRANGER) == [] and world.invitations(CONSUMER) == []
    # The consumer's re-check finds the groups given to its OU its own (its OrganizationPath).
    assert world.metric_total("SharedBeyondAllowlist", CONSUMER) == 0
    assert world.metric_total("OrganizationPathIgnored", CONSUMER) == 0

    verdict = judge_final_state(oracle, [OWNER, CONSUMER, STRANGER], world.lambdas.failures, world.lambdas.invocations)
    assert verdict["violations"] == [] and verdict["unconverged"] == [], verdict
    assert verdict["checked"].get("final group") == len(GROUPS) + 2
    assert oracle.checked["AssociateResourceShare"] > 0, "the oracle judged the OU's association"
