"""What the safety oracle knows of who made what (issue 19): which statements of a group's policy
a person wrote, which shares a person or a function made, what people changed on shares, and
what people granted themselves. It learns this only from the calls it observes (a person's own
calls, a function's applied writes), never from a Sid or a tag: anyone can type those.

A statement is modelshare's when a function's put wrote it and no person wrote it first; a
person's put that carries modelshare's statement over unchanged keeps it modelshare's, and every
other statement of a person's put is the person's, whatever its Sid.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any

from localaws.services.registry_state import GROUP_ARN, principal_account

MODELSHARE = "modelshare"
PERSON = "person"


def statement_text(statement: Any) -> str:
    """A statement as the oracle compares it: byte for byte, as written."""
    return json.dumps(statement)


def as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def principals_of(statement: dict[str, Any]) -> list[str]:
    """Every principal a statement names ("*", AWS principals, and "<Kind>:<value>" for others)."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return [str(p) for key, value in principal.items() if key == "AWS" for p in as_list(value)] + \
               [f"{key}:{value}" for key, value in principal.items() if key != "AWS"]
    return [str(principal)]


def statement_grants(statement: dict[str, Any]) -> set[tuple[str, str]]:
    """(account or "*", lower-cased action pattern) pairs an Allow statement grants to accounts."""
    if statement.get("Effect") != "Allow":
        return set()
    accounts = {"*" if p == "*" else principal_account(p) for p in principals_of(statement)}
    actions = {str(a).lower() for a in as_list(statement.get("Action"))} or ({"*"} if "NotAction" in statement else set())
    return {(account, action) for account in accounts if account for action in actions}


_LIVE_ASSOCIATION = ("ASSOCIATING", "ASSOCIATED")


def live(associations: dict[str, Any]) -> list[str]:
    """The entities of a share's associations that are live (associated, or an invitation out)."""
    return [entity for entity, association in associations.items() if association.status in _LIVE_ASSOCIATION]


def live_groups(share: Any) -> list[str]:
    """The names of the model package groups a share holds now."""
    return [match.group(3) for arn in live(share.resources) if (match := GROUP_ARN.fullmatch(arn))]


@dataclass
class Ledger:
    # (account, group) -> statement text -> MODELSHARE | PERSON, for the policy as last written
    statements: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # share ARN -> MODELSHARE | PERSON: who created it (CreateResourceShare) or promoted it from a policy
    share_makers: dict[str, str] = field(default_factory=dict)
    # (share ARN, consumer account) a person in the consumer accepted by hand
    hand_accepted: set[tuple[str, str]] = field(default_factory=set)
    # share ARN -> what people changed on it, in order (for the verdict's text)
    person_changes: dict[str, list[str]] = field(default_factory=dict)
    # (owner, group) -> (account or "*", action pattern) a person's own statement or share granted
    person_grants: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)

    # -- policies --------------------------------------------------------------------------
    def policy_put(self, key: tuple[str, str], statements: list[Any], *, by_person: bool) -> None:
        before = self.statements.get(key, {})
        authors: dict[str, str] = {}
        for statement in statements:
            text = statement_text(statement)
            if by_person:
                authors[text] = MODELSHARE if before.get(text) == MODELSHARE else PERSON
            else:
                authors[text] = PERSON if before.get(text) == PERSON else MODELSHARE
        self.statements[key] = authors
        if by_person:
            for statement in statements:
                if authors[statement_text(statement)] == PERSON and isinstance(statement, dict):
                    self.person_grants.setdefault(key, set()).update(statement_grants(statement))

    def policy_gone(self, key: tuple[str, str]) -> None:
        self.statements.pop(key, None)

    def group_gone(self, key: tuple[str, str]) -> None:
        """A group deleted (or made again, which is another group): nothing of the old one holds."""
        self.statements.pop(key, None)
        self.person_grants.pop(key, None)

    def person_statements(self, key: tuple[str, str]) -> list[str]:
        return [text for text, author in self.statements.get(key, {}).items() if author == PERSON]

    def is_persons(self, key: tuple[str, str], text: str) -> bool:
        return self.statements.get(key, {}).get(text) == PERSON

    # -- shares ----------------------------------------------------------------------------
    def share_made(self, arn: str, maker: str) -> None:
        self.share_makers.setdefault(arn, maker)

    def maker(self, arn: str) -> str | None:
        return self.share_makers.get(arn)

    def accepted_by_hand(self, arn: str, consumer: str) -> None:
        self.hand_accepted.add((arn, consumer))

    def person_changed(self, arn: str, what: str) -> None:
        self.person_changes.setdefault(arn, []).append(what)

    def person_granted(self, owner: str, group: str, accounts: list[str], actions: frozenset[str]) -> None:
        grants = self.person_grants.setdefault((owner, group), set())
        grants.update((account, action) for account in accounts for action in actions)

    def person_grants_for(self, owner: str, group: str) -> set[tuple[str, str]]:
        return self.person_grants.get((owner, group), set())

    def person_allows(self, owner: str, group: str, account: str, action: str,
                      memberships: frozenset[str] = frozenset()) -> bool:
        """Whether a person's own statement or share granted `account` `action` on the group,
        to the account or to an organization or OU of `memberships` (those RAM reaches it by)."""
        return any((who in ("*", account) or who in memberships) and fnmatch.fnmatchcase(action.lower(), pattern)
                   for who, pattern in self.person_grants.get((owner, group), ()))
