"""A converged organisation, written straight into the emulator's state: for benchmarks at sizes
the event path would take hours to build on this machine (10,000 groups).

What it writes is what modelshare leaves behind when it has shared groups and their consumers
have accepted: the group's policy with modelshare's statement, a promoted (STANDARD) share
holding the group alone with the consumers ASSOCIATED through accepted invitations, both recorded
in the owner's ownership ledger (its stack's table), and one customer managed permission for
the action set. A sweep over it that writes anything shows the seed and modelshare disagree, and
the benchmark reports it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

from moto.dynamodb.models import dynamodb_backends

from localaws.runtime.cloud import LocalCloud
from localaws.services.registry_state import DISCOVER_ACTIONS, Association, Group, Invitation, Permission, Share
from modelshare import incarnation
from modelshare import policy as policies
from modelshare.settings import DEFAULT_LEDGER_TABLE


def seed_groups(cloud: LocalCloud, owner: str, region: str, names: Iterable[str]) -> None:
    """Groups no allowlist rule names: no policy, no share."""
    now = cloud.clock.now()
    groups = cloud.registry.state.groups_in(owner, region)
    for name in names:
        arn = f"arn:aws:sagemaker:{region}:{owner}:model-package-group/{name}"
        groups[name] = Group(owner, region, name, arn, None, now, {"UserProfileName": "seed"})


def seed_shared_groups(cloud: LocalCloud, owner: str, consumers: tuple[str, ...], region: str,
                       names: Iterable[str], ledger_table: str = DEFAULT_LEDGER_TABLE) -> None:
    """Groups shared with `consumers` (discover access) as modelshare converges them (the stack
    must be installed in `owner`: its ledger table holds what modelshare made)."""
    ledger = dynamodb_backends[owner][region]
    state = cloud.registry.state
    now = cloud.clock.now()
    permission_arn = f"arn:aws:ram:{region}:{owner}:permission/modelshare-discover"
    if permission_arn not in state.permissions:
        state.permissions[permission_arn] = Permission(
            arn=permission_arn, account=owner, region=region, name="modelshare-discover",
            resource_type=state.group_type, feature_set="STANDARD", permission_type="CUSTOMER_MANAGED",
            statements=[{"Effect": "Allow", "Action": list(DISCOVER_ACTIONS)}], creation_time=now, last_updated=now)
    seed_groups(cloud, owner, region, names)
    # modelshare made that permission: its ledger says so (a person's would be replaced).
    ledger.put_item(ledger_table, {"group": {"S": "modelshare:permissions"}, "names": {"SS": ["modelshare-discover"]}})
    groups = state.groups_in(owner, region)
    for name in names:
        group = groups[name]
        share_arn = f"arn:aws:ram:{region}:{owner}:resource-share/{uuid.uuid4()}"
        statement = policies.modelshare_statement(group.arn, consumers, DISCOVER_ACTIONS)
        group.policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        group.ram_managed = True
        ledger.put_item(ledger_table, {"group": {"S": group.arn}, "shares": {"SS": [share_arn]},
                                       "statements": {"SS": [incarnation.stamped(
                                           policies.statement_digest(statement), incarnation.stamp(group.creation_time))]}})
        share = Share(arn=share_arn, account=owner, region=region, name=f"LinkedResourceShare-{uuid.uuid4()}",
                      feature_set="STANDARD", creation_time=now, last_updated=now,
                      permission_arns=[permission_arn], from_policy_of=group.arn)
        share.resources[group.arn] = Association(group.arn, "RESOURCE", "ASSOCIATED", now, now)
        for consumer in consumers:
            share.principals[consumer] = Association(consumer, "PRINCIPAL", "ASSOCIATED", now, now, external=True)
            invitation = f"arn:aws:ram:{region}:{owner}:resource-share-invitation/{uuid.uuid4()}"
            state.invitations[invitation] = Invitation(invitation, share_arn, owner, consumer, region, "ACCEPTED", now)
        state.shares[share_arn] = share
