"""The safety oracle's verdict after the run (localaws/harness/oracle.py says what it promises): once faults
stopped and a sweep period passed, judged on what AWS holds, the final allowlists and what people
made and granted themselves (localaws/harness/oracle_ledger.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from localaws.harness.oracle import ALL_ACTIONS, allowed_actions, allows
from localaws.harness.oracle_ledger import MODELSHARE, live
from localaws.services.registry_state import GROUP_ARN, principal_account

if TYPE_CHECKING:
    from localaws.harness.oracle import SafetyOracle


def judge_final_state(oracle: SafetyOracle, accounts: Iterable[str], failures: list[dict[str, Any]],
                      invocations: list[Any]) -> dict[str, Any]:
    """The verdict once faults stopped and a sweep period passed (people's calls, unfaulted)."""
    accounts = sorted(accounts)
    state = oracle.cloud.registry.state
    notes = []
    for account in accounts:
        if oracle.final_allowlist(account) is None:
            notes.append(f"the final allowlist of {account} is invalid: its groups' convergence is not judged")
    visible = {x: set(_discoverable(oracle, x)) for x in accounts}
    for owner in accounts:
        owner_rules, bound = oracle.final_allowlist(owner), oracle.final_bound(owner)
        for name, group in sorted(state.groups_in(owner, oracle.region).items()):
            oracle.checked["final group"] += 1
            grants = oracle.ledger.person_grants_for(owner, name)
            for consumer in (x for x in accounts if x != owner):
                consumer_rules = oracle.final_allowlist(consumer)
                # The organization and OUs RAM reaches the consumer through (the local
                # Organizations model: the truth, whatever the consumer's stack says of itself).
                member_of = _memberships(oracle, owner, consumer)
                owner_allows = allows(owner_rules, owner, name, consumer, member_of)
                if bound is not None:
                    allowed = allowed_actions(bound, owner, name) if allows(bound, owner, name, consumer, member_of) \
                        else frozenset()
                    beyond = [a for a in ALL_ACTIONS if a not in allowed
                              and not oracle.ledger.person_allows(owner, name, consumer, a, member_of)
                              and state.can_access(group, consumer, a)]
                    if beyond:
                        oracle.violations.append(f"final: {consumer} can still do {', '.join(beyond)} on {owner}'s "
                                                 f"{name}, which the final (or last valid) allowlist does not allow")
                discoverable = group.arn in visible[consumer]
                if owner_rules is None or consumer_rules is None:
                    continue
                # A consumer accepts only a share granting no more than its own allowlist's access
                # for the group (docs/architecture.md, "Consumer side"): where the owner's grants more, the group
                # rightly stays undiscovered.
                expected = owner_allows and allows(consumer_rules, owner, name, consumer, member_of) \
                    and allowed_actions(owner_rules, owner, name) <= allowed_actions(consumer_rules, owner, name)
                if discoverable and not expected and not _only_people_share(oracle, group.arn, consumer) \
                        and not (owner_allows and _only_hand_accepted(oracle, group.arn, consumer)):
                    oracle.violations.append(f"final: {consumer} discovers {owner}'s {name}, which the final "
                                             "allowlists do not allow")
                # A person's statement standing in the group's policy (a role, another account,
                # anything) keeps it from being promoted (RAM promotes single-statement policies
                # only) and modelshare never changes it: the group rightly stays undiscovered.
                elif expected and not discoverable and not grants \
                        and not oracle.ledger.person_statements((owner, name)):
                    oracle.unconverged.append(f"final: {owner}'s {name} is not discoverable by {consumer} though the "
                                              "final allowlists allow it (not converged)")
    _judge_final_shares(oracle, accounts)
    for failure in failures:
        at = datetime.fromisoformat(str(failure.get("timestamp") or failure.get("time")))
        if not any(i.ok and i.function == failure["function"] and i.account == failure["account"]
                   and datetime.fromisoformat(i.started) > at for i in invocations):
            oracle.unconverged.append(f"final: {failure['function']} in {failure['account']} reached its failure "
                                      f"destination at {at.isoformat()} and never ran successfully again")
    return {"violations": list(oracle.violations), "unconverged": list(oracle.unconverged),
            "checked": dict(sorted(oracle.checked.items())), "notes": notes + oracle.races}


def _judge_final_shares(oracle: SafetyOracle, accounts: list[str]) -> None:
    """modelshare's shares (those it made or promoted) that reach anyone hold only groups of their
    owner that the final allowlist pairs with every principal, granting no action beyond that
    group's access: whatever a person added to one is gone."""
    for share in oracle.cloud.registry.state.shares.values():
        principals = live(share.principals)
        if share.account not in accounts or share.status != "ACTIVE" or share.feature_set != "STANDARD" \
                or oracle.ledger.maker(share.arn) != MODELSHARE or not principals:
            continue
        rules = oracle.final_bound(share.account)
        if rules is None:
            continue
        oracle.checked["final share"] += 1
        tampered = oracle.ledger.person_changes.get(share.arn)
        why = f" (people changed it: {'; '.join(tampered)})" if tampered else ""
        granted = oracle.share_actions(share)
        for resource in live(share.resources):
            match = GROUP_ARN.fullmatch(resource)
            if match is None or match.group(2) != share.account:
                oracle.violations.append(f"final: modelshare's share {share.arn} holds {resource}, no group of "
                                         f"{share.account}{why}")
                continue
            group = match.group(3)
            strangers = [p for p in principals if not allows(rules, share.account, group, principal_account(p) or p)]
            if strangers:
                oracle.violations.append(f"final: modelshare's share {share.arn} shares {share.account}'s {group} with "
                                         f"{', '.join(strangers)}, which the final allowlist does not allow{why}")
            beyond = granted - allowed_actions(rules, share.account, group)
            if beyond:
                oracle.violations.append(f"final: {share.account}'s share of {group} grants "
                                         f"{', '.join(sorted(beyond))}, which the final allowlist does not allow{why}")


def _only_people_share(oracle: SafetyOracle, group_arn: str, consumer: str) -> bool:
    """Whether every share that makes the group discoverable by `consumer` is one a person made
    (what modelshare's consumer side then accepted was judged, when it accepted, against the
    allowlist it read: a person sharing a group the owner's allowlist does not name is the person's
    doing, within ordinary rights)."""
    reaching = _reaching(oracle, group_arn, consumer)
    return bool(reaching) and all(oracle.ledger.maker(share.arn) != MODELSHARE for share in reaching)


def _only_hand_accepted(oracle: SafetyOracle, group_arn: str, consumer: str) -> bool:
    """Whether a person in `consumer` accepted by hand every share of modelshare's that makes the
    group discoverable there. The owner's allowlist granted it (the caller checks), so the owner
    side shared rightly; the consumer's allowlist refusing it binds only modelshare's consumer side,
    which cannot leave a share (docs/aws-behaviour.md RAM-LEAVE) and reports it instead."""
    reaching = _reaching(oracle, group_arn, consumer)
    return bool(reaching) and all((share.arn, consumer) in oracle.ledger.hand_accepted for share in reaching
                                  if oracle.ledger.maker(share.arn) == MODELSHARE)


def _memberships(oracle: SafetyOracle, owner: str, consumer: str) -> frozenset[str]:
    state = oracle.cloud.registry.state
    if state.organization is None or not state.in_shared_organization(owner, consumer):
        return frozenset()
    return state.organization.memberships(consumer)


def _reaching(oracle: SafetyOracle, group_arn: str, consumer: str) -> list[Any]:
    """The active shares that make the group discoverable by `consumer` (as an account, or
    through its organization or an OU)."""
    return [share for share in oracle.cloud.registry.state.shares.values()
            if share.status == "ACTIVE" and share.feature_set == "STANDARD" and group_arn in live(share.resources)
            and (consumer in live(share.principals)
                 or not _memberships(oracle, share.account, consumer).isdisjoint(live(share.principals)))]


def _discoverable(oracle: SafetyOracle, account: str) -> list[str]:
    sagemaker = oracle.cloud.harness_session(account, oracle.region).client("sagemaker")
    arns: list[str] = []
    for page in sagemaker.get_paginator("list_model_package_groups").paginate(CrossAccountFilterOption="CrossAccount"):
        arns.extend(g["ModelPackageGroupArn"] for g in page["ModelPackageGroupSummaryList"])
    return arns
