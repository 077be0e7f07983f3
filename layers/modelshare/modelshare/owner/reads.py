"""What an owner run reads about groups: RAM's shares in a few paged listings or for a group
alone, what the ledger says of them, their policies and CreationTime, and what the permissions
of modelshare's promoted shares grant. Each is read once per run (kept in the Run)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from modelshare import incarnation
from modelshare import policy as policies
from modelshare.convergence import GroupSnapshot, Holding, RamIndex, view_of
from modelshare.owner.run import Run
from modelshare.ports import STANDARD, GroupNotFound, LedgerContents, Ownership, ResourceShare, SharePermission


def ram_index(run: Run, *, principals: bool = True, permissions: bool = False) -> RamIndex:
    """The account's shares and their associations, in a few paged listings whatever the
    number of groups; with `permissions`, the permission of each of modelshare's promoted
    shares and what it grants (one more paged listing, and one read per distinct permission:
    a handful, since shares with the same actions share a managed permission)."""
    shares = run.owner.shares
    index = RamIndex.build(shares.owned_shares(), shares.associations("RESOURCE"),
                           shares.associations("PRINCIPAL") if principals else ())
    if not permissions:
        return index
    owned = {arn for ownership in run.ownership.values() for arn in ownership.shares}
    ours = {arn for arn, share in index.shares.items() if share.feature_set == STANDARD and arn in owned}
    if not ours:
        return index
    listed = permissions_of(run, ours)
    held = {arn: found[0] for arn, found in listed.items() if len(found) == 1}
    distinct = sorted({p.arn for p in held.values()})
    return replace(index, permissions=held, actions={arn: actions_of(run, arn) for arn in distinct},
                   trusted=frozenset(arn for arn in distinct if trusted(run, arn)),
                   unjudged=frozenset(arn for arn in ours if len(listed.get(arn, ())) != 1))


def switch_index(run: Run) -> RamIndex:
    """RAM's index with the permissions of modelshare's promoted shares, as the policy mode's
    sweep reads it (a switch of modes: modelshare.owner.mode_switch), after the run's ledger read,
    which tells which shares are modelshare's."""
    read_ledger(run)
    return ram_index(run, permissions=True)


def permissions_of(run: Run, share_arns: Iterable[str], *,
                   listing: bool = True) -> dict[str, tuple[SharePermission, ...]]:
    """Every permission of each of modelshare's STANDARD shares, whatever its resource type (a
    share with two cannot be judged). ListPermissionAssociations answers per permission
    (RAM-PERMISSION-ASSOCIATIONS): with `listing`, one call per permission the account can give
    a share, unless the shares are fewer than those; else one ListResourceSharePermissions
    per share."""
    shares = run.owner.shares
    arns = sorted(set(share_arns))
    if listing and len(candidates := shares.shareable_permissions()) < len(arns):
        listed = shares.permission_associations(candidates)
        return {arn: listed.get(arn, ()) for arn in arns}
    return {arn: tuple(shares.permissions(arn)) for arn in arns}


def trusted(run: Run, permission_arn: str) -> bool:
    """Whether modelshare gives shares this permission: AWS managed (no account can change
    it), or a customer managed one of this account the ledger says modelshare made. A person's
    permission with the very actions wanted is not: its owner could add a wider version."""
    if run.permission_names is None:
        run.permission_names = run.owner.ledger.permissions()
    names = run.permission_names
    parts = permission_arn.split(":", 5)
    if len(parts) != 6:
        # No ARN: a permission a dry run plans to create (it writes nothing): trusted when
        # recorded, as it will be once made.
        return permission_arn.rpartition("permission/")[2] in names
    if parts[2] != "ram" or not parts[5].startswith("permission/"):
        return False
    return parts[4] == "aws" or (parts[4] == run.account and parts[5].removeprefix("permission/") in names)


def actions_of(run: Run, permission_arn: str) -> frozenset[str]:
    """What a permission grants, read once per run."""
    if permission_arn not in run.permission_actions:
        run.permission_actions[permission_arn] = run.owner.shares.permission_actions(permission_arn)
    return run.permission_actions[permission_arn]


def group_snapshot(run: Run, group_name: str, group_arn: str, *, principals: bool,
                   pending: bool = False) -> GroupSnapshot:
    """One group's shares, read for it alone (an event's group; a status line), with what the
    ledger says of it. With `principals`, those of modelshare's promoted shares too (and with
    `pending`, which of them have not accepted their invitation yet)."""
    group = with_ownership(run, snapshot_of(run, group_name, group_arn, run.owner.shares.shares_holding(group_arn)))
    return with_principals(run, [group], pending=pending)[0] if principals else group


def snapshot_of(run: Run, group_name: str, group_arn: str, shares: Sequence[ResourceShare]) -> GroupSnapshot:
    """The group held by `shares`, with what each holds (one batched read)."""
    resources = run.owner.shares.share_resources([s.arn for s in shares]) if shares else {}
    return GroupSnapshot(group_name, group_arn, tuple(Holding(s, resources.get(s.arn, ()), ()) for s in shares))


def owned(run: Run, group_arns: Sequence[str]) -> dict[str, Ownership]:
    """What the ledger says of these groups, read once per run (the ones not read yet, in one
    batched read)."""
    missing = [arn for arn in dict.fromkeys(group_arns) if arn not in run.ownership]
    if missing:
        found = run.owner.ledger.of_groups(missing)
        run.ownership.update({arn: found.get(arn, Ownership()) for arn in missing})
    return {arn: run.ownership[arn] for arn in group_arns}


def with_ownership(run: Run, group: GroupSnapshot) -> GroupSnapshot:
    return group if group.ownership is not None else replace(group, ownership=owned(run, [group.arn])[group.arn])


def with_principals(run: Run, groups: Sequence[GroupSnapshot], *, pending: bool = False) -> list[GroupSnapshot]:
    """The groups with the principals of modelshare's promoted shares read now, in one
    batched read for them all; with `pending`, which of those RAM shows invited and not
    accepted yet (RAM-ACCEPTED: a status says invited, not discoverable), from one paged
    listing of the account's pending principal associations (after the principals: one
    accepted meanwhile is not taken for pending)."""
    shares = run.owner.shares
    promoted = {h.share.arn for g in groups for h in view_of(g).promoted}
    principals = shares.share_principals(sorted(promoted)) if promoted else {}
    invited: dict[str, set[str]] | None = None
    if pending and any(principals.values()):
        invited = {}
        for association in shares.associations("PRINCIPAL", status="ASSOCIATING"):
            if association.share_arn in principals:
                invited.setdefault(association.share_arn, set()).add(association.entity)

    def read(holding: Holding) -> Holding:
        arn = holding.share.arn
        if arn not in principals:
            return holding
        named = principals[arn]
        waiting = frozenset((invited or {}).get(arn, set()) & set(named)) if pending else None
        return replace(holding, principals=named, pending=waiting)

    return [replace(g, holdings=tuple(read(h) for h in g.holdings)) for g in groups]


def with_permissions(run: Run, group: GroupSnapshot) -> GroupSnapshot:
    """The group with the permission of each of modelshare's promoted shares, and what it
    grants, read now (for one group: a status)."""
    promoted = {h.share.arn for h in view_of(group).promoted}
    return replace(group, holdings=tuple(
        judged(run, h, tuple(run.owner.shares.permissions(h.share.arn))) if h.share.arn in promoted else h
        for h in group.holdings))


def judged(run: Run, holding: Holding, permissions: Sequence[SharePermission]) -> Holding:
    """A promoted share's holding with its permission, what it grants and whether modelshare
    gives it: none or several permissions, and what the share grants cannot be judged."""
    if len(permissions) != 1:
        return replace(holding, permission=None, actions=None, permission_trusted=False)
    permission, = permissions
    return replace(holding, permission=permission, actions=actions_of(run, permission.arn),
                   permission_trusted=trusted(run, permission.arn) and permission.default_version)


def with_policy(run: Run, group: GroupSnapshot) -> GroupSnapshot:
    return with_incarnation(run, replace(group, policy=run.owner.registry.get_policy(group.name), policy_read=True))


def read_policy(run: Run, group: GroupSnapshot) -> GroupSnapshot:
    """The group with what the ledger says of it and its policy, read now, judged as the
    group it is (a switch of modes: modelshare.owner.mode_switch)."""
    return with_policy(run, with_ownership(run, group))


def with_incarnation(run: Run, group: GroupSnapshot) -> GroupSnapshot:
    """The group (its policy read) with its CreationTime, read after the policy: a group made
    again between the two reads is judged as the new one, whose statements are a person's.
    Read only when there is something to judge: a statement under modelshare's Sid and a
    record of one. What the ledger recorded of groups made before this one under the same
    name is forgotten: it can never be modelshare's again (modelshare.incarnation)."""
    recorded = group.owned.statements
    if group.created is not None or not recorded or \
            not any(s.get("Sid") == policies.MODELSHARE_SID for s in policies.statements(group.policy)):
        return group
    created = run.owner.registry.created(group.name)
    if created is None:
        return group  # gone since the policy was read: nothing in it is judged modelshare's
    ledger = run.owner.ledger
    stamp = incarnation.stamp(created)
    if earlier := incarnation.earlier(recorded, stamp):
        ledger.forget_statements(group.arn, earlier)
        run.ownership.pop(group.arn, None)
    if incarnation.unstamped(recorded):
        # Recorded before stamps (an upgrade): adopted for the group judged now, as the
        # sweep's bounded adoption would, but before its turn comes (a removal from the
        # allowlist must not wait for it).
        group = replace(group, ownership=replace(
            group.owned, statements=incarnation.adopt_for(ledger, group.arn, recorded, stamp)))
        run.ownership.pop(group.arn, None)
    return replace(group, created=stamp)


def stamp_of(run: Run, group: GroupSnapshot) -> str:
    """The CreationTime a statement modelshare is about to write is recorded with: the one
    read with the policy, else read now (raises GroupNotFound)."""
    if group.created is not None:
        return group.created
    created = run.owner.registry.created(group.name)
    if created is None:
        raise GroupNotFound(group.name)
    return incarnation.stamp(created)


def read_ledger(run: Run) -> LedgerContents:
    """The whole ledger, in one paged read per run (the sweep's, the shares mode's and a
    switch of modes' alike), kept for the run: what the run records later is not in it (the
    shares mode says which shares it made: SharesModeResult.shares). Statements recorded
    before stamps are adopted first (modelshare.incarnation)."""
    if run.ledger_read is None:
        owner = run.owner
        run.ledger_read = incarnation.adopt_unstamped(owner.ledger.everything(), owner.registry, owner.ledger,
                                                      owner.account)
        run.ownership.update(run.ledger_read)
    return run.ledger_read
