"""Reading one account's grants, read-only: its model package groups and their policies, its RAM
shares (what they hold, whom, with which permission, and whether each consumer accepted), its
allowlist, and the ownership ledger that says which of these modelshare made (docs/security.md:
the ledger is the only proof; a tag or a Sid is not)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from modelshare import incarnation
from modelshare import policy as policies
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.aws import client, ram_calls
from modelshare.aws.ledger import DynamoDbLedger
from modelshare.aws.sagemaker import SageMakerRegistry
from modelshare.ports import ARNS_PER_CALL, CREATED_FROM_POLICY, LIVE_ASSOCIATIONS, RAM_PAGE_SIZE, LedgerContents
from modelshare_cli.common import read_parameter
from modelshare_cli.report.model import ACCEPTED, MODELSHARE, NO_ACCEPTANCE, PENDING, PERSON, AccountRead, Grant

type Progress = Callable[[str, int, int], None]  # (account, groups read, groups in all)
type Runner = Callable[[Sequence[Callable[[], AccountRead]]], list[AccountRead]]


class AccountReader:
    """One account, read through `session` with list/describe/get calls only (docs/report.md
    gives the IAM policy)."""

    def __init__(self, account: str, session: boto3.session.Session, *, parameter: str, ledger_table: str,
                 allowlist: Allowlist | None = None) -> None:
        self.account = account
        self._session = session
        self._parameter = parameter
        self._ledger_table = ledger_table
        self._given_allowlist = allowlist
        self.calls = 0
        # Every API call counts once, retries aside: registered before any client is made.
        session.events.register("before-call.*.*", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1

    def read(self, progress: Progress = lambda *_: None) -> AccountRead:
        found = AccountRead(self.account)
        try:
            self._read(found, progress)
        except (ClientError, BotoCoreError) as error:  # this account's picture is incomplete: said, not guessed
            found.error = str(error)
        found.calls = self.calls
        return found

    def _read(self, found: AccountRead, progress: Progress) -> None:
        found.allowlist, found.allowlist_problem = self._allowlist()
        groups = list(self._groups())
        found.groups = len(groups)
        progress(self.account, 0, len(groups))
        ledger = DynamoDbLedger(self._session, self._ledger_table).everything()
        found.grants.extend(self._share_grants({arn for _, arn, _ in groups}, ledger))
        registry = SageMakerRegistry(self._session)
        for done, (name, arn, created) in enumerate(groups, 1):
            policy = registry.get_policy(name)
            recorded = ledger[arn].statements if arn in ledger else frozenset()
            ours = incarnation.of_incarnation(recorded, incarnation.stamp(created))
            found.grants.extend(self._statement_grants(name, arn, policy, ours))
            progress(self.account, done, len(groups))

    def _allowlist(self) -> tuple[Allowlist | None, str | None]:
        if self._given_allowlist is not None:
            return self._given_allowlist, None
        stored = read_parameter(client(self._session, "ssm"), self._parameter)
        if stored is None:
            return None, f"parameter {self._parameter} does not exist"
        try:
            return Allowlist.parse(stored.text), None
        except AllowlistError as error:
            return None, f"parameter {self._parameter} version {stored.version} is invalid ({len(error.problems)} problems)"

    def _groups(self) -> Iterator[tuple[str, str, datetime]]:
        paginator = client(self._session, "sagemaker").get_paginator("list_model_package_groups")
        for page in paginator.paginate(PaginationConfig={"PageSize": 100}):
            for group in page["ModelPackageGroupSummaryList"]:
                yield group["ModelPackageGroupName"], group["ModelPackageGroupArn"], group["CreationTime"]

    def _statement_grants(self, name: str, arn: str, policy: dict[str, Any] | None,
                          ours: frozenset[str]) -> Iterator[Grant]:
        for index, statement in enumerate(policies.statements(policy)):
            if statement.get("Effect") != "Allow":
                continue
            actions = tuple(sorted({a.lower() for a in policies.statement_actions([statement])}))
            made_by = MODELSHARE if policies.is_ours(statement, ours) else PERSON
            for principal in policies.principals_of(statement):
                consumer = policies.account_of(principal) or principal
                if consumer != self.account:
                    yield Grant(self.account, name, arn, consumer, "policy", str(statement.get("Sid") or f"#{index}"),
                                actions, NO_ACCEPTANCE, made_by)

    def _share_grants(self, group_arns: set[str], ledger: LedgerContents) -> Iterator[Grant]:
        """The grants of this account's shares made or promoted to standard ones; a share RAM made
        from a policy grants what the policy says, read with the group."""
        ram = client(self._session, "ram")
        shares = [s for page in ram.get_paginator("get_resource_shares").paginate(
                      resourceOwner="SELF", resourceShareStatus="ACTIVE", PaginationConfig={"PageSize": RAM_PAGE_SIZE})
                  for s in page["resourceShares"] if s.get("featureSet", "STANDARD") != CREATED_FROM_POLICY]
        arns = [s["resourceShareArn"] for s in shares]
        resources = self._associations(ram, "RESOURCE", arns)
        principals = self._associations(ram, "PRINCIPAL", arns)
        actions_of: dict[str, frozenset[str]] = {}
        for share in arns:
            held = [(arn, status) for arn, status in resources.get(share, []) if arn in group_arns]
            if not held or not principals.get(share):
                continue
            actions, read = self._share_actions(ram, share, actions_of)
            for group_arn, _ in held:
                made = share in (ledger[group_arn].shares if group_arn in ledger else ()) or share in ledger.made_shares
                for consumer, status in principals[share]:
                    yield Grant(self.account, group_arn.rpartition("/")[2], group_arn, consumer, "share", share,
                                actions, ACCEPTED if status == "ASSOCIATED" else PENDING,
                                MODELSHARE if made else PERSON, actions_read=read)

    @staticmethod
    def _associations(ram: Any, kind: str, share_arns: list[str]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for start in range(0, len(share_arns), ARNS_PER_CALL):
            pages = ram.get_paginator("get_resource_share_associations").paginate(
                associationType=kind, resourceShareArns=share_arns[start:start + ARNS_PER_CALL],
                PaginationConfig={"PageSize": RAM_PAGE_SIZE})
            for page in pages:
                for item in page["resourceShareAssociations"]:
                    if item["status"] in LIVE_ASSOCIATIONS:
                        found.setdefault(item["resourceShareArn"], []).append((item["associatedEntity"], item["status"]))
        return found

    @staticmethod
    def _share_actions(ram: Any, share: str, cache: dict[str, frozenset[str]]) -> tuple[tuple[str, ...], bool]:
        """The actions a share grants, and whether they could be read: a share on a version of a
        permission other than its default grants what GetPermission does not say."""
        actions: set[str] = set()
        for permission in ram_calls.share_permissions(ram, share):
            if not permission.default_version:
                return (), False
            if permission.arn not in cache:
                cache[permission.arn] = ram_calls.permission_actions(ram, permission.arn)
            actions |= cache[permission.arn]
        return tuple(sorted(actions)), True


def in_threads(workers: int) -> Runner:
    """Run each account's read in its own thread, `workers` at a time: accounts have their own
    API rates, and within one account the reads go one after another."""
    def run(jobs: Sequence[Callable[[], AccountRead]]) -> list[AccountRead]:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(lambda job: job(), jobs))
    return run
