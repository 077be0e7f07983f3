"""`make bench`'s "versions": what one approved version costs to tell N consumers (issue 22 part 2;
docs/version-events.md).

One owner running the stack (Role=both) whose allowlist shares one group with N consumer accounts
(100 and 1,000), seeded as modelshare leaves it shared (localaws/harness/seed.py). Each consumer
has its version event bus admitting the owner, as its own stack keeps it (made here directly: N
consumer stacks would cost minutes and add nothing to the owner's calls). Then one version is
registered and approved: the calls counted are the owner's from there on (the state-change events'
ForwardVersionsFunction runs: the version and the allowlist read, PutEvents ten entries a call),
per approval; the notes say how many consumers' buses took the event.
"""

from __future__ import annotations

import json

from localaws.harness.bench import OWNER, REGION, Result, _Bench, _tasks_for
from localaws.harness.seed import seed_shared_groups

BUS = "modelshare-versions"  # the template's VersionEventBusName default
GROUP = "shared-model"
SIZES = (100, 1000)


def consumer_accounts(count: int) -> tuple[str, ...]:
    return tuple(f"{900_000_000_000 + i:012d}" for i in range(count))


def versions(consumers: int) -> Result:
    accounts = consumer_accounts(consumers)
    # Rules of 100 consumers each (rules of one group and access add up their consumers): one
    # rule of 1,000 account IDs passes a part's 8 KB.
    allowlist = json.dumps({"version": 1, "shares": [
        {"owner": OWNER, "groups": ["shared-*"], "consumers": list(accounts[i:i + 100])}
        for i in range(0, consumers, 100)]})
    # 1,000 account IDs pass one parameter's 8 KB: the allowlist in parts (path mode).
    parameters = {OWNER: {"AllowlistPath": "/modelshare/allowlist-parts", "AllowlistTier": "Advanced"}}
    with _Bench("versions", consumers, 1, accounts=(OWNER,), allowlist=allowlist, parameters=parameters) as bench:
        for account in accounts:
            bench.cloud.add_account(account)
            events = bench.deployment.client(account, "events")
            events.create_event_bus(Name=BUS)
            events.put_permission(EventBusName=BUS, Action="events:PutEvents", Principal=OWNER,
                                  StatementId=f"modelshare-owner-{OWNER}")
        seed_shared_groups(bench.cloud, OWNER, accounts, REGION, [GROUP])
        bench.deployment.settle(_tasks_for(consumers))
        bench.mark = len(bench.cloud.calls)
        bench.invocations_mark = len(bench.deployment.lambdas.invocations)
        bench.clock_mark = bench.cloud.clock.now()
        sagemaker = bench.deployment.client(OWNER, "sagemaker")
        arn = sagemaker.create_model_package(ModelPackageGroupName=GROUP, InferenceSpecification={
            "Containers": [{"Image": "img:1", "ModelDataUrl": "s3://models/1.tar.gz"}]})["ModelPackageArn"]
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        bench.deployment.settle(_tasks_for(consumers))
        # The person's two calls are not the stack's (no caller function): measure() leaves them out.
        result = bench.measure()
        told = sum(1 for account in accounts for event in bench.cloud.event_buses.on(account, BUS)
                   if event["source"] == "modelshare" and event["detail"]["modelPackageArn"] == arn)
        put_events = sum(c.get("PutEvents", 0) for c in result.calls.values())
        result.notes.append(f"consumers told: {told} of {consumers}, in {put_events} PutEvents calls")
        return result
