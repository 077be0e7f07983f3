"""RAM's owner side, managed permissions: creating, promoting, attaching and deleting them,
and reading them and where they are used."""

from __future__ import annotations

import json
from typing import Any

from localaws.core.errors import AwsError
from localaws.services.ram import quotas as ram_quotas
from localaws.services.ram.errors import (
    PERMISSION_CHANGE_ERRORS,
    check_share_arn,
    error,
)
from localaws.services.ram.model import unpromotable
from localaws.services.ram.requests import (
    PERMISSION_NAME,
    check_tags,
    idempotent,
    page_of,
)
from localaws.services.ram.state import RamStateMachine
from localaws.services.registry_state import (
    AWS_MANAGED_GROUP_PERMISSIONS,
    PERMISSION_ARN,
    Permission,
    as_list,
)


class PermissionOperations:
    """The operations on managed permissions and resource types."""

    OPERATIONS = frozenset({"AssociateResourceSharePermission", "CreatePermission", "DeletePermission",
                            "DisassociateResourceSharePermission", "GetPermission", "ListPermissionAssociations",
                            "ListPermissions", "ListResourceSharePermissions", "ListResourceTypes",
                            "PromotePermissionCreatedFromPolicy"})

    def __init__(self, ram: RamStateMachine) -> None:
        self.ram = ram
        self.state = ram.state
        self.clock = ram.clock

    def ListResourceSharePermissions(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceShareArn"]
        check_share_arn(arn)
        share = self.state.shares.get(arn)
        visible = share is not None and share.region == region and (
            share.account == account or self.ram.visible_to_principal(account, region, share))
        if share is None or not visible:
            raise error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        permissions = [self.state.permissions[p] for p in share.permission_arns]
        chunk, token = page_of(permissions, f"ListResourceSharePermissions|{account}|{arn}", params)
        return {"permissions": [self.ram.permission_out(p) for p in chunk], "nextToken": token}

    def ListResourceTypes(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("resourceRegionScope", "ALL")
        types = [t for t in self.ram.resource_types() if scope == "ALL" or t["resourceRegionScope"] == scope]
        chunk, token = page_of(types, f"ListResourceTypes|{account}|{scope}", params)
        return {"resourceTypes": chunk, "nextToken": token}

    def ListPermissions(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("permissionType", "ALL")
        permissions = [p for p in self.ram.managed_permissions(account, region) if kind == "ALL" or p.permission_type == kind]
        if "resourceType" in params:
            # "This parameter is not case sensitive" (ListPermissions, botocore ram model).
            permissions = [p for p in permissions if p.resource_type.lower() == params["resourceType"].lower()]
        permissions.sort(key=lambda p: (p.permission_type, p.name))
        chunk, token = page_of(permissions, f"ListPermissions|{account}|{region}", params)
        return {"permissions": [self.ram.permission_out(p) for p in chunk], "nextToken": token}

    def GetPermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        permission = self.ram.permission(account, region, params["permissionArn"], shared_with_caller=True)
        if params.get("permissionVersion", 1) != 1:
            raise error("InvalidParameterException", f"Permission {permission.arn} has no version {params['permissionVersion']}.")
        if permission.feature_set == "CREATED_FROM_POLICY":
            # The policy it was made from, statement by statement (format UNVERIFIED).
            document: Any = {"Version": "2012-10-17", "Statement": [
                {k: v for k, v in s.items() if k not in ("Sid", "Principal", "Resource")} for s in permission.statements]}
        else:
            # A managed permission's policy template: one statement, no principal or resource.
            document = permission.statements[0]
        return {"permission": {**self.ram.permission_out(permission), "permission": json.dumps(document)}}

    def _check_new_permission(self, account: str, region: str, name: str, resource_type: str) -> None:
        """A new customer managed permission: its name free in the Region, the type's quota not reached."""
        if any(p.name == name for p in self.ram.customer_managed(account, region)):
            # docs/aws-behaviour.md, RAM-PROMOTE-PERMISSION: the name is taken.
            raise AwsError("PermissionAlreadyExistsException",
                           f"A permission with the name {name} already exists in {region}. Choose a different name.")
        limit = self.state.quotas.customer_managed_permissions_per_resource_type
        if sum(1 for p in self.ram.customer_managed(account, region)
               if p.resource_type.lower() == resource_type.lower()) >= limit:
            raise error("PermissionLimitExceededException",
                        f"The operation would exceed the limit of {limit} customer managed permissions for "
                        f"resource type {resource_type} in {region}.")
        ram_quotas.check_customer_managed_total(self.state, account, region)

    def PromotePermissionCreatedFromPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        arn, name = params["permissionArn"], params["name"]
        if PERMISSION_ARN.fullmatch(arn) is None:
            raise error("MalformedArnException", f"The format of ARN {arn} is not valid.")
        if PERMISSION_NAME.fullmatch(name) is None:
            raise error("InvalidParameterException",
                        "name must be 1 to 36 letters, digits, hyphens or underscores.")
        source = self.state.permissions.get(arn)
        if source is None or source.account != account or source.region != region or source.status == "DELETED":
            raise error("UnknownResourceException", f"Permission {arn} could not be found.")

        def run() -> dict[str, Any]:
            if source.feature_set != "CREATED_FROM_POLICY":
                raise error("OperationNotPermittedException",
                            f"Permission {arn} is {source.feature_set}, not CREATED_FROM_POLICY.")
            problem = unpromotable(source.statements)
            if problem:
                raise error("OperationNotPermittedException", f"Permission {arn} cannot be promoted: {problem}.")
            self._check_new_permission(account, region, name, source.resource_type)
            now = self.clock.now()
            statement = source.statements[0]
            # A separate, new permission; the CREATED_FROM_POLICY one is left as it is
            # (docs/aws-behaviour.md, RAM-PROMOTE-PERMISSION). UNVERIFIED: it cannot be attached
            # until its promotion finishes (stricter reading).
            promoted = Permission(
                arn=f"arn:aws:ram:{region}:{account}:permission/{name}", account=account, region=region,
                name=name, resource_type=source.resource_type, feature_set="STANDARD",
                permission_type="CUSTOMER_MANAGED",
                statements=[{"Effect": "Allow", "Action": as_list(statement["Action"])}],
                creation_time=now, last_updated=now, status="UNATTACHABLE")
            return self.ram.add_unattachable(promoted, f"finish promoting permission {arn} as {name}",
                                             params.get("clientToken"))

        return idempotent(self.state, account, "PromotePermissionCreatedFromPolicy", params, run)

    def CreatePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name, resource_type = params["name"], params["resourceType"]
        if PERMISSION_NAME.fullmatch(name) is None:
            raise error("InvalidParameterException", "name must be 1 to 36 letters, digits, hyphens or underscores.")
        known = {t["resourceType"] for t in self.ram.resource_types()}
        if resource_type not in known:  # "case sensitive" (CreatePermission, botocore ram model)
            raise error("InvalidParameterException", f"Resource type {resource_type} is not supported.")
        if params.get("permissionTemplateParameters"):
            # Not modelled: modelshare declares none.
            raise error("InvalidParameterException", "permissionTemplateParameters are not supported here.")
        try:
            template = json.loads(params["policyTemplate"])
        except ValueError:
            raise error("MalformedPolicyTemplateException", "The policy template is not valid JSON.") from None
        statement = template if isinstance(template, dict) else None
        if statement is None or set(statement) - {"Effect", "Action", "Condition"} or str(statement.get("Effect")).lower() != "allow":
            raise error("MalformedPolicyTemplateException",
                        "The policy template holds Effect (Allow), Action and optionally Condition, nothing else.")
        actions = as_list(statement.get("Action"))
        # Stricter reading: an action is supported by a model package group when one of the AWS
        # managed permissions AWS documents for it grants it (the Service Authorization Reference
        # lists more); other types take none here.
        supported = {a.lower() for _, _, actions in AWS_MANAGED_GROUP_PERMISSIONS for a in actions} \
            if resource_type == self.state.group_type else set()
        if not actions or any(not isinstance(a, str) or a.lower() not in supported for a in actions):
            raise error("InvalidPolicyException", f"The actions {actions} are not all supported by {resource_type}.")

        def run() -> dict[str, Any]:
            self._check_new_permission(account, region, name, resource_type)
            now = self.clock.now()
            # UNVERIFIED whether a new permission is attachable at once (docs/aws-behaviour.md,
            # RAM-SET-ACTIONS): as a promoted one, not until a moment later.
            created = Permission(
                arn=f"arn:aws:ram:{region}:{account}:permission/{name}", account=account, region=region, name=name,
                resource_type=resource_type, feature_set="STANDARD", permission_type="CUSTOMER_MANAGED",
                statements=[{k: v for k, v in statement.items()}], creation_time=now, last_updated=now,
                status="UNATTACHABLE", tags=check_tags(self.state, params.get("tags", []), {}))
            return self.ram.add_unattachable(created, f"finish creating permission {name}", params.get("clientToken"))

        return idempotent(self.state, account, "CreatePermission", params, run)

    def AssociateResourceSharePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("permissionTemplateParameters"):
            raise error("InvalidParameterException", "permissionTemplateParameters are not supported here.")
        # Stricter reading: a share made from a policy (or being promoted) takes its permission
        # from the policy, never from this call (the operation's error list has these codes).
        share = self.ram.editable_share(account, region, params["resourceShareArn"], PERMISSION_CHANGE_ERRORS)
        permission = self.ram.permission_version(account, region, params)

        def run() -> dict[str, Any]:
            if permission.feature_set != "STANDARD" or permission.status != "ATTACHABLE":
                raise error("InvalidParameterException", f"Permission {permission.arn} cannot be attached.")
            kind = permission.resource_type.lower()
            current = [arn for arn in share.permission_arns if self.state.permissions[arn].resource_type.lower() == kind]
            if current and not params.get("replace", False):
                raise error("InvalidParameterException",
                            f"ResourceShare {share.arn} already has a permission for {permission.resource_type}; "
                            "set replace to replace it.")
            live_types = {self.state.resource_type(a.entity).lower() for a in share.resources.values()
                          if a.status == "ASSOCIATED"}
            if not current and kind in live_types:
                raise error("InvalidParameterException",
                            f"A permission can be added only while the share holds no resource of type {permission.resource_type}.")
            # Attaching a permission to a share needs the group's policy-writing action too.
            self.ram.check_dependent(account, region, share)
            share.permission_arns = [arn for arn in share.permission_arns if arn not in current] + [permission.arn]
            share.touch(self.clock.now())
            for arn in current:
                if arn != permission.arn:
                    self.ram.delete_if_unused(self.state.permissions[arn])
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, "AssociateResourceSharePermission", params, run)

    def DisassociateResourceSharePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        # A share made from a policy (or being promoted) takes its permission from the policy
        # (stricter reading, as AssociateResourceSharePermission).
        share = self.ram.editable_share(account, region, params["resourceShareArn"], PERMISSION_CHANGE_ERRORS)
        permission = self.ram.permission(account, region, params["permissionArn"])

        def run() -> dict[str, Any]:
            if permission.arn not in share.permission_arns:
                # Stricter reading (UNVERIFIED): taking off what is not on the share is an error.
                raise error("UnknownResourceException", f"Permission {permission.arn} is not associated with {share.arn}.")
            kind = permission.resource_type.lower()
            # "only if there are currently no resources of the relevant resource type currently
            # attached" (botocore ram model). Which error says so is UNVERIFIED (docs/aws-behaviour.md,
            # RAM-PERMISSION-OFF); stricter reading: one still disassociating counts as attached.
            if any(self.state.resource_type(a.entity).lower() == kind for a in share.resources.values()
                   if a.status != "DISASSOCIATED"):
                raise error("OperationNotPermittedException",
                            f"ResourceShare {share.arn} still holds resources of type {permission.resource_type}.")
            # Stricter reading (UNVERIFIED), as for attaching: the group's policy-writing action too.
            self.ram.check_dependent(account, region, share)
            share.permission_arns = [arn for arn in share.permission_arns if arn != permission.arn]
            share.touch(self.clock.now())
            self.ram.delete_if_unused(permission)
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, "DisassociateResourceSharePermission", params, run)

    def ListPermissionAssociations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        # Stricter reading (docs/aws-behaviour.md, RAM-PERMISSION-ASSOCIATIONS): the operation
        # "lists information about the managed permission" and nothing says that leaving
        # permissionArn out lists them all, so a call without one is refused with an error the
        # operation documents.
        if "permissionArn" not in params:
            raise error("InvalidParameterException", "permissionArn is required: name the managed permission.")
        self.ram.permission(account, region, params["permissionArn"])
        if "resourceShareArn" in params:
            check_share_arn(params["resourceShareArn"])
        owner = params.get("resourceOwner", "SELF")
        found = []
        for share in sorted(self.state.shares.values(), key=lambda s: (s.creation_time, s.arn)):
            if share.region != region or share.status == "DELETED":
                continue
            if owner == "SELF" and share.account != account:
                continue
            if owner == "OTHER-ACCOUNTS" and (share.account == account or self.state.principal_status(share, account) != "ASSOCIATED"):
                continue
            # featureSet and resourceType are the share's: its feature set, a type it holds.
            held = {self.state.resource_type(a.entity).lower() for a in share.resources.values() if a.status == "ASSOCIATED"}
            if "resourceType" in params and params["resourceType"].lower() not in held:
                continue
            for arn in share.permission_arns:
                permission = self.state.permissions[arn]
                checks = {"permissionArn": permission.arn, "resourceShareArn": share.arn, "featureSet": share.feature_set,
                          "associationStatus": "ASSOCIATED", "permissionVersion": 1, "defaultVersion": True}
                if any(key in params and params[key] != value for key, value in checks.items()):
                    continue
                found.append((share, permission))
        chunk, token = page_of(found, f"ListPermissionAssociations|{account}|{region}|{owner}", params)
        return {"permissions": [{
            "arn": p.arn, "permissionVersion": "1", "defaultVersion": True, "resourceType": p.resource_type,
            "status": "ASSOCIATED", "featureSet": p.feature_set, "lastUpdatedTime": s.last_updated,
            "resourceShareArn": s.arn} for s, p in chunk], "nextToken": token}

    def DeletePermission(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        permission = self.ram.permission(account, region, params["permissionArn"])

        def run() -> dict[str, Any]:
            if permission.permission_type != "CUSTOMER_MANAGED" or permission.feature_set != "STANDARD":
                raise error("OperationNotPermittedException", f"Permission {permission.arn} cannot be deleted.")
            if any(permission.arn in s.permission_arns for s in self.state.shares.values() if s.status == "ACTIVE"):
                raise error("OperationNotPermittedException",
                            f"Permission {permission.arn} is associated with resource shares.")
            permission.status = "DELETED"
            permission.last_updated = self.clock.now()
            return {"returnValue": True, "clientToken": params.get("clientToken"), "permissionStatus": "DELETED"}

        return idempotent(self.state, account, "DeletePermission", params, run)

