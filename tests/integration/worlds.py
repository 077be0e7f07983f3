"""Random worlds for the safety properties (issue 9): scenarios `modelshare simulate` runs, with
random accounts, groups, allowlists (per-account variants and invalid edits among them), policies
people write (accounts outside the allowlist, service and role principals, `*` actions), a timeline
of edits, deletions and creations mid-flight, and chaos; and, for the insider property (issue 19),
a person with ordinary rights acting between the edits and faults (localaws/harness/insider.py). A world is
a scenario file: a failing one is written out and replayed with `modelshare simulate <file>`.

Sharing modes (issue 20): an allowlist may put owners in the shares mode (`modes`), and a timeline
step may flip one owner's mode (an allowlist edit, `switch_mode` below), so the oracle's "no
moment without access" check (localaws/harness/oracle_access.py) judges switches in random worlds. Some
worlds put accounts in an AWS Organization (OUs, RAM sharing with it enabled or not), and their
allowlists name the organization or an OU as a consumer of a shares-mode owner."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import event
from hypothesis import strategies as st

from localaws.harness.scenario import Scenario
from localaws.harness.simulate import Simulation
from localaws.services.organizations.api import is_org_principal

REGION = "eu-west-1"
ACCOUNTS = ("111111111111", "222222222222", "333333333333", "444444444444")
STRANGER = "999999999999"  # in people's policies only: no stack, never allowlisted
GROUP_NAMES = ("churn-a", "churn-b", "fraud", "ranker", "x1", "x2")
PATTERNS = ("churn-*", "fraud", "*", "r?nker", "x?", "x1", "nomatch")
ACCESS = ([], ["register"], ["deploy"], ["discover", "register"], ["register", "deploy"])
INVALID_DOCUMENTS = (
    '{"version": 1, "shares": [',
    '{"version": 2, "shares": []}',
    '{"version": 1, "shares": [{"owner": "111111111111", "groups": ["*"], "consumers": ["111111111111"]}]}',
    '{"version": 1, "shares": [{"owner": "111111111111", "groups": ["*"], "consumers": ["22222222222"]}]}',
    '{"version": 1, "shares": [], "extra": true}',
)
MODELSHARE_SID = "ModelshareCrossAccountShare"  # modelshare's Sid, as docs/architecture.md documents it
LEVELS: tuple[list[str], ...] = ([], ["register"], ["deploy"], ["register", "deploy"])
LEVEL_ACTIONS = {
    "discover": ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"],
    "register": ["sagemaker:CreateModelPackage"],
    "deploy": ["sagemaker:UpdateModelPackage", "sagemaker:CreateModel"],
}
INSIDER_KINDS = ("create_share", "tag_share", "tag_group", "associate_share", "associate_share",
                 "second_permission", "own_sid_statement", "accept_invitations", "forge_sweep_message")
# Where failing worlds are written (git ignores it): `modelshare simulate <file>` replays one.
FAILURES_DIR = Path(os.environ.get("MODELSHARE_FAILED_WORLDS", Path(__file__).resolve().parents[2] / "bench" / "failed-worlds"))


def failed_world_path(name: str, scenario: dict[str, Any], text: str) -> Path:
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return FAILURES_DIR / f"{name}-{scenario['chaos']['seed']}-{digest}.json"


def _write_failed_world(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def group_arn(account: str, group: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{account}:model-package-group/{group}"


# A world's organization: its management account may be outside the world's accounts.
ORG_ID, MANAGEMENT = "o-worlds00001", "555555555555"
OUS = ("ou-ab12-worldsaa", "ou-ab12-worldsbb")  # the second under the first
# How a drawn allowlist names an owner's mode: not at all (the stack's default, policy) twice as
# often as either mode, so most worlds mix both modes.
MODE_CHOICES = (None, None, "shares", "policy")


def other_mode(document: dict[str, Any], owner: str) -> str:
    return "policy" if document.get("modes", {}).get(owner) == "shares" else "shares"


def switched(document: dict[str, Any], owner: str, mode: str, *, by_default: bool = False) -> dict[str, Any]:
    """`document` with `owner` moved to `mode` (by leaving it out of `modes` when `by_default`
    and the mode is the stack's default, policy), all else as it was."""
    edited = copy.deepcopy(document)
    modes = dict(edited.get("modes", {}))
    modes.pop(owner, None)
    if not (by_default and mode == "policy"):
        modes[owner] = mode
    edited.pop("modes", None)
    if modes:
        edited["modes"] = dict(sorted(modes.items()))
    if mode == "policy":  # the policy mode serves accounts only: the owner's organization consumers go
        for rule in edited["shares"]:
            if rule["owner"] == owner:
                rule["consumers"] = [c for c in rule["consumers"] if not is_org_principal(c)]
        edited["shares"] = [rule for rule in edited["shares"] if rule["consumers"]]
    return edited


@st.composite
def organizations(draw: st.DrawFn, accounts: tuple[str, ...]) -> dict[str, Any]:
    """A scenario's organization (localaws/harness/simulate_org.py): each account out of it, under its
    root or in one of two nested OUs; RAM sharing with it mostly enabled."""
    members: dict[str, str | None] = {}
    for account in accounts:
        where = draw(st.sampled_from(["out", "root", *OUS]))
        if where != "out":
            members[account] = None if where == "root" else where
    return {"id": ORG_ID, "management_account": draw(st.sampled_from([MANAGEMENT, *accounts])),
            "ous": {OUS[0]: None, OUS[1]: OUS[0]}, "accounts": members,
            "ram_sharing_enabled": draw(st.sampled_from([True, True, False]))}


def org_principals(organization: dict[str, Any] | None) -> tuple[str, ...]:
    """The organization's ARN and its OUs' ARNs, as an allowlist names them."""
    if organization is None:
        return ()
    base = f"arn:aws:organizations::{organization['management_account']}"
    return (f"{base}:organization/{ORG_ID}", *(f"{base}:ou/{ORG_ID}/{ou}" for ou in OUS))


@st.composite
def allowlists(draw: st.DrawFn, accounts: tuple[str, ...], owners: tuple[str, ...] = (),
               organization: tuple[str, ...] = ()) -> dict[str, Any]:
    """A valid document; its rules' owners mostly among `owners` (the accounts holding groups),
    some of them put in a mode by `modes`; a rule may name one of the `organization` principals
    (its owner then in the shares mode)."""
    rules = []
    in_shares_mode: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        owner = draw(st.sampled_from(owners or accounts) if draw(st.integers(0, 4)) else st.sampled_from(accounts))
        others = [a for a in accounts if a != owner]
        rule: dict[str, Any] = {
            "owner": owner,
            "groups": draw(st.lists(st.sampled_from(PATTERNS + GROUP_NAMES), min_size=1, max_size=2, unique=True)),
            "consumers": draw(st.lists(st.sampled_from(others), min_size=1, max_size=len(others), unique=True)),
        }
        if organization and draw(st.integers(0, 2)) == 0:
            rule["consumers"].append(draw(st.sampled_from(organization)))
            in_shares_mode.add(owner)
        access = draw(st.sampled_from(ACCESS))
        if access or draw(st.booleans()):
            rule["access"] = access or ["discover"]
        rules.append(rule)
    document: dict[str, Any] = {"version": 1, "shares": rules}
    modes = {owner: mode for owner in sorted({r["owner"] for r in rules})
             if (mode := "shares" if owner in in_shares_mode else draw(st.sampled_from(MODE_CHOICES))) is not None}
    if modes:
        document["modes"] = modes
    return document


@st.composite
def person_policies(draw: st.DrawFn, account: str, group: str, accounts: tuple[str, ...]) -> dict[str, Any]:
    principals = st.sampled_from([
        {"AWS": STRANGER}, {"AWS": f"arn:aws:iam::{STRANGER}:root"}, {"AWS": draw(st.sampled_from(accounts))},
        {"AWS": f"arn:aws:iam::{draw(st.sampled_from(accounts))}:role/ml-reader"},
        {"Service": "sagemaker.amazonaws.com"},
    ])
    actions = st.sampled_from(["sagemaker:DescribeModelPackageGroup", "sagemaker:*", "*",
                               ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]])
    statements = [{"Sid": f"PersonWrote{i}", "Effect": "Allow", "Principal": draw(principals), "Action": draw(actions),
                   "Resource": [group_arn(account, group), f"arn:aws:sagemaker:{REGION}:{account}:model-package/{group}/*"]}
                  for i in range(draw(st.integers(1, 2)))]
    return {"Version": "2012-10-17", "Statement": statements}


@st.composite
def insider_step(draw: st.DrawFn, kind: str, at: int, accounts: tuple[str, ...], existing: dict[str, list[str]],
                 own_shares: dict[str, list[str]], organization: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One insider action (localaws/harness/insider.py) with ordinary rights, as timeline steps: a share
    it needs is made first. Its targets are modelshare's share of a group (`promoted:`: the one
    it promoted, or made in the shares mode) and the person's own shares, of one or more groups."""
    owners = [a for a in accounts if existing[a]] or list(accounts)
    account = draw(st.sampled_from(owners))
    groups = existing[account] or list(GROUP_NAMES[:1])
    others = [a for a in (*accounts, STRANGER) if a != account]
    # Whom a person adds to a share: accounts (a stranger among them), a role, the organization or an OU.
    strangers = [*others, f"arn:aws:iam::{draw(st.sampled_from(others))}:role/ml-reader", *organization]
    steps: list[dict[str, Any]] = []

    def own_share() -> str:
        if own_shares[account] and draw(st.booleans()):
            return draw(st.sampled_from(own_shares[account]))
        name = f"insider-{len(own_shares[account]) + 1}-{account[:3]}"
        step: dict[str, Any] = {"at": at, "do": "create_share", "account": account, "name": name,
                                "groups": draw(st.lists(st.sampled_from(groups), min_size=1, max_size=3, unique=True)),
                                "principals": draw(st.lists(st.sampled_from([*others, *organization]), max_size=2,
                                                            unique=True))}
        level = draw(st.sampled_from(LEVELS))
        if level:
            step["permission"] = level
        steps.append(step)
        own_shares[account].append(name)
        return name

    def any_share() -> str:
        return f"own:{own_share()}" if draw(st.booleans()) else f"promoted:{draw(st.sampled_from(groups))}"

    group = draw(st.sampled_from(groups))
    if kind == "create_share":
        own_share()
    elif kind == "tag_share":
        tags = draw(st.sampled_from([{"modelshare:managed": "true"}, {"modelshare:bucket": "forged"},
                                     {"team": "ml"}]))
        steps.append({"at": at + 1, "do": kind, "account": account, "share": any_share(), "tags": tags})
    elif kind == "tag_group":
        steps.append({"at": at + 1, "do": kind, "account": account, "group": group,
                      "tags": {"modelshare:promoted-share": f"{{share:own:{own_share()}}}"}})
    elif kind == "associate_share":
        # Another group (or the same) or a principal into modelshare's share or the person's own.
        step: dict[str, Any] = {"at": at + 1, "do": kind, "account": account,
                                "share": f"promoted:{group}" if draw(st.integers(0, 2)) else f"own:{own_share()}"}
        if draw(st.booleans()):
            step["groups"] = draw(st.lists(st.sampled_from(groups), min_size=1, max_size=2, unique=True))
        else:
            step["principals"] = [draw(st.sampled_from(strangers))]
        steps.append(step)
    elif kind == "second_permission":
        # A permission beside (or in place of) the share's: another resource type's, or any access's.
        step = {"at": at + 1, "do": "associate_permission", "account": account, "share": any_share(),
                "permission": draw(st.sampled_from(["another-type", *LEVELS]))}
        if draw(st.booleans()):
            step["replace"] = True
        steps.append(step)
    elif kind == "own_sid_statement":
        principal = draw(st.sampled_from(others))
        level = draw(st.sampled_from(LEVELS))
        statement = {"Sid": MODELSHARE_SID, "Effect": "Allow",
                     "Principal": {"AWS": draw(st.sampled_from([principal, f"arn:aws:iam::{principal}:root"]))},
                     "Action": [a for name in ("discover", *level) for a in LEVEL_ACTIONS[name]],
                     "Resource": [group_arn(account, group), f"arn:aws:sagemaker:{REGION}:{account}:model-package/{group}/*"]}
        if draw(st.booleans()):
            steps.append({"at": at, "do": "add_statement", "account": account, "group": group, "statement": statement})
        else:
            steps.append({"at": at, "do": "put_policy", "account": account, "group": group,
                          "policy": {"Version": "2012-10-17", "Statement": [statement]}})
    elif kind == "accept_invitations":
        steps.append({"at": at, "do": kind, "account": draw(st.sampled_from(accounts))})
    else:  # a forged sweep work item: a share of the account (modelshare's or the person's), any principals
        share = f"{{share:own:{own_share()}}}" if draw(st.booleans()) else f"{{share:promoted:{group}}}"
        item = {"kind": "modelshare.sweep-group", "attempt": 1, "group": group, "arn": group_arn(account, group),
                "holdings": [{"share": [share, "forged", "STANDARD", "ACTIVE", [["modelshare:managed", "true"]]],
                              "resources": [group_arn(account, group)],
                              "principals": draw(st.lists(st.sampled_from(others), max_size=2, unique=True))}]}
        steps.append({"at": at + 1, "do": "send_message", "account": account, "queue": "SweepQueue",
                      "body": {"kind": "modelshare.sweep-groups", "items": [item]}})
    return steps


@st.composite
def worlds(draw: st.DrawFn, *, chaos: dict[str, Any] | None = None, eventful: bool = False,
           insider: bool = False) -> dict[str, Any]:
    """A scenario. `chaos` fixes the fault rates (the chaos runs); otherwise they are drawn too.
    `eventful`: the timeline holds at least an edit, an invalid edit, a creation and a deletion.
    `insider`: a person with ordinary rights acts between them (at least three actions)."""
    accounts = ACCOUNTS[:draw(st.integers(2, 4))]
    spec: dict[str, dict[str, Any]] = {}
    existing: dict[str, list[str]] = {}
    for account in accounts:
        # The first account always owns groups: most worlds have something to share.
        groups = draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=int(account == accounts[0]), max_size=4,
                               unique=True))
        existing[account] = list(groups)
    owners = tuple(a for a in accounts if existing[a])
    organization = draw(organizations(accounts)) if draw(st.integers(0, 3)) == 0 else None
    named = org_principals(organization)
    document = draw(allowlists(accounts, owners, named))
    for account in accounts:
        groups = existing[account]
        entry: dict[str, Any] = {"groups": list(groups)}
        if groups and draw(st.integers(0, 3)) == 0:
            group = draw(st.sampled_from(groups))
            entry["policies"] = {group: draw(person_policies(account, group, accounts))}
        if draw(st.integers(0, 4)) == 0:
            entry["allowlist"] = draw(allowlists(accounts, owners, named))
        spec[account] = entry
    timeline: list[dict[str, Any]] = []
    at = 0
    # Mode switches weigh as much as edits: the access check judges only worlds with one.
    kinds = st.sampled_from(["edit_allowlist", "edit_allowlist", "create_group", "delete_group",
                             "put_policy", "delete_policy", "invalid_edit", "switch_mode", "switch_mode"])
    planned = draw(st.lists(kinds, max_size=5))
    if eventful:
        planned = draw(st.permutations(["create_group", "edit_allowlist", "invalid_edit", "delete_group",
                                        "switch_mode", *planned]))
    current = document  # the last valid document every account was given (the first edit replaces variants)
    if insider:
        planned = draw(st.permutations([*planned, *draw(st.lists(st.sampled_from(INSIDER_KINDS), min_size=3, max_size=8))]))
    own_shares: dict[str, list[str]] = {a: [] for a in accounts}
    for kind in planned:
        at += draw(st.integers(10, 600))
        if kind in INSIDER_KINDS:
            timeline.extend(draw(insider_step(kind, at, accounts, existing, own_shares, named)))
            continue
        account = draw(st.sampled_from([a for a in accounts if existing[a]] or accounts)
                       if kind in ("delete_group", "put_policy", "delete_policy") else st.sampled_from(accounts))
        if kind == "edit_allowlist":
            current = draw(allowlists(accounts, owners, named))
            timeline.append({"at": at, "do": kind, "allowlist": current})
        elif kind == "switch_mode":
            # One owner's mode flips, nothing else changes: the switch the access check judges.
            sharing = sorted({r["owner"] for r in current["shares"] if existing[r["owner"]]}) or list(owners or accounts)
            owner = draw(st.sampled_from(sharing))
            current = switched(current, owner, other_mode(current, owner), by_default=draw(st.booleans()))
            timeline.append({"at": at, "do": "edit_allowlist", "allowlist": current})
        elif kind == "invalid_edit":
            timeline.append({"at": at, "do": "edit_allowlist", "allowlist": draw(st.sampled_from(INVALID_DOCUMENTS))})
        elif kind == "create_group":
            group = draw(st.sampled_from(GROUP_NAMES))
            timeline.append({"at": at, "do": kind, "account": account, "group": group})
            existing[account].append(group)
        elif existing[account]:
            group = draw(st.sampled_from(existing[account]))
            step: dict[str, Any] = {"at": at, "do": kind, "account": account, "group": group}
            if kind == "put_policy":
                step["policy"] = draw(person_policies(account, group, accounts))
            timeline.append(step)
    if timeline and timeline[-1]["do"] == "edit_allowlist" and isinstance(timeline[-1]["allowlist"], str):
        # The final allowlist is valid: convergence to an invalid one is not defined (nothing changes).
        timeline.append({"at": at + draw(st.integers(10, 600)), "do": "edit_allowlist",
                         "allowlist": draw(allowlists(accounts, owners, named))})
    if chaos is None:
        chaos = {"api_fault_rate": draw(st.sampled_from([0.0, 0.05, 0.2])),
                 "lost_event_rate": draw(st.sampled_from([0.0, 0.1])),
                 "duplicate_event_rate": draw(st.sampled_from([0.0, 0.2]))}
    return {
        "region": REGION,
        # RAM as fast as the local default, or slower than one invocation's wait for it.
        "ram_share_delay_seconds": draw(st.sampled_from([20, 400])),
        "allowlist": document,
        "accounts": spec,
        "chaos": {"seed": draw(st.integers(0, 2**31)), **chaos},
        "timeline": timeline,
        **({"organization": organization} if organization is not None else {}),
    }


def run_world(scenario: dict[str, Any], name: str) -> dict[str, Any]:
    """Simulate the world as `modelshare simulate` reads its file; when it breaks (a safety
    violation, or an error), write the file to FAILURES_DIR and fail naming it. The file is named
    by the world's content, so parallel workers (pytest-xdist) never write the same one."""
    text = json.dumps(scenario, indent=2)
    path = failed_world_path(name, scenario, text)
    try:
        report = Simulation(Scenario.parse(json.loads(text))).run()
    except Exception as error:
        _write_failed_world(path, text)
        error.add_note(f"replay: modelshare simulate {path}")
        raise
    safety = report["safety"]
    broken = [*safety["violations"], *safety["unconverged"]]
    if broken:
        _write_failed_world(path, text)
        raise AssertionError(f"{len(safety['violations'])} safety violation(s), {len(safety['unconverged'])} "
                             f"unconverged in a world of seed {scenario['chaos']['seed']}; replay: modelshare "
                             f"simulate {path}\n  " + "\n  ".join(broken))
    # What the drawn worlds exercised (pytest --hypothesis-show-statistics).
    checked = safety["checked"]
    event(f"switch windows judged: {checked.get('access after a call', 0) > 0}")
    event(f"organization: {'organization' in scenario}")
    event(f"shares made by the shares mode: {checked.get('CreateResourceShare', 0) > 0}")
    return report
