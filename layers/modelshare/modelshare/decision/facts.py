"""What the decision reads about one group, and what it answers: plain values, no AWS call.

The facts (`GroupSnapshot`, its `Holding`s) are read by the owner's jobs through the ports; the
answer (`GroupDecision`) names the rule that decided it (`Rule`), the writes the group needs and
why. Ownership is the ledger's (docs/security.md): a share or statement is modelshare's only
when the ledger says modelshare made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from modelshare import incarnation
from modelshare.outcomes import GroupAction, GroupStatus, WriteKind
from modelshare.ports import (
    CREATED_FROM_POLICY,
    PROMOTING_TO_STANDARD,
    STANDARD,
    Ownership,
    ResourceShare,
    SharePermission,
)


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class Holding:
    """A live share holding the group, with what it holds and whom it offers it to."""

    share: ResourceShare
    resources: tuple[str, ...]  # live resource associations
    principals: tuple[str, ...]  # principals with access or an invitation (ASSOCIATED, ASSOCIATING)
    # The share's permission and the actions it grants (lower-cased): read for modelshare's
    # promoted shares where it matters (the sweep, a status), else None: not known.
    permission: SharePermission | None = None
    actions: frozenset[str] | None = None
    # Whether that permission is one modelshare gives a share: AWS managed, or one the ledger
    # says modelshare made, on its default version (False: a person's, which its owner could
    # widen at any time, or one whose grant cannot be read). False with no permission: the share
    # has several permissions (or none), so what it grants cannot be judged.
    permission_trusted: bool | None = None
    # The principals whose invitation RAM shows pending (ASSOCIATING: not accepted yet), when
    # read; None: not read (docs/aws-behaviour.md, RAM-ACCEPTED).
    pending: frozenset[str] | None = None

    @property
    def unjudged(self) -> bool:
        """Read, and what the share grants cannot be judged: nobody may be offered it."""
        return self.permission_trusted is False and self.permission is None


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class GroupSnapshot:
    """What a run read of one group: its policy, the shares holding it, what the ledger says."""

    name: str
    arn: str
    holdings: tuple[Holding, ...] = ()
    # What the ledger says modelshare made for the group; None: not read (deciding needs it).
    ownership: Ownership | None = None
    # The group's resource policy; read only when `policy_matters` says so (else `policy_read` is False).
    policy: dict[str, Any] | None = None
    policy_read: bool = False
    # The group's CreationTime as the ledger stamps it (modelshare.incarnation), read after its
    # policy; None: not read, and then no statement of the policy is modelshare's (fail closed).
    created: str | None = None

    @property
    def owned(self) -> Ownership:
        if self.ownership is None:
            raise ValueError(f"deciding about {self.name} needs what the ledger says modelshare made for it")
        return self.ownership

    @property
    def our_statements(self) -> frozenset[str]:
        """The digests of the statements modelshare wrote into this group (not into another
        group made before it under the same name)."""
        return incarnation.of_incarnation(self.owned.statements, self.created)


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class ShareView:
    """The live shares holding one group, as modelshare sees them."""

    from_policy: tuple[Holding, ...]  # CREATED_FROM_POLICY, holding this group alone: RAM made them from its policy
    managed: tuple[Holding, ...]  # modelshare's (the ledger says so), past CREATED_FROM_POLICY
    unmanaged: tuple[Holding, ...]  # anything else: never changed, only reported

    @property
    def promoting(self) -> bool:
        return any(h.share.feature_set == PROMOTING_TO_STANDARD for h in self.managed)

    @property
    def promoted(self) -> tuple[Holding, ...]:
        return tuple(h for h in self.managed if h.share.feature_set == STANDARD)


@dataclass(frozen=True)
class Write:
    """One change the group needs: put-policy (policy, digest: recorded in the ledger first) |
    delete-policy | promote (shares) | remove-consumers / add-consumers (share, accounts: any
    principal to remove) | remove-resources (share, accounts: the resources) | set-actions (share,
    actions)."""

    kind: WriteKind
    share: str = ""
    accounts: tuple[str, ...] = ()
    policy: dict[str, Any] | None = None
    shares: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    digest: str = ""


class Rule(StrEnum):
    """The rule that decided a group (`GroupDecision.rule`): each is a function of
    modelshare.decision.rules (modelshare.restriction for RESTRICTED)."""

    PROMOTING = "promoting"  # RAM is promoting modelshare's share: wait for it
    PROMOTED_SETTLED = "promoted-settled"  # modelshare's promoted share holds what the allowlist says
    PROMOTED_ACCESS = "promoted-access"  # ... but grants other actions, or through a permission not modelshare's
    PROMOTED_CONSUMERS = "promoted-consumers"  # ... but holds other principals or resources
    SID_TAKEN = "sid-taken"  # a person's statement under modelshare's Sid: add nothing beside it
    STATEMENT_WRITTEN = "statement-written"  # modelshare's statement put (written or rewritten)
    STATEMENT_REMOVED = "statement-removed"  # modelshare's statement taken out (the policy deleted if nothing else)
    PROMOTE = "promote"  # the share RAM made from the policy is promoted
    NOT_PROMOTABLE = "not-promotable"  # that share is not promoted: the policy cannot be
    AWAITING_SHARE = "awaiting-share"  # the policy could be promoted, and RAM has made no share of it yet
    POLICY_SETTLED = "policy-settled"  # the policy holds what the allowlist says; nothing to promote
    RESTRICTED = "restricted"  # the allowlist is invalid: only what its last valid version takes away


@dataclass(frozen=True)
class GroupDecision:
    """What the rules decide for one group: its status now and the writes it needs."""

    status: GroupStatus  # now
    consumers: tuple[str, ...]  # now: RAM's principals once promoted, else the policy's accounts
    reason: str
    outcome: GroupAction  # what a reconcile reports once `writes` are made
    detail: str
    writes: tuple[Write, ...]
    other_shares: tuple[str, ...]  # shares holding the group that modelshare leaves alone
    rule: Rule  # the rule that decided it


def view_of(group: GroupSnapshot) -> ShareView:
    from_policy: list[Holding] = []
    managed: list[Holding] = []
    unmanaged: list[Holding] = []
    owned = group.owned.shares
    for holding in group.holdings:
        if holding.share.feature_set == CREATED_FROM_POLICY:
            # RAM makes a share from a group's policy holding that group alone; promoting one
            # that holds anything else would make that discoverable too: it is left alone.
            (from_policy if holding.resources == (group.arn,) else unmanaged).append(holding)
        elif holding.share.arn in owned:
            managed.append(holding)
        else:
            unmanaged.append(holding)
    return ShareView(tuple(from_policy), tuple(managed), tuple(unmanaged))


def policy_matters(group: GroupSnapshot) -> bool:
    """Whether the group's policy must be read to decide: not once modelshare's share is
    promoted or promoting (RAM then holds the consumers, and the policy is left alone). Every
    other group is read, shared or not: a statement of modelshare's the allowlist no longer
    wants must go even when RAM has made no share of it."""
    view = view_of(group)
    return not (view.promoting or view.promoted)
