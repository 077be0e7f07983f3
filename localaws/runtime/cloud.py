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
from typing import Any

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

from localaws.core import wire
from localaws.core.clock import SimClock
from localaws.core.errors import AwsError
from localaws.runtime.calls import Accounts, ApiCall, CallObserver, EventListener
from localaws.runtime.chaos import Chaos
from localaws.runtime.costs import DEFAULT_COSTS, CostModel, TokenBuckets
from localaws.runtime.event_buses import LocalEventBuses
from localaws.runtime.patches import patch_botocore_and_moto
from localaws.runtime.signed_requests import CREDENTIAL, header, iam_prefix, json_target, moto_request, query_error
from localaws.services.events.cloudtrail import (
    CLOUDTRAIL_DETAIL_TYPE,
    CLOUDTRAIL_LAG_SECONDS,
    CLOUDTRAIL_WRITES,
    SSM_CHANGES,
    cloudtrail_detail,
)
from localaws.services.iam.authorizer import PERSON, LocalIam
from localaws.services.model_registry import ModelRegistryEmulator
from localaws.services.ram.api import ManagedPermissionTable
from localaws.services.registry_state import AWS_MANAGED_GROUP_PERMISSIONS, GROUP_TYPE, RamQuotas
from localaws.services.sns.topics import Topics
from localaws.services.sqs import queue_policies
from localaws.services.ssm.sharing import READS as SSM_READS
from localaws.services.ssm.sharing import SharedParameters, refuse_arn_name
from localaws.services.ssm.tiers import check_parameter_size


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
        self._accounts = Accounts()
        self._sessions: dict[tuple[str, str, bool], boto3.session.Session] = {}
        self._listeners: list[EventListener] = []
        # PutEvents to any account's bus (consumers' own rules on a custom bus are not emulated:
        # tests read what arrived, event_buses.delivered).
        self.event_buses = LocalEventBuses(self)
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
        # Parameters shared through RAM (SSM-SHARED) and SNS's topic policies and deliveries (SNS-*).
        self.parameters = SharedParameters(self.registry.state)
        self.topics = Topics(self.clock, self.registry.state, self.queue_admits_service,
                             lambda arn: [listener(arn) for listener in self.queue_listeners], seed=seed,
                             copies=lambda: self.chaos.copies() if self.chaos is not None else 1)
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
        patch_botocore_and_moto(self._patches, self.clock, self._uuids)
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
        self._accounts.by_access_key[Accounts.access_key_for(account)] = account
        self._accounts.by_person_key[Accounts.person_key_for(account)] = account

    @property
    def accounts(self) -> list[str]:
        return sorted(self._accounts.by_access_key.values())

    def credentials(self, account: str) -> dict[str, str]:
        """The environment a process running as `account` gets (as Lambda gives its role's keys)."""
        if account not in self.accounts:
            raise KeyError(f"unknown account {account}")
        return {
            "AWS_ACCESS_KEY_ID": Accounts.access_key_for(account),
            "AWS_SECRET_ACCESS_KEY": "local-secret",
            "AWS_SESSION_TOKEN": f"local-token-{account}",
        }

    def person_credentials(self, account: str) -> dict[str, str]:
        """The keys of the role a person assumes in `account` (iam.PERSON): their calls are
        authorized against the ordinary-rights policy, or the one LocalIam.govern_person set."""
        return {**self.credentials(account), "AWS_ACCESS_KEY_ID": Accounts.person_key_for(account),
                "AWS_SESSION_TOKEN": f"local-person-token-{account}"}

    def session(self, account: str, region: str, *, person: bool = False) -> boto3.session.Session:
        """A session of its own with the account's keys: an administrator's (ungoverned) unless a
        function runs in this thread; with `person`, the keys of the account's Person role. What
        code under test is given: a handler it registers on its session sees its own calls only."""
        creds = self.person_credentials(account) if person else self.credentials(account)
        return boto3.session.Session(
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=creds["AWS_SESSION_TOKEN"],
            region_name=region,
        )

    def harness_session(self, account: str, region: str, *, person: bool = False) -> boto3.session.Session:
        """The harness's own session for `account` (one per account, Region and keys: speed only,
        its clients are still made afresh, each with its own retry state). Never hand it to code
        under test: use `session`."""
        key = (account, region, person)
        if key not in self._sessions:
            self._sessions[key] = self.session(account, region, person=person)
        return self._sessions[key]

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
        match = CREDENTIAL.search(header(request, "Authorization"))
        known = match is not None and match.group(1) in self._accounts.by_access_key
        fault = self.chaos.api_fault(match.group(3), json_target(request)) if match and known else None
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
        operation, params = moto_request(model, request)
        self._record(self._accounts.by_access_key[match.group(1)], match.group(2), model.service_name, operation,
                     params, fault.error, injected=True)
        self.chaos.count(fault)
        return self._answer(request, *wire.encode_error(model, fault.error))

    def _serve(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        match = CREDENTIAL.search(header(request, "Authorization"))
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
        operation, params = moto_request(model, request)
        if model.protocol in ("json", "rest-json"):
            try:
                self._charge(account, region, model.service_name, operation)
            except AwsError as throttled:
                self._record(account, region, model.service_name, operation, params, throttled)
                return self._answer(request, *wire.encode_error(model, throttled))
        if model.service_name == "events" and operation == "PutEvents":  # routed across accounts, not by moto
            answer = self.event_buses.put_events(model, account, region, params, identity)
            return self._answer(request, *answer)
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
                                   action=f"{iam_prefix(model)}:{operation}", params=params, context={})
            except AwsError as denied:
                self._record(account, region, model.service_name, operation, params, denied)
                if model.protocol in ("json", "rest-json"):
                    return self._answer(request, *wire.encode_error(model, denied))
                return self._answer(request, *query_error(denied))
        if model.service_name == "ssm" and operation == "PutParameter":
            try:
                refuse_arn_name(params)
                check_parameter_size(account, region, params)
            except AwsError as refused:
                self._record(account, region, model.service_name, operation, params, refused)
                return self._answer(request, *wire.encode_error(model, refused))
        if model.service_name == "ssm" and operation in SSM_READS:  # as SSM documents it, not moto (SSM-HISTORY, -SHARED)
            try:
                output = self.parameters.answer(account, region, operation, params)
            except AwsError as refused:
                self._record(account, region, model.service_name, operation, params, refused)
                return self._answer(request, *wire.encode_error(model, refused))
            if output is not None:
                self._record(account, region, model.service_name, operation, params, None, output)
                return self._answer(request, *wire.encode_response(model.operation_model(operation), output))
        # A queue is named by its URL, which holds the queue's account (another account's, for a
        # cross-account send), a topic by its ARN: moto looks it up there, not in the caller's account.
        queue_url = params.get("QueueUrl") if model.service_name == "sqs" else None
        owner = queue_policies.queue_arn_of(queue_url, region)[1] if isinstance(queue_url, str) and queue_url else account
        if model.service_name == "sns":
            owner, sns_params, refusal = self.topics.request(account, identity and self.iam.role_arn(account, identity),
                                                             operation, request.body)
            if refusal is not None:
                self._record(account, region, "sns", operation, sns_params, refusal)
                return self._answer(request, *query_error(refusal))
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
                                       action=f"{iam_prefix(model)}:{operation.name}", params=params,
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
        if model.service_name == "sagemaker" and operation.name in CLOUDTRAIL_WRITES:
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
        if service == "ssm" and operation in SSM_CHANGES and error is None:
            change = SSM_CHANGES[operation]
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
        detail = cloudtrail_detail(account, region, operation, params, output, error_code, error_body,
                                   self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.emit(account, region, "aws.sagemaker", CLOUDTRAIL_DETAIL_TYPE, detail, [])

    @staticmethod
    def _answer(request: AWSPreparedRequest, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
        # botocore wraps any mapping in its HeadersDict; its stub asks for HTTPHeaders.
        return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]


