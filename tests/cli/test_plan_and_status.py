"""`modelshare plan` and `modelshare status` on the local AWS: what they report, and that they
write nothing."""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta

import pytest

from modelshare.allowlist import actions_for
from modelshare_cli import status
from tests.cli.conftest import ALLOWLIST, ME, PARAMETER, PEER, REGION, STRANGER

INVALID_DOC = {"version": 1, "shares": [{"owner": ME, "groups": [], "consumers": [PEER]}]}


def group_arn(name, account=ME):
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package-group/{name}"


@pytest.fixture
def landscape(cli):
    """Account ME: one group of each state; PEER shares two groups with ME and promotes them, so
    ME holds two pending invitations, only one of which the allowlist accepts."""
    cli.put_parameter(ALLOWLIST)
    cli.share_by_policy("churn-xgb", [PEER])  # created-from-policy share, promotable
    cli.create_group("fraud-detector")  # allowlisted, no policy yet
    cli.create_group("scratch")  # matches no rule
    promo = cli.share_by_policy("promo-a", [PEER])
    promoted = cli.promote(promo)  # through modelshare's share; PEER's invitation stays pending
    cli.modelshare_made(promo, "shares", promoted)
    shares = {"their-model": cli.promote(cli.share_by_policy("their-model", [ME], account=PEER), account=PEER)}
    cli.cloud.clock.sleep(60)
    shares["not-allowed"] = cli.promote(cli.share_by_policy("not-allowed", [ME], account=PEER), account=PEER)
    return shares


def sections(out):
    """The output's blocks, by their heading line."""
    blocks, current = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line
            blocks[current] = []
        elif line and current is not None:
            blocks[current].append(line.strip())
    return blocks


def planned_writes(out):
    blocks = sections(out)
    heading, = [h for h in blocks if h.startswith("Planned writes")]
    return heading, blocks[heading]


def invitation_sent_at(cli, share_arn):
    invitation, = [i for i in cli.ram(ME).get_resource_share_invitations()["resourceShareInvitations"]
                   if i["resourceShareArn"] == share_arn]
    return invitation["invitationTimestamp"]


def cells(line):
    """A table row's cells: columns are separated by two spaces or more."""
    return re.split(r"\s{2,}", line.strip())


def row(lines, first):
    found, = [line.split() for line in lines if line.split()[0] == first]
    return found


# -- plan -------------------------------------------------------------------------------------
def test_plan_lists_what_reconcile_would_write_and_writes_nothing(cli, landscape):
    before = cli.writes()
    result = cli("plan")
    assert result.code == 0, result.err
    assert cli.writes() == before  # not one write, in any service or account
    assert result.out.splitlines()[0] == (f"Plan for account {ME} in {REGION}, allowlist from parameter "
                                          "/modelshare/allowlist version 1 (nothing is written)")
    blocks = sections(result.out)
    groups = blocks["Groups:"]
    assert row(groups, "fraud-detector")[:3] == ["fraud-detector", "shared", PEER]
    assert row(groups, "churn-xgb")[:2] == ["churn-xgb", "promoted"]
    assert {"promo-a", "scratch"} <= {line.split()[0] for line in groups}
    invitations = blocks["Pending invitations:"]
    assert [line.split()[2] for line in invitations[1:]] == ["accepted", "left-pending"]
    assert "group 'not-allowed' of 444455556666 is not allowlisted for account 111122223333" in invitations[2]

    heading, writes = planned_writes(result.out)
    # fraud-detector's statement is recorded in the ledger, then put; churn-xgb's share is
    # recorded, then promoted (its actions match an AWS managed permission: no permission of its
    # own); no tag is written anywhere.
    assert heading == "Planned writes (5 writes):"
    assert "promo-a" not in writes and "scratch" not in writes
    assert writes[writes.index("fraud-detector") + 1] == f"put-policy: principals {PEER}"
    assert not any(line.startswith("promote-permission") for line in writes)
    churn = writes.index(f"arn:aws:sagemaker:{REGION}:{ME}:model-package-group/churn-xgb")
    assert writes[churn + 1].startswith(f"record-share: arn:aws:ram:{REGION}:{ME}:resource-share/")
    assert not any(line.startswith("tag-share") for line in writes)
    assert writes[writes.index("promote-share") - 1].startswith(f"arn:aws:ram:{REGION}:{ME}:resource-share/")
    accept = writes.index("accept-invitation")
    assert writes[accept - 1].startswith(f"arn:aws:ram:{REGION}:{PEER}:resource-share-invitation/")


def test_plan_with_an_allowlist_file_previews_an_edit(cli, landscape):
    edit = copy.deepcopy(ALLOWLIST)
    edit["shares"][0]["consumers"] = [PEER, STRANGER]
    edit["shares"].pop(1)  # ME no longer accepts anything from PEER
    before = cli.writes()
    result = cli("plan", "--allowlist", cli.file(edit))
    assert result.code == 0, result.err
    assert cli.writes() == before
    assert "allowlist from file" in result.out.splitlines()[0]
    blocks = sections(result.out)
    assert row(blocks["Groups:"], "promo-a")[:4] == ["promo-a", "consumers-changed", "added", STRANGER]
    heading, writes = planned_writes(result.out)
    # Each statement recorded, then put; churn-xgb's former one forgotten once replaced.
    assert heading == "Planned writes (6 writes):"
    assert writes.count(f"put-policy: principals {PEER}, {STRANGER}") == 2  # churn-xgb and fraud-detector
    assert sum(line.startswith("record-statement") for line in writes) == 2
    assert sum(line.startswith("forget-statements") for line in writes) == 1
    assert f"add-consumers: {STRANGER}" in writes
    assert "accept-invitation" not in writes
    assert all(line.split()[2] == "left-pending" for line in blocks["Pending invitations:"][1:])


def test_reconcile_makes_exactly_the_planned_writes(cli, landscape):
    planned = cli("reconcile", "--dry-run")
    assert planned.code == 0 and "(nothing is written)" in planned.out.splitlines()[0]
    heading, _ = planned_writes(planned.out)
    before = len(cli.writes())
    result = cli("reconcile")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (f"Reconciled account {ME} in {REGION} with parameter /modelshare/allowlist "
                                          "version 1")
    made = [c.operation for c in cli.writes()[before:]]
    # The ledger records what modelshare is about to make: the statement, then the share.
    assert sorted(made) == sorted(["UpdateItem", "PutModelPackageGroupPolicy", "UpdateItem",
                                   "PromoteResourceShareCreatedFromPolicy", "AcceptResourceShareInvitation"])
    assert heading == f"Planned writes ({len(made)} writes):"
    cli.cloud.clock.sleep(30)  # RAM makes fraud-detector's share from the new policy: the next run promotes it
    assert cli("reconcile").code == 0
    cli.cloud.clock.sleep(30)
    again = cli("reconcile", "--dry-run")
    assert again.out.splitlines()[-1] == "Planned writes: nothing to change"


def quota_lines(out, heading_start):
    heading, = [h for h in sections(out) if h.startswith(heading_start)]
    return {line.split(":")[0]: line.split(": ", 1)[1] for line in sections(out)[heading]}


def test_plan_prints_what_the_allowlist_will_hold_of_each_ram_quota(cli, landscape):
    """churn-xgb, fraud-detector and promo-a are shared with PEER: one share, one resource and
    one principal association each in the policy mode. The share RAM made from churn-xgb's policy
    and modelshare's promoted share are the projection's own; a person's share stays besides."""
    cli.ram().create_resource_share(name="a person's", resourceArns=[cli.create_group("scratch-2")], principals=[STRANGER])
    result = cli("plan")
    assert result.code == 0, result.err
    quotas = quota_lines(result.out, "RAM quotas once this allowlist's 3 groups are shared (policy mode")
    assert quotas["resource shares per Region"] == "4 of 25,000 (0 %), headroom 24,996"
    assert quotas["resource associations per Region"] == "4 of 25,000 (0 %), headroom 24,996"
    assert quotas["principal associations per Region"] == "4 of 25,000 (0 %), headroom 24,996"
    assert quotas["customer managed permissions per Region"].startswith("1 of 1,500")
    raised = cli("plan", "--ram-quotas", "principal_associations=5")
    assert quota_lines(raised.out, "RAM quotas")["principal associations per Region"] == \
        "4 of 5 (80 %), headroom 1 (alarm)"


def test_plan_refuses_an_allowlist_whose_policy_mode_passes_a_quota_and_says_if_the_shares_mode_fits(cli, landscape):
    before = cli.writes()
    result = cli("plan", "--ram-quotas", "principal_associations=2")
    assert result.code == 1
    assert quota_lines(result.out, "RAM quotas")["principal associations per Region"] == "3 of 2 (150 %), headroom -1 OVER"
    assert "Planned writes" not in result.out and "Groups:" not in result.out
    [line] = result.err_lines
    assert line.startswith("modelshare: error: sharing this allowlist's 3 groups in the policy mode passes RAM's quotas "
                           "(principal associations 3 of 2)")
    assert "the shares mode would fit (1 shares, 1 principal associations)" in line
    assert cli.writes() == before
    neither = cli("plan", "--ram-quotas", "principal_associations=2,resource_associations=2")
    assert neither.code == 1
    assert "the shares mode would not fit either (resource associations 3 of 2)" in neither.err
    assert cli("plan", "--ram-quotas", "principals=5").code == 2


def test_an_owner_in_the_shares_mode_is_refused_only_when_the_shares_mode_passes_a_quota(cli, landscape, monkeypatch):
    monkeypatch.setenv("MODELSHARE_SHARING_MODE", "shares")  # the stack's SharingMode
    fits = cli("plan", "--ram-quotas", "principal_associations=2")
    assert fits.code == 0, fits.err
    assert "(shares mode" in fits.out
    assert quota_lines(fits.out, "RAM quotas")["principal associations per Region"] == "1 of 2 (50 %), headroom 1"
    over = cli("plan", "--ram-quotas", "resource_associations=2")
    assert over.code == 1
    assert "in the shares mode passes RAM's quotas (resource associations 3 of 2)" in over.err and "no mode fits" in over.err


def test_plan_nothing_to_change(cli):
    cli.put_parameter(ALLOWLIST)
    cli.create_group("scratch")
    result = cli("plan")
    assert result.code == 0
    assert result.out.splitlines()[-1] == "Planned writes: nothing to change"


def test_plan_refuses_an_invalid_allowlist_file(cli, landscape):
    result = cli("plan", "--allowlist", cli.file(INVALID_DOC))
    assert result.code == 1
    assert result.out == ""
    assert result.err_lines[0] == "$.shares[0].groups: must not be empty"


def test_plan_refuses_an_invalid_or_missing_parameter(cli):
    result = cli("plan")
    assert result.code == 1
    assert result.err_lines == ["modelshare: error: allowlist parameter /modelshare/allowlist does not exist "
                                "(wrong --parameter, --region or account?)"]
    cli.put_parameter(INVALID_DOC)
    result = cli("plan")
    assert result.code == 1
    assert "is invalid; nothing is shared or accepted" in result.err_lines[0]
    assert result.err_lines[1] == "$.shares[0].groups: must not be empty"


# -- status -----------------------------------------------------------------------------------
def test_status_table(cli, landscape, monkeypatch):
    sent = invitation_sent_at(cli, landscape["their-model"])  # 90 s before the other one
    monkeypatch.setattr(status, "now", lambda: sent + timedelta(hours=2))
    before = cli.writes()
    result = cli("status")
    assert result.code == 0, result.err
    assert cli.writes() == before
    blocks = sections(result.out)
    groups = blocks["Groups:"]
    assert groups[0].split() == ["GROUP", "CONSUMERS", "POLICY", "SHARE", "STATUS", "REASON"]
    assert [line.split()[0] for line in groups[1:]] == ["churn-xgb", "fraud-detector", "promo-a", "scratch"]
    assert row(groups, "churn-xgb")[:5] == ["churn-xgb", PEER, "yes", "created-from-policy",
                                            "accessible-not-discoverable"]
    assert row(groups, "fraud-detector") == ["fraud-detector", "-", "no", "none", "not-shared",
                                             "no", "resource", "policy", "yet"]
    # PEER has not accepted its invitation: ME knows only that it invited (never "discoverable").
    assert row(groups, "promo-a") == ["promo-a", PEER, "yes", "standard", "invited", "promoted", "RAM", "share;",
                                      "invited,", "not", "accepted", "yet:", PEER]
    assert row(groups, "scratch")[4:] == ["not-shared", "no", "allowlist", "rule", "matches"]
    # Columns are aligned: every row starts its STATUS column at the same offset.
    offsets = {line.index(word) for line in groups for word in line.split()[4:5]}
    assert len(offsets) == 1
    assert blocks[BEYOND] == ["(none)"]

    invitations = blocks["Pending invitations:"]
    assert invitations[0].split() == ["SENDER", "SHARE", "AGE", "EXPIRES", "IN", "WOULD", "ACCEPT"]
    accepted, refused = invitations[1:]
    assert accepted.startswith(PEER) and landscape["their-model"] in accepted
    assert cells(accepted)[2:] == ["2h 00m", "10h 00m", "yes"]
    assert cells(refused)[2:] == ["1h 58m", "10h 01m", f"no: group 'not-allowed' of {PEER} is not allowlisted for account {ME}"]


def test_status_json_and_expiry(cli, landscape, monkeypatch):
    sent = invitation_sent_at(cli, landscape["their-model"])
    monkeypatch.setattr(status, "now", lambda: sent + timedelta(hours=12, minutes=1))
    result = cli("status", "--json")
    assert result.code == 0
    report = json.loads(result.out)
    assert set(report) >= {"groups", "pending_invitations"}
    by_name = {g["name"]: g for g in report["groups"]}
    assert by_name["churn-xgb"] == {
        "name": "churn-xgb", "arn": group_arn("churn-xgb"), "consumers": [PEER], "policy": True,
        "share_feature_set": "created-from-policy", "status": "accessible-not-discoverable",
        "reason": "share is CREATED_FROM_POLICY: promotion pending", "other_shares": []}
    assert by_name["promo-a"]["status"] == "invited"
    pending = {item["share_arn"]: item for item in report["pending_invitations"]}
    their = pending[landscape["their-model"]]
    assert (their["sender"], their["would_accept"]) == (PEER, True)
    assert their["sent_at"] == sent.isoformat()
    assert their["age_seconds"] == 12 * 3600 + 60
    assert their["expires_in_seconds"] == -60
    other = pending[landscape["not-allowed"]]
    assert (other["would_accept"], other["expires_in_seconds"]) == (False, 25)
    assert "not allowlisted" in other["reason"]
    assert [cells(line)[3] for line in sections(cli("status").out)["Pending invitations:"][1:]] == ["expired", "25s"]


def test_status_with_an_invalid_allowlist_names_the_last_valid_version_the_sweep_applies(cli, landscape):
    """Issue 19, item 8: nothing new is shared, but the owner's sweep still applies what the last
    valid version in the parameter's history takes away; status says which and shows the groups so."""
    cli.put_parameter({**ALLOWLIST, "shares": [{**ALLOWLIST["shares"][0], "groups": ["churn-*", "fraud-detector"]},
                                               ALLOWLIST["shares"][1]]})  # promo-* no longer shared
    cli.put_parameter(INVALID_DOC)
    result = cli("status")
    assert result.code == 1
    assert result.err_lines[:3] == [
        f"modelshare: error: allowlist parameter {PARAMETER} (version 3) is invalid: nothing new is shared or accepted",
        "$.shares[0].groups: must not be empty",
        f"modelshare: error: the owner's sweep applies only what version 2 of {PARAMETER}, the last valid one, takes away "
        "(the most restrictive of it and what is live); the groups are shown so"]
    report = json.loads(cli("status", "--json").out)
    assert (report["allowlist_in_force"], report["restrict_only"]) == (f"version 2 of {PARAMETER}", True)
    by_name = {g["name"]: g for g in report["groups"]}
    assert by_name["churn-xgb"]["status"] == "accessible-not-discoverable"
    assert "waits for a valid allowlist: promotion" in by_name["churn-xgb"]["reason"]
    assert [i["would_accept"] for i in report["pending_invitations"]] == [False, False], "the consumer accepts nothing"


def test_status_with_no_valid_allowlist_in_the_history_still_reports_and_exits_1(cli, landscape):
    cli.ssm().delete_parameter(Name=PARAMETER)  # its history goes with it
    cli.put_parameter(INVALID_DOC)
    result = cli("status")
    assert result.code == 1
    assert "is invalid: nothing new is shared or accepted" in result.err_lines[0]
    assert result.err_lines[1] == "$.shares[0].groups: must not be empty"
    assert result.err_lines[2] == ("modelshare: error: no valid version in the allowlist's history: the owner's sweep changes "
                                   "nothing until it is fixed")
    groups = sections(result.out)["Groups:"]
    churn = row(groups, "churn-xgb")
    assert churn[4] == "accessible-not-discoverable"
    assert PEER in churn[5:] and "allowlisted" in churn[5:]


def test_status_prints_each_quota_and_which_group_waits_for_room(cli, landscape, monkeypatch):
    """What RAM holds now: churn-xgb's share made from its policy and promo-a's, one consumer
    each. At a principal association quota of 2 the group still to promote waits for room."""
    result = cli("status")
    assert result.code == 0, result.err
    quotas = quota_lines(result.out, "RAM quotas, what this account holds now")
    assert quotas["principal associations per Region"] == "2 of 25,000 (0 %), headroom 24,998"
    assert quotas["pending invitations per sharing account"] == "1 of 20 (5 %), headroom 19"
    monkeypatch.setenv("MODELSHARE_RAM_QUOTAS", "principal_associations=2")
    report = json.loads(cli("status", "--json").out)
    principals, = [q for q in report["ram_quotas"] if q["quota"] == "principal_associations"]
    assert principals == {"quota": "principal_associations", "used": 2, "limit": 2, "headroom": 0, "percent": 100.0}
    by_name = {g["name"]: g["reason"] for g in report["groups"]}
    assert by_name["churn-xgb"].endswith("waits for room: RAM's quota of principal associations per Region (2 of 2) is "
                                         "full, room comes only as groups or consumers leave")
    assert "waits for room" not in by_name["promo-a"], "shared already: it needs no room"
    assert cli("status", "--ram-quotas", "shares=0").code == 2


def test_status_of_an_empty_account(cli):
    cli.put_parameter(ALLOWLIST)
    result = cli("status")
    assert result.code == 0
    assert sections(result.out) == {
        f"Account {ME} in {REGION}": [], f"Allowlist: parameter {PARAMETER} version 1 (this account's)": [],
        "Groups:": ["(no model package groups)"],
        status.QUOTAS_HEADING: [
            "resource shares per Region: 0 of 25,000 (0 %), headroom 25,000",
            "resource associations per Region: 0 of 25,000 (0 %), headroom 25,000",
            "principal associations per Region: 0 of 25,000 (0 %), headroom 25,000",
            "pending invitations per sharing account: 0 of 20 (0 %), headroom 20",
            "customer managed permissions per Region: 0 of 1,500 (0 %), headroom 1,500",
            "customer managed permissions per resource type: 0 of 10 (0 %), headroom 10"],
        "Pending invitations:": ["(none)"],
        BEYOND: ["(none)"]}


BEYOND = "Accepted shares beyond the allowlist (reported only: model package groups cannot be left):"


def deploy_permission(cli, account):
    """The AWS managed permission granting exactly deploy, found by its actions (never by name)."""
    ram = cli.ram(account)
    wanted = {a.lower() for a in actions_for(["deploy"])}
    for permission in ram.list_permissions(permissionType="AWS_MANAGED")["permissions"]:
        template = json.loads(ram.get_permission(permissionArn=permission["arn"])["permission"]["permission"])
        if {a.lower() for a in template["Action"]} == wanted:
            return permission["arn"]
    raise AssertionError("no AWS managed permission grants deploy")


def test_status_says_why_a_share_granting_more_waits_and_which_accepted_shares_hold_more(cli):
    """The consumer side of `status`: a pending share granting deploy where the allowlist gives
    discover, and an accepted share to which a person added a group the allowlist does not name."""
    cli.put_parameter(ALLOWLIST)
    ram = cli.ram(PEER)
    deploy = ram.create_resource_share(name="deploy", resourceArns=[cli.create_group("their-deploy", PEER)],
                                       principals=[ME], permissionArns=[deploy_permission(cli, PEER)])
    grown = ram.create_resource_share(name="grown", resourceArns=[cli.create_group("their-ok", PEER)],
                                      principals=[ME])["resourceShare"]["resourceShareArn"]
    invitation, = [i["resourceShareInvitationArn"] for i in cli.ram().get_resource_share_invitations()[
        "resourceShareInvitations"] if i["resourceShareArn"] == grown]
    cli.ram().accept_resource_share_invitation(resourceShareInvitationArn=invitation)
    extra = cli.create_group("private", PEER)
    ram.associate_resource_share(resourceShareArn=grown, resourceArns=[extra])
    report = json.loads(cli("status", "--json").out)
    [pending] = report["pending_invitations"]
    assert pending["share_arn"] == deploy["resourceShare"]["resourceShareArn"] and not pending["would_accept"]
    assert "sagemaker:createmodel" in pending["reason"] and "beyond" in pending["reason"]
    [beyond] = report["shared_beyond_allowlist"]
    assert (beyond["share_arn"], beyond["owner"], beyond["unreadable"]) == (grown, PEER, False)
    assert len(beyond["problems"]) == 1 and extra in beyond["problems"][0]
    lines = sections(cli("status").out)[BEYOND]
    assert lines[0] == f"{grown} (owner {PEER})" and extra in lines[1]


def test_reconcile_writes_only_with_the_stack_s_ledger_named(cli, landscape, monkeypatch):
    """A table of the default name may be a person's in an account whose stack is named
    otherwise: the command that writes takes no default."""
    monkeypatch.delenv("MODELSHARE_LEDGER_TABLE")
    before = len(cli.writes())
    result = cli("reconcile")
    assert result.code == 2 and "--ledger-table" in result.err and len(cli.writes()) == before
    assert cli("reconcile", "--ledger-table", "modelshare-ownership").code == 0


def test_plan_projects_the_mode_the_allowlist_or_the_stack_gives_the_owner(cli, landscape, monkeypatch):
    """The stack's SharingMode (--sharing-mode, else $MODELSHARE_SHARING_MODE) for owners the
    allowlist's `modes` does not name; `modes` wins where it names one."""
    assert "(policy mode" in cli("plan").out
    assert "(shares mode" in cli("plan", "--sharing-mode", "shares").out
    monkeypatch.setenv("MODELSHARE_SHARING_MODE", "shares")
    assert "(shares mode" in cli("plan").out
    pinned = {**copy.deepcopy(ALLOWLIST), "modes": {ME: "policy"}}
    assert "(policy mode" in cli("plan", "--allowlist", cli.file(pinned)).out
    monkeypatch.setenv("MODELSHARE_SHARING_MODE", "sideways")
    refused = cli("plan")
    assert refused.code == 2 and "MODELSHARE_SHARING_MODE is 'sideways'" in refused.err
