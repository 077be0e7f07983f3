"""The shares mode with organization and OU consumers (docs/security.md, "Organization and OU
consumers"): the share names the OU once, in a call of its own, within no invitation room; an
owner outside that organization, or RAM sharing with the organization not enabled, adds no OU
(fail closed) and says so once."""

from __future__ import annotations

from modelshare.allowlist import ACCESS_ACTIONS
from modelshare.invitation_pace import PENDING_INVITATIONS_PER_ACCOUNT
from modelshare.org_principals import Organization
from modelshare.outcomes import GroupAction
from modelshare.ports import Association
from tests.unit.fakes import CONSUMER, OWNER, group_arn
from tests.unit.test_shares_mode import churn, document, owner_with

MANAGEMENT = "999988887777"
ORG = Organization("o-exampleorg1", MANAGEMENT)
OU = f"arn:aws:organizations::{MANAGEMENT}:ou/o-exampleorg1/ou-ab12-examplou"
OU_RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [OU, CONSUMER]}


def test_the_share_names_the_ou_once_in_a_call_of_its_own() -> None:
    owner, _, shares, _ = owner_with(churn(3), document(OU_RULE))
    shares.member_of = ORG
    outcomes = owner.reconcile()
    share_arn, = shares.ledger.made
    assert sorted(shares.principals[share_arn]) == sorted([OU, CONSUMER])
    assert [p for _, _, p in shares.principal_changes] == [(CONSUMER,), (OU,)], "accounts and OUs apart"
    assert {o.action for o in outcomes} == {GroupAction.SHARED}
    assert {o.action for o in owner.reconcile()} == {GroupAction.CONVERGED}


def test_an_ou_spends_none_of_the_pending_invitation_room() -> None:
    owner, _, shares, _ = owner_with(churn(1), document({**OU_RULE, "consumers": [OU]}))
    shares.member_of = ORG
    spent = [Association(f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/x", f"{n:012d}", "ASSOCIATING")
             for n in range(PENDING_INVITATIONS_PER_ACCOUNT)]  # the pending-invitation room is spent
    shares.associations = lambda kind, status=None: iter(spent if (kind, status) == ("PRINCIPAL", "ASSOCIATING") else [])
    owner.reconcile()
    share_arn, = shares.ledger.made
    assert shares.principals[share_arn] == [OU]


def test_an_owner_outside_the_organization_adds_no_ou_and_its_groups_wait(caplog) -> None:
    for member_of in (None, Organization("o-anotherorg1", MANAGEMENT), Organization(ORG.id, "123412341234")):
        owner, _, shares, _ = owner_with(churn(2), document(OU_RULE))
        shares.member_of = member_of
        outcomes = owner.reconcile()
        share_arn, = shares.ledger.made
        assert shares.principals[share_arn] == [CONSUMER], "the accounts are still served"
        assert {o.action for o in outcomes} == {GroupAction.PROMOTION_PENDING}
        assert all("not in organization" in o.reason for o in outcomes)


def test_ram_sharing_with_the_organization_not_enabled_is_said_once_and_nothing_else_waits(caplog) -> None:
    second = {"owner": OWNER, "groups": ["fraud-*"], "consumers": [OU], "access": ["register"]}
    owner, _, shares, _ = owner_with([*churn(2), "fraud-a"], document(OU_RULE, second))
    shares.member_of = ORG
    shares.org_sharing_disabled = True
    shares.managed_action_sets.append(frozenset(a.lower() for level in ("discover", "register")
                                                for a in ACCESS_ACTIONS[level]))
    outcomes = {o.group: o for o in owner.reconcile()}
    assert caplog.text.count("RAM sharing with the organization is not enabled") == 1
    assert [p for _, _, p in shares.principal_changes] == [(CONSUMER,)], "one OU refused: no other is tried"
    assert outcomes["churn-000"].action == GroupAction.PROMOTION_PENDING
    assert "not enabled" in outcomes["fraud-a"].reason
    shares.org_sharing_disabled = False
    owner.reconcile()
    assert sorted(p for share in shares.principals.values() for p in share) == sorted([CONSUMER, OU, OU])
    assert group_arn("fraud-a") in {g for held in shares.resources.values() for g in held}
