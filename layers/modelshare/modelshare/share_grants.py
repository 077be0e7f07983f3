"""What one of modelshare's made shares grants, judged against a bucket (issue 20, the shares
mode): the permission of the bucket's action set, whether a share provably grants no more than
the bucket, or exactly its actions, or is ready for a new group. Anything unreadable is not
provable (fail closed). Split out of modelshare.shares_mode."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from modelshare.observability import count, logger
from modelshare.ports import RamQuotaReached
from modelshare.ram_ports import OwnerShareReads
from modelshare.share_layout import Bucket, parse_share_name
from modelshare.share_permissions import SharePermissions


class HeldShare(Protocol):
    """A made share as read this run (shares_writes.HeldShare)."""

    @property
    def principals(self) -> tuple[str, ...]: ...
    @property
    def permissions(self) -> tuple[str, ...]: ...
    @property
    def on_default_version(self) -> bool: ...


@dataclass(frozen=True)
class ShareGrants:
    shares: OwnerShareReads
    permissions: SharePermissions

    def lookup(self, actions: Sequence[str], *, create: bool) -> tuple[str | None, str]:
        """The permission for `actions` (SharePermissions.for_actions), or None and why not. A
        lookup that fails (a throttle, a 5xx past botocore's retries) is no answer: the share is
        judged by what it grants now (`within`) rather than stripped of its consumers."""
        try:
            found = self.permissions.for_actions(actions, create=create)
        except RamQuotaReached:
            raise  # an answer: no more permissions may be made
        except Exception as error:  # any failure to read is "unknown", never "none"
            logger.warning("The permission lookup failed: modelshare's shares within their bucket are left as they are",
                           extra={"actions": sorted(actions), "reason": f"{type(error).__name__}: {error}"})
            count("PermissionLookupFailed")
            return None, "the permission lookup failed this run: a later run tries again"
        return found, "no permission with these actions is attachable yet"

    def not_ready(self, held: HeldShare, bucket: Bucket) -> str | None:
        """Why a new group may not go into this share of its bucket now, or None."""
        if len(held.permissions) != 1 or not held.on_default_version:
            return "its share's permission is to be set first"
        if not set(held.principals) <= set(bucket.consumers):
            return "its share holds a principal its bucket does not name"
        arn, = held.permissions
        try:
            exact = self.permissions.trusted(arn) and self.shares.permission_actions(arn) == frozenset(bucket.actions)
        except Exception as error:  # unreadable: not provably exact (the sweep reads it again)
            return f"its share's permission could not be read ({type(error).__name__})"
        return None if exact else "its share's permission is to be set first"

    def within(self, held: HeldShare, bucket: Bucket) -> bool:
        """Whether the share provably grants no more than its bucket: one permission, on its
        default version, AWS managed or recorded as modelshare's, granting no action beyond the
        bucket's, and no principal beyond its consumers. Anything unreadable: not provable."""
        if len(held.permissions) != 1 or not held.on_default_version or not set(held.principals) <= set(bucket.consumers):
            return False
        arn, = held.permissions
        try:
            return self.permissions.trusted(arn) and self.shares.permission_actions(arn) <= frozenset(bucket.actions)
        except Exception:  # unreadable: not provably within
            return False

    def exactly(self, held: HeldShare, bucket: Bucket) -> bool:
        try:
            return self.shares.permission_actions(held.permissions[0]) == frozenset(bucket.actions)
        except Exception:  # unreadable: not live
            return False

    def within_once_converged(self, by_name: Mapping[str, HeldShare],
                              buckets: Mapping[str, Bucket]) -> Callable[[str, str], bool]:
        """(share name, bucket digest) -> whether the share grants no more than the bucket once
        this run converged it: its own bucket's grant when some group still wants that (the run
        brings it there or strips its consumers), else what it grants now (`within`). Read once
        per share and bucket."""
        answers: dict[tuple[str, str], bool] = {}

        def answer(name: str, digest: str) -> bool:
            if (name, digest) not in answers:
                parsed, bucket = parse_share_name(name), buckets[digest]
                own = buckets.get(parsed[0]) if parsed else None
                answers[name, digest] = self.within(by_name[name], bucket) if own is None else \
                    set(own.consumers) <= set(bucket.consumers) and set(own.actions) <= set(bucket.actions)
            return answers[name, digest]
        return answer
