"""Account IDs are twelve ASCII digits, everywhere one is parsed (issue 19, "An account ID that only
looks right"). Python's digit class and str.isdigit take any Unicode decimal digit: an ID with a
full-width digit printed like the real one, validated, and reached a policy."""

import ast
import copy
import json
from pathlib import Path

import pytest

from modelshare import events
from modelshare import policy as policies
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_parts import merge, split
from modelshare.aws.work_queue import group_of_item, work_item
from modelshare.convergence import GroupSnapshot
from modelshare.events import EventBridgeEvent, UnsupportedEvent
from tests.unit.fakes import CONSUMER, OWNER, allowlist_doc, group_arn

ROOT = Path(__file__).resolve().parents[2]
# Each is 12 characters that Python's digit class (and int()) read as digits; none is an AWS account ID.
LOOKALIKES = [
    "44445555666\uff16",  # the example: a full-width last digit
    "\u0661\u0661\u0661\u0661\u0662\u0662\u0662\u0662\u0663\u0663\u0663\u0663",  # Arabic-Indic
    "\u06f1" * 12,  # Extended Arabic-Indic
    "\u0967" * 12,  # Devanagari
    "\U0001d7cf" * 12,  # mathematical bold digit one
]
RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def problems_of(document) -> list[tuple[str, str]]:
    with pytest.raises(AllowlistError) as caught:
        Allowlist.parse(document)
    return caught.value.problems


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_the_allowlist_refuses_an_owner_or_consumer_that_only_looks_like_an_account_id(lookalike):
    assert [p for p, _ in problems_of(allowlist_doc({**RULE, "owner": lookalike}))] == ["$.shares[0].owner"]
    assert [p for p, _ in problems_of(json.dumps(allowlist_doc({**RULE, "consumers": [CONSUMER, lookalike]})))] \
        == ["$.shares[0].consumers[1]"]
    with pytest.raises(AllowlistError):
        split(allowlist_doc({**RULE, "consumers": [lookalike]}), 4096)


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_policy_principal_that_only_looks_like_an_account_is_no_account(lookalike):
    for principal in (lookalike, f"arn:aws:iam::{lookalike}:root"):
        assert policies.account_of(principal) is None
        statement = policies.modelshare_statement(group_arn("churn-xgb"), [CONSUMER], ["sagemaker:DescribeModelPackage"])
        statement["Principal"] = {"AWS": [principal]}
        assessment = policies.assess({"Version": "2012-10-17", "Statement": [statement]}, [lookalike, CONSUMER],
                                     ["sagemaker:DescribeModelPackage"])
        assert not assessment.promotable and assessment.accounts == ()
        assert any("is not an account" in problem for problem in assessment.problems)


@pytest.mark.parametrize("lookalike", LOOKALIKES[:2])
def test_a_group_arn_in_a_lookalike_account_names_no_group(lookalike):
    arn = f"arn:aws:sagemaker:eu-west-1:{lookalike}:model-package-group/churn-xgb"
    assert policies.group_name_of(arn, lookalike) is None, "even for an owner that looks the same"
    assert policies.group_name_of(group_arn("churn-xgb"), OWNER) == "churn-xgb"
    with pytest.raises(ValueError, match="malformed sweep work item"):
        group_of_item(json.loads(json.dumps(work_item(GroupSnapshot("churn-xgb", arn, ())))))


@pytest.mark.parametrize("lookalike", LOOKALIKES[:2])
def test_events_naming_a_lookalike_account_name_nothing(lookalike):
    put = json.loads((ROOT / "events" / "policy_put.json").read_text())
    put["account"] = lookalike
    put["detail"]["recipientAccountId"] = lookalike
    put["detail"]["requestParameters"] = {}
    put["detail"]["responseElements"]["modelPackageGroupArn"] = \
        f"arn:aws:sagemaker:eu-west-1:{lookalike}:model-package-group/churn-xgb"
    with pytest.raises(UnsupportedEvent):
        events.group_from_cloudtrail(EventBridgeEvent(put), "PutModelPackageGroupPolicy")
    by_name = copy.deepcopy(put)
    by_name["detail"]["requestParameters"] = {"modelPackageGroupName": "churn-xgb"}
    with pytest.raises(UnsupportedEvent, match="account"):
        events.group_from_cloudtrail(EventBridgeEvent(by_name), "PutModelPackageGroupPolicy")

    share = f"arn:aws:ram:eu-west-1:{lookalike}:resource-share/7f2c8e4a-1b3d-4c5e-9f60-718293a4b5c6"
    invitation = f"arn:aws:ram:eu-west-1:{lookalike}:resource-share-invitation/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

    def ram(account, resources=(), **detail):
        return EventBridgeEvent({"source": "aws.ram", "detail-type": "Resource Sharing State Change",
                                 "account": account, "region": "eu-west-1", "resources": list(resources),
                                 "detail": detail})

    assert events.shares_named([ram(lookalike, [share])]) is None, "no share named: every share is looked at"
    assert events.invitations_named([ram(CONSUMER, [invitation])]) is None
    assert events.invitations_named([ram(CONSUMER, [share])]) is None
    failed = ram(lookalike, [share], associatedEntity=lookalike, status="failed")
    assert events.shares_failing_invitations([failed]) == []


@pytest.mark.parametrize("lookalike", LOOKALIKES[:2])
def test_a_work_item_naming_a_lookalike_account_s_group_is_refused(lookalike):
    group = GroupSnapshot("churn-xgb", f"arn:aws:sagemaker:eu-west-1:{lookalike}:model-package-group/churn-xgb")
    with pytest.raises(ValueError, match="malformed sweep work item"):
        group_of_item(json.loads(json.dumps(work_item(group))))


def test_a_parameter_whose_part_number_is_not_ascii_is_no_part():
    """int() reads any Unicode digits too: `part-\u0661\u0660\u0660` was taken for part-100."""
    value = split(allowlist_doc(RULE), 4096)[0]
    name = "part-\u0660\u0660\u0661"
    with pytest.raises(AllowlistError) as caught:
        merge({name: value}, "/modelshare/allowlist")
    assert [p for p, _ in caught.value.problems] == [f"/modelshare/allowlist/{name}"]


def _production_sources() -> list[Path]:
    found = [*(ROOT / "layers" / "modelshare" / "modelshare").rglob("*.py"), *(ROOT / "functions").rglob("*.py"),
             *(ROOT / "modelshare_cli").rglob("*.py"), *(ROOT / "localaws").rglob("*.py")]
    assert len(found) > 40
    return found


@pytest.mark.parametrize("source", _production_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_reads_digits_the_unicode_way(source):
    """No regular expression spells its digits with the backslash-d class, and no string is asked
    isdigit / isdecimal / isnumeric: each takes any Unicode decimal digit. Digits are `[0-9]`."""
    tree = ast.parse(source.read_text(), str(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert "\\d" not in node.value, f"{source}:{node.lineno}: {node.value!r}"
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("isdigit", "isdecimal", "isnumeric"), f"{source}:{node.lineno}: .{node.attr}"
