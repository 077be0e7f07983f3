"""Adversarial probes of the consumer's version event bus policy (issue 22, attack review)."""

from __future__ import annotations

import json

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.port_values import LastValidAllowlist
from modelshare.version_forwarding import keep_bus_policy

OWNER, CONSUMER, REMOVED = "111122223333", "444455556666", "222233334444"
BUS = f"arn:aws:events:eu-west-1:{CONSUMER}:event-bus/modelshare-versions"


class Bus:
    """A bus policy holding whole statements, as a careless admin may have written them."""

    def __init__(self, *statements: dict[str, object]) -> None:
        self.statements = list(statements)
        self.calls: list[tuple[str, str]] = []

    def read(self) -> str | None:
        return json.dumps({"Version": "2012-10-17", "Statement": self.statements}) if self.statements else None

    def admit(self, owner: str) -> None:
        self.calls.append(("admit", owner))

    def take_out(self, statement_id: str) -> None:
        self.calls.append(("take_out", statement_id))


def statement(sid: str, principal: object) -> dict[str, object]:
    return {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": "events:PutEvents", "Resource": BUS}


class Source:
    def __init__(self, now: Allowlist | None, last: Allowlist | None = None) -> None:
        self.now, self.last = now, last

    def load(self, *, fresh: bool = False) -> Allowlist:
        if self.now is None:
            raise AllowlistError([("$", "broken")])
        return self.now

    def last_valid(self) -> LastValidAllowlist | None:
        return LastValidAllowlist(self.last, "2") if self.last else None


NAMES_OWNER = Allowlist.parse({"version": 1, "shares": [{"owner": OWNER, "groups": ["g"], "consumers": [CONSUMER]}]})


def test_a_statement_named_like_modelshares_but_admitting_every_account_is_not_left_as_modelshares(caplog):
    # An admin's statement under modelshare's Sid, for every account: taken for modelshare's own.
    # Amended (busfix): it is a person's, so it is reported, not trusted as admitting OWNER, and not
    # written over (PutPermission under its Sid would change a person's statement).
    bus = Bus(statement("modelshare-owner-" + OWNER, "*"))
    with caplog.at_level("WARNING"):
        kept = keep_bus_policy(BUS, bus, bus, Source(NAMES_OWNER))
    assert kept["not_ours"] == ["modelshare-owner-" + OWNER], "the bus admits every account and nobody is told"
    assert "not modelshare's" in caplog.text
    assert bus.calls == []


def test_a_statement_in_modelshares_shape_but_for_another_bus_or_with_more_actions_is_a_persons():
    wider = statement("modelshare-owner-" + REMOVED, {"AWS": f"arn:aws:iam::{REMOVED}:root"})
    wider["Action"] = ["events:PutEvents", "events:PutRule"]
    elsewhere = statement("modelshare-owner-" + OWNER, {"AWS": OWNER})
    elsewhere["Resource"] = BUS.replace(CONSUMER, REMOVED)
    bus = Bus(wider, elsewhere)
    kept = keep_bus_policy(BUS, bus, bus, Source(NAMES_OWNER))
    assert kept["not_ours"] == ["modelshare-owner-" + OWNER, "modelshare-owner-" + REMOVED]
    assert bus.calls == []


def test_the_last_valid_allowlist_never_admits_an_owner():
    keeps = NAMES_OWNER  # names OWNER, whom the bus does not admit yet
    bus = Bus(statement("modelshare-owner-" + REMOVED, {"AWS": f"arn:aws:iam::{REMOVED}:root"}))
    kept = keep_bus_policy(BUS, bus, bus, Source(None, last=keeps))
    assert kept["admitted"] == [] and ("admit", OWNER) not in bus.calls


def test_no_valid_allowlist_at_all_changes_nothing():
    bus = Bus(statement("modelshare-owner-" + REMOVED, {"AWS": f"arn:aws:iam::{REMOVED}:root"}))
    keep_bus_policy(BUS, bus, bus, Source(None))
    assert bus.calls == []


def test_a_persons_statement_is_never_taken_out_whatever_its_sid():
    bus = Bus(statement("modelshare-owner-" + REMOVED, {"AWS": f"arn:aws:iam::{REMOVED}:root"}),
              statement("modelshare-owner-" + OWNER, {"AWS": f"arn:aws:iam::{OWNER}:root"}))
    bus.statements[0]["Condition"] = {"StringEquals": {"events:source": "pipelines"}}  # not what admit writes
    keep_bus_policy(BUS, bus, bus, Source(NAMES_OWNER))
    assert ("take_out", "modelshare-owner-" + REMOVED) not in bus.calls


def test_an_owner_the_last_valid_allowlist_removed_is_taken_out_while_the_current_one_is_invalid():
    bus = Bus(statement("modelshare-owner-" + REMOVED, {"AWS": f"arn:aws:iam::{REMOVED}:root"}))
    keep_bus_policy(BUS, bus, bus, Source(None, last=NAMES_OWNER))
    assert ("take_out", "modelshare-owner-" + REMOVED) in bus.calls


# Second review: a Sid is modelshare's only when every statement under it is, and only this bus.

def test_a_wider_statement_sharing_modelshare_s_sid_is_reported_and_never_taken_out() -> None:
    ours = statement(f"modelshare-owner-{OWNER}", {"AWS": f"arn:aws:iam::{OWNER}:root"})
    wide = {**ours, "Principal": "*"}
    kept = Bus(ours, wide)
    assert keep_bus_policy(BUS, kept, kept, Source(NAMES_OWNER))["not_ours"] == [ours["Sid"]]
    removed = Bus(ours, wide)
    keep_bus_policy(BUS, removed, removed, Source(Allowlist.parse({"version": 1, "shares": []})))
    assert removed.calls == []


def test_a_statement_on_another_bus_of_the_consumer_is_not_modelshare_s() -> None:
    for elsewhere in (BUS.replace("modelshare-versions", "default"), BUS.replace("eu-west-1", "us-east-1")):
        other = {**statement(f"modelshare-owner-{OWNER}", {"AWS": OWNER}), "Resource": elsewhere}
        bus = Bus(other)
        kept = keep_bus_policy(BUS, bus, bus, Source(Allowlist.parse({"version": 1, "shares": []})))
        assert bus.calls == [] and kept["not_ours"] == [other["Sid"]]
