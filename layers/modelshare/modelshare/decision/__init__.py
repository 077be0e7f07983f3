"""The one decision (issue 21): what a group needs, decided from what was read about it and the
allowlist, by small named rules. Pure: no AWS call.

- decision.facts: what is read about a group (GroupSnapshot, Holding) and the answer
  (GroupDecision: status, writes, outcome, reason and the Rule that decided it);
- decision.rules: `decide`, the policy mode's rules for one group;
- decision.share_rules: the rules for one of modelshare's promoted shares;
- modelshare.restriction: `restrict`, the same decision made restrict-only (an invalid allowlist).
"""
