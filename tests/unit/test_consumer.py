from modelshare.allowlist import actions_for
from modelshare.outcomes import InvitationAction
from modelshare.policy import group_name_of
from modelshare.port_values import Invitation, SharedResource
from modelshare.ports import MODEL_PACKAGE_GROUP_TYPE
from modelshare.wiring import consumer_from
from tests.unit.fakes import (
    CONSUMER,
    OTHER,
    OWNER,
    FakeShares,
    FixedAllowlist,
    StaleCacheAllowlist,
    allowlist_doc,
    group_arn,
)

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def invitation(arn="inv-1", sender=OWNER, status="PENDING"):
    return Invitation(arn, f"share-{arn}", "LinkedResourceShare", sender, status, None)


def consumer_with(*invitations, resources=None, rules=(RULE,)):
    shares = FakeShares(pending=list(invitations), invitation_resources=resources or {})
    return consumer_from(CONSUMER, shares, FixedAllowlist(allowlist_doc(*rules))), shares


def group_resource(name, owner=OWNER):
    return SharedResource(group_arn(name, owner), MODEL_PACKAGE_GROUP_TYPE)


def actions(outcomes):
    return {o.invitation_arn: (o.action, o.reason) for o in outcomes}


def test_accepts_allowlisted_owner_and_groups_only():
    service, shares = consumer_with(
        invitation("ok"), invitation("bad-sender", sender=OTHER), invitation("bad-group"),
        invitation("mixed"), invitation("odd-type"), invitation("done", status="ACCEPTED"),
        invitation("foreign-arn"), invitation("empty"), invitation("subnet-called-group"),
        resources={
            "ok": [group_resource("churn-xgb"), group_resource("churn-lr")],
            "bad-sender": [group_resource("churn-xgb", owner=OTHER)],
            "bad-group": [group_resource("fraud")],
            "mixed": [group_resource("churn-xgb"), SharedResource("arn:aws:ec2:eu-west-1:111122223333:subnet/s-1", "ec2:Subnet")],
            # RAM's type string is a hint only: the ARN decides (docs/aws-behaviour.md, RAM-TYPE).
            "odd-type": [SharedResource(group_arn("churn-xgb"), "SageMaker:modelpackagegroups")],
            "subnet-called-group": [SharedResource("arn:aws:ec2:eu-west-1:111122223333:subnet/s-1", MODEL_PACKAGE_GROUP_TYPE)],
            "foreign-arn": [group_resource("churn-xgb", owner=OTHER)],
        },
    )
    outcomes = actions(service.accept_allowed_invitations())
    assert shares.accepted == ["ok", "odd-type"]
    assert outcomes["ok"] == (InvitationAction.ACCEPTED, "")
    assert "not an allowlisted owner" in outcomes["bad-sender"][1]
    assert "not allowlisted for account" in outcomes["bad-group"][1]
    assert "not a model package group" in outcomes["mixed"][1]
    assert "not a model package group" in outcomes["subnet-called-group"][1]
    assert "not a model package group of 111122223333" in outcomes["foreign-arn"][1]
    assert "holds no resources" in outcomes["empty"][1]
    assert "done" not in outcomes, "only PENDING invitations are considered"


def test_already_accepted_and_closed_invitations_are_not_errors():
    service, shares = consumer_with(invitation("ok"), invitation("late"),
                                    resources={"ok": [group_resource("churn-a")], "late": [group_resource("churn-b")]})
    shares.accepted.append("ok")
    shares.closed_invitations.add("late")
    outcomes = actions(service.accept_allowed_invitations())
    assert outcomes["ok"][0] == InvitationAction.ALREADY_ACCEPTED
    assert outcomes["late"][0] == InvitationAction.CLOSED


def test_conflicting_rules_are_not_accepted_and_invalid_allowlist_accepts_nothing():
    conflict_rules = (RULE, {**RULE, "groups": ["churn-xgb"], "access": ["deploy"]})
    service, shares = consumer_with(invitation("c"), resources={"c": [group_resource("churn-xgb")]}, rules=conflict_rules)
    assert "different access" in actions(service.accept_allowed_invitations())["c"][1]
    invalid = consumer_from(CONSUMER, shares, FixedAllowlist({"version": 1, "shares": [{"owner": OWNER}]}))
    assert invalid.accept_allowed_invitations() == []
    assert shares.accepted == []


def test_a_multi_group_share_is_accepted_only_when_every_group_is_allowlisted_for_this_account():
    """The shares mode's shares (issue 20) hold many groups under an AWS managed permission: one
    group the allowlist does not give this account is enough to leave the invitation pending."""
    many = [group_resource(f"churn-{n:03d}") for n in range(250)]
    service, shares = consumer_with(invitation("all"), invitation("one-more"),
                                    resources={"all": many, "one-more": [*many[:100], group_resource("private"), *many[100:]]})
    outcomes = actions(service.accept_allowed_invitations())
    assert shares.accepted == ["all"]
    action, reason = outcomes["one-more"]
    assert action == InvitationAction.LEFT_PENDING and "'private'" in reason and "not allowlisted for account" in reason


def test_group_name_of():
    assert group_name_of(group_arn("a-b"), OWNER) == "a-b"
    assert group_name_of(group_arn("a-b"), OTHER) is None
    assert group_name_of("arn:aws:sagemaker:eu-west-1:111122223333:model-package/a-b/1", OWNER) is None
    assert group_name_of("not-an-arn", OWNER) is None


def test_the_allowlist_is_read_afresh_once_and_only_when_an_invitation_is_pending():
    shares = FakeShares(pending=[invitation("done", status="ACCEPTED")])
    source = StaleCacheAllowlist(allowlist_doc(), allowlist_doc(RULE))
    service = consumer_from(CONSUMER, shares, source)
    assert service.accept_allowed_invitations() == []
    assert service.accept_allowed_invitations(about=[]) == [], "the events named nothing to accept"
    assert source.fresh_loads == 0
    shares.pending += [invitation("a"), invitation("b")]
    shares.invitation_resources.update({"a": [group_resource("churn-a")], "b": [group_resource("churn-b")]})
    assert {o.action for o in service.accept_allowed_invitations()} == {InvitationAction.ACCEPTED}, "decided on the fresh copy"
    assert source.fresh_loads == 1


def test_an_invitation_a_run_beside_this_one_accepted_first_is_already_accepted_not_a_failure():
    # Two runs take batches naming the same invitation; the first accepts it, and RAM may then
    # answer the second's ListPendingInvitationResources with AlreadyAccepted (the local AWS does).
    service, shares = consumer_with(invitation("raced"), resources={"raced": [group_resource("churn-xgb")]})
    shares.accepted_elsewhere.add("raced")
    assert actions(service.accept_allowed_invitations()) == {"raced": (InvitationAction.ALREADY_ACCEPTED, "")}
    assert shares.accepted == []


DEPLOY_ACTIONS = frozenset(a.lower() for a in actions_for(["deploy"]))


def share_arn(name, owner=OWNER):
    return f"arn:aws:ram:eu-west-1:{owner}:resource-share/{name}"


def test_an_invitation_whose_share_grants_more_than_the_allowlisted_access_is_left_pending():
    """A share of an allowlisted group granting deploy, where the allowlist gives discover only
    (issue 19, item 3): what the share grants is read and judged before accepting."""
    service, shares = consumer_with(invitation("deploy"), invitation("discover"),
                                    resources={"deploy": [group_resource("churn-xgb")],
                                               "discover": [group_resource("churn-lr")]})
    shares.received_grants["share-deploy"] = DEPLOY_ACTIONS
    outcomes = actions(service.accept_allowed_invitations())
    assert shares.accepted == ["discover"]
    action, reason = outcomes["deploy"]
    assert action == InvitationAction.LEFT_PENDING
    assert "sagemaker:createmodel, sagemaker:updatemodelpackage" in reason and "beyond" in reason
    assert "'churn-xgb'" in reason
    # The same share is accepted where the allowlist gives deploy.
    service, shares = consumer_with(invitation("deploy"), resources={"deploy": [group_resource("churn-xgb")]},
                                    rules=({**RULE, "access": ["deploy"]},))
    shares.received_grants["share-deploy"] = DEPLOY_ACTIONS
    service.accept_allowed_invitations()
    assert shares.accepted == ["deploy"]


def test_a_share_holding_groups_of_different_access_may_grant_only_what_every_one_allows():
    rules = (RULE, {"owner": OWNER, "groups": ["deploy-*"], "consumers": [CONSUMER], "access": ["deploy"]})
    service, shares = consumer_with(invitation("both"), rules=rules,
                                    resources={"both": [group_resource("churn-xgb"), group_resource("deploy-a")]})
    shares.received_grants["share-both"] = DEPLOY_ACTIONS
    [outcome] = service.accept_allowed_invitations()
    assert outcome.action == InvitationAction.LEFT_PENDING and "beyond" in outcome.reason
    assert shares.accepted == []


def test_a_share_whose_grant_ram_does_not_let_the_consumer_read_is_never_accepted():
    """Fail closed: RAM refusing to show the share's permission, or the permission's actions."""
    service, shares = consumer_with(invitation("a"), invitation("b"),
                                    resources={"a": [group_resource("churn-a")], "b": [group_resource("churn-b")]})
    shares.unreadable |= {"share-a", "share-b/permission"}
    outcomes = actions(service.accept_allowed_invitations())
    assert shares.accepted == []
    assert all(action == InvitationAction.LEFT_PENDING and "did not let this account read" in reason
               for action, reason in outcomes.values())


def test_a_share_on_another_version_than_its_permission_s_default_is_never_accepted():
    """Red team: RAM keeps a share on the permission version it was given; a read of the
    permission gives the default version's actions. An owner could attach a deploy version, then
    make a discover one the default: what the share grants is not what the read says."""
    service, shares = consumer_with(invitation("a"), resources={"a": [group_resource("churn-a")]})
    shares.on_older_versions.add("share-a")
    [outcome] = service.accept_allowed_invitations()
    assert outcome.action == InvitationAction.LEFT_PENDING and shares.accepted == []


def test_what_a_share_grants_is_read_only_for_an_invitation_its_holdings_allow():
    service, shares = consumer_with(invitation("stranger", sender=OTHER), invitation("fraud"),
                                    resources={"fraud": [group_resource("fraud")]})
    service.accept_allowed_invitations()
    assert shares.received_reads == [], "refused by what it holds: no read of what it grants"


def received_world(*, rules=(RULE,)):
    shares = FakeShares(received={
        share_arn("clean"): [group_resource("churn-xgb")],
        share_arn("grown"): [group_resource("churn-lr"), group_resource("scratch")],
        share_arn("wide"): [group_resource("churn-wide")],
        share_arn("hidden"): [group_resource("churn-hidden")],
        share_arn("stranger", OTHER): [group_resource("scratch", OTHER)],  # not an allowlisted owner
        share_arn("subnets"): [SharedResource("arn:aws:ec2:eu-west-1:111122223333:subnet/s-1", "ec2:Subnet")],
    })
    shares.received_grants[share_arn("wide")] = DEPLOY_ACTIONS
    shares.unreadable.add(share_arn("hidden"))
    return consumer_from(CONSUMER, shares, FixedAllowlist(allowlist_doc(*rules))), shares


def test_accepted_shares_are_rechecked_for_what_they_hold_and_grant_now():
    service, shares = received_world()
    outcomes, findings = service.sweep()
    assert outcomes == []
    by_share = {f.share_arn: f for f in findings}
    assert set(by_share) == {share_arn("grown"), share_arn("wide"), share_arn("hidden")}
    [grown] = by_share[share_arn("grown")].problems
    assert group_arn("scratch") in grown and "does not share with account 444455556666" in grown
    [wide] = by_share[share_arn("wide")].problems
    assert "sagemaker:createmodel" in wide and "beyond" in wide
    assert by_share[share_arn("hidden")].unreadable and by_share[share_arn("hidden")].problems == ()
    assert not by_share[share_arn("grown")].unreadable
    # Cost: one listing for every share, then what each judged share grants: never the shares of
    # an owner the allowlist does not name, nor shares without a model package group.
    assert shares.received_reads[0] == "ListResources"
    read_shares = [r for r in shares.received_reads if r.startswith("arn:") and not r.endswith("/permission")]
    assert sorted(read_shares) == sorted(share_arn(n) for n in ("clean", "grown", "wide", "hidden"))
    assert shares.accepted == [] and shares.principal_changes == [], "reported only: groups cannot be left"


def test_the_recheck_follows_the_allowlist_it_reads():
    service, shares = received_world(rules=({**RULE, "groups": ["churn-*", "scratch"], "access": ["deploy"]},))
    _, findings = service.sweep()
    assert [f.share_arn for f in findings] == [share_arn("hidden")], "now all allowed; the unreadable one still said"
    invalid = consumer_from(CONSUMER, shares, FixedAllowlist({"version": 1, "shares": [{"owner": OWNER}]}))
    assert invalid.sweep() == ([], []), "an invalid allowlist judges nothing"
