"""Emulated AWS RAM (rest-json protocol), owner and consumer sides, for model package groups.

AWS's own asynchronous work (creating a share from a policy, finishing a promotion, expiring an
invitation) runs as internal tasks on the SimClock. Where AWS's behaviour is not documented the
stricter reading is taken; each such place says so.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from localaws.clock import SimClock
from localaws.errors import AwsError
from localaws.registry_state import (
    ACCOUNT,
    GROUP_ARN,
    GROUP_TYPE,
    INVITATION_ARN,
    PERMISSION_ARN,
    SHARE_ARN,
    Association,
    Group,
    Invitation,
    Permission,
    RegistryState,
    Share,
    as_list,
    page,
    principal_account,
    statement_principals,
)

Emit = Callable[[str, str, str, str, dict[str, Any], list[str]], None]
_ANY_ARN = re.compile(r"arn:aws[a-z\-]*:[a-z0-9\-]+:[a-z0-9\-]*:(\d{12}|aws)?:.+")
_PERMISSION_NAME = re.compile(r"[A-Za-z0-9_\-]{1,36}")
_INVITATION_VISIBLE = timedelta(days=7)
_DETAIL_TYPE = "Resource Sharing State Change"
_RESOURCE_TYPES = [
    {"resourceType": GROUP_TYPE, "serviceName": "sagemaker", "resourceRegionScope": "REGIONAL"},
    {"resourceType": "ec2:Subnet", "serviceName": "ec2", "resourceRegionScope": "REGIONAL"},
    {"resourceType": "glue:Catalog", "serviceName": "glue", "resourceRegionScope": "REGIONAL"},
    {"resourceType": "route53profiles:Profile", "serviceName": "route53profiles", "resourceRegionScope": "GLOBAL"},
]


def _error(code: str, message: str) -> AwsError:
    return AwsError(code, message)


class Ram:
    OPERATIONS = frozenset({
        "GetResourceShares", "GetResourceShareAssociations", "ListResourceSharePermissions",
        "ListResourceTypes", "ListPermissions", "PromotePermissionCreatedFromPolicy",
        "PromoteResourceShareCreatedFromPolicy", "GetResourceShareInvitations",
        "ListPendingInvitationResources", "AcceptResourceShareInvitation", "RejectResourceShareInvitation",
        "AssociateResourceShare", "DisassociateResourceShare", "DeleteResourceShare",
    })
    # UNVERIFIED: RAM's default page size is operation specific; a small one makes callers page.
    DEFAULT_MAX_RESULTS = 10

    def __init__(self, state: RegistryState, clock: SimClock, emit: Emit, *,
                 promotion_delay_seconds: float, invitation_ttl_seconds: float) -> None:
        self.state = state
        self.clock = clock
        self.emit = emit
        self.promotion_delay_seconds = promotion_delay_seconds
        self.invitation_ttl_seconds = invitation_ttl_seconds
        self._aws_managed_permissions()

    def _aws_managed_permissions(self) -> None:
        """AWS managed permissions. Their names are random per emulator on purpose: the real names
        for sagemaker:ModelPackageGroup are UNVERIFIED, so clients must look them up at run time."""
        suffix = secrets.token_hex(3)
        now = self.clock.now()
        read = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages"]
        for name, resource_type, actions, default in [
            (f"AWSRAMDefaultPermissionSageMakerModelPackageGroup{suffix}", GROUP_TYPE, read, True),
            (f"AWSRAMPermissionSageMakerModelPackageGroupRegister{suffix}", GROUP_TYPE,
             [*read, "sagemaker:CreateModelPackage"], False),
            (f"AWSRAMDefaultPermissionSubnet{suffix}", "ec2:Subnet", ["ec2:RunInstances"], True),
        ]:
            arn = f"arn:aws:ram::aws:permission/{name}"
            self.state.permissions[arn] = Permission(
                arn=arn, account="aws", region="", name=name, resource_type=resource_type,
                feature_set="STANDARD", permission_type="AWS_MANAGED",
                statements=[{"Effect": "Allow", "Action": actions}], creation_time=now, last_updated=now,
                is_default=default)

    # -- helpers -----------------------------------------------------------------------------
    def _later(self, delay: float, run: Callable[[], None], label: str, *, timer: bool = False) -> None:
        self.clock.call_later(delay, run, f"ram: {label}", internal=True, timer=timer)

    def _event(self, account: str, region: str, detail: dict[str, Any], resources: list[str]) -> None:
        # AWS's documented example pattern matches "status": ["failed"]: statuses are lower case
        # in events (unlike the API's). Only `event` and `status` are documented; the other
        # detail fields are this emulator's guess, and modelshare reads none of them.
        self.emit(account, region, "aws.ram", _DETAIL_TYPE, {**detail, "status": detail["status"].lower()}, resources)

    @staticmethod
    def _check_share_arn(arn: str) -> None:
        if SHARE_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")

    def _owned_share(self, account: str, region: str, arn: str) -> Share:
        self._check_share_arn(arn)
        share = self.state.shares.get(arn)
        if share is None or share.account != account or share.region != region:
            raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        return share

    def _editable_share(self, account: str, region: str, arn: str) -> Share:
        share = self._owned_share(account, region, arn)
        if share.feature_set == "CREATED_FROM_POLICY":
            raise _error("OperationNotPermittedException",
                         f"Resource share {arn} was created from a resource policy and cannot be modified "
                         "through RAM. Promote it first.")
        if share.feature_set == "PROMOTING_TO_STANDARD":
            raise _error("InvalidStateTransitionException", f"Resource share {arn} is being promoted.")
        if share.status != "ACTIVE":
            raise _error("InvalidStateTransitionException", f"Resource share {arn} is {share.status}.")
        return share

    def _visible_invitation(self, account: str, region: str, arn: str) -> Invitation:
        if INVITATION_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        invitation = self.state.invitations.get(arn)
        if (invitation is None or invitation.region != region
                or self.clock.now() - invitation.timestamp > _INVITATION_VISIBLE):
            raise _error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} not found.")
        return invitation

    def _page(self, items: list[Any], scope: str, params: dict[str, Any]) -> tuple[list[Any], str | None]:
        return page(items, scope=scope, token=params.get("nextToken"), max_results=params.get("maxResults"),
                    default_max=self.DEFAULT_MAX_RESULTS,
                    invalid_token=lambda: _error("InvalidNextTokenException", "The specified value for nextToken is not valid."))

    def _idempotent(self, account: str, operation: str, params: dict[str, Any],
                    run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        token = params.get("clientToken")
        if token is None:
            return run()
        key = (account, operation, token)
        fingerprint = json.dumps({k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True, default=str)
        if key in self.state.idempotency:
            seen, response = self.state.idempotency[key]
            if seen != fingerprint:
                raise _error("IdempotentParameterMismatchException",
                             f"The client token {token} was already used with different parameters.")
            return response
        response = run()
        self.state.idempotency[key] = (fingerprint, response)
        return response

    @staticmethod
    def _share_out(share: Share) -> dict[str, Any]:
        return {
            "resourceShareArn": share.arn, "name": share.name, "owningAccountId": share.account,
            "allowExternalPrincipals": share.allow_external_principals, "status": share.status,
            "creationTime": share.creation_time, "lastUpdatedTime": share.last_updated,
            "featureSet": share.feature_set,
        }

    @staticmethod
    def _association_out(share: Share, association: Association) -> dict[str, Any]:
        return {
            "resourceShareArn": share.arn, "resourceShareName": share.name,
            "associatedEntity": association.entity, "associationType": association.kind,
            "status": association.status, "creationTime": association.creation_time,
            "lastUpdatedTime": association.last_updated, "external": association.external,
        }

    @staticmethod
    def _permission_out(permission: Permission) -> dict[str, Any]:
        return {
            "arn": permission.arn, "version": "1", "defaultVersion": True, "name": permission.name,
            "resourceType": permission.resource_type, "status": permission.status,
            "creationTime": permission.creation_time, "lastUpdatedTime": permission.last_updated,
            "isResourceTypeDefault": permission.is_default, "permissionType": permission.permission_type,
            "featureSet": permission.feature_set,
        }

    def _invitation_out(self, invitation: Invitation) -> dict[str, Any]:
        share = self.state.shares[invitation.share_arn]
        return {
            "resourceShareInvitationArn": invitation.arn, "resourceShareName": share.name,
            "resourceShareArn": share.arn, "senderAccountId": invitation.sender,
            "receiverAccountId": invitation.receiver, "invitationTimestamp": invitation.timestamp,
            "status": invitation.status,
        }

    # -- the share a resource policy creates (called from SageMaker, run as clock tasks) -------
    def sync_share_from_policy(self, group: Group) -> None:
        """Create, update or delete the CREATED_FROM_POLICY share for `group`'s current policy."""
        if self.state.groups_in(group.account, group.region).get(group.name) is not group:
            return  # the group was deleted meanwhile
        share = next((s for s in self.state.shares.values()
                      if s.from_policy_of == group.arn and s.status == "ACTIVE" and s.has_resource(group.arn)), None)
        if share is not None and share.feature_set != "CREATED_FROM_POLICY":
            # UNVERIFIED what AWS does; stricter reading: a promoted share is RAM's now, and a later
            # PutModelPackageGroupPolicy does not touch it. Change principals through RAM.
            return
        now = self.clock.now()
        if group.policy is None:
            if share is not None:
                self._retire(share)
            return
        statements = as_list(json.loads(group.policy)["Statement"])
        principals: list[str] = []
        for statement in statements:
            principals += [p for p in statement_principals(statement) if p not in principals]
        if share is None:
            share = Share(arn=f"arn:aws:ram:{group.region}:{group.account}:resource-share/{uuid.uuid4()}",
                          account=group.account, region=group.region, name=f"LinkedResourceShare-{uuid.uuid4()}",
                          feature_set="CREATED_FROM_POLICY", creation_time=now, last_updated=now,
                          from_policy_of=group.arn)
            share.resources[group.arn] = Association(group.arn, "RESOURCE", "ASSOCIATED", now, now)
            name = f"CreatedFromPolicy-{uuid.uuid4().hex[:16]}"
            permission = Permission(
                arn=f"arn:aws:ram:{group.region}:{group.account}:permission/{name}", account=group.account,
                region=group.region, name=name, resource_type=GROUP_TYPE, feature_set="CREATED_FROM_POLICY",
                permission_type="CUSTOMER_MANAGED", statements=statements, creation_time=now, last_updated=now)
            self.state.permissions[permission.arn] = permission
            share.permission_arns.append(permission.arn)
            self.state.shares[share.arn] = share
            created = True
        else:
            permission = self.state.permissions[share.permission_arns[0]]
            permission.statements = statements
            permission.last_updated = now
            share.touch(now)
            created = False
        for principal in principals:
            association = share.principals.get(principal)
            if association is None:
                share.principals[principal] = Association(principal, "PRINCIPAL", "ASSOCIATED", now, now,
                                                          external=principal_account(principal) != group.account)
            else:
                association.move("ASSOCIATED", now)
        for entity, association in share.principals.items():
            if entity not in principals:
                association.move("DISASSOCIATED", now)
        if created:
            self._event(group.account, group.region, {"event": "Resource Share Association", "status": "ASSOCIATED",
                                                      "resourceShareArn": share.arn,
                                                      "associatedEntity": group.arn}, [share.arn])

    def _retire(self, share: Share) -> None:
        now = self.clock.now()
        share.status = "DELETED"
        share.touch(now)
        for association in [*share.resources.values(), *share.principals.values()]:
            association.move("DISASSOCIATED", now)

    def on_group_deleted(self, group: Group) -> None:
        now = self.clock.now()
        for share in self.state.shares.values():
            if group.arn in share.resources:
                share.resources[group.arn].move("DISASSOCIATED", now)
                share.touch(now)

    # -- invitations -------------------------------------------------------------------------
    def _invite(self, share: Share, account: str) -> None:
        now = self.clock.now()
        invitation = Invitation(
            arn=f"arn:aws:ram:{share.region}:{share.account}:resource-share-invitation/{uuid.uuid4()}",
            share_arn=share.arn, sender=share.account, receiver=account, region=share.region,
            status="PENDING", timestamp=now)
        self.state.invitations[invitation.arn] = invitation

        def expire() -> None:
            if invitation.status == "PENDING":
                invitation.status = "EXPIRED"
                association = share.principals.get(account)
                if association is not None and association.status == "ASSOCIATING":
                    association.move("FAILED", self.clock.now())

        # A deadline, not work in progress: quiescence does not wait 12 hours for it.
        self._later(self.invitation_ttl_seconds, expire, f"expire invitation {invitation.arn}", timer=True)
        self._event(account, share.region, {
            "event": "Resource Share Invitation", "status": "PENDING", "resourceShareArn": share.arn,
            "resourceShareInvitationArn": invitation.arn, "senderAccountId": share.account,
        }, [invitation.arn])
        self._event(share.account, share.region, {
            "event": "Resource Share Association", "status": "ASSOCIATING", "resourceShareArn": share.arn,
            "associatedEntity": account,
        }, [share.arn])

    def _associate_principal(self, share: Share, account: str) -> Association:
        now = self.clock.now()
        association = share.principals.get(account)
        if association is not None and association.status in ("ASSOCIATED", "ASSOCIATING"):
            return association
        external = account != share.account
        if association is None:
            association = Association(account, "PRINCIPAL", "ASSOCIATING", now, now, external=external)
            share.principals[account] = association
        association.move("ASSOCIATING" if external else "ASSOCIATED", now)
        if external:
            self._invite(share, account)
        return association

    # -- owner side --------------------------------------------------------------------------
    def GetResourceShares(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("resourceShareArns")
        for arn in wanted or []:
            self._check_share_arn(arn)
            if arn not in self.state.shares:
                raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        if params["resourceOwner"] == "SELF":
            shares = [s for s in self.state.shares.values() if s.account == account and s.region == region]
        else:
            # CREATED_FROM_POLICY shares are visible to their owner only.
            shares = [s for s in self.state.shares.values()
                      if s.account != account and s.region == region and s.feature_set != "CREATED_FROM_POLICY"
                      and s.principal_status(account) == "ASSOCIATED"]
        if wanted is not None:
            shares = [s for s in shares if s.arn in wanted]
        if "resourceShareStatus" in params:
            shares = [s for s in shares if s.status == params["resourceShareStatus"]]
        if "name" in params:
            shares = [s for s in shares if s.name == params["name"]]
        if "permissionArn" in params:
            if PERMISSION_ARN.fullmatch(params["permissionArn"]) is None:
                raise _error("MalformedArnException", f"The format of ARN {params['permissionArn']} is not valid.")
            shares = [s for s in shares if params["permissionArn"] in s.permission_arns]
        if params.get("tagFilters"):
            shares = []  # emulated shares carry no tags
        shares.sort(key=lambda s: (s.creation_time, s.arn))
        chunk, token = self._page(shares, f"GetResourceShares|{account}|{region}|{params['resourceOwner']}", params)
        return {"resourceShares": [self._share_out(s) for s in chunk], "nextToken": token}

    def GetResourceShareAssociations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = params["associationType"]
        if "resourceArn" in params and kind != "RESOURCE":
            raise _error("InvalidParameterException", "resourceArn can be used only with associationType RESOURCE.")
        if "principal" in params and kind != "PRINCIPAL":
            raise _error("InvalidParameterException", "principal can be used only with associationType PRINCIPAL.")
        if "resourceArn" in params and _ANY_ARN.fullmatch(params["resourceArn"]) is None:
            raise _error("MalformedArnException", f"The format of ARN {params['resourceArn']} is not valid.")
        shares = [self._owned_share(account, region, arn) for arn in params.get("resourceShareArns", [])] or [
            s for s in self.state.shares.values() if s.account == account and s.region == region]
        shares.sort(key=lambda s: (s.creation_time, s.arn))
        found = []
        for share in shares:
            pool = {"PRINCIPAL": share.principals, "RESOURCE": share.resources}.get(kind, {})
            for association in pool.values():
                if "resourceArn" in params and association.entity != params["resourceArn"]:
                    continue
                if "principal" in params and association.entity != params["principal"]:
                    continue
                if "associationStatus" in params and association.status != params["associationStatus"]:
                    continue
                found.append((share, association))
        chunk, token = self._page(found, f"GetResourceShareAssociations|{account}|{region}|{kind}", params)
        return {"resourceShareAssociations": [self._association_out(s, a) for s, a in chunk], "nextToken": token}

    def ListResourceSharePermissions(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceShareArn"]
        self._check_share_arn(arn)
        share = self.state.shares.get(arn)
        visible = share is not None and share.region == region and (
            share.account == account
            or (share.feature_set != "CREATED_FROM_POLICY" and share.principal_status(account) == "ASSOCIATED"))
        if not visible:
            raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        permissions = [self.state.permissions[p] for p in share.permission_arns]
        chunk, token = self._page(permissions, f"ListResourceSharePermissions|{account}|{arn}", params)
        return {"permissions": [self._permission_out(p) for p in chunk], "nextToken": token}

    def ListResourceTypes(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("resourceRegionScope", "ALL")
        types = [t for t in _RESOURCE_TYPES if scope == "ALL" or t["resourceRegionScope"] == scope]
        chunk, token = self._page(types, f"ListResourceTypes|{account}|{scope}", params)
        return {"resourceTypes": [dict(t) for t in chunk], "nextToken": token}

    def ListPermissions(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("permissionType", "ALL")
        permissions = [
            p for p in self.state.permissions.values()
            if (p.permission_type == "AWS_MANAGED"
                or (p.account == account and p.region == region and p.feature_set == "STANDARD"
                    and p.promoted_to is None and p.status != "DELETED"))
            and (kind == "ALL" or p.permission_type == kind)
        ]
        if "resourceType" in params:
            permissions = [p for p in permissions if p.resource_type == params["resourceType"]]
        if "permissionStatus" in params:
            permissions = [p for p in permissions if p.status == params["permissionStatus"]]
        if params.get("resourceOwner") == "OTHER-ACCOUNTS":
            permissions = []  # no account shares its customer managed permissions here
        permissions.sort(key=lambda p: (p.permission_type, p.name))
        chunk, token = self._page(permissions, f"ListPermissions|{account}|{region}", params)
        return {"permissions": [self._permission_out(p) for p in chunk], "nextToken": token}

    def PromotePermissionCreatedFromPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn, name = params["permissionArn"], params["name"]
        if PERMISSION_ARN.fullmatch(arn) is None:
            raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        if _PERMISSION_NAME.fullmatch(name) is None:
            raise _error("InvalidParameterException",
                         "name must be 1 to 36 letters, digits, hyphens or underscores.")
        source = self.state.permissions.get(arn)
        if source is None or source.account != account or source.region != region:
            raise _error("UnknownResourceException", f"Permission {arn} could not be found.")

        def run() -> dict[str, Any]:
            if source.feature_set != "CREATED_FROM_POLICY":
                raise _error("OperationNotPermittedException",
                             f"Permission {arn} is {source.feature_set}, not CREATED_FROM_POLICY.")
            problem = _unpromotable(source.statements)
            if problem:
                raise _error("OperationNotPermittedException", f"Permission {arn} cannot be promoted: {problem}.")
            if any(p.account == account and p.region == region and p.permission_type == "CUSTOMER_MANAGED"
                   and p.feature_set != "CREATED_FROM_POLICY" and p.name == name and p.status != "DELETED"
                   and p.promoted_to is None
                   for p in self.state.permissions.values()):
                raise _error("InvalidParameterException", f"A permission named {name} already exists.")
            now = self.clock.now()
            statement = source.statements[0]
            # UNVERIFIED: the new permission cannot be attached until the promotion finishes
            # (stricter reading: PromoteResourceShareCreatedFromPolicy must wait for it).
            promoted = Permission(
                arn=f"arn:aws:ram:{region}:{account}:permission/{name}", account=account, region=region,
                name=name, resource_type=source.resource_type, feature_set="STANDARD",
                permission_type="CUSTOMER_MANAGED",
                statements=[{"Effect": "Allow", "Action": as_list(statement["Action"])}],
                creation_time=now, last_updated=now, status="UNATTACHABLE")
            self.state.permissions[promoted.arn] = promoted
            source.feature_set = "PROMOTING_TO_STANDARD"
            source.promoted_to = promoted.arn
            source.last_updated = now

            def finish() -> None:
                source.feature_set = "STANDARD"
                promoted.status = "ATTACHABLE"
                source.last_updated = promoted.last_updated = self.clock.now()

            self._later(self.promotion_delay_seconds, finish, f"finish promoting permission {arn}")
            return {"permission": self._permission_out(promoted), "clientToken": params.get("clientToken")}

        return self._idempotent(account, "PromotePermissionCreatedFromPolicy", params, run)

    def PromoteResourceShareCreatedFromPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._owned_share(account, region, params["resourceShareArn"])
        if share.status != "ACTIVE" or share.feature_set != "CREATED_FROM_POLICY":
            raise _error("InvalidStateTransitionException",
                         f"Resource share {share.arn} is {share.status} with featureSet {share.feature_set}.")
        principals = [a.entity for a in share.principals.values() if a.status == "ASSOCIATED"]
        not_accounts = [p for p in principals if principal_account(p) is None]
        if not_accounts:
            raise _error("OperationNotPermittedException",
                         f"Resource share {share.arn} has principals that are not accounts: {not_accounts}.")
        source = self.state.permissions[share.permission_arns[0]]
        match = next((p for p in self.state.permissions.values()
                      if p.account == account and p.region == region and p.permission_type == "CUSTOMER_MANAGED"
                      and p.feature_set == "STANDARD" and p.promoted_to is None and p.status == "ATTACHABLE"
                      and p.resource_type == source.resource_type and p.actions() == source.actions()), None)
        if match is None:
            raise _error("UnmatchedPolicyPermissionException",
                         f"No customer managed permission matches {source.arn} exactly: promote it first.")
        share.feature_set = "PROMOTING_TO_STANDARD"
        share.touch(self.clock.now())

        def finish() -> None:
            if share.status != "ACTIVE" or share.feature_set != "PROMOTING_TO_STANDARD":
                return
            now = self.clock.now()
            share.feature_set = "STANDARD"
            share.permission_arns = [match.arn]
            share.touch(now)
            for arn in share.resources:
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
            old = dict(share.principals)
            share.principals = {}
            for entity, association in old.items():
                member = principal_account(entity)
                if association.status != "ASSOCIATED" or member is None:
                    share.principals.setdefault(entity, association)
                elif member == account:
                    share.principals[member] = Association(member, "PRINCIPAL", "ASSOCIATED", now, now)
                elif member not in share.principals:
                    # Principals are accounts from now on; each must accept an invitation.
                    self._associate_principal(share, member)

        self._later(self.promotion_delay_seconds, finish, f"finish promoting share {share.arn}")
        return {"returnValue": True}

    def AssociateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._editable_share(account, region, params["resourceShareArn"])
        principals, resources = self._check_members(account, region, params)

        def run() -> dict[str, Any]:
            now = self.clock.now()
            out = [self._association_out(share, self._associate_principal(share, p)) for p in principals]
            for arn in resources:
                association = share.resources.setdefault(arn, Association(arn, "RESOURCE", "ASSOCIATED", now, now))
                association.move("ASSOCIATED", now)
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
                out.append(self._association_out(share, association))
            share.touch(now)
            return {"resourceShareAssociations": out, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "AssociateResourceShare", params, run)

    def DisassociateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._editable_share(account, region, params["resourceShareArn"])
        principals, resources = self._check_members(account, region, params)

        def run() -> dict[str, Any]:
            now = self.clock.now()
            out = []
            for entity, pool in [(p, share.principals) for p in principals] + [(r, share.resources) for r in resources]:
                association = pool.get(entity)
                if association is None or association.status not in ("ASSOCIATED", "ASSOCIATING"):
                    # Stricter reading (UNVERIFIED): disassociating what is not associated is an error.
                    raise _error("UnknownResourceException", f"{entity} is not associated with {share.arn}.")
            for entity, pool in [(p, share.principals) for p in principals] + [(r, share.resources) for r in resources]:
                association = pool[entity]
                association.move("DISASSOCIATING", now)  # access ends now
                self._later(1.0, lambda a=association: a.move("DISASSOCIATED", self.clock.now()),
                            f"disassociate {entity} from {share.arn}")
                out.append(self._association_out(share, association))
            share.touch(now)
            return {"resourceShareAssociations": out, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "DisassociateResourceShare", params, run)

    def _check_members(self, account: str, region: str, params: dict[str, Any]) -> tuple[list[str], list[str]]:
        if params.get("sources"):
            raise _error("InvalidParameterException", "sources are not supported for sagemaker:ModelPackageGroup.")
        principals, resources = params.get("principals", []), params.get("resourceArns", [])
        if not principals and not resources:
            raise _error("InvalidParameterException", "Specify principals or resourceArns.")
        for principal in principals:
            # Stricter reading: model package groups are shared with accounts only (not with IAM
            # roles/users, organizations or OUs).
            if ACCOUNT.fullmatch(principal) is None:
                raise _error("InvalidParameterException", f"Principal {principal} is not an AWS account ID.")
            if principal == account:
                raise _error("InvalidParameterException", "A resource share cannot have its owner as a principal.")
        for arn in resources:
            if _ANY_ARN.fullmatch(arn) is None:
                raise _error("MalformedArnException", f"The format of ARN {arn} is not valid.")
            if arn in self.state.other_resources and arn.split(":")[3:5] == [region, account]:
                continue
            match = GROUP_ARN.fullmatch(arn)
            if match is None or match.group(2) != account or match.group(1) != region or self.state.group_by_arn(arn) is None:
                raise _error("UnknownResourceException", f"Resource {arn} could not be found.")
        return principals, resources

    def DeleteResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self._owned_share(account, region, params["resourceShareArn"])

        def run() -> dict[str, Any]:
            if share.feature_set == "CREATED_FROM_POLICY":
                # Stricter reading: the policy owns it; delete the resource policy instead.
                raise _error("OperationNotPermittedException",
                             f"Resource share {share.arn} was created from a resource policy and cannot be deleted through RAM.")
            if share.feature_set == "PROMOTING_TO_STANDARD":
                raise _error("InvalidStateTransitionException", f"Resource share {share.arn} is being promoted.")
            if share.status != "ACTIVE":
                raise _error("InvalidStateTransitionException", f"Resource share {share.arn} is {share.status}.")
            self._retire(share)
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return self._idempotent(account, "DeleteResourceShare", params, run)

    # -- consumer side -----------------------------------------------------------------------
    def GetResourceShareInvitations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("resourceShareInvitationArns")
        for arn in wanted or []:
            invitation = self._visible_invitation(account, region, arn)
            if invitation.receiver != account:
                raise _error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} not found.")
        for arn in params.get("resourceShareArns", []):
            self._check_share_arn(arn)
        now = self.clock.now()
        invitations = [i for i in self.state.invitations.values()
                       if i.receiver == account and i.region == region and now - i.timestamp <= _INVITATION_VISIBLE
                       and (wanted is None or i.arn in wanted)
                       and ("resourceShareArns" not in params or i.share_arn in params["resourceShareArns"])]
        invitations.sort(key=lambda i: (i.timestamp, i.arn))
        chunk, token = self._page(invitations, f"GetResourceShareInvitations|{account}|{region}", params)
        return {"resourceShareInvitations": [self._invitation_out(i) for i in chunk], "nextToken": token}

    def ListPendingInvitationResources(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        invitation = self._visible_invitation(account, region, params["resourceShareInvitationArn"])
        if invitation.receiver != account:
            raise _error("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {invitation.arn} not found.")
        # Stricter reading for ACCEPTED (UNVERIFIED; not among this operation's documented
        # errors): the invitation is no longer pending, so there is nothing pending to list.
        self._require_pending(invitation)
        share = self.state.shares[invitation.share_arn]
        scope = params.get("resourceRegionScope", "ALL")
        resources = [a for a in share.resources.values() if a.status == "ASSOCIATED"] if scope != "GLOBAL" else []
        chunk, token = self._page(resources, f"ListPendingInvitationResources|{account}|{invitation.arn}", params)
        return {"resources": [{
            "arn": a.entity, "type": self.state.resource_type(a.entity), "resourceShareArn": share.arn,
            "status": "AVAILABLE",
            "creationTime": a.creation_time, "lastUpdatedTime": a.last_updated, "resourceRegionScope": "REGIONAL",
        } for a in chunk], "nextToken": token}

    @staticmethod
    def _require_pending(invitation: Invitation) -> None:
        errors = {
            "ACCEPTED": ("ResourceShareInvitationAlreadyAcceptedException", "was already accepted"),
            "REJECTED": ("ResourceShareInvitationAlreadyRejectedException", "was already rejected"),
            "EXPIRED": ("ResourceShareInvitationExpiredException", "has expired"),
        }
        if invitation.status in errors:
            code, words = errors[invitation.status]
            raise _error(code, f"{invitation.arn} {words}.")

    def _answer_invitation(self, account: str, region: str, params: dict[str, Any], accept: bool) -> dict[str, Any]:
        invitation = self._visible_invitation(account, region, params["resourceShareInvitationArn"])
        operation = "AcceptResourceShareInvitation" if accept else "RejectResourceShareInvitation"

        def run() -> dict[str, Any]:
            if invitation.receiver != account:
                raise _error("OperationNotPermittedException", f"{invitation.arn} is not addressed to {account}.")
            self._require_pending(invitation)
            share = self.state.shares[invitation.share_arn]
            association = share.principals.get(account)
            if share.status != "ACTIVE" or association is None or association.status != "ASSOCIATING":
                # Stricter reading (UNVERIFIED): the owner withdrew the share or this principal.
                raise _error("OperationNotPermittedException", f"{share.arn} is no longer shared with {account}.")
            now = self.clock.now()
            invitation.status = "ACCEPTED" if accept else "REJECTED"
            association.move("ASSOCIATED" if accept else "DISASSOCIATED", now)
            share.touch(now)
            status = "ASSOCIATED" if accept else "DISASSOCIATED"
            self._event(share.account, share.region, {
                "event": "Resource Share Association", "status": status, "resourceShareArn": share.arn,
                "associatedEntity": account}, [share.arn])
            self._event(account, share.region, {
                "event": "Resource Share Invitation", "status": invitation.status, "resourceShareArn": share.arn,
                "resourceShareInvitationArn": invitation.arn, "senderAccountId": share.account}, [invitation.arn])
            return {"resourceShareInvitation": self._invitation_out(invitation), "clientToken": params.get("clientToken")}

        return self._idempotent(account, operation, params, run)

    def AcceptResourceShareInvitation(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._answer_invitation(account, region, params, accept=True)

    def RejectResourceShareInvitation(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._answer_invitation(account, region, params, accept=False)


def _unpromotable(statements: list[dict[str, Any]]) -> str | None:
    """Why a CREATED_FROM_POLICY permission cannot become a customer managed one (None if it can)."""
    if len(statements) != 1:
        return "a customer managed permission holds exactly one statement"
    statement = statements[0]
    if statement.get("Effect") != "Allow":
        return "only Allow statements can be promoted"
    for key in ("NotAction", "NotPrincipal", "NotResource"):
        if key in statement:
            return f"{key} is not supported"
    if "Condition" in statement:
        return "conditions are not supported"
    actions = as_list(statement.get("Action"))
    if not actions or any("*" in str(a) for a in actions):
        return "actions must be listed explicitly, without wildcards"
    return None
