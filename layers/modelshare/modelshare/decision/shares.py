"""The shares mode's decision for one of modelshare's made shares (issue 20; issue 21, section 1):
from what was read of the share and what the allowlist gives its bucket, which rule applies, what
goes out, what goes in, who is invited, and why a group waits. Pure: no AWS call; the writes are
made by modelshare.shares_writes, in the order modelshare.shares_mode gives.

The rules for a share the layout gives groups (`share_rule`), in the order they are tried:
- MAKE_WAITS: no such share yet, and none may be made now (only taking away, a quota met, no
  permission with the bucket's actions): its groups wait;
- MAKE: no such share yet: it is made empty, recorded, then filled;
- (principals its bucket does not name go, and what leaves the share: `leaving_resources`;
  then its permission is set: the one granting the bucket's actions)
- CONVERGE: its permission is right: new groups go in, the bucket's consumers are invited;
- SEVERAL_PERMISSIONS: a partial run cannot judge a share with several permissions: the sweep;
- LEFT_AS_IT_IS: no answer about the permission this run, and what the share grants now is
  within its bucket (a throttle must not take consumers away and back);
- NO_CONSUMER: its permission cannot be set: it holds no consumer.
A new group (ShareOnCreate) goes into its bucket's share only when that share is ready for it
(`placement_wait`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from modelshare.org_principals import is_org_principal
from modelshare.share_layout import Bucket

NOT_MADE_WHILE_TAKING_AWAY = "not made while only taking away"
SEVERAL_PERMISSIONS_REASON = "its share has several permissions: left to the sweep"
NO_CONSUMER_REASON = "the share's permission cannot be set: it holds no consumer"
NOT_PLACED_REASON = "not placed in a share"
# Why a new group waits for the sweep: its bucket has no share with room (ShareOnCreate makes none).
SHARE_TO_MAKE = "its bucket has no share with room yet"


@dataclass(frozen=True)
class Wait:
    """Why a group wanted in a share is not live after the run: `quota` when a RAM quota
    stopped the run's additions (a run with room adds it: reported quota-reached), else a
    later run continues (promotion-pending)."""

    reason: str
    quota: bool = False


class ShareRule(StrEnum):
    MAKE_WAITS = "make-waits"
    MAKE = "make"
    CONVERGE = "converge"
    SEVERAL_PERMISSIONS = "several-permissions"
    LEFT_AS_IT_IS = "left-as-it-is"
    NO_CONSUMER = "no-consumer"


def making(*, restrict_only: bool, stopped: str | None, permission: str | None,
           unknown: str) -> tuple[ShareRule, Wait | None]:
    """A share the layout names that does not exist yet: made, or why its groups wait
    (`stopped`: the quota the run met)."""
    if restrict_only:
        return ShareRule.MAKE_WAITS, Wait(NOT_MADE_WHILE_TAKING_AWAY)
    if stopped is not None:
        return ShareRule.MAKE_WAITS, Wait(stopped, quota=True)
    if permission is None:
        return ShareRule.MAKE_WAITS, Wait(unknown)
    return ShareRule.MAKE, None


def principals_beyond(principals: Iterable[str], bucket: Bucket) -> list[str]:
    """The share's principals its bucket does not name: they go before anything else."""
    return sorted(set(principals) - set(bucket.consumers))


def permission_changes(permissions: Sequence[str], on_default_version: bool, permission: str | None) -> bool:
    """Whether the run gives the share another permission (or version) than it has."""
    return permission is not None and (tuple(permissions), on_default_version) != ((permission,), True)


def leaving_resources(resources: Iterable[str], *, not_groups: Sequence[str], partial: bool, changes: bool,
                      groups: Iterable[str], targets: Iterable[str], holding: Iterable[str]) -> list[str]:
    """What goes out of the share before its permission is set: a partial run, only what is no
    group of the account; else what the layout does not put there and the hand-over does not
    keep: when the permission changes (it may widen, and it is granted on all the share holds),
    every group not laid out here; else only what no bucket wants (a group changing buckets
    leaves once it is in its new share: share_takeout.empty_out)."""
    if partial:
        return list(not_groups)
    return outside(resources, groups if changes else targets, holding)


def outside(resources: Iterable[str], staying: Iterable[str], holding: Iterable[str] = ()) -> list[str]:
    """What a share holds that neither stays there nor is kept by the hand-over (sorted)."""
    return sorted(set(resources) - set(staying) - set(holding))


def share_rule(*, permitted: bool, partial: bool, several_permissions: bool, permission_known: bool,
               within: Callable[[], bool]) -> ShareRule:
    """Once its permission was set (`permitted`: it grants exactly the bucket's actions), what the
    share holds and whom it is offered to. `within` is asked only when needed (it reads)."""
    if permitted:
        return ShareRule.CONVERGE
    if partial and several_permissions:
        return ShareRule.SEVERAL_PERMISSIONS
    if not permission_known and within():
        return ShareRule.LEFT_AS_IT_IS
    return ShareRule.NO_CONSUMER


def groups_to_put(groups: Iterable[str], resources: Iterable[str], *, restrict_only: bool,
                  stopped: bool) -> list[str]:
    """The groups laid out in the share that it does not hold yet, unless nothing may be added."""
    if restrict_only or stopped:
        return []
    held = set(resources)
    return [g for g in groups if g not in held]


def consumers_wanted(bucket: Bucket, *, permitted: bool) -> set[str]:
    """Whom the share is offered to: its bucket's consumers, when its permission is right."""
    return set(bucket.consumers) if permitted else set()


def invitations(missing: Sequence[str], room: int) -> tuple[list[str], list[str], list[str]]:
    """The accounts to invite within the pending-invitation room, those that wait for room, and
    the organizations and OUs (invited apart: modelshare.org_sharing)."""
    orgs = [p for p in missing if is_org_principal(p)]
    accounts = [p for p in missing if p not in orgs]
    offered = accounts[:max(room, 0)]
    return offered, accounts[len(offered):], orgs


def waiting_reason(*, org_wait: str | None, stopped: str | None, unknown: str) -> Wait:
    """Why a group wanted in a share is not live after the run's invitations (`stopped`: the
    quota the run met)."""
    if org_wait:
        return Wait(org_wait)
    if stopped is not None:
        return Wait(stopped, quota=True)
    return Wait(unknown or NO_CONSUMER_REASON)


def placement_wait(*, exists: bool, not_ready: Callable[[], str | None]) -> str | None:
    """Why a new group may not go into its bucket's share now (None: it goes in). `not_ready`
    (share_grants.ShareGrants.not_ready) reads, so it is asked only of a share that exists."""
    if not exists:
        return SHARE_TO_MAKE
    return not_ready()
