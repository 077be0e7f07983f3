"""What the owner's and the consumer's RAM adapters share: RAM's largest page, following
nextToken, RAM's error codes, and the reads both sides make (a share's permissions and what a
permission grants, the account's organization)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import client
from modelshare.org_principals import Organization
from modelshare.ports import RAM_PAGE_SIZE, SharePermission

if TYPE_CHECKING:
    from mypy_boto3_ram import RAMClient
    from mypy_boto3_ram.type_defs import PaginatorConfigTypeDef

# RAM's largest page (ram/service-2.json, MaxResults): fewer calls for a big account.
PAGE: PaginatorConfigTypeDef = {"PageSize": RAM_PAGE_SIZE}


def follow_tokens[Page: Mapping[str, Any]](list_page: Callable[[dict[str, Any]], Page]) -> Iterator[Page]:
    """Every page of a listing that has no botocore paginator, following nextToken: `list_page`
    makes the call with the keyword arguments it is given (none for the first page)."""
    token: dict[str, Any] = {}
    while True:
        page = list_page(token)
        yield page
        if not page.get("nextToken"):
            return
        token = {"nextToken": page["nextToken"]}


def share_permissions(ram: RAMClient, share_arn: str) -> list[SharePermission]:
    """The permissions of a share (ListResourceSharePermissions, every page)."""
    pages = follow_tokens(lambda token: ram.list_resource_share_permissions(resourceShareArn=share_arn, **token))
    return [SharePermission(p["arn"], p.get("name", ""), p.get("featureSet", "STANDARD"), p.get("resourceType", ""),
                            p.get("defaultVersion", True))
            for page in pages for p in page["permissions"]]


def permission_actions(ram: RAMClient, permission_arn: str) -> frozenset[str]:
    """The actions a permission grants, lower-cased (GetPermission, its default version)."""
    document = json.loads(ram.get_permission(permissionArn=permission_arn)["permission"]["permission"])
    # A managed permission's template is one statement; one made from a policy may read as a
    # whole policy (format UNVERIFIED): take the actions of either.
    statements = document.get("Statement", document) if isinstance(document, dict) else document
    found: set[str] = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", []) if isinstance(statement, dict) else []
        found.update(a.lower() for a in ([actions] if isinstance(actions, str) else actions))
    return frozenset(found)


def organization(session: boto3.session.Session) -> Organization | None:
    """The organization this account is in, or None (in none, or may not read it: fail closed)."""
    try:
        described = client(session, "organizations").describe_organization()["Organization"]
    except ClientError as error:
        if error_code(error) in ("AWSOrganizationsNotInUseException", "AccessDeniedException"):
            return None  # in no organization, or may not read it: names none (fail closed)
        raise
    return Organization(str(described["Id"]), str(described["MasterAccountId"]))


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))
