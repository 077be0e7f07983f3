"""The simulate story names what triggered each invocation: an event's type, a RAM event's name,
or a sweep work item's group; never "on None"."""

from __future__ import annotations

from localaws.harness.simulate import trigger_words

SCHEDULED = {"detail-type": "Scheduled Event", "detail": {}}
RAM_EVENT = {"detail-type": "Resource Sharing State Change", "detail": {"eventName": "Resource Share Created"}}


def test_events_are_named_by_their_type_or_name():
    assert trigger_words([SCHEDULED, RAM_EVENT, SCHEDULED]) == "Scheduled Event, Resource Share Created"


def test_a_sweep_work_item_is_named_by_its_group():
    """A SweepWorker's batch: the work items the sweep wrote (aws.work_queue.work_item's shape)."""
    item = {"kind": "modelshare.sweep-group", "attempt": 1, "group": "churn-xgb",
            "arn": "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/churn-xgb"}
    assert trigger_words([item, {**item, "attempt": 2}]) == "work item for churn-xgb"
    assert trigger_words([item, {**item, "group": "fraud"}]) == "work item for churn-xgb, work item for fraud"


def test_nothing_known_is_still_words():
    assert "None" not in trigger_words([{"detail": None}, {}])
    assert trigger_words([{}]) == "an event of no known type"
