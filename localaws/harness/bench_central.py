"""`make bench`'s "central-allowlist": what one edit of a central allowlist costs to distribute
(issue 22 part 1, docs/central-allowlist.md).

A central account's stack owns the advanced-tier allowlist parameter, shares it through RAM with
the organization and forwards its changes on its SNS topic; N member accounts (100 and 1,000) run
the stack (Role both) reading it by ARN, each subscribing its two queues. One edit of the
parameter, then the clock runs until nothing is left to do. Counted: the members' functions'
calls per member (the table's columns), the SNS deliveries, the reads of the central parameter
(all served by the central account's Parameter Store, whichever account's throughput a shared
read uses: UNVERIFIED), when the last member was woken, and what throttling did.

The members' stacks are installed once, before the edit: installing is not counted. They hold no
groups, so what is counted is the cost of hearing of the edit and reading the document, which is
what grows with the number of members; what an edit then shares costs what `edit` measures.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime

from localaws.harness.bench import REGION, Result, _tasks_for
from localaws.harness.deployment import Deployment
from localaws.runtime.cloud import LocalCloud
from localaws.runtime.functions import Invocation
from localaws.services.organizations.api import OrganizationModel

CENTRAL = "121212121212"
ORG_ID = "o-exampleorg1"
PARAMETER = "/modelshare/allowlist"
PARAMETER_ARN = f"arn:aws:ssm:{REGION}:{CENTRAL}:parameter{PARAMETER}"
SCENARIO = "central-allowlist"
FIRST_MEMBER = 300_000_000_000
# The functions a member's queue wakes on a change (the template's *AllowlistChangesMapping).
WOKEN = ("OwnerReconcileFunction", "AcceptInvitationsFunction")
# Parameter Store's default throughput for reads per account and Region (docs/aws-behaviour.md, COST-RATES).
PARAMETER_TPS = 40


def member_accounts(members: int) -> list[str]:
    return [str(FIRST_MEMBER + i) for i in range(members)]


def central(members: int) -> Result:
    """One edit of the central allowlist distributed to `members` member accounts."""
    started = time.perf_counter()
    result = Result(SCENARIO, members, members)
    accounts = member_accounts(members)
    with LocalCloud() as cloud:
        deployment = Deployment(cloud, REGION)
        organization = OrganizationModel(ORG_ID, CENTRAL, ram_sharing_enabled=True)
        for account in (CENTRAL, *accounts):
            cloud.add_account(account)
        for account in accounts:
            organization.move_account(account)
        cloud.registry.state.organization = organization
        stack = deployment.install(CENTRAL, {"Role": "owner", "AllowlistOrganizationId": ORG_ID,
                                             "AllowlistTier": "Advanced", "AllowlistShareWith": organization.arn})
        topic = str(stack.resolve({"Ref": "AllowlistChangesTopic"}))
        installing = time.perf_counter()
        for account in accounts:
            deployment.install(account, {"ExistingAllowlistParameter": PARAMETER_ARN, "CentralAllowlistTopic": topic,
                                         "TrustedOwnerAccounts": accounts[0]})
        deployment.settle(_tasks_for(members))
        installed = time.perf_counter() - installing
        mark, invocations_mark, delivered = len(cloud.calls), len(deployment.lambdas.invocations), cloud.topics.delivered
        start = cloud.clock.now()
        edited = {"version": 1, "shares": [{"owner": accounts[0], "groups": ["churn-*"], "consumers": accounts[1:2]}]}
        deployment.client(CENTRAL, "ssm").put_parameter(Name=PARAMETER, Value=json.dumps(edited), Type="String",
                                                        Overwrite=True)
        deployment.settle(_tasks_for(members) * 4)
        calls = cloud.calls[mark:]
        for call in calls:
            if call.caller is None:
                continue
            result.calls.setdefault(call.caller, Counter())[call.operation] += 1
            if call.error_code == "ThrottlingException":
                result.throttled += 1
            elif call.error_code is None and call.service in ("sagemaker", "ram") and not call.operation.startswith(
                    ("Get", "List", "Describe")):
                result.writes += 1
        invocations = deployment.lambdas.invocations[invocations_mark:]
        result.invocations = len(invocations)
        result.failed_invocations = sum(1 for i in invocations if not i.ok)
        for invocation in invocations:
            if invocation.duration_seconds >= result.longest_invocation:
                result.longest_invocation = invocation.duration_seconds
                result.longest_function = invocation.function
                result.timeout = next(f.spec.timeout_seconds for f in deployment.lambdas.functions[invocation.account]
                                      if f.spec.logical_id == invocation.function)
        result.simulated_seconds = (cloud.clock.now() - start).total_seconds()
        woken = {a: at for a, at in _woken_after(invocations, start.isoformat()).items() if a != CENTRAL}
        last = max(woken.values(), default=None)
        read_times = [c.time for c in calls if c.operation == "GetParameter" and c.params.get("Name") == PARAMETER_ARN]
        reads = len(read_times)
        refused = sum(1 for c in calls if c.params.get("Name") == PARAMETER_ARN and c.error_code is not None)
        result.notes += [
            f"SNS deliveries: {cloud.topics.delivered - delivered} ({(cloud.topics.delivered - delivered) / members:.1f} "
            f"per member, one per queue), lost or refused: {len(cloud.topics.undelivered)}",
            f"members woken by the change: {len(woken)} of {members}; the last "
            + (f"{(last - start).total_seconds():.0f} s after the edit" if last is not None else "never"),
            f"reads of the central parameter by ARN: {reads} ({reads / members:.1f} per member), "
            f"{refused} refused or throttled; at most {_peak_per_second(read_times)} in one simulated second "
            f"(Parameter Store serves {PARAMETER_TPS} a second per account by default: whether a shared read counts "
            "against the member's or the central account's is UNVERIFIED, the local AWS counts the member's)",
        ]
        result.notes.append(f"installing the {members} member stacks took {installed:.0f} s on the wall clock "
                            "(not counted above)")
        result.wall_seconds = time.perf_counter() - started
    return result


def _peak_per_second(times: list[str]) -> int:
    """The most of `times` (ISO timestamps) within one second of each other."""
    moments = sorted(datetime.fromisoformat(t).timestamp() for t in times)
    peak, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def _woken_after(invocations: list[Invocation], since: str) -> dict[str, datetime]:
    """Member account -> when one of its queues first brought one of its functions the change."""
    woken: dict[str, datetime] = {}
    for invocation in invocations:
        if invocation.function in WOKEN and invocation.started >= since \
                and "Parameter Store Change" in json.dumps(invocation.event):
            at = datetime.fromisoformat(invocation.started)
            woken[invocation.account] = min(woken.get(invocation.account, at), at)
    return woken
