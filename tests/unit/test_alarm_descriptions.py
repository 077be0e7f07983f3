"""The alarms' descriptions say how many tries an event gets before the failure queue, and those
numbers are the template's own: a work queue's maxReceiveCount for what the function takes from
SQS, Lambda's retries (EventInvokeConfig) plus the first attempt for what invokes it directly."""

import re
from pathlib import Path
from typing import Any

from localaws.runtime.template import StackTemplate

TEMPLATE = StackTemplate(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE.document["Resources"]
DIRECT = {"EventBridgeRule", "Schedule"}


def description(alarm: dict[str, Any]) -> str:
    text = alarm["Properties"]["AlarmDescription"]
    return text["Fn::Sub"] if isinstance(text, dict) else text


def error_alarms() -> dict[str, str]:
    """function logical id -> the description of the alarm on its Errors metric."""
    alarms = {}
    for resource in RESOURCES.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm" and props.get("MetricName") == "Errors":
            (dimension,) = props["Dimensions"]
            alarms[dimension["Value"]["Ref"]] = description(resource)
    return alarms


def test_every_function_has_an_errors_alarm():
    functions = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(error_alarms()) == functions


def test_each_errors_alarm_says_the_tries_the_template_gives_each_of_its_triggers():
    for function, text in error_alarms().items():
        events = RESOURCES[function]["Properties"]["Events"].values()
        queues = [e["Properties"]["Queue"]["Fn::GetAtt"][0] for e in events if e["Type"] == "SQS"]
        for queue in queues:
            receives = RESOURCES[queue]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
            assert re.search(rf"\b{queue}\b[^.;]*?\bafter {receives} receives\b", text), (function, queue, text)
        if any(e["Type"] in DIRECT for e in events):
            retries = RESOURCES[function]["Properties"]["EventInvokeConfig"]["MaximumRetryAttempts"]
            assert f"after {retries + 1} attempts" in text, (function, text)
        else:
            assert "attempts" not in text, (function, text)
        assert "failed-invocations queue" in text, (function, text)


def test_the_failure_queue_alarm_names_each_way_in():
    text = description(RESOURCES["FailedInvocationsAlarm"])
    assert all(words in text for words in ("receives", "Lambda's retries", "could not deliver")), text

