"""LocalCloud: moto plus the model-registry/RAM emulator behind one botocore `before-send` hook.

Every boto3 client created while a LocalCloud is open sends its (really serialized, really signed)
request here. The caller's account comes from the access key in the SigV4 `Authorization` header,
as in AWS. SageMaker and RAM requests go to `ModelRegistryEmulator` through `wire` (botocore's
service models decode them and encode answers that botocore's real parsers read back); everything
else goes to moto's own stubber with the account pinned. moto's stubber is *replaced* in botocore's
built-in handler list, not merely preceded, because botocore calls every `before-send` handler and
moto raises NotImplementedError for the SageMaker actions it lacks (docs/aws-behaviour.md, MOTO-BEFORE-SEND).
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import threading
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import boto3
import botocore.handlers
import botocore.loaders
import botocore.retries.bucket
import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import UnknownServiceError
from moto import mock_aws
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber
from moto.moto_api._internal import mock_random
from moto.sqs import models as moto_sqs
from moto.ssm.models import ssm_backends

from localaws.core import wire
from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.runtime.chaos import Chaos
from localaws.runtime.costs import DEFAULT_COSTS, CostModel, TokenBuckets
from localaws.services.iam.authorizer import PERSON, LocalIam
from localaws.services.model_registry import ModelRegistryEmulator
from localaws.services.ram.api import ManagedPermissionTable
from localaws.services.registry_state import AWS_MANAGED_GROUP_PERMISSIONS, GROUP_TYPE, RamQuotas
from localaws.services.sqs import queue_policies
from localaws.services.ssm.parameter_history import parameter_history

_CREDENTIAL = re.compile(r"Credential=([^/]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request")

# SageMaker calls that CloudTrail records as management write events and that EventBridge
# delivers as "AWS API Call via CloudTrail" (reads are not delivered to EventBridge).
_CLOUDTRAIL_WRITES = {
    "CreateModelPackageGroup",
    "DeleteModelPackageGroup",
    "PutModelPackageGroupPolicy",
    "DeleteModelPackageGroupPolicy",
}
_SSM_CHANGES = {"PutParameter": "Update", "DeleteParameter": "Delete", "LabelParameterVersion": "LabelParameterVersion"}


@dataclass(frozen=True)
class ApiCall:
    """One recorded API call: who called what, with which parameters, and how it ended."""

    time: str
    account: str
    region: str
    service: str
    operation: str
    params: dict[str, Any]
    error_code: str | None
    # The function (template logical ID) whose invocation made the call; None for people and tests.
    caller: str | None = None
    # Which invocation (and attempt) made it: "<request id>#<attempt>"; None for people and tests.
    invocation: str | None = None
    # A fault localaws/runtime/chaos.py injected: the call failed before AWS applied it, or after.
    injected: bool = False


CallObserver = Callable[[ApiCall, dict[str, Any]], None]
"""Told of every call AWS applied (its answer may still be an injected error), with its output."""


EventListener = Callable[[str, str, dict[str, Any]], None]
"""Receives (account, region, EventBridge event) for every event emitted on a default bus."""


@dataclass
class _Accounts:
    by_access_key: dict[str, str] = field(default_factory=dict)
    # The keys of the role a person uses in each account (iam.PERSON), governed by its policy.
    by_person_key: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def access_key_for(account: str) -> str:
        return f"AKIALOCAL{account}"

    @staticmethod
    def person_key_for(account: str) -> str:
        return f"ASIAPERSON{account}"


CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
# CloudTrail documents an average of about 5 minutes for log files and nothing for its events on
# EventBridge; AWS's own solutions warn of up to 15 minutes. Between half a minute and five
# minutes, independently per call (so close calls can arrive out of order): UNVERIFIED.
CLOUDTRAIL_LAG_SECONDS = (30.0, 300.0)


class LocalCloud:
    """A multi-account AWS in this process. Use as a context manager."""

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        ram_share_delay_seconds: float = 20.0,
        promotion_delay_seconds: float = 5.0,
        ram_quotas: RamQuotas | None = None,
        aws_managed_permissions: ManagedPermissionTable = AWS_MANAGED_GROUP_PERMISSIONS,
        group_type: str = GROUP_TYPE,
        ram_share_from_policy_event: bool = False,
        costs: CostModel = DEFAULT_COSTS,
        cloudtrail_lag_seconds: tuple[float, float] = CLOUDTRAIL_LAG_SECONDS,
        seed: int = 0,
    ) -> None:
        self.clock = clock or SimClock()
        # API calls reach the event bus through CloudTrail some time later, not all equally late
        # (docs/aws-behaviour.md, EVENT-CLOUDTRAIL-LAG): (shortest, longest) lag, drawn per call.
        self.cloudtrail_lag_seconds = cloudtrail_lag_seconds
        self._lags = random.Random(seed)
        # Identifiers AWS makes (ARNs, request and event IDs, botocore's client tokens) come from
        # the seed too, so a run replays call for call (moto's own generator is seeded on entry).
        self.seed = seed
        self._uuids = random.Random(f"{seed}/uuid")
        # Faults thrown at the functions' calls and events (localaws/runtime/chaos.py); None: none.
        self.chaos: Chaos | None = None
        self.call_observers: list[CallObserver] = []
        # Each call waits its latency and takes a token from its API's bucket (localaws/runtime/costs.py).
        self.buckets = TokenBuckets(costs)
        self.start = self.clock.now()
        self.calls: list[ApiCall] = []
        self._thread = threading.local()
        self._accounts = _Accounts()
        self._listeners: list[EventListener] = []
        # Told the ARN of a queue someone sent messages to (the local Lambda's pollers wake up).
        self.queue_listeners: list[Callable[[str], None]] = []
        self._models = botocore.session.get_session()
        # The execution roles of deployed functions: their calls are authorized as IAM would.
        self.iam = LocalIam()
        self.registry = ModelRegistryEmulator(
            self.clock,
            self.emit,
            ram_share_delay_seconds=ram_share_delay_seconds,
            promotion_delay_seconds=promotion_delay_seconds,
            quotas=ram_quotas,
            aws_managed_permissions=aws_managed_permissions,
            group_type=group_type,
            share_from_policy_event=ram_share_from_policy_event,
        )
        self.registry.ram.authorize_dependent = self._authorize_dependent
        self._moto = mock_aws()
        self._saved_handlers: list[Any] | None = None
        self._patches = ExitStack()

    @property
    def caller(self) -> str | None:
        """The function (template logical ID) running in this thread, set by the Lambda emulator
        (invocations overlap, each in its own thread); None for people and tests."""
        caller: str | None = getattr(self._thread, "caller", None)
        return caller

    @caller.setter
    def caller(self, function: str | None) -> None:
        self._thread.caller = function

    @property
    def invocation(self) -> str | None:
        """The invocation running in this thread ("<request id>#<attempt>"), set with `caller`."""
        invocation: str | None = getattr(self._thread, "invocation", None)
        return invocation

    @invocation.setter
    def invocation(self, invocation: str | None) -> None:
        self._thread.invocation = invocation

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self._moto.start()
        # Patched by name (mock.patch.object): these replace methods and module functions of
        # botocore and moto, which their types rightly do not allow.
        patch = self._patches.enter_context
        # Speed only: every execution environment builds its own boto3 session, as in Lambda, and
        # botocore would re-read the (large) service model files for each. Read each file once.
        loader = botocore.loaders.JSONFileLoader
        patch(mock.patch.object(loader, "load_file", _cached_load_file(loader.load_file)))
        patch(mock.patch.object(botocore.loaders.Loader, "list_available_services",
                                _cached_listing(botocore.loaders.Loader.list_available_services)))
        # moto's SQS reads the time for delays, visibility timeouts and retention: make it the
        # simulated clock's, so a message in flight comes back when simulated time says so.
        patch(mock.patch.object(moto_sqs, "unix_time", lambda *_: self.clock.now().timestamp()))
        patch(mock.patch.object(moto_sqs, "unix_time_millis", lambda *_: self.clock.now().timestamp() * 1000))
        # SetQueueAttributes changes the attributes it is given; moto also clears a queue's
        # policy when the call names none: keep it.
        patch(mock.patch.object(moto_sqs.Queue, "_set_attributes", _keeping_policy(moto_sqs.Queue._set_attributes)))
        # Speed only: moto checks a message's retention by computing every attribute of its queue
        # (counting all messages) for each message it receives, quadratic for a big batch.
        patch(mock.patch.object(moto_sqs.SQSBackend, "is_message_valid_based_on_retention_period",
                                _within_retention(lambda: self.clock.now().timestamp())))
        # botocore's adaptive retry mode paces a client by the time it reads here: the simulated
        # clock's (its sleeps are time.sleep, the simulated clock's inside an invocation).
        patch(mock.patch.object(botocore.retries.bucket.Clock, "current_time", lambda _clock: self.clock.now().timestamp()))
        # ... and waits on a condition variable, in real time: wait on the simulated clock instead.
        patch(mock.patch.object(botocore.retries.bucket.TokenBucket, "_acquire", _acquire_on_clock))
        patch(mock.patch.object(uuid, "uuid4", lambda: uuid.UUID(int=self._uuids.getrandbits(128), version=4)))
        mock_random.seed(self.seed)
        # botocore's retry jitter draws from the global random: seeded, a run that throttles or
        # meets faults retries after the same waits every time.
        random.seed(self.seed)
        handlers = botocore.handlers.BUILTIN_HANDLERS
        self._saved_handlers = list(handlers)
        handlers[:] = [h for h in handlers if h[1] is not botocore_stubber]
        # Registered last: a client's own before-send handlers (botocore's adaptive rate
        # limiter) run before the request reaches the local AWS, as they run before it is sent.
        handlers.append(("before-send", self._before_send, botocore.handlers.REGISTER_LAST))
        boto3.DEFAULT_SESSION = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved_handlers is not None:
            botocore.handlers.BUILTIN_HANDLERS[:] = self._saved_handlers
        boto3.DEFAULT_SESSION = None
        self._patches.close()
        self._moto.stop()

    # -- accounts and sessions --------------------------------------------------------------
    def add_account(self, account: str) -> None:
        if not re.fullmatch(r"[0-9]{12}", account):
            raise ValueError(f"account id must be 12 digits: {account!r}")
        self._accounts.by_access_key[_Accounts.access_key_for(account)] = account
        self._accounts.by_person_key[_Accounts.person_key_for(account)] = account

    @property
    def accounts(self) -> list[str]:
        return sorted(self._accounts.by_access_key.values())

    def credentials(self, account: str) -> dict[str, str]:
        """The environment a process running as `account` gets (as Lambda gives its role's keys)."""
        if account not in self.accounts:
            raise KeyError(f"unknown account {account}")
        return {
            "AWS_ACCESS_KEY_ID": _Accounts.access_key_for(account),
            "AWS_SECRET_ACCESS_KEY": "local-secret",
            "AWS_SESSION_TOKEN": f"local-token-{account}",
        }

    def person_credentials(self, account: str) -> dict[str, str]:
        """The keys of the role a person assumes in `account` (iam.PERSON): their calls are
        authorized against the ordinary-rights policy, or the one LocalIam.govern_person set."""
        return {**self.credentials(account), "AWS_ACCESS_KEY_ID": _Accounts.person_key_for(account),
                "AWS_SESSION_TOKEN": f"local-person-token-{account}"}

    def session(self, account: str, region: str, *, person: bool = False) -> boto3.session.Session:
        """A session with the account's keys: an administrator's (ungoverned) unless a function
        runs in this thread; with `person`, the keys of the account's Person role."""
        creds = self.person_credentials(account) if person else self.credentials(account)
        return boto3.session.Session(
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=creds["AWS_SESSION_TOKEN"],
            region_name=region,
        )

    # -- events -----------------------------------------------------------------------------
    def subscribe(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def emit(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str] | None = None,
    ) -> None:
        """Put an event on `account`'s default bus in `region`, as an AWS service does."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": account,
            "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": list(resources or []),
            "detail": detail,
        }
        if detail_type == CLOUDTRAIL_DETAIL_TYPE and self.cloudtrail_lag_seconds[1] > 0:
            self.clock.call_later(self._lags.uniform(*self.cloudtrail_lag_seconds),
                                  lambda: self._publish(account, region, event),
                                  f"CloudTrail delivers {detail.get('eventName')} in {account}", internal=False)
        else:
            self._publish(account, region, event)

    def _publish(self, account: str, region: str, event: dict[str, Any]) -> None:
        for listener in self._listeners:
            listener(account, region, event)

    # -- the before-send hook ---------------------------------------------------------------
    def _before_send(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        """Serve the request, unless chaos makes a function's call fail before or after AWS applies it."""
        if self.chaos is None or self.caller is None:
            return self._serve(request, **kwargs)
        match = _CREDENTIAL.search(_header(request, "Authorization"))
        known = match is not None and match.group(1) in self._accounts.by_access_key
        fault = self.chaos.api_fault(match.group(3), _json_target(request)) if match and known else None
        if fault is None or match is None:
            return self._serve(request, **kwargs)
        model = self._models.get_service_model(match.group(3))
        if fault.after_applying:
            self._thread.last_call = None
            response = self._serve(request, **kwargs)
            applied: ApiCall | None = getattr(self._thread, "last_call", None)
            if response is None or response.status_code >= 300 or applied is None:
                return response  # AWS refused it anyway: its own answer stands
            # The record says how the caller saw it end; observers were told it was applied.
            where = next(i for i in range(len(self.calls) - 1, -1, -1) if self.calls[i] is applied)
            self.calls[where] = dataclasses.replace(applied, error_code=fault.error.code, injected=True)
            self.chaos.count(fault)
            return self._answer(request, *wire.encode_error(model, fault.error))
        self.clock.sleep(self.buckets.model.latency_of(model.service_name))
        operation, params = _moto_request(model, request)
        self._record(self._accounts.by_access_key[match.group(1)], match.group(2), model.service_name, operation,
                     params, fault.error, injected=True)
        self.chaos.count(fault)
        return self._answer(request, *wire.encode_error(model, fault.error))

    def _serve(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        match = _CREDENTIAL.search(_header(request, "Authorization"))
        self._thread.identity = None
        service_name = match.group(3) if match else None
        key = match.group(1) if match else ""
        account = self._accounts.by_access_key.get(key) or self._accounts.by_person_key.get(key)
        region = match.group(2) if match else ""
        if account is None:
            return self._answer(request, *self._unrecognized_client(service_name))
        # Whose policy authorizes the call: the running function's role, else the Person role
        # for a person's keys, else nobody's (an administrator setting a scene).
        identity = self.caller or (PERSON if key in self._accounts.by_person_key else None)
        if identity == PERSON and not self.iam.governs(account, PERSON):
            self.iam.govern_person(account)  # never ungoverned: the ordinary rights unless set
        self._thread.identity = identity
        try:
            model = self._models.get_service_model(service_name or "")
        except UnknownServiceError:  # a signing name that is no model name: moto answers, unrecorded
            request.headers["x-moto-account-id"] = account
            return botocore_stubber(request=request, **{"event_name": "before-send", **kwargs})
        if service_name in ("sagemaker", "ram", "organizations"):
            return self._answer(request, *self._call_emulator(model, request, account, region, identity))
        operation, params = _moto_request(model, request)
        if model.protocol in ("json", "rest-json"):
            try:
                self._charge(account, region, model.service_name, operation)
            except AwsError as throttled:
                self._record(account, region, model.service_name, operation, params, throttled)
                return self._answer(request, *wire.encode_error(model, throttled))
        if model.service_name == "sqs" and operation in queue_policies.SENDING_CALLS:
            refused = self._sqs_send_refusal(account, region, operation, params, identity)
            if refused is not None:
                return self._answer(request, *refused)
        elif self.iam.governs(account, identity):
            # A query-protocol request (STS, IAM, CloudFormation) is not decoded here: it is
            # authorized on its action alone, on "*" (stricter: a policy scoping it to a
            # resource does not allow it; docs/aws-behaviour.md, IAM-QUERY-PROTOCOL).
            try:
                self.iam.authorize(account=account, region=region, caller=identity or "",
                                   action=f"{_iam_prefix(model)}:{operation}", params=params, context={})
            except AwsError as denied:
                self._record(account, region, model.service_name, operation, params, denied)
                if model.protocol in ("json", "rest-json"):
                    return self._answer(request, *wire.encode_error(model, denied))
                return self._answer(request, *_query_error(denied))
        if model.service_name == "ssm" and operation == "PutParameter":
            try:
                _check_parameter_size(account, region, params)
            except AwsError as refused:
                self._record(account, region, model.service_name, operation, params, refused)
                return self._answer(request, *wire.encode_error(model, refused))
        if model.service_name == "ssm" and operation == "GetParameterHistory":  # as SSM documents it, not moto
            try:
                output = parameter_history(account, region, params)
            except AwsError as refused:
                self._record(account, region, model.service_name, operation, params, refused)
                return self._answer(request, *wire.encode_error(model, refused))
            self._record(account, region, model.service_name, operation, params, None, output)
            return self._answer(request, *wire.encode_response(model.operation_model(operation), output))
        # A queue is named by its URL, which holds the queue's account (another account's, for a
        # cross-account send): moto looks it up there, not in the caller's account.
        queue_url = params.get("QueueUrl") if model.service_name == "sqs" else None
        owner = queue_policies.queue_arn_of(queue_url, region)[1] if isinstance(queue_url, str) and queue_url else account
        request.headers["x-moto-account-id"] = owner if owner in self._accounts.by_access_key.values() else account
        response = botocore_stubber(request=request, **{"event_name": "before-send", **kwargs})
        if response is not None:
            self._record_moto_call(account, region, model.service_name, operation, params, response)
        return response

    def _sqs_send_refusal(self, account: str, region: str, operation: str, params: dict[str, Any],
                          identity: str | None) -> tuple[int, dict[str, str], bytes] | None:
        """A call sending to a queue, authorized as SQS does: the caller's identity policy and
        the queue's policy together (localaws/services/sqs/queue_policies.py; docs/aws-behaviour.md,
        SQS-QUEUE-POLICY). The answer when refused (the call recorded), else None."""
        model = self._models.get_service_model("sqs")
        action = queue_policies.SENDING_CALLS[operation]
        identity_allows = True  # a person's own rights are not modelled: only the queue's policy judges them
        identity_refusal: AwsError | None = None
        role_arn = self.iam.role_arn(account, identity) if identity is not None else None
        if self.iam.governs(account, identity):
            try:
                self.iam.authorize(account=account, region=region, caller=identity or "", action=action,
                                   params=params, context={})
            except AwsError as denied:
                if "explicit deny" in denied.message:  # an identity policy's Deny refuses, whatever the queue says
                    self._record(account, region, "sqs", operation, params, denied)
                    return wire.encode_error(model, denied)
                identity_allows, identity_refusal = False, denied
        queue_arn, queue_account = queue_policies.queue_arn_of(str(params.get("QueueUrl", "")), region)
        if queue_account not in self._accounts.by_access_key.values():
            return None  # moto answers that the queue does not exist
        queue = moto_sqs.sqs_backends[queue_account][region].queues.get(queue_arn.rsplit(":", 1)[1])
        if queue is None:
            return None  # moto answers that the queue does not exist
        caller = queue_policies.Caller(account, arn=role_arn or queue_policies.person_arn(account))
        refused = queue_policies.refusal(policy=queue.policy, action=action, queue_arn=queue_arn,
                                         queue_account=queue_account, caller=caller, identity_allows=identity_allows)
        if refused is None:
            return None
        if identity_refusal is not None and not queue_policies.decide(queue.policy, action, queue_arn, caller).explicit_deny:
            # Nothing allows it, and the queue denies nothing: refused as IAM words it (how SQS
            # words this case is UNVERIFIED; SQS-QUEUE-POLICY).
            self._record(account, region, "sqs", operation, params, identity_refusal)
            return wire.encode_error(model, identity_refusal)
        self._record(account, region, "sqs", operation, params, refused)
        return queue_policies.encode(refused)

    def queue_admits_service(self, queue_arn: str, service: str, source_arn: str) -> bool:
        """Whether the queue's policy lets an AWS service (EventBridge, for the rule
        `source_arn`) send to it: a service has no identity policy, so the queue must allow it."""
        _, _, _, region, account, name = queue_arn.split(":", 5)
        queue = moto_sqs.sqs_backends[account][region].queues.get(name)
        caller = queue_policies.Caller(source_arn.split(":")[4], service=service, source_arn=source_arn)
        return queue is not None and queue_policies.refusal(
            policy=queue.policy, action="sqs:SendMessage", queue_arn=queue_arn, queue_account=account, caller=caller,
            identity_allows=False) is None

    def _unrecognized_client(self, service_name: str | None) -> tuple[int, dict[str, str], bytes]:
        """What AWS answers an unknown access key (or an unsigned request)."""
        error = AwsError("UnrecognizedClientException", "The security token included in the request is invalid.", 403)
        try:
            model = self._models.get_service_model(service_name or "")
        except UnknownServiceError:
            model = None
        if model is None or model.protocol not in ("json", "rest-json"):  # wire speaks JSON only
            return 403, {}, error.message.encode()
        return wire.encode_error(model, error)

    def _call_emulator(
        self, model: Any, request: AWSPreparedRequest, account: str, region: str, identity: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            operation, params = wire.decode_request(model, request)
        except AwsError as error:
            return wire.encode_error(model, error)
        error_code = None
        try:
            self._charge(account, region, model.service_name, operation.name)
            if self.iam.governs(account, identity):
                # Every context must be allowed: RAM authorizes each principal and resource of a
                # share change on its own (ModelRegistryEmulator.ram.member_contexts).
                contexts = self.registry.ram.member_contexts(account, region, params) \
                    if model.service_name == "ram" else [{}]
                for context in contexts:
                    self.iam.authorize(account=account, region=region, caller=identity or "",
                                       action=f"{_iam_prefix(model)}:{operation.name}", params=params,
                                       context=context, status=403 if model.protocol == "rest-json" else 400)
            output = self.registry.handle(
                account=account, region=region, service=model.service_name,
                operation=operation.name, params=params,
            )
            answer = wire.encode_response(operation, output)
        except AwsError as error:
            error_code = error.code
            output = None
            answer = wire.encode_error(model, error)
            self._record(account, region, model.service_name, operation.name, params, error)
        else:
            self._record(account, region, model.service_name, operation.name, params, None, output)
        if model.service_name == "sagemaker" and operation.name in _CLOUDTRAIL_WRITES:
            self._emit_cloudtrail(account, region, operation.name, params, output, error_code,
                                  None if error_code is None else answer[2].decode())
        return answer

    def _charge(self, account: str, region: str, service: str, operation: str) -> None:
        """The call's latency passes, then it takes a token. Only the functions' calls are
        refused when their bucket is empty: people's calls (tests setting a scene) use tokens
        but always go through, so a scene is the same whatever the functions did before."""
        self.clock.sleep(self.buckets.model.latency_of(service))
        try:
            self.buckets.take(account, region, service, operation, self.clock.now())
        except AwsError:
            if self.caller is not None:
                raise

    def _record(self, account: str, region: str, service: str, operation: str, params: dict[str, Any],
                error: AwsError | None, output: dict[str, Any] | None = None, *, injected: bool = False) -> None:
        call = ApiCall(self.clock.now().isoformat(), account, region, service, operation, params,
                       None if error is None else error.code, self.caller, self.invocation, injected)
        self.calls.append(call)
        self._thread.last_call = call
        if error is None:
            for observer in self.call_observers:
                observer(call, output or {})

    def _authorize_dependent(self, account: str, region: str, action: str, resource: str) -> None:
        """RAM asks IAM whether the caller may also do `action` on `resource` (dependent action)."""
        identity: str | None = getattr(self._thread, "identity", None)
        if self.iam.governs(account, identity):
            self.iam.authorize_resource(account=account, region=region, caller=identity or "", action=action,
                                        resource=resource, context={}, status=403)

    def _record_moto_call(self, account: str, region: str, service: str, operation: str, params: dict[str, Any],
                          response: AWSResponse) -> None:
        error = None if response.status_code < 300 else AwsError("Error", "", response.status_code)
        output: dict[str, Any] = {}
        if error is None and self.call_observers and response.content:
            try:
                output = json.loads(response.content)
            except ValueError:  # a query-protocol (XML) answer: nothing an observer reads
                output = {}
        self._record(account, region, service, operation, params, error, output)
        if service == "sqs" and operation in ("SendMessage", "SendMessageBatch") and error is None:
            url = str(params.get("QueueUrl", ""))
            queue_account, name = url.rsplit("/", 2)[-2:]
            for listener in self.queue_listeners:
                listener(f"arn:aws:sqs:{region}:{queue_account}:{name}")
        if service == "ssm" and operation in _SSM_CHANGES and error is None:
            change = _SSM_CHANGES[operation]
            if operation == "PutParameter" and json.loads(response.content or b"{}").get("Version") == 1:
                change = "Create"
            name = str(params.get("Name", ""))
            self.emit(account, region, "aws.ssm", "Parameter Store Change",
                      {"operation": change, "name": name, "type": params.get("Type", "String"),
                       "description": params.get("Description", "")},
                      [f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"])

    def _emit_cloudtrail(self, account: str, region: str, operation: str, params: dict[str, Any],
                         output: dict[str, Any] | None, error_code: str | None,
                         error_body: str | None) -> None:
        """An "AWS API Call via CloudTrail" event, as a trail delivers it to EventBridge."""
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
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
            "requestParameters": {_lower_camel(k): v for k, v in params.items()},
            "responseElements": None if output is None else {_lower_camel(k): v for k, v in output.items()},
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
        self.emit(account, region, "aws.sagemaker", CLOUDTRAIL_DETAIL_TYPE, detail, [])

    @staticmethod
    def _answer(request: AWSPreparedRequest, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
        # botocore wraps any mapping in its HeadersDict; its stub asks for HTTPHeaders.
        return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


def _acquire_on_clock(bucket: Any, amount: float, block: bool) -> bool:
    """botocore's TokenBucket._acquire, sleeping through its clock (the simulated one inside an
    invocation) instead of waiting on a condition variable in real time."""
    bucket._refill()
    if amount <= bucket._current_capacity:
        bucket._current_capacity -= amount
        return True
    if not block:
        raise botocore.retries.bucket.CapacityNotAvailableError()
    sleep_amount = bucket._sleep_amount(amount)
    while sleep_amount > 0:
        bucket._clock.sleep(sleep_amount)
        bucket._refill()
        sleep_amount = bucket._sleep_amount(amount)
    bucket._current_capacity -= amount
    return True


def _keeping_policy(set_attributes: Callable[..., None]) -> Callable[..., None]:
    def keeping(queue: Any, attributes: dict[str, Any], now: Any = None) -> None:
        policy = getattr(queue, "policy", None)
        set_attributes(queue, attributes, *(() if now is None else (now,)))
        if "Policy" not in attributes:
            queue.policy = policy

    return keeping


def _within_retention(now: Callable[[], float]) -> Callable[[Any, str, Any], bool]:
    """moto's retention check, reading the one attribute it needs (the same answer), at `now`."""

    def within(backend: Any, queue_name: str, message: Any) -> bool:
        retention = int(getattr(backend.get_queue(queue_name), "message_retention_period", 345600))
        return bool(retention + message.sent_timestamp / 1000 > now())

    return within


# Parameter Store's value limits per tier (docs/aws-behaviour.md, SSM-TIER); moto does not check them.
_PARAMETER_LIMITS = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}


def _check_parameter_size(account: str, region: str, params: dict[str, Any]) -> None:
    """A value too large for its tier is refused. Without `Tier`, an update keeps an advanced
    parameter advanced and anything else is standard (the account's default tier)."""
    tier = params.get("Tier")
    if tier is None:
        # moto keys parameters by name without the leading "/".
        existing = ssm_backends[account][region]._parameters.get(str(params.get("Name", "")).lstrip("/"))
        tier = existing[-1].tier if existing else "Standard"
    limit = _PARAMETER_LIMITS.get(str(tier), 4096)
    if len(str(params.get("Value", ""))) > limit:
        raise AwsError("ValidationException",
                       f"{tier} tier parameters support a maximum parameter value of {limit} characters. To create a "
                       "larger parameter value, upgrade the parameter to use the advanced-parameter tier.")


def _query_error(error: AwsError) -> tuple[int, dict[str, str], bytes]:
    """An error as a query-protocol service answers it (IAM's and STS's code is AccessDenied)."""
    code = "AccessDenied" if error.code == "AccessDeniedException" else error.code
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(error.message)}"
            f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return 403, {"Content-Type": "text/xml"}, body.encode()


def _iam_prefix(model: Any) -> str:
    """The service prefix IAM actions use (the signing name for these services)."""
    return str(model.metadata.get("signingName") or model.endpoint_prefix)


def _json_target(request: AWSPreparedRequest) -> str:
    """The operation a JSON-protocol request names in its X-Amz-Target header ("" for others)."""
    return _header(request, "X-Amz-Target").rpartition(".")[2]


def _moto_request(model: Any, request: AWSPreparedRequest) -> tuple[str, dict[str, Any]]:
    """(operation, params) of a request moto will answer: decoded from the wire for JSON
    protocols, just the Action of a query-protocol request (STS)."""
    if model.protocol in ("json", "rest-json"):
        try:
            operation, params = wire.decode_request(model, request)
            return operation.name, params
        except AwsError:
            return "Unknown", {}
    body = request.body or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    action = parse_qs(text).get("Action", ["Unknown"])[0]
    return action, {}


def _header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _cached_load_file(load_file: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    cache: dict[str, Any] = {}

    def cached(loader: Any, file_path: str) -> Any:
        if file_path not in cache:
            cache[file_path] = load_file(loader, file_path)
        return cache[file_path]

    return cached


def _cached_listing(list_services: Callable[..., Any]) -> Callable[..., Any]:
    """Speed only, like the model file cache: the service folders do not change during a run."""
    cache: dict[tuple[tuple[str, ...], str], Any] = {}

    def cached(loader: Any, type_name: str) -> Any:
        key = (tuple(loader.search_paths), type_name)
        if key not in cache:
            cache[key] = list_services(loader, type_name)
        return list(cache[key])

    return cached


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]
