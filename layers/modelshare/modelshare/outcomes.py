"""The words the domain reports in: what happened to a group or an invitation, where a group
stands, and the writes a group needs.

StrEnums, so each value is still the plain string that logs, JSON results and `modelshare`
output have always shown (a member equals its string and serialises as it).
"""

from __future__ import annotations

from enum import StrEnum


class GroupAction(StrEnum):
    """What a run did about one group (`GroupOutcome.action`)."""

    SHARED = "shared"  # modelshare's statement put on the group's policy
    UNSHARED = "no-longer-shared"  # modelshare's statement (or made share) taken away: now not-shared
    CONVERGED = "converged"  # shared as the allowlist wants: nothing to change
    NOT_SHARED = "not-shared"  # no allowlist rule matches it
    CONFLICT = "conflict"  # rules with different access match it: not shared
    GONE = "gone"  # the group does not exist (any more)
    PROMOTED = "promoted"  # promotion started
    PROMOTING = "promoting"  # RAM is promoting its share: the next run continues
    ALREADY_PROMOTED = "already-promoted"
    PROMOTION_PENDING = "promotion-pending"  # RAM not ready yet: a later run promotes
    NOT_PROMOTABLE = "not-promotable"  # accessible, but the policy or RAM stops promotion
    SID_TAKEN = "sid-taken"  # a statement under modelshare's Sid that modelshare did not write: policy left alone
    QUOTA_REACHED = "quota-reached"  # a RAM quota stops it: retried later
    # Its policy kept changing under modelshare's writes (ConflictException): left to the next run.
    POLICY_CONFLICT = "policy-conflict"
    CONSUMERS_CHANGED = "consumers-changed"  # principals or resources of modelshare's promoted share changed
    ACCESS_CHANGED = "access-changed"  # the permission of modelshare's promoted share set to the allowlist's actions
    SHARE_DELETED = "share-deleted"  # modelshare's share of a deleted group deleted
    SKIPPED = "skipped"  # the allowlist is invalid: nothing decided
    # The allowlist is invalid: only its last valid version's removals and narrowings applied
    # (modelshare.restriction), what it would add waits.
    RESTRICTED = "restricted"
    # Switching modes (modelshare.owner.mode_switch): the new mode's access is not live for every
    # consumer yet, so the old one stays (narrowed); the old one removed once the new one is live.
    SWITCHING = "switching"
    SWITCHED = "switched"
    QUEUED = "queued"  # handed to the sweep's workers
    DEFERRED = "deferred"  # left for a later sweep: its earlier work is still queued
    FAILED = "failed"  # an error (named in the run's failure)


class GroupStatus(StrEnum):
    """Where a group stands now (`GroupState.status`, `modelshare status`, simulate's report), as
    the owner knows it: never what only a consumer can see."""

    # modelshare's promoted share offers it, and every consumer accepted (RAM: ASSOCIATED).
    DISCOVERABLE = "discoverable"
    # modelshare's promoted share offers it, and a consumer's invitation is pending (RAM:
    # ASSOCIATING): that consumer cannot discover it until it accepts.
    INVITED = "invited"
    ACCESSIBLE_NOT_DISCOVERABLE = "accessible-not-discoverable"
    NOT_SHARED = "not-shared"
    CONFLICT = "conflict"


class InvitationAction(StrEnum):
    """What a run did about one pending invitation (`InvitationOutcome.action`)."""

    ACCEPTED = "accepted"
    ALREADY_ACCEPTED = "already-accepted"  # by another run, or a person
    LEFT_PENDING = "left-pending"  # the allowlist does not allow all of it: it expires by itself
    CLOSED = "closed"  # expired, rejected or gone
    DEFERRED = "deferred"  # not read: the run was short of time; the next run takes it


class WriteKind(StrEnum):
    """One change a group needs (`convergence.Write.kind`)."""

    PUT_POLICY = "put-policy"
    DELETE_POLICY = "delete-policy"
    PROMOTE = "promote"
    ADD_CONSUMERS = "add-consumers"
    REMOVE_CONSUMERS = "remove-consumers"
    REMOVE_RESOURCES = "remove-resources"
    SET_ACTIONS = "set-actions"
