"""SNS topics beyond moto, as a central allowlist's change notifications need them
(docs/aws-behaviour.md, SNS-TOPIC-POLICY and SNS-SQS-DELIVERY).

moto keeps the topics and subscriptions and answers the API (a query protocol); what it does not
do is added here:
- `Subscribe` from another account is authorized by the topic policy (SNS developer guide,
  "Example cases for Amazon SNS access control": the other account's principal needs an Allow in
  the topic policy; `aws:PrincipalOrgID` admits an organization's accounts). The account that
  owns an SQS endpoint subscribing it needs no confirmation ("Sending Amazon SNS messages to an
  Amazon SQS queue in a different account"); stricter: any other subscriber of a queue is refused.
- EventBridge publishes a rule's event only when the topic policy allows
  `events.amazonaws.com` for that rule (aws:SourceArn); refused, the event is not delivered.
- Delivery to each SQS subscription is asynchronous (`delivery_delay_seconds`), needs the queue
  policy to allow `sns.amazonaws.com` for the topic, and may be lost: under chaos
  (`Chaos.copies`) and with `loss_rate` (a test losing every notification). With
  RawMessageDelivery the body is the message itself, else SNS's JSON envelope.
"""

from __future__ import annotations

import functools
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.services.iam.authorizer import evaluate
from localaws.services.registry_state import RegistryState
from localaws.services.sqs.queue_policies import Caller, person_arn, principal_matches

SNS_SERVICE = "sns.amazonaws.com"
EVENTS_SERVICE = "events.amazonaws.com"
DELIVERY_DELAY_SECONDS = 1.0


def query_params(body: object) -> dict[str, str]:
    """The parameters of a query-protocol request body (moto's own decoding is not reached here)."""
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    return {key: values[0] for key, values in parse_qs(text).items()}


def topic_of(topic_arn: str) -> Any | None:
    """moto's topic `topic_arn` names, or None."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[2] != "sns":
        return None
    return sns_backends[parts[4]][parts[3]].topics.get(topic_arn)


def policy_allows(policy: str | None, action: str, topic_arn: str, caller: Caller, org_id: str | None,
                  request: dict[str, str] | None = None) -> bool:
    """Whether the topic policy allows the caller's `action` (no explicit Deny); `request`: the
    Subscribe's parameters (SNS's condition keys sns:Protocol and sns:Endpoint)."""
    if not policy:
        return False
    statements = json.loads(policy).get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    context = caller.context()
    if org_id is not None and not caller.service:
        context["aws:principalorgid"] = [org_id]
    for key in ("Protocol", "Endpoint"):
        if request and key in request:
            context[f"sns:{key.lower()}"] = [request[key]]
    naming = [s for s in statements if principal_matches(s.get("Principal"), caller)]
    return evaluate(naming, action, topic_arn, context).allowed


@dataclass
class Topics:
    """The part of SNS moto leaves out."""

    clock: SimClock
    state: RegistryState  # the organization the accounts may be in
    queue_admits: Callable[[str, str, str], bool]
    on_sent: Callable[[str], object]
    copies: Callable[[], int] = lambda: 1
    loss_rate: float = 0.0
    delivery_delay_seconds: float = DELIVERY_DELAY_SECONDS
    seed: int = 0
    # What did not arrive: (topic ARN, endpoint or rule ARN, why), for tests and reports.
    undelivered: list[tuple[str, str, str]] = field(default_factory=list)
    delivered: int = 0

    def __post_init__(self) -> None:
        self._losses = random.Random(f"{self.seed}/sns")

    def request(self, account: str, caller_arn: str | None, operation: str,
                body: object) -> tuple[str, dict[str, str], AwsError | None]:
        """(the account whose moto backend holds the topic the request names, the caller's if
        none; the request's parameters; why SNS refuses it, or None)."""
        params = query_params(body)
        parts = params.get("TopicArn", "").split(":")
        owner = parts[4] if len(parts) == 6 and parts[2] == "sns" else account
        refused = self.subscribe_refusal(account, caller_arn or person_arn(account), params) \
            if operation == "Subscribe" else None
        return owner, params, refused

    def org_of(self, account: str) -> str | None:
        organization = self.state.organization
        return organization.id if organization is not None and account in organization.accounts else None

    def subscribe_refusal(self, account: str, caller_arn: str, params: dict[str, str]) -> AwsError | None:
        """Why SNS refuses a Subscribe from another account than the topic's, or None."""
        topic_arn = params.get("TopicArn", "")
        topic = topic_of(topic_arn)
        if topic is None or topic_arn.split(":")[4] == account:
            return None  # moto answers NotFound, or the topic's own account (its IAM) decides
        endpoint = params.get("Endpoint", "")
        if params.get("Protocol") == "sqs" and endpoint.split(":")[4:5] != [account]:
            return AwsError("AuthorizationError", "Only the queue's account may subscribe it here (stricter).", 403)
        caller = Caller(account, arn=caller_arn)
        if policy_allows(topic.policy, "SNS:Subscribe", topic_arn, caller, self.org_of(account), params):
            return None
        return AwsError("AuthorizationError", f"User: {caller_arn} is not authorized to perform: SNS:Subscribe on "
                                              f"resource: {topic_arn}", 403)

    def publish_from_rule(self, topic_arn: str, rule_arn: str, event: dict[str, Any]) -> None:
        """EventBridge's target: the event published on the topic, for each SQS subscriber."""
        topic = topic_of(topic_arn)
        caller = Caller(rule_arn.split(":")[4], service=EVENTS_SERVICE, source_arn=rule_arn)
        if topic is None or not policy_allows(topic.policy, "sns:Publish", topic_arn, caller, None):
            self.undelivered.append((topic_arn, rule_arn, "the topic policy does not let the rule publish"))
            return
        message = json.dumps(event, default=str)
        backend = sns_backends[topic_arn.split(":")[4]][topic_arn.split(":")[3]]
        for subscription in [s for s in backend.subscriptions.values() if s.topic is topic]:
            if subscription.protocol != "sqs":
                continue
            raw = str(subscription.attributes.get("RawMessageDelivery", "false")).lower() == "true"
            body = message if raw else json.dumps({
                "Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": topic_arn, "Message": message,
                "Timestamp": self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")})
            for _ in range(self._copies()):
                self.clock.call_later(self.delivery_delay_seconds,
                                      functools.partial(self._deliver, topic_arn, str(subscription.endpoint), body),
                                      f"sns delivers to {subscription.endpoint}", internal=False)

    def _copies(self) -> int:
        if self.loss_rate and self._losses.random() < self.loss_rate:
            return 0
        return self.copies()

    def _deliver(self, topic_arn: str, queue_arn: str, body: str) -> None:
        if not self.queue_admits(queue_arn, SNS_SERVICE, topic_arn):
            self.undelivered.append((topic_arn, queue_arn, "the queue policy does not let the topic send"))
            return
        _, _, _, region, account, name = queue_arn.split(":", 5)
        backend = sqs_backends[account][region]
        if name not in backend.queues:
            self.undelivered.append((topic_arn, queue_arn, "no such queue"))
            return
        backend.send_message(name, body)
        self.delivered += 1
        self.on_sent(queue_arn)
