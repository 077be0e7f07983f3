"""Issue 21, section 6: the owner's status says what the owner knows. A group offered through
modelshare's promoted share is `invited` while a consumer's invitation is pending (RAM shows the
principal association ASSOCIATING: docs/aws-behaviour.md, RAM-ACCEPTED), and `discoverable` only
once every consumer accepted; the sweep's one paged read of RAM says which."""

from __future__ import annotations

from pathlib import Path

import modelshare
from modelshare.allowlist import ACCESS_ACTIONS, ShareDecision
from modelshare.convergence import RamIndex
from modelshare.decision.rules import decide
from modelshare.outcomes import GroupAction, GroupStatus
from modelshare.ports import STANDARD, Association, Ownership, ResourceShare

OWNER, CONSUMER, OTHER = "111122223333", "444455556666", "777788889999"
ARN = f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/churn-xgb"
SHARE = ResourceShare(f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/ours", "ours", STANDARD, "ACTIVE")
DECISION = ShareDecision(OWNER, "churn-xgb", (CONSUMER, OTHER), tuple(ACCESS_ACTIONS["discover"]), ())


def index(other_status: str) -> RamIndex:
    return RamIndex.build([SHARE], [Association(SHARE.arn, ARN, "ASSOCIATED")],
                          [Association(SHARE.arn, CONSUMER, "ASSOCIATED"), Association(SHARE.arn, OTHER, other_status)])


def status(built: RamIndex) -> tuple[GroupStatus, str]:
    from modelshare.decision.facts import GroupSnapshot

    group = GroupSnapshot("churn-xgb", ARN, built.holdings(ARN), Ownership(frozenset({SHARE.arn})))
    verdict = decide(group, DECISION)
    return verdict.status, verdict.reason


def test_a_consumer_whose_invitation_is_pending_makes_the_group_invited_not_discoverable() -> None:
    assert index("ASSOCIATING").holdings(ARN)[0].pending == frozenset({OTHER})
    said, reason = status(index("ASSOCIATING"))
    assert said == GroupStatus.INVITED and OTHER in reason and CONSUMER not in reason.split(":")[-1]


def test_once_every_consumer_accepted_the_group_is_discoverable() -> None:
    assert index("ASSOCIATED").holdings(ARN)[0].pending == frozenset()
    assert status(index("ASSOCIATED"))[0] == GroupStatus.DISCOVERABLE


def test_the_status_words_named_for_users_are_the_typed_vocabulary() -> None:
    """`modelshare status --help` and the docs (simulate's JSON report) name exactly GroupStatus's words."""
    import re
    from pathlib import Path

    from modelshare_cli import status as status_command

    words = {s.value for s in GroupStatus}
    help_words = re.search(r"its status \(([^)]*)\)", " ".join(status_command.HELP.split()))
    assert help_words is not None and {w.strip() for w in help_words.group(1).split(",")} == words
    page = (Path(__file__).resolve().parents[2] / "docs" / "local-aws.md").read_text()
    named = re.search(r'\{"status": ([^,]*),', page)
    assert named is not None and {w.strip(' "') for w in named.group(1).split("|")} == words


def test_plan_and_status_say_not_shared_in_one_word() -> None:
    """`plan` (GroupAction) and `status` (GroupStatus) share the words for where a group stands;
    the outcome of taking modelshare's sharing away names that change in the same word, not a
    synonym of it (the newcomer read `unshared` in plan and `not-shared` in status)."""
    from modelshare.outcomes import GroupAction

    assert (GroupAction.NOT_SHARED.value, GroupAction.CONFLICT.value) == (GroupStatus.NOT_SHARED, GroupStatus.CONFLICT)
    assert GroupAction.UNSHARED.value == f"no-longer-{GroupStatus.NOT_SHARED.value.removeprefix('not-')}"
    assert not {a.value for a in GroupAction} & {"unshared", "not shared", "shared-not"}


def test_every_group_action_is_one_the_layer_reports() -> None:
    """The vocabulary holds only words some code reports (issue 21: GroupAction.NO_POLICY was
    never given): each member is named outside outcomes.py."""
    layer = Path(modelshare.__file__).parent
    code = "\n".join(p.read_text() for p in layer.rglob("*.py") if p.name != "outcomes.py")
    assert [a.name for a in GroupAction if f"GroupAction.{a.name}" not in code] == []
