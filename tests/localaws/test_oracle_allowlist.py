"""The safety oracle's own reading of the allowlist is as strict as docs/allowlist.md (issue 19, "Strict
means strict"): a key repeated in one object, or an account ID that only looks like one, makes the
document invalid, so nothing may be shared under it."""

from __future__ import annotations

import json

import pytest

from localaws.harness.oracle import allows, read_allowlist

OWNER, CONSUMER = "111122223333", "444455556666"
RULE = {"owner": OWNER, "groups": ["churn-*"], "consumers": [CONSUMER]}


def test_a_valid_document_is_read():
    rules = read_allowlist(json.dumps({"version": 1, "shares": [RULE]}))
    assert allows(rules, OWNER, "churn-a", CONSUMER)


@pytest.mark.parametrize("text", [
    '{"version": 2, "version": 1, "shares": []}',
    '{"version": 1, "shares": [{"owner": "777788889999", "owner": "111122223333", "groups": ["churn-*"], '
    '"consumers": ["444455556666"]}]}',
    '{"version": 1, "shares": [{"owner": "111122223333", "groups": ["x"], "groups": ["churn-*"], '
    '"consumers": ["444455556666"]}]}',
    '{"version": 1, "shares": [], "shares": [{"owner": "111122223333", "groups": ["churn-*"], '
    '"consumers": ["444455556666"]}]}',
])
def test_a_key_repeated_at_any_depth_makes_the_document_invalid(text):
    assert json.loads(text)  # json itself takes it: the last one wins
    assert read_allowlist(text) is None


@pytest.mark.parametrize("lookalike", ["44445555666\uff16", "\u0661" * 12, "\u0967" * 12])
def test_an_account_id_that_only_looks_right_makes_the_document_invalid(lookalike):
    assert read_allowlist(json.dumps({"version": 1, "shares": [{**RULE, "consumers": [lookalike]}]})) is None
    assert read_allowlist(json.dumps({"version": 1, "shares": [{**RULE, "owner": lookalike}]})) is None


def test_modes_are_read_as_strictly_as_the_readme_says():
    """Issue 20: `modes` names how each owner shares; the oracle judges grants the same in both
    modes, so it only has to refuse a document modelshare refuses."""
    valid = {"version": 1, "shares": [RULE], "modes": {OWNER: "shares"}}
    assert allows(read_allowlist(json.dumps(valid)), OWNER, "churn-a", CONSUMER)
    for modes in ({OWNER: "share"}, {"1111": "shares"}, [], {"\u0661" * 12: "policy"}, {OWNER: None}):
        assert read_allowlist(json.dumps({**valid, "modes": modes})) is None, modes


# -- organization and OU consumers (shares-mode owners only) ------------------------------------
OU = "arn:aws:organizations::999988887777:ou/o-exampleorg1/ou-ab12-examplou"
ORG = "arn:aws:organizations::999988887777:organization/o-exampleorg1"


def test_an_ou_consumer_of_a_shares_mode_owner_allows_its_members_and_the_ou_principal_only():
    rules = read_allowlist(json.dumps({"version": 1, "modes": {OWNER: "shares"},
                                       "shares": [{**RULE, "consumers": [OU]}]}))
    assert allows(rules, OWNER, "churn-a", OU), "the OU itself, as a share's principal"
    assert not allows(rules, OWNER, "churn-a", ORG), "not the whole organization"
    assert allows(rules, OWNER, "churn-a", CONSUMER, frozenset({ORG, OU}))
    assert not allows(rules, OWNER, "churn-a", CONSUMER, frozenset({ORG}))
    assert not allows(rules, OWNER, "churn-a", CONSUMER)


@pytest.mark.parametrize("document", [
    {"version": 1, "shares": [{**RULE, "consumers": [OU]}]},  # the owner is not named in the shares mode
    {"version": 1, "modes": {OWNER: "policy"}, "shares": [{**RULE, "consumers": [OU]}]},
    {"version": 1, "modes": {OWNER: "shares"}, "shares": [{**RULE, "consumers": [OU.upper()]}]},
    {"version": 1, "modes": {OWNER: "shares"}, "shares": [{**RULE, "consumers": [OU + "/"]}]},
])
def test_an_ou_consumer_elsewhere_or_malformed_makes_the_document_invalid(document):
    assert read_allowlist(json.dumps(document)) is None
