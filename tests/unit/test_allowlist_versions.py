"""The allowlist's `versions` field (issue 22 part 2; docs/allowlist.md): which approval statuses
of a group's versions a rule's consumers are told of. Default: approved only."""

from __future__ import annotations

import pytest

from modelshare.allowlist import Allowlist, AllowlistError
from tests.unit.fakes import CONSUMER, OTHER, OWNER, allowlist_doc

RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def test_a_rule_tells_approved_versions_only_unless_it_asks_for_more() -> None:
    asked = {**RULE, "consumers": [OTHER], "versions": ["Approved", "Rejected"]}
    decision = Allowlist.parse(allowlist_doc(RULE, asked)).decide(OWNER, "churn-xgb")
    assert decision.versions_told(CONSUMER) == frozenset({"Approved"})
    assert decision.versions_told(OTHER) == frozenset({"Approved", "Rejected"})
    assert decision.versions_told("999999999999") == frozenset()


def test_the_statuses_a_consumer_is_told_add_up_over_the_rules_naming_it() -> None:
    pending = {**RULE, "groups": ["churn-xgb"], "versions": ["PendingManualApproval"]}
    decision = Allowlist.parse(allowlist_doc(RULE, pending)).decide(OWNER, "churn-xgb")
    assert decision.versions_told(CONSUMER) == frozenset({"Approved", "PendingManualApproval"})
    assert decision.conflict is None, "statuses told never make a conflict: the share is the same"


@pytest.mark.parametrize(("versions", "path"), [
    ("Approved", "$.shares[0].versions"),
    ([], "$.shares[0].versions"),
    (["approved"], "$.shares[0].versions[0]"),
    (["Approved", "Deleted"], "$.shares[0].versions[1]"),
    (["Rejected", "Rejected"], "$.shares[0].versions[1]"),
    ([1], "$.shares[0].versions[0]"),
])
def test_an_unknown_status_or_a_malformed_list_makes_the_allowlist_invalid(versions: object, path: str) -> None:
    with pytest.raises(AllowlistError) as caught:
        Allowlist.parse(allowlist_doc({**RULE, "versions": versions}))
    assert [p for p, _ in caught.value.problems] == [path]
