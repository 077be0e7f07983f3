"""What IAM's conditions see of a RAM request: RAM's condition keys (Service Authorization
Reference), one request context for each principal and resource a share change names."""

from __future__ import annotations

from typing import Any

from localaws.services.registry_state import GROUP_ARN, RegistryState


def condition_context(state: RegistryState, account: str, region: str, params: dict[str, Any]) -> dict[str, list[str]]:
    """RAM's condition keys for a request (Service Authorization Reference): the local IAM
    keeps those the action supports."""
    context: dict[str, list[str]] = {}
    share = state.shares.get(params.get("resourceShareArn") or params.get("resourceArn") or "")
    invitation = state.invitations.get(params.get("resourceShareInvitationArn", ""))
    if invitation is not None:
        share = state.shares.get(invitation.share_arn)
    if share is not None:
        context["ram:ShareOwnerAccountId"] = [share.account]
        context["ram:ResourceShareName"] = [share.name]
        context["ram:AllowsExternalPrincipals"] = [str(share.allow_external_principals).lower()]
        if invitation is None:
            for key, value in share.tags.items():
                context[f"aws:ResourceTag/{key}"] = [value]
                context[f"ram:ResourceTag/{key}"] = [value]
    permission = state.permissions.get(params.get("permissionArn") or params.get("resourceArn") or "")
    if permission is not None:
        context["ram:PermissionArn"] = [permission.arn]
        context["ram:PermissionResourceType"] = [permission.resource_type]
        for key, value in permission.tags.items():
            context[f"aws:ResourceTag/{key}"] = [value]
    elif isinstance(params.get("resourceType"), str) and "policyTemplate" in params:
        # CreatePermission: the type of the permission asked for, as the request spells it
        # (UNVERIFIED; docs/aws-behaviour.md, IAM-PERMISSION-TYPE).
        context["ram:PermissionResourceType"] = [params["resourceType"]]
    if params.get("principals"):
        context["ram:Principal"] = list(params["principals"])
    resources = params.get("resourceArns") or []
    if resources:
        context["ram:ResourceArn"] = list(resources)
        context["ram:RequestedResourceType"] = sorted({
            state.resource_type(arn) for arn in resources
            if GROUP_ARN.fullmatch(arn) or arn in state.other_resources})
    if "allowExternalPrincipals" in params:
        context["ram:RequestedAllowsExternalPrincipals"] = [str(params["allowExternalPrincipals"]).lower()]
    return context


def member_contexts(state: RegistryState, account: str, region: str, params: dict[str, Any]) -> list[dict[str, list[str]]]:
    """The request contexts IAM evaluates a request in: RAM authorizes each principal and each
    resource of CreateResourceShare, AssociateResourceShare and DisassociateResourceShare on
    its own, so a principal's context has no ram:ResourceArn or ram:RequestedResourceType and a
    resource's has no ram:Principal (RAM user guide, "Example IAM policies"; docs/aws-behaviour.md,
    IAM-RAM-MEMBERS). One context for every other request, and for a request naming neither."""
    principals, resources = params.get("principals") or [], params.get("resourceArns") or []
    if not principals and not resources:
        return [condition_context(state, account, region, params)]
    bare = {k: v for k, v in params.items() if k not in ("principals", "resourceArns")}
    return ([condition_context(state, account, region, {**bare, "principals": [p]}) for p in principals]
            + [condition_context(state, account, region, {**bare, "resourceArns": [r]}) for r in resources])
