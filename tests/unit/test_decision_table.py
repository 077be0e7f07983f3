"""The one decision as a table (issue 21, section 1): every rule of modelshare.decision and every
reason it gives has a row, facts in, decision out; and the event paths reach the decision the
sweep reaches for the same facts (a property)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelshare import incarnation, restriction
from modelshare import policy as policies
from modelshare.allowlist import ACCESS_ACTIONS, ShareDecision
from modelshare.decision import rules, share_rules
from modelshare.decision.facts import GroupDecision, GroupSnapshot, Holding, Rule, Write
from modelshare.decision.paths import ALREADY_PROMOTED_REASON, LEFT_TO_SWEEP_REASON, Path, decide_on, decide_unread
from modelshare.decision.promotion import PromotionRule, beyond_allowlist, promotion_check
from modelshare.decision.rules import decide
from modelshare.decision.switch import SwitchStep, old_access, switch_step, waiting_for
from modelshare.decision.writing import conflict_wait, needs_invitation_room, policy_writes_only, unsafe_until_narrowed
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    STANDARD,
    Ownership,
    ResourceShare,
    SharePermission,
)

OWNER, CONSUMER, OTHER, STRANGER = "111122223333", "444455556666", "777788889999", "999900001111"
NAME = "churn-xgb"
ARN = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/{NAME}"
SUBNET = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-1"
CREATED = "1700000000000"
DISCOVER = tuple(ACCESS_ACTIONS["discover"])
DEPLOY = (*DISCOVER, *ACCESS_ACTIONS["deploy"])
OURS_PERMISSION = SharePermission(f"arn:aws:ram::{OWNER}:permission/modelshare-discover", "modelshare-discover", "STANDARD")
PERSONS_PERMISSION = SharePermission(f"arn:aws:ram::{OWNER}:permission/mine", "mine", "STANDARD")


def shared(*consumers: str, actions: tuple[str, ...] = DISCOVER) -> ShareDecision:
    return ShareDecision(OWNER, NAME, consumers or (CONSUMER,), actions, ())


NOT_MATCHED = ShareDecision(OWNER, NAME, (), (), ())
CONFLICTED = ShareDecision(OWNER, NAME, (CONSUMER,), DISCOVER, (), conflict="rules 0 and 1 give different access")


def share(name: str, feature_set: str = STANDARD) -> ResourceShare:
    return ResourceShare(f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/{name}", name, feature_set, "ACTIVE")


def promoted(*principals: str, actions: tuple[str, ...] = DISCOVER, resources: tuple[str, ...] = (ARN,),
             permission: SharePermission | None = OURS_PERMISSION, trusted: bool | None = True) -> Holding:
    return Holding(share("ours"), resources, principals, permission,
                   frozenset(a.lower() for a in actions) if permission else None, trusted)


def statement(*consumers: str, actions: tuple[str, ...] = DISCOVER) -> dict[str, Any]:
    return policies.modelshare_statement(ARN, consumers, actions)


PERSONS = {"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sagemaker:ListModelPackages",
           "Resource": ARN}
IMPOSTOR = {**statement(STRANGER), "Sid": policies.MODELSHARE_SID}  # a person's, under modelshare's Sid


def group(*holdings: Holding, policy: list[dict[str, Any]] | None = None, ours: tuple[dict[str, Any], ...] = (),
          read: bool = True) -> GroupSnapshot:
    """The group with its shares (modelshare's named "ours..."), its policy and the statements
    the ledger says modelshare wrote into it."""
    owned = frozenset(h.share.arn for h in holdings if h.share.name.startswith("ours"))
    recorded = frozenset(incarnation.stamped(policies.statement_digest(s), CREATED) for s in ours)
    return GroupSnapshot(NAME, ARN, holdings, Ownership(owned, recorded),
                         {"Version": "2012-10-17", "Statement": policy} if policy else None, read, CREATED)


FROM_POLICY = Holding(share("cfp", CREATED_FROM_POLICY), (ARN,), (CONSUMER,))
PEOPLES_SHARE = Holding(share("someone-elses"), (ARN,), (STRANGER,))


@dataclass(frozen=True)
class Row:
    facts: GroupSnapshot
    decision: ShareDecision
    rule: Rule
    status: GroupStatus
    outcome: GroupAction
    writes: tuple[WriteKind, ...]
    reason: str  # found in the decision's reason
    detail: str = ""  # found in its detail


ROWS = {
    "promoting: wait for RAM": Row(
        group(Holding(share("ours", PROMOTING_TO_STANDARD), (ARN,), (CONSUMER,))), shared(), Rule.PROMOTING,
        GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.PROMOTING, (), rules.PROMOTING_REASON, "next run"),
    "promoted, as the allowlist says": Row(
        group(promoted(CONSUMER)), shared(), Rule.PROMOTED_SETTLED, GroupStatus.DISCOVERABLE, GroupAction.CONVERGED,
        (), rules.PROMOTED_REASON),
    "promoted, a consumer's invitation pending: invited, never discoverable": Row(
        group(replace(promoted(CONSUMER, OTHER), pending=frozenset({OTHER}))), shared(CONSUMER, OTHER),
        Rule.PROMOTED_SETTLED, GroupStatus.INVITED, GroupAction.CONVERGED, (), f"{rules.INVITED_REASON}: {OTHER}"),
    "promoted, every consumer accepted": Row(
        group(replace(promoted(CONSUMER, OTHER), pending=frozenset())), shared(CONSUMER, OTHER), Rule.PROMOTED_SETTLED,
        GroupStatus.DISCOVERABLE, GroupAction.CONVERGED, (), rules.PROMOTED_REASON),
    "promoted, no consumer, none wanted": Row(
        group(promoted()), NOT_MATCHED, Rule.PROMOTED_SETTLED, GroupStatus.NOT_SHARED, GroupAction.NOT_SHARED, (),
        rules.PROMOTED_EMPTY_REASON, rules.NO_RULE_REASON),
    "promoted, conflict": Row(
        group(promoted()), CONFLICTED, Rule.PROMOTED_SETTLED, GroupStatus.CONFLICT, GroupAction.CONFLICT, (),
        CONFLICTED.conflict or "", CONFLICTED.conflict or ""),
    "promoted, a consumer to invite": Row(
        group(promoted(CONSUMER)), shared(CONSUMER, OTHER), Rule.PROMOTED_CONSUMERS, GroupStatus.DISCOVERABLE,
        GroupAction.CONSUMERS_CHANGED, (WriteKind.ADD_CONSUMERS,), f"not yet invited: {OTHER}", f"added {OTHER}"),
    "promoted, a consumer no longer named": Row(
        group(promoted(CONSUMER, OTHER)), shared(), Rule.PROMOTED_CONSUMERS, GroupStatus.DISCOVERABLE,
        GroupAction.CONSUMERS_CHANGED, (WriteKind.REMOVE_CONSUMERS,), rules.PROMOTED_REASON, f"removed {OTHER}"),
    "promoted, a person's role on it": Row(
        group(promoted(CONSUMER, f"arn:aws:iam::{STRANGER}:role/r")), shared(), Rule.PROMOTED_CONSUMERS,
        GroupStatus.DISCOVERABLE, GroupAction.CONSUMERS_CHANGED, (WriteKind.REMOVE_CONSUMERS,), rules.PROMOTED_REASON,
        f"removed arn:aws:iam::{STRANGER}:role/r"),
    "promoted, a person's resource in it": Row(
        group(promoted(CONSUMER, resources=(ARN, SUBNET))), shared(), Rule.PROMOTED_CONSUMERS,
        GroupStatus.DISCOVERABLE, GroupAction.CONSUMERS_CHANGED, (WriteKind.REMOVE_RESOURCES,), f"also holds {SUBNET}",
        f"took out {SUBNET}, which only {NAME} may be in"),
    "promoted, actions beyond the allowlist": Row(
        group(promoted(CONSUMER, actions=DEPLOY)), shared(), Rule.PROMOTED_ACCESS, GroupStatus.DISCOVERABLE,
        GroupAction.ACCESS_CHANGED, (WriteKind.SET_ACTIONS,), "beyond the allowlist", "access set to the allowlist's (no more"),
    "promoted, fewer actions than the allowlist": Row(
        group(promoted(CONSUMER)), shared(actions=DEPLOY), Rule.PROMOTED_ACCESS, GroupStatus.DISCOVERABLE,
        GroupAction.ACCESS_CHANGED, (WriteKind.SET_ACTIONS,), "fewer actions than the allowlist", "access set"),
    "promoted, a person's permission": Row(
        group(promoted(CONSUMER, permission=PERSONS_PERMISSION, trusted=False)), shared(), Rule.PROMOTED_ACCESS,
        GroupStatus.DISCOVERABLE, GroupAction.ACCESS_CHANGED, (WriteKind.SET_ACTIONS,),
        "is neither AWS managed nor modelshare's", "with a permission of modelshare's or AWS's"),
    "promoted, several permissions: no consumer": Row(
        group(promoted(CONSUMER, permission=None, trusted=False)), shared(), Rule.PROMOTED_CONSUMERS,
        GroupStatus.DISCOVERABLE, GroupAction.CONSUMERS_CHANGED, (WriteKind.REMOVE_CONSUMERS,),
        "what it grants cannot be judged, so no consumer", f"removed {CONSUMER}"),
    "a person's statement under modelshare's Sid": Row(
        group(policy=[IMPOSTOR]), shared(), Rule.SID_TAKEN, GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE,
        GroupAction.SID_TAKEN, (), rules.SID_TAKEN_REASON, rules.SID_TAKEN_REASON),
    "no policy yet: the statement written": Row(
        group(), shared(), Rule.STATEMENT_WRITTEN, GroupStatus.NOT_SHARED, GroupAction.SHARED, (WriteKind.PUT_POLICY,),
        rules.NO_POLICY_REASON, CONSUMER),
    "a consumer added: the statement rewritten": Row(
        group(policy=[statement(CONSUMER)], ours=(statement(CONSUMER),)), shared(CONSUMER, OTHER),
        Rule.STATEMENT_WRITTEN, GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.SHARED, (WriteKind.PUT_POLICY,),
        rules.NO_SHARE_YET_REASON, f"{CONSUMER}, {OTHER}"),
    "no rule: the statement removed, the policy deleted": Row(
        group(policy=[statement(CONSUMER)], ours=(statement(CONSUMER),)), NOT_MATCHED, Rule.STATEMENT_REMOVED,
        GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.UNSHARED, (WriteKind.DELETE_POLICY,),
        f"principal account {CONSUMER} is not allowlisted", rules.NO_RULE_REASON),
    "conflict: the statement removed, a person's kept": Row(
        group(policy=[statement(CONSUMER), PERSONS], ours=(statement(CONSUMER),)), CONFLICTED, Rule.STATEMENT_REMOVED,
        GroupStatus.CONFLICT, GroupAction.UNSHARED, (WriteKind.PUT_POLICY,), CONFLICTED.conflict or "",
        CONFLICTED.conflict or ""),
    "the policy settled, RAM's share made from it: promote": Row(
        group(FROM_POLICY, policy=[statement(CONSUMER)], ours=(statement(CONSUMER),)), shared(), Rule.PROMOTE,
        GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.PROMOTED, (WriteKind.PROMOTE,), rules.FROM_POLICY_REASON),
    "a person's statement beside: not promotable": Row(
        group(FROM_POLICY, policy=[PERSONS, statement(CONSUMER)], ours=(statement(CONSUMER),)), shared(),
        Rule.NOT_PROMOTABLE, GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.NOT_PROMOTABLE, (),
        "RAM promotes only a single statement", "RAM promotes only a single statement"),
    "the policy settled, RAM has made no share yet": Row(
        group(policy=[statement(CONSUMER)], ours=(statement(CONSUMER),)), shared(), Rule.AWAITING_SHARE,
        GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.CONVERGED, (), rules.NO_SHARE_YET_REASON),
    "the policy cannot be promoted, RAM has made no share yet": Row(
        group(policy=[PERSONS, statement(CONSUMER)], ours=(statement(CONSUMER),)), shared(), Rule.POLICY_SETTLED,
        GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE, GroupAction.CONVERGED, (), "RAM promotes only a single statement"),
    "no rule, no policy": Row(
        group(), NOT_MATCHED, Rule.POLICY_SETTLED, GroupStatus.NOT_SHARED, GroupAction.NOT_SHARED, (),
        rules.NO_RULE_REASON, rules.NO_RULE_REASON),
    "no rule, a person's policy and share: reported, left alone": Row(
        group(PEOPLES_SHARE, policy=[PERSONS]), NOT_MATCHED, Rule.POLICY_SETTLED, GroupStatus.ACCESSIBLE_NOT_DISCOVERABLE,
        GroupAction.NOT_SHARED, (), "also in 1 share(s) modelshare leaves alone", rules.NO_RULE_REASON),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_decision_table(row: Row) -> None:
    verdict = decide(row.facts, row.decision)
    assert (verdict.rule, verdict.status, verdict.outcome) == (row.rule, row.status, row.outcome)
    assert tuple(w.kind for w in verdict.writes) == row.writes
    assert row.reason in verdict.reason and row.detail in verdict.detail


def test_every_rule_and_fixed_reason_has_a_row() -> None:
    decided = [decide(r.facts, r.decision) for r in ROWS.values()]
    assert {v.rule for v in decided} == set(Rule) - {Rule.RESTRICTED}  # RESTRICTED: the restriction table
    said = " ".join(f"{v.reason} {v.detail}" for v in decided)
    fixed = {name: value for name, value in vars(rules).items() if name.endswith("_REASON")}
    assert fixed and [name for name, value in fixed.items() if value not in said] == []
    assert {k for r in ROWS.values() for k in r.writes} == set(WriteKind)
    share_rules_named = {n for n, f in vars(share_rules).items() if n.endswith("_rule") and inspect.isfunction(f)}
    assert share_rules_named == {"permission_rule", "resources_rule", "principals_rule"}  # each has rows above


def test_the_policy_must_be_read_unless_modelshare_s_share_is_promoted() -> None:
    with pytest.raises(ValueError, match="needs its policy"):
        decide(group(read=False), shared())
    assert decide(group(promoted(CONSUMER), read=False), shared()).rule == Rule.PROMOTED_SETTLED


# -- restriction: the same decision under an invalid allowlist's last valid version ------------
def verdict(*writes: Write) -> GroupDecision:
    return GroupDecision(GroupStatus.DISCOVERABLE, (CONSUMER,), "why", GroupAction.CONSUMERS_CHANGED, "", writes, (),
                         Rule.PROMOTED_CONSUMERS)


OURS = share("ours").arn
PROMOTED_WITH_BOTH = group(promoted(CONSUMER, OTHER, actions=DEPLOY))


@dataclass(frozen=True)
class Restricted:
    facts: GroupSnapshot
    verdict: GroupDecision
    writes: tuple[Write, ...] | None  # None: the verdict unchanged
    detail: str = ""


RESTRICTION_ROWS = {
    "keep_removal: a consumer taken out, as under a valid allowlist": Restricted(
        PROMOTED_WITH_BOTH, verdict(Write(WriteKind.REMOVE_CONSUMERS, share=OURS, accounts=(OTHER,))), None),
    "keep_resource_removal: a person's resource taken out": Restricted(
        PROMOTED_WITH_BOTH, verdict(Write(WriteKind.REMOVE_RESOURCES, share=OURS, accounts=(SUBNET,)),
                                    Write(WriteKind.ADD_CONSUMERS, share=OURS, accounts=(STRANGER,))),
        (Write(WriteKind.REMOVE_RESOURCES, share=OURS, accounts=(SUBNET,)),),
        f"took {SUBNET} out of {OURS}; waits for a valid allowlist: adding {STRANGER}"),
    "hold_grant: a promotion waits": Restricted(
        group(FROM_POLICY), verdict(Write(WriteKind.PROMOTE, shares=(FROM_POLICY.share.arn,))), (),
        f"waits for a valid allowlist: promotion {FROM_POLICY.share.arn}"),
    "narrow_actions: narrowed, what it would add waits": Restricted(
        PROMOTED_WITH_BOTH, verdict(Write(WriteKind.SET_ACTIONS, share=OURS,
                                          actions=(*DISCOVER, "sagemaker:CreateModelPackage"))),
        (Write(WriteKind.SET_ACTIONS, share=OURS, actions=DISCOVER),),
        f"actions of {OURS} narrowed to " + ", ".join(DISCOVER) + "; waits for a valid allowlist: granting sagemaker:createmodelpackage"),
    "narrow_actions: nothing both grant: no consumer": Restricted(
        group(promoted(CONSUMER)), verdict(Write(WriteKind.SET_ACTIONS, share=OURS, actions=("sagemaker:CreateModelPackage",))),
        (Write(WriteKind.REMOVE_CONSUMERS, share=OURS, accounts=(CONSUMER,)),),
        f"removed {CONSUMER}; waits for a valid allowlist: granting sagemaker:createmodelpackage"),
    "narrow_actions: the grant not read waits": Restricted(
        group(promoted(CONSUMER, permission=None, trusted=None)),
        verdict(Write(WriteKind.SET_ACTIONS, share=OURS, actions=DISCOVER)), (),
        f"waits for a valid allowlist: setting the actions of {OURS}"),
    "narrow_statement: a consumer taken out, one added waits": Restricted(
        group(policy=[statement(CONSUMER, OTHER)], ours=(statement(CONSUMER, OTHER),)),
        verdict(Write(WriteKind.PUT_POLICY, policy={"Version": "2012-10-17", "Statement": [statement(CONSUMER, STRANGER)]})),
        (Write(WriteKind.PUT_POLICY, policy={"Version": "2012-10-17", "Statement": [statement(CONSUMER)]},
               digest=policies.statement_digest(statement(CONSUMER))),),
        f"modelshare's statement narrowed; waits for a valid allowlist: sharing with {STRANGER}"),
    "narrow_statement: removed": Restricted(
        group(policy=[statement(CONSUMER)], ours=(statement(CONSUMER),)),
        verdict(Write(WriteKind.PUT_POLICY, policy={"Version": "2012-10-17", "Statement": [statement(OTHER)]})),
        (Write(WriteKind.DELETE_POLICY),), f"modelshare's statement removed; waits for a valid allowlist: sharing with {OTHER}"),
}


@pytest.mark.parametrize("row", RESTRICTION_ROWS.values(), ids=RESTRICTION_ROWS.keys())
def test_restriction_table(row: Restricted) -> None:
    restricted = restriction.restrict(row.facts, row.verdict)
    if row.writes is None:
        assert restricted is row.verdict
        return
    assert (restricted.rule, restricted.outcome, restricted.writes) == (Rule.RESTRICTED, GroupAction.RESTRICTED, row.writes)
    assert restricted.detail == row.detail and "the allowlist is invalid: only what its last valid version" in restricted.reason


def test_every_restriction_rule_has_a_row() -> None:
    named = {f.__name__ for f in (*restriction._RULES.values(), restriction.hold_grant)}
    assert {key.split(":")[0] for key in RESTRICTION_ROWS} == named


# -- the event paths and the sweep: one decision for the same facts ----------------------------
HOLDINGS = st.sampled_from([(), (FROM_POLICY,), (promoted(CONSUMER),), (promoted(CONSUMER, OTHER, actions=DEPLOY),),
                            (Holding(share("ours", PROMOTING_TO_STANDARD), (ARN,), ()),), (PEOPLES_SHARE,),
                            (FROM_POLICY, PEOPLES_SHARE), (promoted(permission=None, trusted=False),)])
STATEMENTS = st.lists(st.sampled_from([statement(CONSUMER), statement(CONSUMER, OTHER), statement(OTHER, actions=DEPLOY),
                                       PERSONS, IMPOSTOR]), max_size=3, unique_by=policies.canonical)
DECISIONS = st.sampled_from([shared(), shared(CONSUMER, OTHER), shared(OTHER, actions=DEPLOY), NOT_MATCHED, CONFLICTED])


@given(holdings=HOLDINGS, written=STATEMENTS, recorded=st.lists(st.booleans(), min_size=3, max_size=3),
       decision=DECISIONS, path=st.sampled_from(list(Path)))
def test_every_path_takes_the_sweep_s_decision_for_the_same_facts(holdings: tuple[Holding, ...],
                                                                  written: list[dict[str, Any]], recorded: list[bool],
                                                                  decision: ShareDecision, path: Path) -> None:
    facts = group(*holdings, policy=written, ours=tuple(s for s, mine in zip(written, recorded, strict=False) if mine))
    sweep, on_path = decide(facts, decision), decide_on(path, facts, decision)
    assert (on_path.rule, on_path.status, on_path.reason, on_path.consumers) == \
        (sweep.rule, sweep.status, sweep.reason, sweep.consumers)
    assert on_path.writes in ((), sweep.writes), "a path makes the sweep's writes, or leaves them to it"
    if on_path.writes != sweep.writes and (path, sweep.rule) == (Path.CREATION, Rule.PROMOTE):
        assert (on_path.outcome, on_path.detail) == (GroupAction.CONVERGED, ""), "the promotion is the wake-up's"
    elif on_path.writes != sweep.writes:
        assert on_path.outcome in (GroupAction.ALREADY_PROMOTED, GroupAction.DEFERRED)
        assert on_path.detail.startswith((ALREADY_PROMOTED_REASON, LEFT_TO_SWEEP_REASON))
    if path == Path.WAKE_UP:
        assert (WriteKind.PROMOTE in {w.kind for w in on_path.writes}) == (sweep.rule == Rule.PROMOTE)
        if sweep.rule == Rule.POLICY_SETTLED and on_path.outcome != sweep.outcome:
            assert on_path.outcome == GroupAction.NOT_PROMOTABLE and on_path.detail, "told why, as a person's policy"
    if path == Path.CREATION:
        assert {w.kind for w in on_path.writes} <= {WriteKind.PUT_POLICY}


def test_creation_answers_a_group_the_allowlist_does_not_share_without_reading_it() -> None:
    not_matched = decide_unread(Path.CREATION, NAME, NOT_MATCHED)
    assert not_matched is not None and (not_matched.outcome, not_matched.detail, not_matched.writes) == \
        (GroupAction.NOT_SHARED, rules.NO_RULE_REASON, ())
    conflicted = decide_unread(Path.CREATION, NAME, CONFLICTED)
    assert conflicted is not None and (conflicted.outcome, conflicted.detail, conflicted.writes) == \
        (GroupAction.CONFLICT, CONFLICTED.conflict, ())
    assert decide_unread(Path.CREATION, NAME, shared()) is None, "a shared group is read"
    assert all(decide_unread(path, NAME, NOT_MATCHED) is None for path in (Path.WAKE_UP, Path.SWEEP))


def test_a_wake_up_tells_a_person_s_policy_it_cannot_promote_as_not_promotable() -> None:
    """The sweep settles a person's policy on a group no rule shares (not shared); woken by its
    put, the wake-up says why it is not promoted, as it always did."""
    facts = group(PEOPLES_SHARE, policy=[PERSONS])
    verdict = decide_on(Path.WAKE_UP, facts, NOT_MATCHED)
    assert (verdict.rule, verdict.outcome, verdict.writes) == (Rule.POLICY_SETTLED, GroupAction.NOT_PROMOTABLE, ())
    assert f"principal account {OTHER} is not allowlisted" in verdict.detail
    assert decide_on(Path.SWEEP, facts, NOT_MATCHED).outcome == GroupAction.NOT_SHARED
    assert decide_on(Path.WAKE_UP, group(), NOT_MATCHED).outcome == GroupAction.NOT_SHARED, "no policy: nothing to tell"


# -- what the owner's jobs judge as they write (decision.promotion, decision.writing, decision.switch)
CFP = FROM_POLICY.share.arn


def granting(grants: dict[str, frozenset[str] | None]) -> Callable[[str], frozenset[str] | None]:
    return grants.__getitem__


LOWER_DISCOVER = frozenset(a.lower() for a in DISCOVER)
PROMOTION_ROWS = {
    "RAM's share still names an account the allowlist dropped (RAM-CFP-LAG)": (
        {CFP: (CONSUMER, OTHER)}, shared(), {}, PromotionRule.PRINCIPALS_LAG, f"still names {OTHER}"),
    "a person's role on it: never allowed": (
        {CFP: (f"arn:aws:iam::{CONSUMER}:role/r",)}, shared(), {}, PromotionRule.PRINCIPALS_LAG, "role/r"),
    "its permission grants more than the allowlist's access": (
        {CFP: (CONSUMER,)}, shared(), {CFP: frozenset(a.lower() for a in DEPLOY)}, PromotionRule.PERMISSION_LAG,
        "too, beyond the allowlist's access"),
    "no single permission shown yet": (
        {CFP: (CONSUMER,)}, shared(), {CFP: None}, PromotionRule.PERMISSION_LAG, "grants no permission yet"),
    "caught up: promote": ({CFP: (CONSUMER,)}, shared(), {CFP: LOWER_DISCOVER}, PromotionRule.READY, ""),
    "no rule: nobody may be named": ({CFP: (CONSUMER,)}, NOT_MATCHED, {}, PromotionRule.PRINCIPALS_LAG, CONSUMER),
}


@pytest.mark.parametrize("row", PROMOTION_ROWS.values(), ids=PROMOTION_ROWS.keys())
def test_promotion_table(row: tuple[Any, ...]) -> None:
    principals, decision, grants, rule, reason = row
    check = promotion_check(ARN, principals, [CFP], decision, granting(grants))
    assert check.rule == rule and reason in check.reason and (check.reason == "") == (rule == PromotionRule.READY)


def test_the_permission_is_read_only_once_the_principals_are_within() -> None:
    def never(share_arn: str) -> frozenset[str] | None:
        raise AssertionError("read though the principals already stop the promotion")
    assert promotion_check(ARN, {CFP: (OTHER,)}, [CFP], shared(), never).rule == PromotionRule.PRINCIPALS_LAG
    assert {r[3] for r in PROMOTION_ROWS.values()} == set(PromotionRule)


def test_who_leaves_a_share_once_ram_finished_promoting_it() -> None:
    role = f"arn:aws:iam::{CONSUMER}:role/r"
    assert beyond_allowlist([CONSUMER, OTHER, role], shared()) == [OTHER, role]
    assert beyond_allowlist([CONSUMER], NOT_MATCHED) == [CONSUMER]
    assert beyond_allowlist([CONSUMER], CONFLICTED) == [CONSUMER], "a conflict shares with no one"


ROOM_ROWS = {
    "a share made from the policy to promote": (group(FROM_POLICY), shared(), False, True),
    "a consumer to invite on modelshare's promoted share": (group(promoted(CONSUMER)), shared(CONSUMER, OTHER), False, True),
    "promoted, settled": (group(promoted(CONSUMER)), shared(), False, False),
    "a consumer to remove only": (group(promoted(CONSUMER, OTHER)), shared(), False, False),
    "restricting adds no one": (group(FROM_POLICY), shared(), True, False),
    "not shared": (group(FROM_POLICY), NOT_MATCHED, False, False),
    "policy not read yet: as far as the snapshot tells, no": (group(read=False), shared(), False, False),
}


@pytest.mark.parametrize("row", ROOM_ROWS.values(), ids=ROOM_ROWS.keys())
def test_invitation_room_table(row: tuple[Any, ...]) -> None:
    facts, decision, restrict_only, needed = row
    assert needs_invitation_room(facts, decision, restrict_only=restrict_only) is needed


UNNARROWED_ROWS = {
    "grants beyond the allowlist: consumers go": (promoted(CONSUMER, actions=DEPLOY), DISCOVER, True),
    "grant not read: consumers go": (promoted(CONSUMER, permission=None, trusted=None), DISCOVER, True),
    "a person's permission: consumers go": (promoted(CONSUMER, permission=PERSONS_PERMISSION, trusted=False), DEPLOY, True),
    "grants less than wanted: consumers stay": (promoted(CONSUMER), DEPLOY, False),
    "no consumer to remove": (promoted(actions=DEPLOY), DISCOVER, False),
}


@pytest.mark.parametrize("row", UNNARROWED_ROWS.values(), ids=UNNARROWED_ROWS.keys())
def test_a_share_whose_actions_cannot_be_set_now(row: tuple[Any, ...]) -> None:
    holding, actions, unsafe = row
    assert unsafe_until_narrowed(holding, actions) is unsafe


def test_a_policy_write_conflict_is_decided_again_a_few_times_within_the_invocation() -> None:
    waits = (0.5, 1, 2)
    assert [conflict_wait(n, waits, 100, 20) for n in range(4)] == [0.5, 1, 2, None]
    assert conflict_wait(0, waits, 20.4, 20) is None, "no wait into the invocation's reserve"
    put = Write(WriteKind.PUT_POLICY, policy={}), Write(WriteKind.PROMOTE, shares=(CFP,))
    again = policy_writes_only(replace(verdict(*put), outcome=GroupAction.PROMOTED, detail="x"))
    assert (again.writes, again.outcome, again.detail) == ((put[0],), GroupAction.CONVERGED, "")
    only_policy = verdict(put[0])
    assert policy_writes_only(only_policy) == only_policy


SWITCH_ROWS = {
    "no longer shared: the policy mode's access retired": (NOT_MATCHED, False, [OTHER], SwitchStep.RETIRE),
    "live in its made share, nobody waits: retired": (shared(), True, [], SwitchStep.RETIRE),
    "live, a consumer yet to accept: narrowed": (shared(), True, [CONSUMER], SwitchStep.NARROW),
    "not live yet: narrowed": (shared(), False, [], SwitchStep.NARROW),
}


@pytest.mark.parametrize("row", SWITCH_ROWS.values(), ids=SWITCH_ROWS.keys())
def test_mode_switch_table(row: tuple[Any, ...]) -> None:
    decision, live, waiting, step = row
    assert switch_step(decision, live=live, waiting=waiting) == step


def test_whom_the_policy_mode_s_access_waits_for() -> None:
    offered = frozenset({OTHER})
    assert old_access(shared(), offered, statement_unpromoted=True) == {CONSUMER, OTHER}
    assert old_access(shared(), offered, statement_unpromoted=False) == offered
    assert old_access(NOT_MATCHED, offered, statement_unpromoted=True) == offered
    assert waiting_for([CONSUMER, OTHER], frozenset({CONSUMER, OTHER}), frozenset({OTHER})) == [CONSUMER]
    assert waiting_for([CONSUMER], frozenset(), frozenset()) == [], "never had it: nothing to wait for"
