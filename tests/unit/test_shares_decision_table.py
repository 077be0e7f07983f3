"""The shares mode's decision for one made share as a table (issue 21, section 1): every rule of
modelshare.decision.shares and every reason it gives has a row; the writes are made apart
(modelshare.shares_writes)."""

from __future__ import annotations

import pytest

from modelshare.decision import shares as rules
from modelshare.decision.shares import ShareRule, Wait
from modelshare.share_layout import Bucket

CONSUMER, OTHER = "444455556666", "777788889999"
OU = "arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-abcd-abcdefgh"
BUCKET = Bucket.of([CONSUMER, OTHER], ["sagemaker:ListModelPackages"])
A, B, C, SUBNET = "group/a", "group/b", "group/c", "subnet/s"


def never() -> bool:
    raise AssertionError("`within` read though the rule needs it not")


MAKING = {
    "only taking away: no share made": (dict(restrict_only=True, stopped=None, permission="p", unknown=""),
                                        (ShareRule.MAKE_WAITS, Wait(rules.NOT_MADE_WHILE_TAKING_AWAY))),
    "a quota met earlier in the run": (dict(restrict_only=False, stopped="quota!", permission="p", unknown=""),
                                       (ShareRule.MAKE_WAITS, Wait("quota!", quota=True))),
    "no permission with the bucket's actions": (dict(restrict_only=False, stopped=None, permission=None, unknown="why"),
                                                (ShareRule.MAKE_WAITS, Wait("why"))),
    "made": (dict(restrict_only=False, stopped=None, permission="p", unknown=""), (ShareRule.MAKE, None)),
}


@pytest.mark.parametrize("facts,expected", MAKING.values(), ids=MAKING.keys())
def test_making_a_share(facts: dict[str, object], expected: tuple[ShareRule, Wait | None]) -> None:
    assert rules.making(**facts) == expected  # type: ignore[arg-type]


AFTER_PERMISSION = {
    "permission right: converge": (dict(permitted=True, partial=False, several_permissions=False,
                                        permission_known=True, within=never), ShareRule.CONVERGE),
    "a partial run, several permissions: the sweep's": (dict(permitted=False, partial=True, several_permissions=True,
                                                            permission_known=True, within=never),
                                                       ShareRule.SEVERAL_PERMISSIONS),
    "permission unknown, within its bucket: left as it is": (dict(permitted=False, partial=False,
                                                                  several_permissions=False, permission_known=False,
                                                                  within=lambda: True), ShareRule.LEFT_AS_IT_IS),
    "permission unknown, beyond its bucket: no consumer": (dict(permitted=False, partial=False, several_permissions=False,
                                                                permission_known=False, within=lambda: False),
                                                           ShareRule.NO_CONSUMER),
    "permission known, cannot be set: no consumer": (dict(permitted=False, partial=True, several_permissions=False,
                                                          permission_known=True, within=never), ShareRule.NO_CONSUMER),
}


@pytest.mark.parametrize("facts,expected", AFTER_PERMISSION.values(), ids=AFTER_PERMISSION.keys())
def test_the_rule_once_the_permission_is_set(facts: dict[str, object], expected: ShareRule) -> None:
    assert rules.share_rule(**facts) == expected  # type: ignore[arg-type]


def test_every_share_rule_has_a_row() -> None:
    assert {r for _, (r, _) in MAKING.values()} | {r for _, r in AFTER_PERMISSION.values()} == set(ShareRule)


def test_what_goes_before_the_permission() -> None:
    assert rules.principals_beyond([CONSUMER, "999900001111", OU], BUCKET) == ["999900001111", OU]
    assert rules.permission_changes(("p",), True, "p") is False
    assert rules.permission_changes(("p",), False, "p") and rules.permission_changes(("q", "p"), True, "p")
    assert rules.permission_changes(("q",), True, None) is False, "no permission known: none set"
    common = dict(not_groups=[SUBNET], groups=[A], targets=[A, B], holding=[C])
    assert rules.leaving_resources([A, B, C, SUBNET], partial=True, changes=True, **common) == [SUBNET]  # type: ignore[arg-type]
    assert rules.leaving_resources([A, B, C, SUBNET], partial=False, changes=False, **common) == [SUBNET]  # type: ignore[arg-type]
    assert rules.leaving_resources([A, B, C, SUBNET], partial=False, changes=True, **common) == [B, SUBNET]  # type: ignore[arg-type]


def test_what_goes_in_and_who_is_invited() -> None:
    assert rules.groups_to_put([A, B], [A], restrict_only=False, stopped=False) == [B]
    assert rules.groups_to_put([A, B], [], restrict_only=True, stopped=False) == []
    assert rules.groups_to_put([A, B], [], restrict_only=False, stopped=True) == []
    assert rules.consumers_wanted(BUCKET, permitted=True) == {CONSUMER, OTHER}
    assert rules.consumers_wanted(BUCKET, permitted=False) == set()
    assert rules.invitations([CONSUMER, OTHER, OU], 1) == ([CONSUMER], [OTHER], [OU])
    assert rules.invitations([CONSUMER], -3) == ([], [CONSUMER], [])


REASONS = {
    "an organization not on the share yet": (dict(org_wait="org!", stopped="quota!", unknown="u"), Wait("org!")),
    "a quota stopped the run": (dict(org_wait=None, stopped="quota!", unknown="u"), Wait("quota!", quota=True)),
    "the permission not known": (dict(org_wait=None, stopped=None, unknown="u"), Wait("u")),
    "the permission cannot be set": (dict(org_wait=None, stopped=None, unknown=""), Wait(rules.NO_CONSUMER_REASON)),
}


@pytest.mark.parametrize("facts,expected", REASONS.values(), ids=REASONS.keys())
def test_why_a_group_waits_after_the_invitations(facts: dict[str, object], expected: Wait) -> None:
    assert rules.waiting_reason(**facts) == expected  # type: ignore[arg-type]


def test_a_new_group_goes_in_only_when_its_share_is_ready() -> None:
    assert rules.placement_wait(exists=False, not_ready=lambda: "never asked") == rules.SHARE_TO_MAKE
    assert rules.placement_wait(exists=True, not_ready=lambda: "its share's permission is to be set first") \
        == "its share's permission is to be set first"
    assert rules.placement_wait(exists=True, not_ready=lambda: None) is None


def test_every_fixed_reason_is_given_by_a_rule() -> None:
    fixed = {v for n, v in vars(rules).items() if n.endswith(("_REASON", "_AWAY", "_MAKE"))}
    assert fixed == {rules.NOT_MADE_WHILE_TAKING_AWAY, rules.SEVERAL_PERMISSIONS_REASON, rules.NO_CONSUMER_REASON,
                     rules.NOT_PLACED_REASON, rules.SHARE_TO_MAKE}
