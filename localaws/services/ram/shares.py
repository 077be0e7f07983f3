"""RAM's owner side, shares: creating, changing, tagging, promoting and deleting them, and
reading them and their associations."""

from __future__ import annotations

import uuid
from typing import Any

from localaws.services.organizations.api import is_org_principal
from localaws.services.ram import quotas as ram_quotas
from localaws.services.ram.errors import (
    TAG_ERRORS,
    check_share_arn,
    error,
)
from localaws.services.ram.model import LIVE
from localaws.services.ram.requests import (
    ANY_ARN,
    SHARE_NAME,
    check_tags,
    idempotent,
    page_of,
)
from localaws.services.ram.state import RamStateMachine
from localaws.services.registry_state import (
    ACCOUNT,
    GROUP_ARN,
    PERMISSION_ARN,
    SHARE_ARN,
    Association,
    Permission,
    Share,
    principal_account,
)
from localaws.services.ssm import sharing as ssm_sharing


class ShareOperations:
    """The operations on resource shares, as their owner calls them."""

    OPERATIONS = frozenset({"AssociateResourceShare", "CreateResourceShare", "DeleteResourceShare", "DisassociateResourceShare",
                            "EnableSharingWithAwsOrganization", "GetResourceShareAssociations", "GetResourceShares",
                            "PromoteResourceShareCreatedFromPolicy", "TagResource", "UntagResource"})

    def __init__(self, ram: RamStateMachine) -> None:
        self.ram = ram
        self.state = ram.state
        self.clock = ram.clock

    def GetResourceShares(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("resourceShareArns")
        for arn in wanted or []:
            check_share_arn(arn)
            if arn not in self.state.shares:
                raise error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        if params["resourceOwner"] == "SELF":
            shares = [s for s in self.state.shares.values() if s.account == account and s.region == region]
        else:
            # CREATED_FROM_POLICY shares are visible to their owner only.
            shares = [s for s in self.state.shares.values()
                      if s.account != account and s.region == region and s.feature_set != "CREATED_FROM_POLICY"
                      and self.state.principal_status(s, account) == "ASSOCIATED"]
        if wanted is not None:
            shares = [s for s in shares if s.arn in wanted]
        if "resourceShareStatus" in params:
            shares = [s for s in shares if s.status == params["resourceShareStatus"]]
        if "name" in params:
            shares = [s for s in shares if s.name == params["name"]]
        if "permissionArn" in params:
            if PERMISSION_ARN.fullmatch(params["permissionArn"]) is None:
                raise error("MalformedArnException", f"The format of ARN {params['permissionArn']} is not valid.")
            shares = [s for s in shares if params["permissionArn"] in s.permission_arns]
        for tag_filter in params.get("tagFilters", []):
            key, values = tag_filter.get("tagKey"), tag_filter.get("tagValues")
            shares = [s for s in shares if key in s.tags and (not values or s.tags[key] in values)]
        shares.sort(key=lambda s: (s.creation_time, s.arn))
        chunk, token = page_of(shares, f"GetResourceShares|{account}|{region}|{params['resourceOwner']}", params)
        return {"resourceShares": [self.ram.share_out(s) for s in chunk], "nextToken": token}

    def GetResourceShareAssociations(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = params["associationType"]
        if "resourceArn" in params and kind != "RESOURCE":
            raise error("InvalidParameterException", "resourceArn can be used only with associationType RESOURCE.")
        if "principal" in params and kind != "PRINCIPAL":
            raise error("InvalidParameterException", "principal can be used only with associationType PRINCIPAL.")
        if "resourceArn" in params and ANY_ARN.fullmatch(params["resourceArn"]) is None:
            raise error("MalformedArnException", f"The format of ARN {params['resourceArn']} is not valid.")
        shares = [self.ram.owned_share(account, region, arn) for arn in params.get("resourceShareArns", [])] or [
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
        chunk, token = page_of(found, f"GetResourceShareAssociations|{account}|{region}|{kind}", params)
        return {"resourceShareAssociations": [self.ram.association_out(s, a) for s, a in chunk], "nextToken": token}

    def CreateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        if SHARE_NAME.fullmatch(name) is None:
            raise error("InvalidParameterException", "name must be 1 to 255 characters.")
        if params.get("sources"):
            raise error("InvalidParameterException", "sources are not supported for these resource types.")
        resources = params.get("resourceArns", [])
        principals = params.get("principals", [])
        if len(resources) > self.state.quotas.resources_per_call:
            raise error("ResourceShareLimitExceededException",
                        f"You can associate up to {self.state.quotas.resources_per_call} resources per call.")
        self._check_resources(account, region, resources)
        self._check_principals(account, principals)
        external = params.get("allowExternalPrincipals", True)
        if not external and any(p != account and not is_org_principal(p) and not self.state.in_shared_organization(account, p)
                                for p in principals):
            raise error("OperationNotPermittedException",
                        "The resource share does not allow external principals.")
        tags = check_tags(self.state, params.get("tags", []), {})
        permissions = self._permissions_for(account, region, resources, params.get("permissionArns", []))

        def run() -> dict[str, Any]:
            self.ram.check_share_quota(account, region)
            self.ram.check_invitation_quota(account, region, sum(
                1 for p in set(principals) if p != account and not is_org_principal(p)
                and not self.state.in_shared_organization(account, p)))
            if len(set(resources)) > self.state.quotas.resources_per_share or len(set(principals)) > self.state.quotas.principals_per_share:
                raise error("ResourceShareLimitExceededException",
                            f"A resource share can have at most {self.state.quotas.resources_per_share} resources and "
                            f"{self.state.quotas.principals_per_share} principals.")
            ram_quotas.check_room(self.state, account, region, resources=len(set(resources)), principals=len(set(principals)))
            now = self.clock.now()
            share = Share(arn=f"arn:aws:ram:{region}:{account}:resource-share/{uuid.uuid4()}", account=account,
                          region=region, name=name, feature_set="STANDARD", creation_time=now, last_updated=now,
                          allow_external_principals=external, tags=tags, permission_arns=permissions)
            self.ram.check_dependent(account, region, share, resources)
            self.state.shares[share.arn] = share
            for arn in resources:
                share.resources[arn] = Association(arn, "RESOURCE", "ASSOCIATED", now, now)
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
            for principal in principals:
                self.ram.associate_principal(share, principal)
            return {"resourceShare": self.ram.share_out(share), "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, "CreateResourceShare", params, run)

    def _permissions_for(self, account: str, region: str, resources: list[str], arns: list[str]) -> list[str]:
        """One managed permission per resource type: the given ones, else the type's default."""
        chosen: dict[str, str] = {}
        for arn in arns:
            permission = self.ram.permission(account, region, arn)
            if permission.feature_set != "STANDARD" or permission.status != "ATTACHABLE":
                raise error("InvalidParameterException", f"Permission {arn} cannot be attached.")
            key = permission.resource_type.lower()
            if key in chosen:
                raise error("InvalidParameterException", f"Only one permission per resource type: {permission.resource_type}.")
            chosen[key] = permission.arn
        types = {self.state.resource_type(arn).lower() for arn in resources}
        for resource_type in sorted(types - set(chosen)):
            default = next((p for p in self.state.permissions.values()
                            if p.permission_type == "AWS_MANAGED" and p.is_default
                            and p.resource_type.lower() == resource_type), None)
            if default is None:
                raise error("InvalidParameterException", f"No default permission for resource type {resource_type}.")
            chosen[resource_type] = default.arn
        unused = set(chosen) - types
        if resources and unused:
            raise error("InvalidParameterException", f"Permissions given for resource types not in the share: {sorted(unused)}.")
        return list(chosen.values())

    def TagResource(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        target = self._tag_target(account, region, params)
        target.tags.update(check_tags(self.state, params["tags"], target.tags))
        return {}

    def UntagResource(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        target = self._tag_target(account, region, params)
        for key in params["tagKeys"]:
            target.tags.pop(key, None)
        return {}

    def _tag_target(self, account: str, region: str, params: dict[str, Any]) -> Share | Permission:
        share_arn, resource_arn = params.get("resourceShareArn"), params.get("resourceArn")
        if (share_arn is None) == (resource_arn is None):
            raise error("InvalidParameterException", "Specify exactly one of resourceShareArn and resourceArn.")
        if share_arn is not None or SHARE_ARN.fullmatch(resource_arn or ""):
            # Stricter reading (UNVERIFIED, docs/aws-behaviour.md RAM-TAG-CFP): a share made from a
            # policy "can't be modified in RAM unless you promote it", tags included, and one
            # being promoted cannot be changed until the promotion finishes.
            return self.ram.editable_share(account, region, share_arn or resource_arn or "", TAG_ERRORS)
        permission = self.ram.permission(account, region, resource_arn or "")
        if permission.permission_type != "CUSTOMER_MANAGED" or permission.feature_set != "STANDARD":
            raise error("OperationNotPermittedException", f"Permission {permission.arn} cannot be tagged.")
        return permission

    def AssociateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self.ram.editable_share(account, region, params["resourceShareArn"])
        principals, resources = self._check_members(account, region, params)

        def run() -> dict[str, Any]:
            new = [p for p in dict.fromkeys(principals) if self.ram.needs_invitation(share, p)]
            self.ram.check_invitation_quota(account, region, sum(1 for p in new if self.ram.invites(share, p)))
            added = [r for r in dict.fromkeys(resources)
                     if r not in share.resources or share.resources[r].status not in ram_quotas.HELD]
            ram_quotas.check_share_size(self.state, share, resources=len(added), principals=len(new))
            ram_quotas.check_room(self.state, account, region, resources=len(added), principals=len(new))
            self.ram.check_dependent(account, region, share, resources)
            now = self.clock.now()
            out = [self.ram.association_out(share, self.ram.associate_principal(share, p)) for p in principals]
            for arn in resources:
                association = share.resources.setdefault(arn, Association(arn, "RESOURCE", "ASSOCIATED", now, now))
                association.move("ASSOCIATED", now)
                group = self.state.group_by_arn(arn)
                if group is not None:
                    group.ram_managed = True
                out.append(self.ram.association_out(share, association))
            share.touch(now)
            return {"resourceShareAssociations": out, "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, "AssociateResourceShare", params, run)

    def DisassociateResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self.ram.editable_share(account, region, params["resourceShareArn"])
        principals, resources = self._check_members(account, region, params, associating=False)

        def run() -> dict[str, Any]:
            now = self.clock.now()
            out = []
            for entity, pool in [(p, share.principals) for p in principals] + [(r, share.resources) for r in resources]:
                association = pool.get(entity)
                if association is None or association.status not in LIVE:
                    # Stricter reading (UNVERIFIED): disassociating what is not associated is an error.
                    raise error("UnknownResourceException", f"{entity} is not associated with {share.arn}.")
            # Stricter reading (UNVERIFIED): changing who a group reaches rewrites its policy too.
            self.ram.check_dependent(account, region, share)
            for entity, pool in [(p, share.principals) for p in principals] + [(r, share.resources) for r in resources]:
                association = pool[entity]
                association.move("DISASSOCIATING", now)  # access ends now
                self.ram.later(1.0, self.ram.disassociated(association), f"disassociate {entity} from {share.arn}")
                out.append(self.ram.association_out(share, association))
            share.touch(now)
            return {"resourceShareAssociations": out, "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, "DisassociateResourceShare", params, run)

    def _check_members(self, account: str, region: str, params: dict[str, Any], *,
                       associating: bool = True) -> tuple[list[str], list[str]]:
        if params.get("sources"):
            raise error("InvalidParameterException", "sources are not supported for these resource types.")
        principals, resources = params.get("principals", []), params.get("resourceArns", [])
        if not principals and not resources:
            raise error("InvalidParameterException", "Specify principals or resourceArns.")
        if len(resources) > self.state.quotas.resources_per_call:
            raise error("ResourceShareLimitExceededException",
                        f"You can associate up to {self.state.quotas.resources_per_call} resources per call.")
        self._check_principals(account, principals, associating=associating)
        self._check_resources(account, region, resources)
        return principals, resources

    def _check_principals(self, account: str, principals: list[str], *, associating: bool = True) -> None:
        for principal in principals:
            if is_org_principal(principal):
                if associating:  # taking one off a share needs no organization sharing
                    self._check_org_principal(account, principal)
                continue
            # Stricter reading: model package groups are shared with accounts, organizations and
            # OUs only (not with IAM roles or users: RAM-PRINCIPAL-ID).
            if ACCOUNT.fullmatch(principal) is None:
                raise error("InvalidParameterException", f"Principal {principal} is not an AWS account ID.")
            if principal == account:
                raise error("InvalidParameterException", "A resource share cannot have its owner as a principal.")

    def _check_org_principal(self, account: str, principal: str) -> None:
        """An organization or OU principal must be the owner's own organization (its exact ARN:
        ID and management account) or one of its OUs, and RAM sharing with the organization must
        be enabled (docs/aws-behaviour.md, ORG-RAM-ENABLED, ORG-UNKNOWN)."""
        organization = self.state.organization
        if organization is None or account not in organization.accounts or not organization.knows(principal):
            # The code RAM gives an organization that is not the owner's: seen as
            # UnknownResourceException ("Organization o-... could not be found"); an OU of
            # another organization, or with another management account: the same (UNVERIFIED).
            raise error("UnknownResourceException", f"Principal {principal} could not be found.")
        if not organization.ram_sharing_enabled:
            raise error("OperationNotPermittedException",
                        "The resource you are attempting to share can only be shared within your AWS Organization. "
                        "This error may also occur if you have not enabled sharing with your AWS organization, "
                        "or that onboarding process is still in progress.")

    def EnableSharingWithAwsOrganization(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """Only the organization's management account may call it (botocore `ram` model)."""
        organization = self.state.organization
        if organization is None or account != organization.management_account:
            raise error("OperationNotPermittedException",
                        "Only the management account of an organization can enable sharing with it.")
        organization.ram_sharing_enabled = True
        return {"returnValue": True}

    def _check_resources(self, account: str, region: str, resources: list[str]) -> None:
        for arn in resources:
            if ANY_ARN.fullmatch(arn) is None:
                raise error("MalformedArnException", f"The format of ARN {arn} is not valid.")
            if arn in self.state.other_resources and arn.split(":")[3:5] == [region, account]:
                continue
            if arn.startswith(f"arn:aws:ssm:{region}:{account}:parameter/"):  # SSM-SHARED
                why = ssm_sharing.share_refusal(arn)
                if why is not None:
                    raise error("UnknownResourceException" if "could not be found" in why else "InvalidParameterException", why)
                self.state.other_resources[arn] = ssm_sharing.PARAMETER_TYPE
                continue
            match = GROUP_ARN.fullmatch(arn)
            if match is None or match.group(2) != account or match.group(1) != region or self.state.group_by_arn(arn) is None:
                raise error("UnknownResourceException", f"Resource {arn} could not be found.")

    def DeleteResourceShare(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self.ram.owned_share(account, region, params["resourceShareArn"])

        def run() -> dict[str, Any]:
            if share.feature_set == "CREATED_FROM_POLICY":
                # Stricter reading: the policy owns it; delete the resource policy instead.
                raise error("OperationNotPermittedException",
                            f"Resource share {share.arn} was created from a resource policy and cannot be deleted through RAM.")
            if share.feature_set == "PROMOTING_TO_STANDARD":
                raise error("InvalidStateTransitionException", f"Resource share {share.arn} is being promoted.")
            if share.status != "ACTIVE":
                raise error("InvalidStateTransitionException", f"Resource share {share.arn} is {share.status}.")
            self.ram.retire(share)
            return {"returnValue": True, "clientToken": params.get("clientToken")}

        return idempotent(self.state, account, "DeleteResourceShare", params, run)

    def PromoteResourceShareCreatedFromPolicy(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        share = self.ram.owned_share(account, region, params["resourceShareArn"])
        if share.status != "ACTIVE" or share.feature_set != "CREATED_FROM_POLICY":
            raise error("InvalidStateTransitionException",
                        f"Resource share {share.arn} is {share.status} with featureSet {share.feature_set}.")
        principals = [a.entity for a in share.principals.values() if a.status == "ASSOCIATED"]
        not_accounts = [p for p in principals if principal_account(p) is None]
        if not_accounts:
            raise error("OperationNotPermittedException",
                        f"Resource share {share.arn} has principals that are not accounts: {not_accounts}.")
        source = self.state.permissions[share.permission_arns[0]]
        # Any managed permission that matches exactly will do, AWS or customer managed; a share
        # RAM already gave a managed permission matches it (docs/aws-behaviour.md, RAM-MATCH).
        match = source if source.feature_set == "STANDARD" else self.ram.matching_permission(
            account, region, source.resource_type, source.statements)
        if match is None:
            raise error("UnmatchedPolicyPermissionException",
                        f"No managed permission matches permission {source.arn} exactly: promote it first.")
        self.ram.check_share_quota(account, region)
        members = {m for p in principals if (m := principal_account(p)) is not None and m != account}
        self.ram.check_invitation_quota(account, region, len(members))
        self.ram.check_dependent(account, region, share)
        share.feature_set = "PROMOTING_TO_STANDARD"
        share.touch(self.clock.now())

        def finish() -> None:
            if share.status != "ACTIVE" or share.feature_set != "PROMOTING_TO_STANDARD":
                return
            now = self.clock.now()
            share.feature_set = "STANDARD"
            share.permission_arns = [match.arn]
            share.touch(now)
            self.ram.delete_if_unused(source)
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
                    self.ram.associate_principal(share, member, fail_over_quota=True)

        self.ram.later(self.ram.promotion_delay_seconds, finish, f"finish promoting share {share.arn}")
        return {"returnValue": True}

