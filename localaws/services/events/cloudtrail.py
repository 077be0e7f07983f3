"""The events AWS services put on EventBridge for the calls the local AWS answers: CloudTrail's
"AWS API Call via CloudTrail" for SageMaker's writes, and Parameter Store's changes."""

from __future__ import annotations

import json
import uuid
from typing import Any

# SageMaker calls that CloudTrail records as management write events and that EventBridge
# delivers as "AWS API Call via CloudTrail" (reads are not delivered to EventBridge).
CLOUDTRAIL_WRITES = {
    "CreateModelPackageGroup",
    "DeleteModelPackageGroup",
    "PutModelPackageGroupPolicy",
    "DeleteModelPackageGroupPolicy",
}


SSM_CHANGES = {"PutParameter": "Update", "DeleteParameter": "Delete", "LabelParameterVersion": "LabelParameterVersion"}


CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


# CloudTrail documents an average of about 5 minutes for log files and nothing for its events on
# EventBridge; AWS's own solutions warn of up to 15 minutes. Between half a minute and five
# minutes, independently per call (so close calls can arrive out of order): UNVERIFIED.
CLOUDTRAIL_LAG_SECONDS = (30.0, 300.0)


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def cloudtrail_detail(account: str, region: str, operation: str, params: dict[str, Any],
                      output: dict[str, Any] | None, error_code: str | None, error_body: str | None,
                      now: str) -> dict[str, Any]:
    """The detail of an "AWS API Call via CloudTrail" event for a SageMaker call, as a trail
    delivers it to EventBridge."""
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROALOCAL{account}:session",
            "arn": f"arn:aws:sts::{account}:assumed-role/caller/session",
            "accountId": account,
        },
        "eventTime": now,
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": operation,
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "Boto3",
        "requestParameters": {lower_camel(k): v for k, v in params.items()},
        "responseElements": None if output is None else {lower_camel(k): v for k, v in output.items()},
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error_code is not None:
        detail["errorCode"] = error_code
        try:
            detail["errorMessage"] = json.loads(error_body or "{}").get("message", "")
        except ValueError:
            detail["errorMessage"] = error_body or ""
    return detail
