"""The owner side's entry points, as the functions, the admin commands and the local AWS call
them: each begins a Run (one invocation's state) and hands it to its job's module.

Owner side: share each allowlisted group through its resource policy, promote the share RAM
creates from that policy so consumers can discover the group, and keep its consumers in step.
Every entry point reads the truth from AWS and converges; calling it twice is harmless.
Which shares and statements modelshare changes: only those its ownership ledger says it made
(ports.OwnershipLedger), recorded before each write. Everything people made is reported and left
alone; a share of modelshare's is kept holding exactly what the allowlist says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelshare.deadline import Deadline, no_deadline
from modelshare.owner.run import Owner, Run

# Each job's module is imported by its entry point: a function runs one job (ShareOnCreate the
# creation, Promote the promotion, OwnerReconcile the sweep's), and each module a cold start
# imports costs it milliseconds (tests/unit/test_lazy_imports.py).
if TYPE_CHECKING:
    from modelshare.allowlist import Allowlist
    from modelshare.owner.outcome import GroupOutcome
    from modelshare.owner.status import GroupState
    from modelshare.ports import WorkQueue
    from modelshare.quota_budget import QuotaUse


class OwnerService(Owner):
    """An owner's ports and settings (kept for the execution environment), with one method per
    job. No method keeps what it read: each run's state is its Run's, begun with the deadline
    its invocation hands it (modelshare.wiring.remaining_time; none: no Lambda timeout)."""

    def share_group(self, group_name: str, *, deadline: Deadline = no_deadline) -> GroupOutcome:
        outcome, = self.share_groups({group_name: None}, deadline=deadline)
        return outcome

    def share_groups(self, groups: Mapping[str, str | None], *, deadline: Deadline = no_deadline) -> list[GroupOutcome]:
        """New groups (creation events; name -> ARN when the event said it): modelshare.owner.create."""
        from modelshare.owner import create

        return create.share_groups(Run.begin(self, deadline), groups)

    def promote_group(self, group_name: str, *, deadline: Deadline = no_deadline) -> GroupOutcome:
        """Promote one group's share made from its policy: modelshare.owner.promote."""
        from modelshare.owner import promote

        return promote.promote_group(Run.begin(self, deadline), group_name)

    def promote_pending_shares(self, *, groups: Mapping[str, str | None] | None = None,
                               share_arns: Sequence[str] | None = None,
                               failed_share_arns: Sequence[str] = (), deadline: Deadline = no_deadline,
                               ) -> list[GroupOutcome]:
        """A batch of RAM wake-ups and policy puts: modelshare.owner.promote."""
        from modelshare.owner import promote

        return promote.promote_pending_shares(Run.begin(self, deadline), groups=groups, share_arns=share_arns,
                                              failed_share_arns=failed_share_arns)

    def reconcile(self, *, deadline: Deadline = no_deadline) -> list[GroupOutcome]:
        """Every group in this run: modelshare.owner.sweep."""
        from modelshare.owner import sweep

        return sweep.reconcile(Run.begin(self, deadline))

    def sweep(self, *, deadline: Deadline = no_deadline) -> list[GroupOutcome]:
        """The scheduled sweep, fanned out when there is a work queue: modelshare.owner.sweep."""
        from modelshare.owner import sweep

        return sweep.sweep(Run.begin(self, deadline))

    def plan_sweep(self, queue: WorkQueue, *, deadline: Deadline = no_deadline) -> list[GroupOutcome]:
        """The sweep handing its work to `queue`: modelshare.owner.sweep."""
        from modelshare.owner import sweep

        return sweep.plan_sweep(Run.begin(self, deadline), queue)

    def reconcile_items(self, items: Sequence[Any], *, deadline: Deadline = no_deadline) -> list[GroupOutcome]:
        """A batch of the sweep's work items: modelshare.owner.sweep_work."""
        from modelshare.owner import sweep_work

        return sweep_work.reconcile_items(Run.begin(self, deadline), items)

    def delete_orphaned_shares(self, *, deadline: Deadline = no_deadline) -> list[GroupOutcome]:
        """modelshare's shares of deleted groups: modelshare.owner.cleanup."""
        from modelshare.owner import cleanup

        return cleanup.delete_orphaned_shares(Run.begin(self, deadline))

    def group_state(self, group_name: str, allowlist: Allowlist, *, restrict_only: bool = False,
                    region_use: Sequence[QuotaUse] | None = None) -> GroupState | None:
        """Reads only: where the group stands and why (None: no such group): modelshare.owner.status."""
        group_arn = self.registry.group_arn(group_name)
        if group_arn is None:
            return None
        from modelshare.owner import status

        return status.group_state(Run.begin(self), group_name, group_arn, allowlist, restrict_only=restrict_only,
                                  region_use=region_use)
