"""A function for the concurrency tests: reads the parameter its work item names three times, ten
seconds apart (long enough for other invocations to overlap it), and tells which run of its
execution environment this is and how much time it had left."""

import json
import time
from typing import Any

import boto3

SSM = boto3.session.Session().client("ssm")
RUNS_OF_THIS_ENVIRONMENT = [0]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    RUNS_OF_THIS_ENVIRONMENT[0] += 1
    items = [json.loads(r["body"]) for r in event["Records"]] if "Records" in event else [event["detail"]]
    for _ in range(3):
        for item in items:
            SSM.get_parameter(Name=f"/work/{item['name']}")
        time.sleep(10)
    return {"run": RUNS_OF_THIS_ENVIRONMENT[0], "remaining_ms": context.get_remaining_time_in_millis()}
