"""Make-before-break for a group changing buckets in the shares mode (issue 20; docs/sharing-modes.md,
"How each mode works"): an allowlist edit that gives a group more consumers or actions than its share's bucket
(a rule split, a consumer added to one group) puts the group into its new bucket's share, whose
invitation its consumers have yet to accept. Meanwhile it stays in the share it is in, so that
the consumers of that share keep it, while that share grants no more than the allowlist now
gives the group (`ShareGrants.within_once_converged`), and leaves it only once each consumer of
the old share that the new bucket keeps has accepted the new share: RAM shows that consumer's
principal association ASSOCIATED (not ASSOCIATING, an invitation pending; docs/aws-behaviour.md,
RAM-ACCEPTED) and the group's resource association there ASSOCIATED. Narrowing is at once: a share that grants the group more
than the allowlist gives it (a consumer or an action taken away) holds it no longer.

Such a group is in two shares for a while: it counts twice against RAM's resource association
quotas (docs/aws-behaviour.md, RAM-QUOTA-REGION); a consumer who never accepts keeps it there.
A run reads RAM's pending associations once (principals: the count of pending invitations the
run needs anyway; resources: only when some group is ready to leave)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from modelshare.ports import AssociationKind, ResourceShare
from modelshare.ram_ports import OwnerShareReads
from modelshare.share_layout import Bucket, parse_share_name


class HeldShare(Protocol):
    """A made share as read this run (shares_writes.HeldShare)."""

    @property
    def share(self) -> ResourceShare: ...
    @property
    def resources(self) -> tuple[str, ...]: ...
    @property
    def principals(self) -> tuple[str, ...]: ...


@dataclass
class Acceptance:
    """RAM's pending associations of this account's shares, each kind read once, when first asked."""

    shares: OwnerShareReads
    _pending: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)

    def pending(self, kind: AssociationKind) -> frozenset[tuple[str, str]]:
        """(share ARN, principal or resource) whose association is still ASSOCIATING."""
        if kind not in self._pending:
            self._pending[kind] = frozenset((a.share_arn, a.entity)
                                            for a in self.shares.associations(kind, status="ASSOCIATING"))
        return self._pending[kind]

    def accepted(self, held: HeldShare) -> frozenset[str]:
        """The share's principals whose association is ASSOCIATED (read this run)."""
        pending = self.pending("PRINCIPAL")
        return frozenset(p for p in held.principals if (held.share.arn, p) not in pending)


def held_back(layout: Mapping[str, tuple[str, ...]], by_name: Mapping[str, HeldShare], wanted: Mapping[str, str],
              buckets: Mapping[str, Bucket], within: Callable[[str, str], bool],
              acceptance: Acceptance) -> dict[str, frozenset[str]]:
    """Share name -> the groups it keeps although the layout puts them elsewhere (see above).
    `wanted`: group -> its bucket's digest; `within(share name, digest)` as ShareGrants gives it."""
    placed = {group: name for name, groups in layout.items() for group in groups}
    kept: dict[str, set[str]] = {}
    for name, held in sorted(by_name.items()):
        if (parsed := parse_share_name(name)) is None:
            continue
        here = set(layout.get(name, ()))
        for group in sorted(set(held.resources) - here):
            digest, new = wanted.get(group), placed.get(group)
            if digest is None or digest == parsed[0] or new is None or not within(name, digest):
                continue  # no longer shared, a person's stray, or narrowed: it goes at once
            keepers = acceptance.accepted(held) & set(bucket.consumers if (bucket := buckets.get(digest)) else ())
            if keepers and not _handed_over(group, by_name.get(new), keepers, acceptance):
                kept.setdefault(name, set()).add(group)
    return {name: frozenset(groups) for name, groups in kept.items()}


def _handed_over(group: str, new: HeldShare | None, keepers: frozenset[str], acceptance: Acceptance) -> bool:
    """Whether the group's new share held it when this run read RAM, with every keeper accepted."""
    return new is not None and group in new.resources and keepers <= acceptance.accepted(new) \
        and (new.share.arn, group) not in acceptance.pending("RESOURCE")
