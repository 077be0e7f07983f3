"""What a batch of events tells the functions, and the sweep's work items: read strictly,
refused (dropped, never retried) when malformed, and only ever a hint of where to look."""

import json

import pytest

from modelshare import events
from modelshare.aws.work_queue import WorkItem, group_of_item, work_item
from modelshare.convergence import GroupSnapshot, Holding
from modelshare.events import EventBridgeEvent, UnsupportedEvent
from modelshare.ports import CREATED_FROM_POLICY, STANDARD, ResourceShare
from tests.unit.fakes import CONSUMER, OWNER, REGION, group_arn

SHARE = f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/7f2c8e4a-1b3d-4c5e-9f60-718293a4b5c6"
FOREIGN_SHARE = f"arn:aws:ram:eu-west-1:{CONSUMER}:resource-share/00000000-1111-2222-3333-444444444444"
INVITATION = f"arn:aws:ram:eu-west-1:{CONSUMER}:resource-share-invitation/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def ram(account=OWNER, resources=(), **detail):
    return EventBridgeEvent({"id": "e", "source": "aws.ram", "detail-type": "Resource Sharing State Change",
                             "account": account, "region": "eu-west-1", "resources": list(resources), "detail": detail})


def test_an_sqs_batch_is_read_record_by_record_and_a_bad_record_is_dropped():
    good = {"source": "aws.ram", "detail-type": "Resource Sharing State Change", "account": OWNER, "detail": {}}
    batch = events.batch({"Records": [{"body": json.dumps(good)}, {"body": "not json"}, {"body": "[1]"}, "x"]})
    assert [e.source for e in batch] == ["aws.ram"]
    assert [e.source for e in events.batch(good)] == ["aws.ram"], "a rule's single event"
    with pytest.raises(UnsupportedEvent):
        events.batch([good])


def test_each_valid_keeps_what_it_accepts_and_refuses_a_batch_of_nothing_valid():
    batch = [ram(), EventBridgeEvent({"source": "aws.s3"})]
    assert len(events.each_valid(batch, lambda e: events.require_ram_event(e) or e)) == 1
    with pytest.raises(UnsupportedEvent, match=r"expected aws\.ram"):
        events.each_valid(batch[1:], events.require_ram_event)


def test_owner_side_ram_events_name_this_account_s_shares_or_nothing():
    assert events.shares_named([ram(resourceShareArn=SHARE)]) == [SHARE]
    assert events.shares_named([ram(resources=[SHARE])]) == [SHARE]
    assert events.shares_named([ram(resources=[FOREIGN_SHARE])]) is None, "another account's share: look at all"
    assert events.shares_named([ram(), ram(resourceShareArn=SHARE)]) is None, "one names none: look at all"
    # An event about a principal (an invitation) has nothing to promote.
    assert events.shares_named([ram(resourceShareArn=SHARE, associatedEntity=CONSUMER, status="ASSOCIATING")]) == []


def test_a_failed_principal_association_names_the_share_whose_invitation_failed():
    assert events.shares_failing_invitations(
        [ram(resourceShareArn=SHARE, associatedEntity=CONSUMER, status="failed")]) == [SHARE]
    assert events.shares_failing_invitations([ram(resources=[SHARE], associatedEntity=CONSUMER, status="FAILED")]) == [SHARE]
    assert events.shares_failing_invitations([ram(resourceShareArn=SHARE, associatedEntity=CONSUMER, status="ASSOCIATED")]) == []
    assert events.shares_failing_invitations([ram(resourceShareArn=SHARE, associatedEntity=group_arn("g"), status="FAILED")]) \
        == [], "a resource association is not an invitation"
    assert events.shares_failing_invitations(
        [ram(resourceShareArn=FOREIGN_SHARE, associatedEntity=CONSUMER, status="FAILED")]) == [], "not this account's share"
    assert events.shares_failing_invitations([ram(associatedEntity=CONSUMER, status="FAILED")]) == [], "names no share"


def test_a_failed_principal_association_in_root_arn_form_names_its_share_too():
    """A share RAM made from a policy names its principals as the policy does, in the
    `arn:aws:iam::<id>:root` form: its FAILED association is an invitation that failed too."""
    root = f"arn:aws:iam::{CONSUMER}:root"
    failed = ram(resourceShareArn=SHARE, associatedEntity=root, status="FAILED")
    assert events.shares_failing_invitations([failed]) == [SHARE]
    assert events.shares_named([failed]) == [], "an event about a principal names nothing to promote"
    assert events.shares_failing_invitations([ram(resourceShareArn=SHARE, associatedEntity=f"arn:aws:iam::{CONSUMER}:role/x",
                                                  status="FAILED")]) == [], "a role is no account's invitation"
    assert events.shares_failing_invitations([ram(resourceShareArn=SHARE, associatedEntity=f"arn:aws:iam::{CONSUMER}:root/x",
                                                  status="FAILED")]) == []


def test_consumer_side_ram_events_name_the_invitation_else_another_account_s_share():
    assert events.invitations_named([ram(CONSUMER, resourceShareInvitationArn=INVITATION, resourceShareArn=SHARE)]) \
        == [INVITATION]
    assert events.invitations_named([ram(CONSUMER, resources=[SHARE])]) == [SHARE]
    assert events.invitations_named([ram(CONSUMER, resources=[FOREIGN_SHARE])]) == [], "its own share: no invitation"
    assert events.invitations_named([ram(CONSUMER)]) is None
    assert events.invitations_named([ram(CONSUMER, resourceShareInvitationArn=INVITATION, status="ACCEPTED")]) == []


def test_a_work_item_names_the_group_only_and_nothing_else_passes():
    share = ResourceShare(SHARE, "s", STANDARD, "ACTIVE", (("modelshare:managed", "true"),))
    group = GroupSnapshot("churn-xgb", group_arn("churn-xgb"),
                          (Holding(share, (group_arn("churn-xgb"),), (CONSUMER,)),
                           Holding(ResourceShare(FOREIGN_SHARE, "p", CREATED_FROM_POLICY, "ACTIVE"), (), ())))
    item = json.loads(json.dumps(work_item(group, attempt=3)))
    assert set(item) == {"kind", "attempt", "group", "arn"}, "what RAM said stays with the sweep"
    assert group_of_item(item) == WorkItem("churn-xgb", group_arn("churn-xgb"), 3)
    for broken in ({**item, "kind": "other"}, {**item, "group": "fraud"}, {**item, "arn": group_arn("churn-xgb", CONSUMER)[:-1]},
                   {**item, "attempt": "x"}, {k: v for k, v in item.items() if k != "arn"}, [], "text"):
        with pytest.raises(ValueError, match="sweep work item"):
            group_of_item(broken)


def test_a_work_item_is_refused_unless_each_field_has_the_type_the_sweep_writes():
    """Regression (issue 9 fuzzing): fields were converted with str() and int(), so a null
    became the name "None", and an infinite attempt number raised OverflowError past the
    handler."""
    item = json.loads(json.dumps(work_item(GroupSnapshot("churn-xgb", group_arn("churn-xgb")))))
    for broken in ({**item, "attempt": float("inf")}, {**item, "attempt": 1e400}, {**item, "attempt": True},
                   {**item, "attempt": "2"}, {**item, "attempt": 1.0}, {**item, "group": None},
                   {**item, "arn": None}, {**item, "arn": ["arn"]}, {**item, "group": ["churn-xgb"]}):
        with pytest.raises(ValueError, match="malformed sweep work item"):
            group_of_item(broken)
    assert group_of_item(item) == WorkItem("churn-xgb", group_arn("churn-xgb"), 1)


def test_owner_side_invitation_events_name_no_share_to_promote():
    invited = ram(resourceShareArn=SHARE, resourceShareInvitationArn=INVITATION.replace(CONSUMER, OWNER),
                  status="PENDING")
    assert events.shares_named([invited]) == [], "RAM invites only to promoted shares"
    assert events.shares_named([invited, ram(resourceShareArn=SHARE)]) == [SHARE]


def test_a_policy_put_s_arn_comes_from_the_response_only_for_the_group_the_request_named():
    def put(name, arn):
        return EventBridgeEvent({
            "source": "aws.sagemaker", "detail-type": "AWS API Call via CloudTrail", "account": OWNER, "region": REGION,
            "detail": {"eventSource": "sagemaker.amazonaws.com", "eventName": "PutModelPackageGroupPolicy",
                       "requestParameters": {"modelPackageGroupName": name},
                       "responseElements": {"modelPackageGroupArn": arn}}})

    assert events.group_arn_from_cloudtrail(put("churn-xgb", group_arn("churn-xgb")), "churn-xgb") == group_arn("churn-xgb")
    assert events.group_arn_from_cloudtrail(put("churn-xgb", group_arn("fraud")), "churn-xgb") is None, "another group's ARN"
    assert events.group_arn_from_cloudtrail(put("churn-xgb", group_arn("churn-xgb", CONSUMER)), "churn-xgb") is None
    # Another region's or partition's ARN is not this group's: the group is described instead.
    for elsewhere in (group_arn("churn-xgb").replace(REGION, "us-east-1"), group_arn("churn-xgb").replace("arn:aws:", "arn:aws-cn:")):
        assert events.group_arn_from_cloudtrail(put("churn-xgb", elsewhere), "churn-xgb") is None, elsewhere
