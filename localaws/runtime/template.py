"""Reads template.yaml as CloudFormation would for the parts the local AWS needs: parameters,
conditions, and each function's code, environment, rule patterns and async-invoke settings.

The rule patterns are read from the template itself, never copied, so what the local AWS routes
is what a deployment would route.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsic functions (!Ref, !Sub, ...)."""


def _intrinsic(tag: str) -> Any:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            assert isinstance(node, yaml.MappingNode)  # the one other kind of YAML node
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in ("Ref", "Sub", "GetAtt", "Equals", "Or", "And", "Not", "If", "Join", "Select", "Split",
             "FindInMap", "ImportValue", "Condition", "Base64", "GetAZs"):
    _CfnLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))


_NO_VALUE = object()  # !Ref AWS::NoValue: the property or list item is left out


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping (SAM event type SQS)."""

    queue_arn: str
    batch_size: int
    window_seconds: float  # MaximumBatchingWindowInSeconds
    report_failures: bool  # FunctionResponseTypes: ReportBatchItemFailures
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency


@dataclass(frozen=True)
class RuleSpec:
    """A standalone EventBridge rule (AWS::Events::Rule) and the queues (and SNS topics) it targets."""

    logical_id: str
    pattern: dict[str, Any]
    queue_arns: tuple[str, ...]
    topic_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    patterns: tuple[dict[str, Any], ...]
    schedules: tuple[tuple[str, str], ...]  # (rule logical id, schedule expression)
    timeout_seconds: int
    max_retry_attempts: int
    on_failure: str | None  # the destination ARN
    # The inline statements of the function's execution role (SAM's `Policies`), resolved.
    policy_statements: tuple[dict[str, Any], ...] = ()
    queue_sources: tuple[QueueSource, ...] = ()
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions


@dataclass(frozen=True)
class ResourceSpec:
    logical_id: str
    type: str
    properties: dict[str, Any]


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> dict[str, Any]:
    """Every deployment of a test run reads template.yaml: parsed once per text (0.15 s or more a time)."""
    document: dict[str, Any] = yaml.load(text, Loader=_CfnLoader)
    return document


class StackTemplate:
    def __init__(self, path: Path, code_root: Path | None = None) -> None:
        """`code_root`: where CodeUri paths start (the template's folder unless given: an admin's
        changed copy of the template runs the project's own code)."""
        self.path = path
        self.code_root = code_root or path.parent
        self.document: dict[str, Any] = copy.deepcopy(_parsed(path.read_text()))  # the reader's own

    def render(self, account: str, region: str, parameters: dict[str, str]) -> RenderedStack:
        return RenderedStack(self, account, region, parameters)


class RenderedStack:
    """The template resolved for one account, region and set of parameter values."""

    def __init__(self, template: StackTemplate, account: str, region: str, parameters: dict[str, str]) -> None:
        self.template = template
        self.account = account
        self.region = region
        declared = template.document.get("Parameters", {})
        unknown = set(parameters) - set(declared)
        if unknown:
            raise ValueError(f"unknown stack parameters: {sorted(unknown)}")
        self.parameters: dict[str, str] = {}
        for name, spec in declared.items():
            value = str(parameters.get(name, spec.get("Default", "")))
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(v) for v in allowed]:
                raise ValueError(f"parameter {name}={value!r} is not one of {allowed}")
            self.parameters[name] = value
        self.conditions: dict[str, bool] = {}
        for name, expr in template.document.get("Conditions", {}).items():
            self.conditions[name] = self._truth(expr)
        self.resources = {
            logical_id: resource
            for logical_id, resource in template.document["Resources"].items()
            if "Condition" not in resource or self.conditions[resource["Condition"]]
        }

    # -- rules ------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ValueError, as CloudFormation refuses to create the stack, when a parameter does
        not match its AllowedPattern or an assertion of the template's Rules fails (rule
        functions: Equals, Not, And, Or, Contains, Ref)."""
        for name, spec in self.template.document.get("Parameters", {}).items():
            pattern = spec.get("AllowedPattern")
            # CloudFormation's patterns are Java regular expressions, ASCII for these classes.
            if pattern is not None and re.fullmatch(pattern, self.parameters[name], re.ASCII) is None:
                raise ValueError(f"parameter {name}={self.parameters[name]!r}: "
                                 f"{spec.get('ConstraintDescription', f'must match {pattern}')}")
        for name, rule in self.template.document.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._rule_value(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self._rule_value(assertion["Assert"]):
                    raise ValueError(f"rule {name}: {assertion.get('AssertDescription', 'assertion failed')}")

    def _rule_value(self, expr: Any) -> Any:
        if not isinstance(expr, dict):
            return expr
        (key, arg), = expr.items()
        if key == "Ref":
            declared = self.template.document.get("Parameters", {}).get(arg, {})
            if declared.get("Type") == "CommaDelimitedList":
                # As CloudFormation splits it: "" is [""], "a," is ["a", ""].
                return self.parameters[arg].split(",")
            return self._ref(arg)
        values = [self._rule_value(a) for a in arg] if isinstance(arg, list) else [self._rule_value(arg)]
        if key == "Fn::Equals":
            return str(values[0]) == str(values[1])
        if key == "Fn::Not":
            return not values[0]
        if key == "Fn::And":
            return all(values)
        if key == "Fn::Or":
            return any(values)
        if key == "Fn::Contains":
            return str(values[1]) in [str(v) for v in values[0]]
        raise NotImplementedError(f"rule function {key} is not supported by the local template reader")

    # -- resources --------------------------------------------------------------------------
    def resources_of_type(self, type_name: str) -> list[ResourceSpec]:
        return [ResourceSpec(lid, r["Type"], self.resolve(r.get("Properties", {})))
                for lid, r in self.resources.items() if r["Type"] == type_name]

    def functions(self) -> list[FunctionSpec]:
        globals_ = self.template.document.get("Globals", {}).get("Function", {})
        specs = []
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            props = resource["Properties"]
            environment = {
                **globals_.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            invoke = props.get("EventInvokeConfig", {})
            on_failure = invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            patterns = tuple(
                self.resolve(event["Properties"]["Pattern"])
                for event in props.get("Events", {}).values()
                if event["Type"] == "EventBridgeRule"
            )
            schedules = tuple(
                (name, str(self.resolve(event["Properties"]["Schedule"])))
                for name, event in props.get("Events", {}).items()
                if event["Type"] == "Schedule"
            )
            specs.append(FunctionSpec(
                logical_id=logical_id,
                code_dir=(self.template.code_root / props["CodeUri"]).resolve(),
                handler=props.get("Handler", globals_.get("Handler", "")),
                environment={k: str(self.resolve(v)) for k, v in environment.items()},
                patterns=patterns,
                schedules=schedules,
                timeout_seconds=int(props.get("Timeout", globals_.get("Timeout", 3))),
                # Lambda's default for asynchronous invocations is 2 retries.
                max_retry_attempts=int(invoke.get("MaximumRetryAttempts", 2)),
                on_failure=None if on_failure is None else str(self.resolve(on_failure)),
                policy_statements=tuple(self._statements(props.get("Policies", []))),
                queue_sources=tuple(self._queue_source(self.resolve(event["Properties"]))
                                    for event in props.get("Events", {}).values() if event["Type"] == "SQS")
                + tuple(self._queue_source({**m.properties, "Queue": m.properties["EventSourceArn"]})
                        for m in self.resources_of_type("AWS::Lambda::EventSourceMapping")
                        if m.properties["FunctionName"] == self._ref(logical_id)),
                reserved_concurrency=_optional_int(self.resolve(
                    props.get("ReservedConcurrentExecutions", globals_.get("ReservedConcurrentExecutions")))),
            ))
        return specs

    @staticmethod
    def _queue_source(props: dict[str, Any]) -> QueueSource:
        maximum_concurrency = _optional_int(props.get("ScalingConfig", {}).get("MaximumConcurrency"))
        if maximum_concurrency is not None and not 2 <= maximum_concurrency <= 1000:
            # Lambda refuses the mapping (docs/aws-behaviour.md, LAMBDA-SQS).
            raise ValueError(f"ScalingConfig.MaximumConcurrency must be 2 to 1,000, not {maximum_concurrency}")
        # Lambda's defaults for SQS: batches of 10, no batching window.
        return QueueSource(queue_arn=str(props["Queue"]), batch_size=int(props.get("BatchSize", 10)),
                           window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                           report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                           maximum_concurrency=maximum_concurrency)

    def rules(self) -> list[RuleSpec]:
        """Enabled standalone rules with an event pattern, and the SQS queues they target."""
        found = []
        for rule in self.resources_of_type("AWS::Events::Rule"):
            props = rule.properties
            if props.get("State", "ENABLED") != "ENABLED" or "EventPattern" not in props:
                continue
            queues = tuple(str(t["Arn"]) for t in props.get("Targets", []) if str(t["Arn"]).startswith("arn:aws:sqs:"))
            topics = tuple(str(t["Arn"]) for t in props.get("Targets", []) if str(t["Arn"]).startswith("arn:aws:sns:"))
            found.append(RuleSpec(rule.logical_id, props["EventPattern"], queues, topics))
        return found

    def _statements(self, policies: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for policy in policies if isinstance(policies, list) else [policies]:
            if not isinstance(policy, dict) or set(policy) - {"Version", "Statement"}:
                raise NotImplementedError(f"only inline policy statements are supported, not {policy!r}")
            resolved = self.resolve(policy["Statement"])
            found.extend(resolved if isinstance(resolved, list) else [resolved])
        return found

    # -- intrinsic functions ----------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                return self._get_att(*arg)
            if key == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}",
                              lambda m: str(names[m.group(1)] if m.group(1) in names else self._sub_var(m.group(1))), text)
            if key == "Fn::If":
                condition, when_true, when_false = arg
                return self.resolve(when_true if self.conditions[condition] else when_false)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not supported by the local template reader")
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def _pseudo(self) -> dict[str, str]:
        return {"AWS::AccountId": self.account, "AWS::Region": self.region, "AWS::Partition": "aws",
                "AWS::StackName": "modelshare", "AWS::URLSuffix": "amazonaws.com"}

    def _sub_var(self, name: str) -> Any:
        return self._get_att(*name.split(".", 1)) if "." in name else self._ref(name)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        pseudo = self._pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            declared = self.template.document["Parameters"][name]
            if declared.get("Type") == "CommaDelimitedList":
                return [v for v in self.parameters[name].split(",") if v] or [""]
            return self.parameters[name]
        resource = self.resources.get(name)
        if resource is None:
            raise KeyError(f"!Ref to unknown or disabled resource {name}")
        kind = resource["Type"]
        if kind == "AWS::SSM::Parameter":
            return self.resolve(resource["Properties"]["Name"])
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.physical_name(name)}"
        if kind == "AWS::DynamoDB::Table":
            return self.resolve(resource["Properties"]["TableName"])
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{self.physical_name(name)}"
        return f"{name}-local"

    def _get_att(self, name: str, attribute: str) -> Any:
        resource = self.resources.get(name)
        function = self.resources.get(name.removesuffix("Role"))
        if resource is None and attribute == "Arn" and name.endswith("Role") and function is not None \
                and function["Type"] == "AWS::Serverless::Function" and "Role" not in function.get("Properties", {}):
            # The execution role SAM generates for a function (logical ID <function>Role).
            return f"arn:aws:iam::{self.account}:role/{self.role_name(name.removesuffix('Role'))}"
        if resource is None:
            raise KeyError(f"!GetAtt on unknown or disabled resource {name}")
        if resource["Type"] == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:aws:sqs:{self.region}:{self.account}:{self.physical_name(name)}"
        if resource["Type"] == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self._ref(name)}"
        if resource["Type"] == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{self.physical_name(name).lower()}"
        if resource["Type"] == "AWS::Events::EventBus" and attribute == "Arn":
            return f"arn:aws:events:{self.region}:{self.account}:event-bus/{self.resolve(resource['Properties']['Name'])}"
        if resource["Type"] == "AWS::Events::Rule" and attribute == "Arn":
            return f"arn:aws:events:{self.region}:{self.account}:rule/{self.physical_name(name)}"
        raise NotImplementedError(f"!GetAtt {name}.{attribute} is not supported by the local template reader")

    @staticmethod
    def physical_name(logical_id: str) -> str:
        return f"modelshare-{logical_id}"

    @classmethod
    def role_name(cls, function_logical_id: str) -> str:
        """The name of a function's execution role in the local AWS."""
        return f"{cls.physical_name(function_logical_id)}-Role"

    def _truth(self, expr: Any) -> bool:
        (key, arg), = expr.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return str(left) == str(right)
        if key == "Fn::Or":
            return any(self._truth(a) for a in arg)
        if key == "Fn::And":
            return all(self._truth(a) for a in arg)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Condition":
            return self._truth(self.template.document["Conditions"][arg])
        raise NotImplementedError(f"condition function {key} is not supported")
