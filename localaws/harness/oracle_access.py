"""The safety oracle's "no moment without access" check (issue 20, the mode switch): a consumer
who can discover an owner's group keeps discovering it after every call a function makes, as long
as both allowlists keep allowing the pair.

Scoped to switch windows: it watches an owner from the moment its allowlist changes the owner's
sharing mode (`modes`, or the stack default when absent) to the end of the run. Outside a window
some losses are legitimate and fail closed on purpose (a share whose grant cannot be judged loses
its consumers; in the shares mode an edit of a bucket's consumers moves its groups to a new share
that must be accepted anew: docs/sharing-modes.md), so it does not judge there. Within one, a
pair is watched only while both allowlists give it the same thing they gave it when it was first
seen discoverable (the owner's consumers and access for the group, the consumer's acceptance and
access, the group's existence): an edit that changes what a group is shared with is no mode
switch, so such a pair is not judged again in the window.

Judged on the local AWS's state after each function's call, from the registry state (what
ListModelPackageGroups with CrossAccount reads: an ACTIVE STANDARD share, the group's and the
consumer's associations ASSOCIATED, the consumer's own or its organization's or an OU's it is in),
never by listing. A call AWS applied but answered with an error (a chaos 5xx) is seen at the
function's next call.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from localaws.services.organizations.api import is_org_principal
from localaws.services.registry_state import principal_account

if TYPE_CHECKING:
    from localaws.harness.oracle import Rule, SafetyOracle
    from localaws.runtime.calls import ApiCall

type Pair = tuple[str, str, str]  # (owner, group name, consumer)


def mode_of(document: str, owner: str, default: str) -> str | None:
    """The sharing mode a document gives `owner`; None when it is not a valid JSON object with
    valid modes (then the mode is unchanged: an invalid allowlist changes nothing)."""
    try:
        data = json.loads(document)
    except ValueError:
        return None
    modes = data.get("modes", {}) if isinstance(data, dict) else None
    if not isinstance(modes, dict):
        return None
    mode = modes.get(owner, default)
    return mode if mode in ("policy", "shares") else None


@dataclass
class AccessWatch:
    oracle: SafetyOracle
    default_mode: str = "policy"
    gaps: list[str] = field(default_factory=list)
    windows: dict[str, str] = field(default_factory=dict)  # owner -> when its switch window opened
    _modes: dict[str, str] = field(default_factory=dict)
    _watched: dict[Pair, tuple[object, ...]] = field(default_factory=dict)
    _excused: set[Pair] = field(default_factory=set)  # the allowlists changed what they give it: not judged again

    def allowlist_written(self, account: str, document: str, at: str) -> None:
        """A person wrote `account`'s allowlist: a change of its own mode opens its window."""
        mode = mode_of(document, account, self.default_mode)
        if mode is None:
            return
        before = self._modes.get(account)
        self._modes[account] = mode
        if before is not None and before != mode and account not in self.windows:
            self.windows[account] = at

    def after_call(self, call: ApiCall) -> None:
        if not self.windows:
            return
        self.oracle.checked["access after a call"] += 1
        now = self._discoverable()
        for pair, signature in list(self._watched.items()):
            if self._signature(pair) != signature:
                del self._watched[pair]  # what the allowlists give the pair changed: no switch's doing
                self._excused.add(pair)
            elif pair not in now:
                del self._watched[pair]
                owner, group, consumer = pair
                gap = (f"{call.time} [{call.account}] {call.caller} {call.operation}: {consumer} can no longer "
                                 f"discover {owner}'s {group}, which both allowlists still allow (a moment without access)")
                self.gaps.append(gap)
                self.oracle.violations.append(gap)
        for pair in now:
            if pair not in self._watched and pair not in self._excused and self._allowed(pair):
                self._watched[pair] = self._signature(pair)

    def _discoverable(self) -> set[Pair]:
        """(owner, group, consumer) discoverable now, for the owners in a window: a consumer named
        by its account, or reached through the organization or an OU it is in (as the listing
        resolves it: RegistryState.principal_status)."""
        state = self.oracle.cloud.registry.state
        members = tuple(state.organization.accounts) if state.organization is not None else ()
        found: set[Pair] = set()
        for share in state.shares.values():
            if share.account not in self.windows or share.region != self.oracle.region or share.status != "ACTIVE" \
                    or share.feature_set != "STANDARD":
                continue
            named = {a for entity in share.principals if (a := principal_account(entity)) is not None}
            reached = [*named, *members] if any(is_org_principal(entity) for entity in share.principals) else named
            consumers = {a for a in reached if a != share.account and state.principal_status(share, a) == "ASSOCIATED"}
            for arn, association in share.resources.items():
                group = state.group_by_arn(arn) if association.status == "ASSOCIATED" else None
                if group is not None:
                    found.update((share.account, group.name, consumer) for consumer in consumers)
        return found

    def _rules(self, account: str) -> tuple[Rule, ...] | None:
        return self.oracle.final_allowlist(account)  # the latest document written

    def _memberships(self, owner: str, consumer: str) -> frozenset[str]:
        """The organization and OUs RAM reaches `consumer` through from `owner`'s shares (the local
        Organizations model, now: an account moved out of an OU is no longer reached by it)."""
        state = self.oracle.cloud.registry.state
        if state.organization is None or not state.in_shared_organization(owner, consumer):
            return frozenset()
        return state.organization.memberships(consumer)

    def _allowed(self, pair: Pair) -> bool:
        """Both allowlists allow the pair (naming the consumer, or an organization or OU it is
        in), the consumer's for at least the owner's access (what the consumer side accepts)."""
        from localaws.harness.oracle import allowed_actions, allows

        owner, group, consumer = pair
        owner_rules, consumer_rules = self._rules(owner), self._rules(consumer)
        member_of = self._memberships(owner, consumer)
        return allows(owner_rules, owner, group, consumer, member_of) \
            and allows(consumer_rules, owner, group, consumer, member_of) \
            and allowed_actions(owner_rules, owner, group) <= allowed_actions(consumer_rules, owner, group)

    def _signature(self, pair: Pair) -> tuple[object, ...]:
        """What the allowlists give the pair's group: the owner's consumers and access, the
        consumer's acceptance and access, the organization and OUs the consumer is reached
        through; and whether the group still exists."""
        owner, group, consumer = pair
        member_of = self._memberships(owner, consumer)
        exists = group in self.oracle.cloud.registry.state.groups_in(owner, self.oracle.region)
        return (exists, member_of, *_granted(self.oracle.final_document(owner), self.oracle.final_document(consumer),
                                             pair, member_of))


@functools.lru_cache(maxsize=65536)  # speed only: asked for every watched pair after every call
def _granted(owner_document: str | None, consumer_document: str | None, pair: Pair,
             member_of: frozenset[str]) -> tuple[object, ...]:
    """What the two allowlist documents give the pair: the owner's consumers and access, the
    consumer's acceptance and access (a pure function of the documents' text)."""
    from localaws.harness.oracle import allowed_actions, allows, read_allowlist

    owner, group, consumer = pair
    owner_rules = read_allowlist(owner_document) if owner_document is not None else None
    consumer_rules = read_allowlist(consumer_document) if consumer_document is not None else None
    named = sorted({c for r in owner_rules or () if r.owner == owner and any(p.fullmatch(group) for p in r.patterns)
                    for c in r.consumers})
    return (tuple(a for a in named if allows(owner_rules, owner, group, a)),
            allowed_actions(owner_rules, owner, group), allows(consumer_rules, owner, group, consumer, member_of),
            allowed_actions(consumer_rules, owner, group))
