"""The ownership ledger in DynamoDB (the OwnershipLedger port): the stack's OwnershipTable, one
item per model package group modelshare made something for, keyed by the group's ARN, holding
the shares it promoted (`shares`, a string set) and the digests of the statements it wrote
(`statements`, a string set). Only the stack's function roles may write it (docs/security.md).

Sets grow by ADD, so two runs recording at once both keep what they wrote; reads are strongly
consistent, so a run sees what a run before it recorded.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from modelshare.aws import client
from modelshare.ports import LedgerContents, Ownership

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef

GROUP_KEY = "group"
# The item holding the names of the customer managed permissions modelshare made (`names`); every
# other item is a group's, keyed by its ARN.
PERMISSIONS_KEY = "modelshare:permissions"
# Items of the shares modelshare made itself (the shares mode): keyed by this prefix and the
# share's ARN, holding the name it was made under (`made_as`). A share forgotten loses `made_as`
# and keeps its key: the functions' roles may only UpdateItem (docs/security.md).
MADE_SHARE_PREFIX = "share:"
_MADE_AS = "made_as"
# The item saying which RAM Region quota a run last said is full (`quota`): said once across
# execution environments. Forgetting removes `quota` and keeps the key (UpdateItem only).
FULL_QUOTA_KEY = "modelshare:region-quota-full"
_QUOTA = "quota"
# BatchGetItem takes at most 100 keys a call (dynamodb/service-2.json, BatchGetItem).
_KEYS_PER_CALL = 100
# BatchGetItem may leave keys unprocessed (throughput); they are asked for again, a little later.
_UNPROCESSED_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


class LedgerIncomplete(RuntimeError):
    """DynamoDB kept leaving keys unprocessed: the run fails and is retried, rather than take
    groups it could not read for groups modelshare made nothing for."""


class DynamoDbLedger:
    def __init__(self, session: boto3.session.Session, table_name: str, *, client_at_first_use: bool = False) -> None:
        """`client_at_first_use`: make the DynamoDB client (some 10 ms of a cold start's CPU) at
        the first call, for a function whose runs often need no ledger (wiring.owner_services)."""
        self._session = session
        self._made: DynamoDBClient | None = None if client_at_first_use else client(session, "dynamodb")
        self.table_name = table_name

    @property
    def _client(self) -> DynamoDBClient:
        if self._made is None:
            self._made = client(self._session, "dynamodb")
        return self._made

    def everything(self) -> LedgerContents:
        contents = LedgerContents()
        paginator = self._client.get_paginator("scan")
        try:
            for page in paginator.paginate(TableName=self.table_name, ConsistentRead=True):
                for item in page.get("Items", []):
                    key = item[GROUP_KEY]["S"]
                    if key.startswith(MADE_SHARE_PREFIX):
                        if _MADE_AS in item:  # a forgotten share keeps its key, not its name
                            contents.made_shares[key.removeprefix(MADE_SHARE_PREFIX)] = item[_MADE_AS]["S"]
                    elif key == FULL_QUOTA_KEY:
                        contents.full_quota = item[_QUOTA]["S"] if _QUOTA in item else None
                    elif key != PERMISSIONS_KEY:
                        contents.update([_ownership(item)])
        except ClientError as error:
            _nothing_if_no_table(error)
            return LedgerContents()
        return contents

    def of_groups(self, group_arns: Sequence[str]) -> dict[str, Ownership]:
        try:
            return self._of_groups(group_arns)
        except ClientError as error:
            return _nothing_if_no_table(error)

    def _of_groups(self, group_arns: Sequence[str]) -> dict[str, Ownership]:
        found: dict[str, Ownership] = {}
        unique = list(dict.fromkeys(group_arns))
        for start in range(0, len(unique), _KEYS_PER_CALL):
            keys: list[dict[str, AttributeValueTypeDef]] = [
                {GROUP_KEY: {"S": arn}} for arn in unique[start:start + _KEYS_PER_CALL]]
            request: dict[str, KeysAndAttributesTypeDef] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            for wait in (*_UNPROCESSED_WAITS, None):
                response = self._client.batch_get_item(RequestItems=request)
                found.update(map(_ownership, response.get("Responses", {}).get(self.table_name, [])))
                request = {table: {"Keys": left["Keys"], "ConsistentRead": True}
                           for table, left in (response.get("UnprocessedKeys") or {}).items() if left.get("Keys")}
                if not request:
                    break
                if wait is None:
                    raise LedgerIncomplete(f"DynamoDB left {len(request[self.table_name]['Keys'])} ledger keys unread")
                time.sleep(wait)
        return found

    def permissions(self) -> frozenset[str]:
        item = self._item(PERMISSIONS_KEY, "the ledger's permissions")
        return frozenset(item.get("names", {}).get("SS", ())) if item else frozenset()

    def full_quota(self) -> str | None:
        item = self._item(FULL_QUOTA_KEY, "the ledger's full quota")
        return str(item[_QUOTA]["S"]) if item and _QUOTA in item else None

    def record_full_quota(self, quota: str) -> None:
        self._client.update_item(TableName=self.table_name, Key={GROUP_KEY: {"S": FULL_QUOTA_KEY}},
                                 UpdateExpression="SET #quota = :quota", ExpressionAttributeNames={"#quota": _QUOTA},
                                 ExpressionAttributeValues={":quota": {"S": quota}})

    def forget_full_quota(self) -> None:
        self._client.update_item(TableName=self.table_name, Key={GROUP_KEY: {"S": FULL_QUOTA_KEY}},
                                 UpdateExpression="REMOVE #quota", ExpressionAttributeNames={"#quota": _QUOTA})

    def _item(self, key: str, what: str) -> dict[str, Any] | None:
        """One item by its key (BatchGetItem: the roles' read of single items), or None."""
        try:
            response = self._client.batch_get_item(RequestItems={self.table_name: {
                "Keys": [{GROUP_KEY: {"S": key}}], "ConsistentRead": True}})
        except ClientError as error:
            _nothing_if_no_table(error)
            return None
        if response.get("UnprocessedKeys"):
            raise LedgerIncomplete(f"DynamoDB left {what} unread")
        items = response.get("Responses", {}).get(self.table_name, [])
        return dict(items[0]) if items else None

    def record_permission(self, name: str) -> None:
        self._update(PERMISSIONS_KEY, "ADD", "names", [name])

    def made_shares(self) -> dict[str, str]:
        paginator = self._client.get_paginator("scan")
        try:
            return {item[GROUP_KEY]["S"].removeprefix(MADE_SHARE_PREFIX): item[_MADE_AS]["S"]
                    for page in paginator.paginate(
                        TableName=self.table_name, ConsistentRead=True,
                        FilterExpression="begins_with(#key, :prefix) AND attribute_exists(#made)",
                        ExpressionAttributeNames={"#key": GROUP_KEY, "#made": _MADE_AS},
                        ExpressionAttributeValues={":prefix": {"S": MADE_SHARE_PREFIX}})
                    for item in page.get("Items", [])}
        except ClientError as error:
            _nothing_if_no_table(error)
            return {}

    def record_made_share(self, share_arn: str, name: str) -> None:
        self._client.update_item(TableName=self.table_name, Key={GROUP_KEY: {"S": MADE_SHARE_PREFIX + share_arn}},
                                 UpdateExpression="SET #made = :name", ExpressionAttributeNames={"#made": _MADE_AS},
                                 ExpressionAttributeValues={":name": {"S": name}})

    def forget_made_share(self, share_arn: str) -> None:
        self._client.update_item(TableName=self.table_name, Key={GROUP_KEY: {"S": MADE_SHARE_PREFIX + share_arn}},
                                 UpdateExpression="REMOVE #made", ExpressionAttributeNames={"#made": _MADE_AS})

    def record_share(self, group_arn: str, share_arn: str) -> None:
        self._update(group_arn, "ADD", "shares", [share_arn])

    def forget_share(self, group_arn: str, share_arn: str) -> None:
        self._update(group_arn, "DELETE", "shares", [share_arn])

    def record_statement(self, group_arn: str, digest: str) -> None:
        self._update(group_arn, "ADD", "statements", [digest])

    def forget_statements(self, group_arn: str, digests: Sequence[str]) -> None:
        if digests:
            self._update(group_arn, "DELETE", "statements", sorted(set(digests)))

    def _update(self, key: str, operation: str, attribute: str, values: list[str]) -> None:
        # The attribute by placeholder: DynamoDB reserves many words (NAMES among them).
        self._client.update_item(TableName=self.table_name, Key={GROUP_KEY: {"S": key}},
                                 UpdateExpression=f"{operation} #set :values", ExpressionAttributeNames={"#set": attribute},
                                 ExpressionAttributeValues={":values": {"SS": values}})


def _nothing_if_no_table(error: ClientError) -> dict[str, Ownership]:
    """No ledger (an account with no owner stack: the admin commands in a consumer account) means
    modelshare made nothing there, the fail-closed reading: nothing is taken for modelshare's, and
    any write that would record something fails loudly."""
    if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
        return {}
    raise error


def _ownership(item: dict[str, Any]) -> tuple[str, Ownership]:
    def strings(name: str) -> frozenset[str]:
        return frozenset(item.get(name, {}).get("SS", ()))

    return item[GROUP_KEY]["S"], Ownership(shares=strings("shares"), statements=strings("statements"))
