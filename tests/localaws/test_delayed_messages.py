"""The local SQS counts a queue's delayed messages on the simulated clock, as SQS's
ApproximateNumberOfMessagesDelayed does (docs/aws-behaviour.md, SQS-DELAYED-COUNT), through the
sweep's queue adapter (modelshare.aws.work_queue)."""

from __future__ import annotations

from datetime import timedelta

from localaws.runtime.cloud import LocalCloud
from modelshare.aws.work_queue import SqsWorkQueue
from modelshare.invitation_pace import request

OWNER, REGION = "111122223333", "eu-west-1"


def test_a_delayed_message_counts_as_delayed_until_its_delay_passes() -> None:
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        session = cloud.session(OWNER, REGION)
        url = session.client("sqs").create_queue(QueueName="work")["QueueUrl"]
        queue = SqsWorkQueue(session, url)
        queue.send([request()])
        assert (queue.delayed(), queue.waiting()) == (0, 1), "sent without a delay: visible at once"
        queue.send([request()], delay_seconds=120)
        assert (queue.delayed(), queue.waiting()) == (1, 2)
        cloud.clock.run_until(cloud.clock.now() + timedelta(seconds=121))
        assert (queue.delayed(), queue.waiting()) == (0, 2)
