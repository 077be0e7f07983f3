"""SQS queue policies, as SQS evaluates them for the calls that send to a queue.

SQS developer guide ("Troubleshoot an access denied error", "Amazon SQS access control
architecture") with the IAM user guide's policy evaluation logic (docs/aws-behaviour.md,
SQS-QUEUE-POLICY):
- an explicit Deny in the queue policy refuses the call, whoever makes it and whatever its own
  policies allow;
- a caller of the queue's own account needs an Allow in its identity-based policy or in the
  queue policy; a caller of another account needs both;
- an AWS service (EventBridge delivering to a rule's queue target) has no identity policy: the
  queue policy must allow it.
SendMessageBatch is authorized as SendMessage. Only the sending calls are checked here: what
else a queue policy says (receiving, deleting) the local AWS does not enforce.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localaws.core.errors import AwsError
from localaws.services.iam.authorizer import Decision, evaluate

# The SQS API calls whose queue policy is evaluated, and the IAM action they are authorized as.
SENDING_CALLS = {"SendMessage": "sqs:SendMessage", "SendMessageBatch": "sqs:SendMessage"}
# How SQS answers a refused call (SQS developer guide, "Troubleshoot an access denied error":
# "An error occurred (AccessDenied) when calling the SendMessage operation: Access to the
# resource https://sqs.us-east-1.amazonaws.com/ is denied."), over its JSON protocol: the query
# error code in x-amzn-query-error, which botocore reports as the error code (SQS developer
# guide, "Interpreting Amazon SQS JSON API responses"). The status (403) is the query API's;
# the body's __type is UNVERIFIED (botocore reads the header's code instead).
ACCESS_DENIED_STATUS = 403
ACCESS_DENIED_TYPE = "com.amazonaws.sqs#AccessDenied"
QUERY_ERROR = "AccessDenied;Sender"


# A person's calls (a test's client, not a function's) come from this role of their account.
PERSON_ROLE = "Person"


def person_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{PERSON_ROLE}"


@dataclass(frozen=True)
class Caller:
    """Who sends: an IAM role's session (`arn` the role's ARN, as aws:PrincipalArn gives it) or
    an AWS service principal (`service`, with the resource it acts for as aws:SourceArn)."""

    account: str
    arn: str = ""
    service: str = ""
    source_arn: str = ""

    def context(self) -> dict[str, list[str]]:
        """The request context the queue policy's conditions see (keys lower-cased)."""
        if self.service:
            found = {"aws:sourceaccount": [self.account], "aws:securetransport": ["true"]}
            if self.source_arn:
                found["aws:sourcearn"] = [self.source_arn]
            return found
        return {"aws:principalarn": [self.arn], "aws:principalaccount": [self.account],
                "aws:principaltype": ["AssumedRole"], "aws:securetransport": ["true"]}


def queue_arn_of(url: str, region: str) -> tuple[str, str]:
    """(queue ARN, owning account) of a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)."""
    parts = url.rstrip("/").rsplit("/", 2)
    if len(parts) < 3:
        return "", ""  # no queue URL: SQS (moto) answers for it
    account, name = parts[1:]
    return f"arn:aws:sqs:{region}:{account}:{name}", account


def principal_matches(principal: Any, caller: Caller) -> bool:
    """Whether a statement's Principal names the caller (IAM user guide, "AWS JSON policy
    elements: Principal"): "*" (or {"AWS": "*"}) everyone; an account ID or its root ARN every
    principal of that account; a role ARN that role's sessions; {"Service": ...} that service."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        raise NotImplementedError(f"a Principal of this form is not emulated: {principal!r}")
    for kind, values in principal.items():
        for value in values if isinstance(values, list) else [values]:
            text = str(value)
            if kind == "Service" and caller.service and text == caller.service:
                return True
            if kind != "AWS":
                continue
            if text == "*":
                return True
            if not caller.service and text in (caller.account, f"arn:aws:iam::{caller.account}:root", caller.arn):
                return True
    return False


def decide(policy: str | None, action: str, queue_arn: str, caller: Caller) -> Decision:
    """What the queue policy says of the caller's `action` on the queue."""
    if not policy:
        return Decision(False)
    statements = json.loads(policy).get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if "NotPrincipal" in statement:
            raise NotImplementedError("NotPrincipal in a queue policy is not emulated")
    naming = [s for s in statements if principal_matches(s.get("Principal"), caller)]
    return evaluate(naming, action, queue_arn, caller.context())


def refusal(*, policy: str | None, action: str, queue_arn: str, queue_account: str, caller: Caller,
            identity_allows: bool) -> AwsError | None:
    """The error SQS answers the caller, or None when the call may go on. `identity_allows`:
    whether the caller's identity-based policies allow the action (an explicit Deny there is
    the caller's IAM's refusal, not this one's)."""
    decision = decide(policy, action, queue_arn, caller)
    if decision.explicit_deny:
        allowed = False
    elif caller.service:
        allowed = decision.allowed
    elif caller.account == queue_account:
        allowed = decision.allowed or identity_allows
    else:
        allowed = decision.allowed and identity_allows
    if allowed:
        return None
    region = queue_arn.split(":")[3]
    return AwsError("AccessDenied", f"Access to the resource https://sqs.{region}.amazonaws.com/ is denied.",
                    ACCESS_DENIED_STATUS)


def encode(error: AwsError) -> tuple[int, dict[str, str], bytes]:
    """SQS's JSON-protocol answer to a refused call."""
    headers = {"x-amzn-RequestId": str(uuid.uuid4()), "Content-Type": "application/x-amz-json-1.0",
               "x-amzn-query-error": QUERY_ERROR}
    body = {"__type": ACCESS_DENIED_TYPE, "message": error.message}
    return int(error.status or ACCESS_DENIED_STATUS), headers, json.dumps(body).encode()
