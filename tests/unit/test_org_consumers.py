"""Organization and OU consumers in the allowlist (issue 20; docs/security.md, "Organization and
OU consumers"): strict ARNs, shares mode only, and what an account's memberships allow."""

import pytest

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.org_principals import (
    Organization,
    account_consumers,
    memberships,
    parse_org_path,
    parse_org_principal,
)
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE
from modelshare.wiring import consumer_from
from tests.unit.fakes import CONSUMER, OTHER, OWNER, FakeShares, FixedAllowlist, allowlist_doc, group_arn

MANAGEMENT = "999988887777"
ORG_ID = "o-exampleorg1"
ORG = f"arn:aws:organizations::{MANAGEMENT}:organization/{ORG_ID}"
OU = f"arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/ou-ab12-examplou"
CHILD_OU = f"arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/ou-ab12-childou1"
SHARES = {"modes": {OWNER: "shares"}}


def rule(*consumers: str, groups: tuple[str, ...] = ("churn-*",), owner: str = OWNER) -> dict[str, object]:
    return {"owner": owner, "groups": list(groups), "consumers": list(consumers)}


def problems_of(document: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(AllowlistError) as caught:
        Allowlist.parse(document)
    return caught.value.problems


def test_a_shares_mode_owner_may_name_its_organization_or_an_ou_beside_accounts():
    allowlist = Allowlist.parse({**allowlist_doc(rule(OU, CONSUMER), rule(ORG, groups=("fraud",))), **SHARES})
    decision = allowlist.decide(OWNER, "churn-xgb")
    assert decision.shared and decision.consumers == tuple(sorted((OU, CONSUMER)))
    assert account_consumers(decision.consumers) == (CONSUMER,)
    assert allowlist.decide(OWNER, "fraud").consumers == (ORG,)


@pytest.mark.parametrize("principal", [
    f"arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/ou-AB12-examplou",  # IDs are lower case
    f"arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/ou-ab12-exa",  # too short
    f"arn:aws:organizations::{MANAGEMENT}:ou/o-short/ou-ab12-examplou",
    f"arn:aws-cn:organizations::{MANAGEMENT}:ou/{ORG_ID}/ou-ab12-examplou",
    f"arn:aws:organizations::99998888777:organization/{ORG_ID}",
    f"arn:aws:organizations::９99988887777:organization/{ORG_ID}",
    f"arn:aws:organizations:eu-west-1:{MANAGEMENT}:organization/{ORG_ID}",
    f"arn:aws:organizations::{MANAGEMENT}:organization/{ORG_ID}/",
    f" {ORG}",
    f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{CONSUMER}",
    f"arn:aws:organizations::{MANAGEMENT}:root/{ORG_ID}/r-ab12",
    ORG_ID,
    "ou-ab12-examplou",
    f"arn:aws:iam::{CONSUMER}:role/reader",
])
def test_anything_but_an_exact_organization_or_ou_arn_is_invalid(principal):
    assert parse_org_principal(principal) is None
    assert [path for path, _ in problems_of({**allowlist_doc(rule(principal)), **SHARES})] == \
        ["$.shares[0].consumers[0]"]


def test_an_ou_consumer_needs_its_owner_named_in_the_shares_mode():
    for modes in ({}, {"modes": {OWNER: "policy"}}, {"modes": {OTHER: "shares"}}):
        problems = problems_of({**allowlist_doc(rule(CONSUMER, OU)), **modes})
        assert [path for path, _ in problems] == ["$.shares[0].consumers[1]"]
        assert "shares mode" in problems[0][1] and OWNER in problems[0][1]


def test_one_organization_is_named_with_one_management_account():
    elsewhere = OU.replace(MANAGEMENT, "123412341234")
    problems = problems_of({**allowlist_doc(rule(ORG), rule(elsewhere, groups=("x",))), **SHARES})
    assert [path for path, _ in problems] == ["$.shares[1].consumers[0]"]
    assert "management account" in problems[0][1]


def test_an_account_allowed_through_its_ou_or_organization_only():
    allowlist = Allowlist.parse({**allowlist_doc(rule(OU), rule(ORG, groups=("fraud",))), **SHARES})
    in_ou, in_org_only = frozenset({ORG, OU, CHILD_OU}), frozenset({ORG})
    churn, fraud = allowlist.decide(OWNER, "churn-x"), allowlist.decide(OWNER, "fraud")
    assert churn.allows(CONSUMER, in_ou) and not churn.allows(CONSUMER, in_org_only)
    assert not churn.allows(CONSUMER), "by its ID alone an account is not in the OU"
    assert fraud.allows(CONSUMER, in_org_only) and not fraud.allows(CONSUMER)
    assert allowlist.owners_sharing_with(CONSUMER) == frozenset()
    assert allowlist.owners_sharing_with(CONSUMER, in_org_only) == {OWNER}
    assert allowlist.owners_naming(CONSUMER) == {OWNER}
    assert Allowlist.parse(allowlist_doc(rule(OTHER))).owners_naming(CONSUMER) == frozenset()


def test_org_paths_are_parsed_strictly():
    assert parse_org_path(f"{ORG_ID}/r-ab12/ou-ab12-examplou/ou-ab12-childou1/") == \
        (ORG_ID, ("ou-ab12-examplou", "ou-ab12-childou1"))
    assert parse_org_path(f"{ORG_ID}/r-ab12") == (ORG_ID, ())
    for bad in ("", f"{ORG_ID}/ou-ab12-examplou/", f"{ORG_ID}/r-ab12//", f"{ORG_ID}/r-ab12/OU-ab12-examplou/",
                f"/{ORG_ID}/r-ab12/"):
        assert parse_org_path(bad) is None


def test_memberships_come_from_the_organization_read_and_a_path_of_that_organization():
    organization = Organization(ORG_ID, MANAGEMENT)
    path = f"{ORG_ID}/r-ab12/ou-ab12-examplou/ou-ab12-childou1/"
    assert memberships(organization, path) == (frozenset({ORG, OU, CHILD_OU}), None)
    assert memberships(organization, None) == (frozenset({ORG}), None)
    found, why = memberships(organization, "o-anotherorg1/r-ab12/ou-ab12-examplou/")
    assert found == {ORG} and why is not None and "o-anotherorg1" in why
    found, why = memberships(organization, "ou-ab12-examplou")
    assert found == {ORG} and why is not None
    found, why = memberships(None, path)
    assert found == frozenset() and why is not None


# -- the consumer side: what a member account judges -------------------------------------------

SHARE = f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/modelshare-1"
PATH = f"{ORG_ID}/r-ab12/ou-ab12-examplou/"
ORGANIZATION = Organization(ORG_ID, MANAGEMENT)


def member(rules, *, path=PATH, organization=ORGANIZATION, held=("churn-a",)):
    shares = FakeShares(received={SHARE: [SharedResource(group_arn(name), MODEL_PACKAGE_GROUP_TYPE) for name in held]},
                        member_of=organization)
    return consumer_from(CONSUMER, shares, FixedAllowlist({**allowlist_doc(*rules), **SHARES}),
                         organization_path=path), shares


def test_a_group_given_to_the_consumers_ou_is_not_flagged_and_one_given_to_another_ou_is():
    service, _ = member([rule(OU)])
    assert service.sweep()[1] == []
    for other_path in (f"{ORG_ID}/r-ab12/ou-ab12-otherou1/", None):
        service, _ = member([rule(OU)], path=other_path)
        [finding] = service.sweep()[1]
        assert finding.share_arn == SHARE and "does not share with account" in finding.problems[0]


def test_a_group_given_to_the_organization_needs_the_account_to_read_that_organization():
    service, _ = member([rule(ORG)], path=None)
    assert service.sweep()[1] == []
    for organization in (None, Organization("o-anotherorg1", MANAGEMENT)):
        service, _ = member([rule(ORG)], path=None, organization=organization)
        assert [f.share_arn for f in service.sweep()[1]] == [SHARE]


def test_a_path_of_another_organization_is_ignored_and_flagged_groups_stay_flagged(caplog):
    service, _ = member([rule(OU)], path="o-anotherorg1/r-ab12/ou-ab12-examplou/")
    [finding] = service.sweep()[1]
    assert finding.share_arn == SHARE
    assert any("o-anotherorg1" in getattr(record, "reason", "") for record in caplog.records)


def test_an_invitation_for_a_group_given_only_through_an_ou_stays_pending():
    service, shares = member([rule(OU)])
    shares.pending = [Invitation("inv-1", SHARE, "modelshare-1", OWNER, "PENDING", None)]
    shares.invitation_resources = {"inv-1": [SharedResource(group_arn("churn-a"), MODEL_PACKAGE_GROUP_TYPE)]}
    [outcome] = service.accept_allowed_invitations()
    assert outcome.action.name == "LEFT_PENDING" and shares.accepted == []
