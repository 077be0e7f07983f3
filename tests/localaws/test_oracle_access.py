"""The safety oracle's "no moment without access" check (localaws/harness/oracle_access.py): while an
owner switches modes, a consumer both allowlists keep allowing never loses discovery of a group;
outside a switch window, and for a pair the allowlists stopped giving the same, it does not judge."""

from __future__ import annotations

import json
from typing import Any

from localaws.harness.oracle import SafetyOracle
from tests.localaws.test_oracle import PARAMETER, as_function


def put_allowlist(aws: Any, *, mode: str | None, consumers: list[str] | None = None) -> None:
    rule = {"owner": aws.OWNER, "groups": ["churn-*"], "consumers": consumers or [aws.CONSUMER]}
    document: dict[str, Any] = {"version": 1, "shares": [rule]}
    if mode is not None:
        document["modes"] = {aws.OWNER: mode}
    for account in (aws.OWNER, aws.CONSUMER):
        aws.client("ssm", account).put_parameter(Name=PARAMETER, Type="String", Overwrite=True, Value=json.dumps(document))


def discovered_then_unshared(aws: Any, oracle: SafetyOracle) -> None:
    """churn-a is discoverable by the consumer; a function reads, then deletes the share."""
    _, share = aws.accepted_group("churn-a")
    with as_function(aws, aws.OWNER):
        aws.ram().get_resource_shares(resourceOwner="SELF")  # a call while the pair is discoverable
        aws.ram().delete_resource_share(resourceShareArn=share)


def watched(aws: Any) -> SafetyOracle:
    return SafetyOracle(aws.cloud, aws.REGION, {aws.OWNER: PARAMETER, aws.CONSUMER: PARAMETER})


def test_a_function_taking_away_access_during_a_switch_is_a_moment_without_access(aws: Any) -> None:
    oracle = watched(aws)
    put_allowlist(aws, mode=None)
    put_allowlist(aws, mode="shares")  # the switch window opens
    discovered_then_unshared(aws, oracle)
    assert len(oracle.access.gaps) == 1 and "can no longer discover" in oracle.access.gaps[0]
    assert "DeleteResourceShare" in oracle.access.gaps[0] and oracle.access.gaps[0] in oracle.violations


def test_outside_a_switch_window_the_check_does_not_judge(aws: Any) -> None:
    oracle = watched(aws)
    put_allowlist(aws, mode=None)
    put_allowlist(aws, mode="policy")  # the stack default's mode, named: no switch
    discovered_then_unshared(aws, oracle)
    assert oracle.access.gaps == [] and oracle.access.windows == {}


def test_a_pair_the_allowlist_changed_is_not_a_switchs_doing(aws: Any) -> None:
    oracle = watched(aws)
    put_allowlist(aws, mode="policy")
    put_allowlist(aws, mode="shares")
    _, share = aws.accepted_group("churn-a")
    with as_function(aws, aws.OWNER):
        aws.ram().get_resource_shares(resourceOwner="SELF")
    put_allowlist(aws, mode="shares", consumers=[aws.CONSUMER, aws.OTHER])  # the group's consumers change
    with as_function(aws, aws.OWNER):
        aws.ram().delete_resource_share(resourceShareArn=share)
    assert oracle.access.gaps == []


def consumer_in_an_ou(aws: Any) -> str:
    """An organization with RAM sharing enabled holding the owner, and the consumer in one of its
    OUs; the OU's ARN."""
    from localaws.services.organizations.api import OrganizationModel

    organization = OrganizationModel("o-exampleorg1", "999988887777", ram_sharing_enabled=True)
    ou = organization.add_ou("ou-ab12-examplou")
    organization.move_account(aws.OWNER)
    organization.move_account(aws.CONSUMER, "ou-ab12-examplou")
    aws.cloud.registry.state.organization = organization
    return ou


def test_a_consumer_reached_only_through_an_ou_is_watched_too(aws: Any) -> None:
    """The owner shares with an OU the consumer is in (the shares mode's organization consumers):
    RAM reaches the consumer through the OU, with no account principal. Taking that share away
    during a switch is a moment without access all the same."""
    ou = consumer_in_an_ou(aws)
    oracle = watched(aws)
    put_allowlist(aws, mode=None)
    put_allowlist(aws, mode="shares", consumers=[ou])  # the switch window opens
    share = aws.ram().create_resource_share(name="by-ou", resourceArns=[aws.group("churn-a")],
                                            principals=[ou])["resourceShare"]["resourceShareArn"]
    with as_function(aws, aws.OWNER):
        aws.ram().get_resource_shares(resourceOwner="SELF")  # a call while the pair is discoverable
        aws.ram().delete_resource_share(resourceShareArn=share)
    assert len(oracle.access.gaps) == 1, oracle.access.gaps
    assert f"{aws.CONSUMER} can no longer discover {aws.OWNER}'s churn-a" in oracle.access.gaps[0]


def test_an_account_that_left_the_ou_is_no_switchs_doing(aws: Any) -> None:
    """The consumer moves out of the OU the owner shares with: what the allowlist gives it
    changed (its memberships), so losing the group then is not judged a moment without access."""
    ou = consumer_in_an_ou(aws)
    oracle = watched(aws)
    put_allowlist(aws, mode=None)
    put_allowlist(aws, mode="shares", consumers=[ou])
    aws.ram().create_resource_share(name="by-ou", resourceArns=[aws.group("churn-a")], principals=[ou])
    with as_function(aws, aws.OWNER):
        aws.ram().get_resource_shares(resourceOwner="SELF")
        assert oracle.access._watched, "the pair reached through the OU is watched"
        aws.cloud.registry.state.organization.move_account(aws.CONSUMER)  # out of the OU, still in the organization
        aws.ram().get_resource_shares(resourceOwner="SELF")
    assert oracle.access.gaps == []
