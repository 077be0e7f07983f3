"""Issue 19, item 8, end to end on the local AWS: an edit removes a consumer, an invalid edit
follows two seconds later (before the sweep's workers read the allowlist). The deployed functions
still remove the consumer, from the last valid version in Parameter Store's history, and add no
one; in path mode, the last complete valid revision's removals apply; with no valid version in
the history nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from modelshare.allowlist_parts import TIER_LIMITS, split
from tests.integration.conftest import CONSUMER, OWNER, SEED_ALLOWLIST, STRANGER, World, group_arn
from tests.integration.test_allowlist_path import PATH, PATH_MODE
from tests.integration.test_allowlist_path import allowlist as path_allowlist

INVALID = json.dumps(SEED_ALLOWLIST)[:-2]  # cut short: not JSON


def removing_consumer() -> dict[str, Any]:
    """CONSUMER loses churn-*, STRANGER gains it."""
    churn, fraud = {**SEED_ALLOWLIST["shares"][0], "groups": ["churn-*"]}, {**SEED_ALLOWLIST["shares"][0], "groups": ["fraud-detector"]}
    return {"version": 1, "shares": [{**churn, "consumers": [STRANGER]}, fraud]}


def two_edits_two_seconds_apart(world: World, first: dict[str, Any] | str, second: str) -> None:
    for account in world.deployment.stacks:
        world.set_allowlist(account, first)
    world.cloud.clock.run_until(world.cloud.clock.now() + timedelta(seconds=2))
    for account in world.deployment.stacks:
        world.set_allowlist(account, second)
    world.settle()


def principals_of_the_share(world: World, group: str) -> tuple[str, ...]:
    ram = world.shares(OWNER)
    share, = ram.shares_holding(group_arn(group))
    return ram.share_principals([share.arn]).get(share.arn, ())


def granted_to(world: World, account: str) -> list[Any]:
    """The owner's calls that offered `account` anything: a principal or a policy naming it."""
    return [c for c in world.cloud.calls if c.account == OWNER and c.error_code is None
            and c.operation in ("AssociateResourceShare", "PutModelPackageGroupPolicy") and account in json.dumps(c.params)]


def test_a_removal_followed_by_an_invalid_edit_still_happens_and_nothing_is_added(world):
    world.install(OWNER, CONSUMER)
    for name in ("churn-xgb", "fraud-detector"):
        world.create_group(OWNER, name)
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb"), group_arn("fraud-detector")]

    two_edits_two_seconds_apart(world, removing_consumer(), INVALID)

    assert world.discoverable(CONSUMER) == [group_arn("fraud-detector")]
    assert principals_of_the_share(world, "churn-xgb") == ()
    assert not granted_to(world, STRANGER)
    # Said: the invalid version's problems, and which version was applied instead.
    invalid = world.client(OWNER, "ssm").get_parameter(Name="/modelshare/allowlist")["Parameter"]["Version"]
    said = [r for r in world.logs(OWNER, "WARNING") if r["message"].startswith("Applying only the removals")]
    assert said and all(r["last_valid_version"] == f"version {invalid - 1} of /modelshare/allowlist" for r in said)
    assert all(r["problems"] and r["problems"][0].startswith("$: not valid JSON") for r in said)
    assert world.metric_total("AllowlistLastValidApplied", OWNER) >= 1
    # The sweep, and the version bus keeper (its removals too): no other function reads the history.
    assert {c.caller for c in world.cloud.calls if c.operation == "GetParameterHistory"} == {
        "OwnerReconcileFunction", "AcceptInvitationsFunction"}
    # The hourly sweep keeps it so, and still adds no one.
    world.run_for(hours=1)
    assert world.discoverable(CONSUMER) == [group_arn("fraud-detector")]
    assert principals_of_the_share(world, "churn-xgb") == () and not granted_to(world, STRANGER)
    assert world.lambdas.failures == []


def test_with_no_valid_version_in_the_history_nothing_changes(world):
    world.install(OWNER, CONSUMER)
    world.create_group(OWNER, "churn-xgb")
    world.settle()
    ssm = world.client(OWNER, "ssm")
    ssm.delete_parameter(Name="/modelshare/allowlist")  # its history goes with it
    ssm.put_parameter(Name="/modelshare/allowlist", Value=INVALID, Type="String")
    world.run_for(hours=1)
    assert world.discoverable(CONSUMER) == [group_arn("churn-xgb")]
    assert world.metric_total("AllowlistNoValidVersion", OWNER) >= 1
    assert any(r["message"].startswith("No valid allowlist in Parameter Store's history")
               for r in world.logs(OWNER, "ERROR"))


def test_path_mode_applies_the_removals_of_the_last_complete_valid_revision(world):
    world.install(OWNER, CONSUMER, allowlist=path_allowlist([CONSUMER]), parameters=PATH_MODE)
    world.create_group(OWNER, "team-150-a")
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("team-150-a")]

    # A complete edit removing CONSUMER (and adding STRANGER), then an edit that stops after
    # its first part: the parts under the path are of two revisions.
    removed = path_allowlist([STRANGER])
    half = path_allowlist([CONSUMER], extra=[{"owner": OWNER, "groups": ["deploy-*"], "consumers": [CONSUMER]}])
    for account in world.deployment.stacks:
        world.set_allowlist(account, removed)
    world.cloud.clock.run_until(world.cloud.clock.now() + timedelta(seconds=2))
    for account in world.deployment.stacks:
        world.client(account, "ssm").put_parameter(Name=f"{PATH}/part-001", Type="String", Overwrite=True,
                                                   Value=split(half, TIER_LIMITS["Standard"])[0])
    world.settle()

    assert world.discoverable(CONSUMER) == []
    assert principals_of_the_share(world, "team-150-a") == () and not granted_to(world, STRANGER)
    said = [r for r in world.logs(OWNER, "WARNING") if r["message"].startswith("Applying only the removals")]
    assert said and all(r["last_valid_version"].startswith("revision ") and PATH in r["last_valid_version"]
                        for r in said)
    assert world.metric_total("AllowlistIncomplete", OWNER) >= 1 and world.metric_total("AllowlistInvalid") == 0
    assert world.lambdas.failures == []
