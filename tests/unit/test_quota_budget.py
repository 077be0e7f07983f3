"""What each sharing mode costs against RAM's quotas (modelshare/quota_budget.py)."""

from __future__ import annotations

from modelshare.mode_costs import SharedGroup, policy_mode_cost, shares_mode_cost
from modelshare.quota_budget import PRINCIPAL_ASSOCIATIONS, QuotaLimits, over

DISCOVER = frozenset({"sagemaker:describemodelpackagegroup"})
REGISTER = DISCOVER | {"sagemaker:createmodelpackage"}
CONSUMERS = frozenset(f"{n:012d}" for n in range(30))


def estate(groups: int, consumers: frozenset[str] = CONSUMERS, actions: frozenset[str] = DISCOVER) -> list[SharedGroup]:
    return [SharedGroup(consumers, actions) for _ in range(groups)]


def test_ten_thousand_groups_for_thirty_consumers_cost_the_policy_mode_twelve_times_the_quota():
    cost = policy_mode_cost(estate(10_000))
    assert (cost.shares, cost.resource_associations, cost.principal_associations, cost.invitations) == \
        (10_000, 10_000, 300_000, 300_000)
    assert [u.quota for u in over(cost.against(QuotaLimits()))] == [PRINCIPAL_ASSOCIATIONS]
    # The quota is reached at about 833 groups.
    assert not over(policy_mode_cost(estate(833)).against(QuotaLimits()))
    assert over(policy_mode_cost(estate(834)).against(QuotaLimits()))


def test_the_shares_mode_fits_the_same_estate_in_a_few_shares():
    cost = shares_mode_cost(estate(10_000))
    assert (cost.shares, cost.resource_associations, cost.principal_associations) == (3, 10_000, 90)
    assert cost.customer_managed_permissions == 1
    assert not over(cost.against(QuotaLimits()))


def test_each_consumer_set_and_access_is_a_bucket_of_its_own():
    groups = [*estate(5, actions=DISCOVER), *estate(3, actions=REGISTER), *estate(2, frozenset({"000000000001"}))]
    cost = shares_mode_cost(groups, groups_per_share=2)
    assert cost.shares == 3 + 2 + 1
    assert cost.principal_associations == 3 * 30 + 2 * 30 + 1
    assert policy_mode_cost(groups).customer_managed_permissions == 2


def test_what_aws_holds_now_adds_to_the_plan_and_use_reads_as_percent_and_headroom():
    [shares, *_] = policy_mode_cost(estate(10, frozenset({"1" * 12}))).against(QuotaLimits.parse("shares=40"), {"shares": 20})
    assert (shares.used, shares.limit, shares.headroom, shares.percent) == (30, 40, 10, 75.0)
    assert "30 of 40 (75 %), headroom 10" in shares.line()


def test_an_organization_or_ou_consumer_costs_one_principal_association_a_share_and_no_invitation():
    ou = "arn:aws:organizations::999988887777:ou/o-exampleorg1/ou-ab12-examplou"
    organization = "arn:aws:organizations::999988887777:organization/o-exampleorg1"
    groups = estate(10_000, frozenset({ou, organization, "000000000001"}))
    cost = shares_mode_cost(groups)
    assert (cost.shares, cost.principal_associations, cost.invitations) == (3, 3 * 3, 3 * 1)
    assert policy_mode_cost(estate(2, frozenset({ou, "000000000001"}))).invitations == 2
