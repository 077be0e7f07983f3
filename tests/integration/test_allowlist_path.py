"""Path mode end to end on the local AWS: a 300-rule allowlist spread over the parameters under
one path shares groups as one document, read with one GetParametersByPath per fresh load, with
exactly the template's permissions; a half-written edit shares nothing new."""

from __future__ import annotations

from typing import Any

import pytest

from modelshare.allowlist_parts import TIER_LIMITS, split
from tests.integration.conftest import CONSUMER, OWNER, STRANGER, World, group_arn
from tests.integration.test_iam_enforced import _remove_action, template_actions

PATH = "/modelshare/allowlist"
PATH_MODE = {"AllowlistPath": PATH}
RULES = 300


def allowlist(consumers: list[str], *, extra: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """300 rules, one per team, each for its own groups: the teams at 0, 150 and 299 fall in
    different parts."""
    rules = [{"owner": OWNER, "groups": [f"team-{i:03d}-*", f"team-{i:03d}-shadow-v?"], "consumers": consumers}
             for i in range(RULES)]
    return {"version": 1, "shares": [*rules, *extra]}


def parts(world: World, account: str = OWNER) -> dict[str, str]:
    ssm = world.client(account, "ssm")
    found: dict[str, str] = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=PATH, PaginationConfig={"PageSize": 10}):
        found |= {p["Name"].removeprefix(PATH + "/"): p["Value"] for p in page["Parameters"]}
    return found


def functions_reads(world: World) -> list[Any]:
    return [c for c in world.cloud.calls if c.caller is not None and c.service == "ssm"]


def test_three_hundred_rules_over_several_parameters_share_groups_end_to_end(world):
    world.install(OWNER, CONSUMER, allowlist=allowlist([CONSUMER]), parameters=PATH_MODE)
    stored = parts(world)
    assert 1 < len(stored) <= 9, "several parameters, one page of GetParametersByPath"
    for name in ("team-000-a", "team-150-b", "team-299-c", "scratch"):
        world.create_group(OWNER, name)
    world.settle()

    shared = [group_arn(n) for n in ("team-000-a", "team-150-b", "team-299-c")]
    assert world.discoverable(CONSUMER) == shared
    assert world.state(OWNER, "scratch").status == "not-shared"
    assert world.lambdas.failures == []
    assert [d for d in world.cloud.iam.decisions if not d[4]] == []
    # One call per fresh load: GetParametersByPath on the path, never a second page, never a
    # single-parameter read.
    reads = functions_reads(world)
    assert reads and {(c.operation, c.params["Path"], c.params["MaxResults"]) for c in reads} == {
        ("GetParametersByPath", PATH, 10)}
    assert all("NextToken" not in c.params for c in reads)
    authorized = {d[3] for d in world.cloud.iam.decisions if d[2] == "ssm:GetParametersByPath"}
    assert authorized == {f"arn:aws:ssm:eu-west-1:{OWNER}:parameter{PATH}",
                          f"arn:aws:ssm:eu-west-1:{CONSUMER}:parameter{PATH}"}

    # An edit that shrinks the document (fewer parts, the rest deleted last) reaches both accounts.
    first_hundred = allowlist([CONSUMER])["shares"][:100]
    world.edit_allowlist({"version": 1, "shares": [
        *first_hundred, {"owner": OWNER, "groups": ["scratch"], "consumers": [CONSUMER]}]})
    assert len(parts(world)) < len(stored)
    assert world.discoverable(CONSUMER) == [group_arn("scratch"), group_arn("team-000-a")]
    assert world.lambdas.failures == []


def test_a_half_written_edit_shares_nothing_new_and_the_last_write_shares(world):
    world.install(OWNER, CONSUMER, allowlist=allowlist([CONSUMER]), parameters=PATH_MODE)
    world.create_group(OWNER, "team-010-a")
    world.settle()
    assert world.discoverable(CONSUMER) == [group_arn("team-010-a")]

    # The admin's write stops after its first part: the new rule for STRANGER's "deploy-*" is
    # in part-001 of the new revision, the other parts are still the old one's.
    edit = allowlist([CONSUMER], extra=[{"owner": OWNER, "groups": ["deploy-*"], "consumers": [STRANGER]}])
    edit["shares"].insert(0, edit["shares"].pop())
    new_parts = split(edit, TIER_LIMITS["Standard"])
    assert len(new_parts) > 1
    for account in (OWNER, CONSUMER):
        world.client(account, "ssm").put_parameter(Name=f"{PATH}/part-001", Value=new_parts[0], Type="String",
                                                   Overwrite=True)
    world.create_group(OWNER, "deploy-model")
    world.settle()

    assert world.calls("PutModelPackageGroupPolicy", OWNER)[-1].params["ModelPackageGroupName"] == "team-010-a"
    assert world.state(OWNER, "deploy-model").status == "not-shared"
    # Said exactly, and counted apart from an invalid document: only an interruption that
    # persists is alarmed (a write in progress looks the same for seconds).
    warnings = [r for r in world.logs(OWNER, "WARNING") if r["message"].startswith("Allowlist incomplete")]
    assert warnings and all(len(w["problems"]) == 1 and w["problems"][0].startswith(
        f"{PATH}: parts of different revisions (part-001: ") for w in warnings)
    assert world.metric_total("AllowlistIncomplete", OWNER) >= 2, "the change event and the creation both failed closed"
    assert world.metric_total("AllowlistInvalid") == 0
    assert world.discoverable(CONSUMER) == [group_arn("team-010-a")], "what was shared stays as it was"

    # The rest of the write: its last call's change event runs a reconcile on the whole document.
    world.edit_allowlist(edit)
    assert world.state(OWNER, "deploy-model").consumers == (STRANGER,)
    assert world.lambdas.failures == []


@pytest.mark.parametrize("function", ["OwnerReconcileFunction", "AcceptInvitationsFunction"])
def test_path_mode_needs_exactly_get_parameters_by_path_on_the_path(world, function):
    grants = {(f, a) for f, a in template_actions(PATH_MODE) if a.startswith("ssm:")}
    assert (function, "ssm:GetParametersByPath") in grants and (function, "ssm:GetParameter") not in grants
    _remove_action(world.deployment.template.document, function, "ssm:GetParametersByPath")
    world.install(OWNER, CONSUMER, allowlist=allowlist([CONSUMER]), parameters=PATH_MODE)
    world.create_group(OWNER, "team-000-a")  # an invitation to accept: the consumer reads the allowlist for it
    world.run_for(hours=1)  # the sweep
    failed = [f for f in world.lambdas.failures if f["function"] == function]
    assert failed and all("AccessDeniedException" in str(f) and "ssm:GetParametersByPath" in str(f) for f in failed)
