"""Whether the share RAM made from a group's policy may be promoted now, and who must leave a
share once RAM finished promoting it (the policy mode). Pure: no AWS call; what they need is read
by modelshare.owner.promotion, lazily where a rule may not need it.

RAM updates a share made from a policy some time after the policy changes (docs/aws-behaviour.md,
RAM-CFP-LAG): its principals and its permission can still be wider than the policy and the
allowlist. Promotion hands the consumers both, so it waits for RAM to catch up, never promotes
past a narrowing:
- PRINCIPALS_LAG: a share still names an account the allowlist does not allow;
- PERMISSION_LAG: a share's permission grants beyond the allowlist's actions (or RAM shows it
  none, or several: nobody can say what promoting it would grant);
- READY: promote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from modelshare import policy as policies
from modelshare.allowlist import ShareDecision


class PromotionRule(StrEnum):
    PRINCIPALS_LAG = "principals-lag"
    PERMISSION_LAG = "permission-lag"
    READY = "ready"


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class PromotionCheck:
    """Which promotion rule applies to a share, and why RAM must catch up first."""

    rule: PromotionRule
    reason: str = ""  # why RAM must catch up first (the PromotionNotReady's words)


def allowed_accounts(decision: ShareDecision) -> frozenset[str]:
    return frozenset(decision.consumers if decision.shared else ())


def beyond_allowlist(principals: Iterable[str], decision: ShareDecision) -> list[str]:
    """The principals (an account, or a role, an organization, an OU: never allowed) whose
    account the allowlist does not give the group, sorted."""
    allowed = allowed_accounts(decision)
    return sorted({p for p in principals if policies.account_of(p) not in allowed})


def promotion_check(group_arn: str, principals: Mapping[str, Sequence[str]], shares: Sequence[str],
                    decision: ShareDecision, granted: Callable[[str], frozenset[str] | None]) -> PromotionCheck:
    """Whether `shares` (made from the group's policy) may be promoted. `principals`: each
    share's principals; `granted(share)`: what its one permission grants, lower-cased (None:
    none or several), asked share by share only once the principals are within the allowlist."""
    beyond = beyond_allowlist((p for arn in shares for p in principals.get(arn, ())), decision)
    if beyond:
        return PromotionCheck(PromotionRule.PRINCIPALS_LAG,
                              f"RAM's share made from the policy of {group_arn} still names {', '.join(beyond)}, "
                              "which the allowlist does not allow (RAM has not caught up with the policy yet); "
                              "retry later")
    wanted = frozenset(a.lower() for a in decision.actions)
    for arn in shares:
        grants = granted(arn)
        if grants is None or not grants <= wanted:
            more = "no permission yet" if grants is None else f"{', '.join(sorted(grants - wanted))} too"
            return PromotionCheck(PromotionRule.PERMISSION_LAG,
                                  f"RAM's share made from the policy of {group_arn} grants {more}, beyond the "
                                  "allowlist's access (RAM has not caught up with the policy yet); retry later")
    return PromotionCheck(PromotionRule.READY)
