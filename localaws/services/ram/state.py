"""RAM's state machine: how shares, their associations, invitations and permissions change,
RAM's own asynchronous work included (creating a share from a policy, finishing a promotion,
expiring an invitation), which runs as internal tasks on the SimClock, and the events it sends."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from localaws.core.clock import SimClock
from localaws.services.organizations.api import is_org_principal
from localaws.services.ram import quotas as ram_quotas
from localaws.services.ram.model import LIVE, RamModel
from localaws.services.registry_state import (
    AWS_MANAGED_GROUP_PERMISSIONS,
    GROUP_ARN,
    Association,
    Group,
    Invitation,
    Permission,
    RegistryState,
    Share,
    as_list,
    principal_account,
    statement_principals,
)
from localaws.services.ssm import sharing as ssm_sharing

Emit = Callable[[str, str, str, str, dict[str, Any], list[str]], None]
DependentCheck = Callable[[str, str, str, str], None]
"""(account, region, IAM action, resource ARN): raises AwsError when the caller may not."""
ManagedPermissionTable = Iterable[tuple[str, bool, Iterable[str]]]

DETAIL_TYPE = "Resource Sharing State Change"
# RAM needs the owning service's policy-writing permission from whoever attaches a permission to
# a share or changes who it reaches (RAM guide, access-denied troubleshooting; docs/aws-behaviour.md
# IAM-DEPENDENT).
GROUP_POLICY_ACTION = "sagemaker:PutModelPackageGroupPolicy"


class RamStateMachine(RamModel):
    """RAM's data model, and every change to it."""

    def __init__(self, state: RegistryState, clock: SimClock, emit: Emit, *,
                 promotion_delay_seconds: float, invitation_ttl_seconds: float,
                 aws_managed_permissions: ManagedPermissionTable = AWS_MANAGED_GROUP_PERMISSIONS,
                 share_from_policy_event: bool = False) -> None:
        super().__init__(state, clock)
        # AWS documents no event for the share RAM makes from a policy: none by default; True
        # sends one, as a RAM that did would (docs/aws-behaviour.md, EVENT-RAM-CFP).
        self.share_from_policy_event = share_from_policy_event
        self.emit = emit
        self.promotion_delay_seconds = promotion_delay_seconds
        self.invitation_ttl_seconds = invitation_ttl_seconds
        # Set by LocalCloud: the IAM check of the calling function for a dependent action.
        self.authorize_dependent: DependentCheck = lambda account, region, action, resource: None
        self.add_aws_managed_permissions(aws_managed_permissions)

    def add_aws_managed_permissions(self, table: ManagedPermissionTable) -> None:
        now = self.clock.now()
        entries = [(name, self.state.group_type, default, list(actions)) for name, default, actions in table]
        # A permission of another resource type, so type filters have something to filter out.
        entries.append(("AWSRAMDefaultPermissionSubnet", "ec2:Subnet", True, ["ec2:RunInstances"]))
        ssm_name, ssm_type, ssm_default, ssm_actions = ssm_sharing.DEFAULT_PERMISSION  # SSM-SHARED
        entries.append((ssm_name, ssm_type, ssm_default, list(ssm_actions)))
        for name, resource_type, default, actions in entries:
            arn = f"arn:aws:ram::aws:permission/{name}"
            self.state.permissions[arn] = Permission(
                arn=arn, account="aws", region="", name=name, resource_type=resource_type,
                feature_set="STANDARD", permission_type="AWS_MANAGED",
                statements=[{"Effect": "Allow", "Action": actions}], creation_time=now, last_updated=now,
                is_default=default)

    def later(self, delay: float, run: Callable[[], None], label: str, *, timer: bool = False) -> None:
        self.clock.call_later(delay, run, f"ram: {label}", internal=True, timer=timer)

    def disassociated(self, association: Association) -> Callable[[], None]:
        """What finishes a disassociation, a moment after it started."""
        return lambda: association.move("DISASSOCIATED", self.clock.now())

    def event(self, account: str, region: str, detail: dict[str, Any], resources: list[str]) -> None:
        # AWS's documented example pattern matches "status": ["failed"]: statuses are lower case
        # in events (unlike the API's). Only `event` and `status` are documented; the other
        # detail fields are this emulator's guess (docs/aws-behaviour.md, EVENT-RAM).
        self.emit(account, region, "aws.ram", DETAIL_TYPE, {**detail, "status": detail["status"].lower()}, resources)

    def delete_if_unused(self, permission: Permission) -> None:
        """RAM deletes a CREATED_FROM_POLICY permission once no share uses it."""
        if permission.feature_set != "CREATED_FROM_POLICY":
            return
        if any(permission.arn in s.permission_arns for s in self.state.shares.values() if s.status == "ACTIVE"):
            return
        permission.status = "DELETED"
        permission.last_updated = self.clock.now()

    def associate_or_fail(self, share: Share, association: Association, kind: str) -> None:
        """RAM's own association (a share made from a policy): ASSOCIATED when the Region quota
        has room, else FAILED with why, and a FAILED event (ram_quotas' stricter reading)."""
        association.status_message = None
        if self.region_room(share, association, kind):
            association.move("ASSOCIATED", self.clock.now())
        else:
            self.fail(share, association, ram_quotas.full_message(self.state, share.account, kind))

    def region_room(self, share: Share, association: Association, kind: str) -> bool:
        """Whether the Region quota of `kind` takes `association` (not counting itself)."""
        others = ram_quotas.associations_held(self.state, share.account, share.region, kind) - \
            (1 if association.status in ram_quotas.HELD else 0)
        return others < ram_quotas.limit(self.state, kind)

    def fail(self, share: Share, association: Association, why: str) -> None:
        association.move("FAILED", self.clock.now())
        association.status_message = why
        self.event(share.account, share.region, {
            "event": "Resource Share Association", "status": "FAILED", "resourceShareArn": share.arn,
            "associatedEntity": association.entity}, [share.arn])

    def sync_share_from_policy(self, group: Group) -> None:
        """Create, update or delete the CREATED_FROM_POLICY share for `group`'s current policy (run some
        time after each put: docs/aws-behaviour.md, RAM-CFP-LAG)."""
        if self.state.groups_in(group.account, group.region).get(group.name) is not group:
            return  # the group was deleted meanwhile
        # The share RAM made for this group (one whose resource association failed at the Region
        # quota included: RAM keeps it).
        share = next((s for s in self.state.shares.values()
                      if s.from_policy_of == group.arn and s.status == "ACTIVE" and group.arn in s.resources
                      and s.resources[group.arn].status in ("ASSOCIATED", "FAILED")), None)
        if share is not None and share.feature_set != "CREATED_FROM_POLICY":
            # UNVERIFIED what AWS does; stricter reading: a promoted share is RAM's now, and a later
            # PutModelPackageGroupPolicy does not touch it (docs/aws-behaviour.md, RAM-PUT-AFTER-PROMOTE).
            return
        now = self.clock.now()
        if group.policy is None:
            if share is not None:
                self.retire(share)
            return
        statements = as_list(json.loads(group.policy)["Statement"])
        principals: list[str] = []
        for statement in statements:
            principals += [p for p in statement_principals(statement) if p not in principals]
        created = share is None
        if share is None:
            share = Share(arn=f"arn:aws:ram:{group.region}:{group.account}:resource-share/{uuid.uuid4()}",
                          account=group.account, region=group.region, name=f"LinkedResourceShare-{uuid.uuid4()}",
                          feature_set="CREATED_FROM_POLICY", creation_time=now, last_updated=now,
                          from_policy_of=group.arn)
            share.resources[group.arn] = Association(group.arn, "RESOURCE", "ASSOCIATING", now, now)
            self.state.shares[share.arn] = share
            self.associate_or_fail(share, share.resources[group.arn], ram_quotas.RESOURCE)
        else:
            share.touch(now)
        self.attach_policy_permission(share, group, statements)
        for principal in principals:
            association = share.principals.get(principal)
            made = association is None
            if association is None:
                association = share.principals[principal] = Association(
                    principal, "PRINCIPAL", "ASSOCIATING", now, now, external=principal_account(principal) != group.account)
            if made or association.status not in LIVE:
                self.associate_or_fail(share, association, ram_quotas.PRINCIPAL)
        for entity, association in share.principals.items():
            if entity not in principals:
                association.move("DISASSOCIATED", now)
        if created and self.share_from_policy_event:
            self.event(group.account, group.region, {"event": "Resource Share Association", "status": "ASSOCIATED",
                                                     "resourceShareArn": share.arn,
                                                     "associatedEntity": group.arn}, [share.arn])

    def attach_policy_permission(self, share: Share, group: Group, statements: list[dict[str, Any]]) -> None:
        """RAM gives a share made from a policy a CREATED_FROM_POLICY permission only when no
        managed permission matches the policy's actions; otherwise that managed permission
        (docs/aws-behaviour.md, RAM-MATCH)."""
        now = self.clock.now()
        current = self.state.permissions.get(share.permission_arns[0]) if share.permission_arns else None
        matched = self.matching_permission(group.account, group.region, self.state.group_type, statements)
        if matched is not None:
            share.permission_arns = [matched.arn]
            if current is not None and current is not matched:
                self.delete_if_unused(current)
            return
        if current is not None and current.feature_set == "CREATED_FROM_POLICY" and current.status != "DELETED":
            current.statements = statements
            current.last_updated = now
            return
        name = f"CreatedFromPolicy-{uuid.uuid4().hex[:16]}"
        permission = Permission(
            arn=f"arn:aws:ram:{group.region}:{group.account}:permission/{name}", account=group.account,
            region=group.region, name=name, resource_type=self.state.group_type, feature_set="CREATED_FROM_POLICY",
            permission_type="CUSTOMER_MANAGED", statements=statements, creation_time=now, last_updated=now)
        self.state.permissions[permission.arn] = permission
        share.permission_arns = [permission.arn]

    def retire(self, share: Share) -> None:
        now = self.clock.now()
        share.status = "DELETED"
        share.touch(now)
        for association in [*share.resources.values(), *share.principals.values()]:
            association.move("DISASSOCIATED", now)
        for arn in share.permission_arns:
            permission = self.state.permissions.get(arn)
            if permission is not None:
                self.delete_if_unused(permission)

    def on_group_deleted(self, group: Group) -> None:
        now = self.clock.now()
        for share in self.state.shares.values():
            if group.arn in share.resources:
                share.resources[group.arn].move("DISASSOCIATED", now)
                share.touch(now)

    def invite(self, share: Share, account: str) -> None:
        now = self.clock.now()
        invitation = Invitation(
            arn=f"arn:aws:ram:{share.region}:{share.account}:resource-share-invitation/{uuid.uuid4()}",
            share_arn=share.arn, sender=share.account, receiver=account, region=share.region,
            status="PENDING", timestamp=now)
        self.state.invitations[invitation.arn] = invitation

        def expire() -> None:
            # After 12 hours the invitation expires and the principal is disassociated
            # (RAM guide, working-with-shared-invitations; docs/aws-behaviour.md, RAM-EXPIRY).
            if invitation.status == "PENDING":
                invitation.status = "EXPIRED"
                association = share.principals.get(account)
                if association is not None and association.status == "ASSOCIATING":
                    association.move("DISASSOCIATED", self.clock.now())

        # A deadline, not work in progress: quiescence does not wait 12 hours for it.
        self.later(self.invitation_ttl_seconds, expire, f"expire invitation {invitation.arn}", timer=True)
        self.event(account, share.region, {
            "event": "Resource Share Invitation", "status": "PENDING", "resourceShareArn": share.arn,
            "resourceShareInvitationArn": invitation.arn, "senderAccountId": share.account,
        }, [invitation.arn])
        self.event(share.account, share.region, {
            "event": "Resource Share Association", "status": "ASSOCIATING", "resourceShareArn": share.arn,
            "associatedEntity": account,
        }, [share.arn])

    def associate_principal(self, share: Share, account: str, *, fail_over_quota: bool = False) -> Association:
        """Associate an account principal: an invitation for another account. The callers check
        the pending-invitation quota first; with `fail_over_quota` (RAM's own asynchronous work,
        which has nobody to answer an error to) an association over the quota ends FAILED
        instead (stricter reading, UNVERIFIED: docs/aws-behaviour.md, RAM-QUOTA-INVITATIONS)."""
        now = self.clock.now()
        association = share.principals.get(account)
        if association is not None and association.status in LIVE:
            return association
        inside = is_org_principal(account) or self.state.in_shared_organization(share.account, account)
        external = account != share.account and not inside
        if association is None:
            association = Association(account, "PRINCIPAL", "ASSOCIATING", now, now, external=external)
            share.principals[account] = association
        association.status_message = None
        if account == share.account or inside:
            # The owner itself, or inside the organization with RAM sharing enabled: no
            # invitation, access at once (ORG-NO-INVITATION).
            association.move("ASSOCIATED", now)
            return association
        if fail_over_quota and not self.region_room(share, association, ram_quotas.PRINCIPAL):
            self.fail(share, association, ram_quotas.full_message(self.state, share.account, ram_quotas.PRINCIPAL))
            return association
        limit = self.state.quotas.pending_invitations_per_account
        if fail_over_quota and self.pending_invitations_sent(share.account, share.region) >= limit:
            self.fail(share, association,
                      f"The limit of {limit} pending invitations for account {share.account} was reached.")
            return association
        association.move("ASSOCIATING", now)
        self.invite(share, account)
        return association

    def add_unattachable(self, permission: Permission, label: str, client_token: Any) -> dict[str, Any]:
        """Store a new permission that becomes attachable a moment later (UNVERIFIED, the stricter
        reading: docs/aws-behaviour.md, RAM-PERMISSION-READY) and answer with it."""
        self.state.permissions[permission.arn] = permission

        def finish() -> None:
            if permission.status == "UNATTACHABLE":
                permission.status = "ATTACHABLE"
                permission.last_updated = self.clock.now()

        self.later(self.promotion_delay_seconds, finish, label)
        return {"permission": self.permission_out(permission), "clientToken": client_token}

    def check_dependent(self, account: str, region: str, share: Share, extra_resources: Iterable[str] = ()) -> None:
        """The caller must also be allowed to write each model package group's policy."""
        groups = {arn for arn, a in share.resources.items() if a.status in LIVE} | set(extra_resources)
        for arn in sorted(groups):
            if GROUP_ARN.fullmatch(arn):
                self.authorize_dependent(account, region, GROUP_POLICY_ACTION, arn)

