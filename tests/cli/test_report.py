"""`modelshare report` against the local AWS: the accounts read through named profiles, every
grant judged against the owner's allowlist, a person's out-of-allowlist grant flagged, nothing
written; and the report of a 1,000-group organization."""

from __future__ import annotations

import csv
import io
import json

import pytest

from localaws.harness.seed import seed_shared_groups
from modelshare.policy import modelshare_statement
from modelshare.settings import DEFAULT_LEDGER_TABLE
from modelshare_cli.report.local import local_report
from tests.cli.conftest import ALLOWLIST, ME, PARAMETER, PEER, REGION, STRANGER

DISCOVER = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]


@pytest.fixture
def profiles(cli, tmp_path):
    """A profile per account, as an auditor's ~/.aws/credentials would hold them."""
    cli.cloud.add_account(STRANGER)
    lines = []
    for name, account in (("me", ME), ("peer", PEER), ("stranger", STRANGER)):
        keys = cli.cloud.credentials(account)
        lines += [f"[{name}]", f"aws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}",
                  f"aws_secret_access_key = {keys['AWS_SECRET_ACCESS_KEY']}",
                  f"aws_session_token = {keys['AWS_SESSION_TOKEN']}", ""]
    (tmp_path / "aws-credentials").write_text("\n".join(lines))
    return "me,peer,stranger"


@pytest.fixture
def estate(cli):
    """ME shares churn-xgb by modelshare's statement (the ledger records it) and promotes it; a
    person of ME writes a statement giving STRANGER fraud-detector, and one giving PEER deploy
    on churn-extra, beyond the allowlist's discover."""
    cli.put_parameter(ALLOWLIST)
    cli.put_parameter(ALLOWLIST, account=PEER)
    cli.share_by_policy("churn-xgb", [PEER])
    cli.create_group("fraud-detector")
    person = {"Version": "2012-10-17", "Statement": [{
        "Sid": "HandWritten", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{STRANGER}:root"},
        "Action": DISCOVER, "Resource": f"arn:aws:sagemaker:{REGION}:{ME}:model-package-group/fraud-detector"}]}
    cli.sagemaker(ME).put_model_package_group_policy(ModelPackageGroupName="fraud-detector",
                                                     ResourcePolicy=json.dumps(person))
    arn = cli.create_group("churn-extra")
    wide = modelshare_statement(arn, [PEER], [*DISCOVER, "sagemaker:CreateModel", "sagemaker:UpdateModelPackage"])
    cli.sagemaker(ME).put_model_package_group_policy(  # modelshare's Sid, but no ledger record: a person's
        ModelPackageGroupName="churn-extra", ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [wide]}))
    cli.share_by_policy("their-model", [ME], account=PEER)
    cli.cloud.clock.sleep(30)


# The CLI reads accounts in threads; the local AWS's clock is run by one thread at a time (its
# strands: modelshare_cli/report/local.py), so the CLI's own threads read one account at a time here.


def grants_of(report):
    return {(g["owner"], g["group"], g["consumer"], g["via"]): g for g in report["grants"]}


def test_report_judges_every_grant_and_flags_what_the_allowlist_does_not_give(cli, profiles, estate):
    before = cli.writes()
    result = cli("report", "--workers", "1", "--profiles", profiles, "--format", "json")
    assert result.code == 0, result.err
    assert cli.writes() == before  # read-only, in every account
    report = json.loads(result.out)
    grants = grants_of(report)
    ours = grants[ME, "churn-xgb", PEER, "policy"]
    assert (ours["access"], ours["allowlist_access"], ours["made_by"], ours["finding"]) == \
        ("discover", "discover", "modelshare", None)
    person = grants[ME, "fraud-detector", STRANGER, "policy"]
    assert person["made_by"] == "person"
    assert person["finding"] == f"the allowlist does not name {STRANGER} for this group"
    wide = grants[ME, "churn-extra", PEER, "policy"]
    assert wide["made_by"] == "person" and wide["access"] == "discover+deploy"
    assert wide["finding"] == "grants sagemaker:createmodel, sagemaker:updatemodelpackage beyond the allowlist's discover"
    theirs = grants[PEER, "their-model", ME, "policy"]
    assert theirs["finding"] is None and theirs["made_by"] == "person"  # PEER's stack holds no ledger here
    assert report["findings"] == 2
    assert [a["account"] for a in report["accounts"]] == [ME, PEER, STRANGER]


def test_a_promoted_share_is_reported_with_its_permission_and_acceptance(cli, profiles, estate):
    share = cli.promote(cli.sagemaker(ME).describe_model_package_group(
        ModelPackageGroupName="churn-xgb")["ModelPackageGroupArn"])
    cli.modelshare_made(f"arn:aws:sagemaker:{REGION}:{ME}:model-package-group/churn-xgb", "shares", share)
    report = json.loads(cli("report", "--workers", "1", "--profiles", profiles, "--format", "json").out)
    shared = grants_of(report)[ME, "churn-xgb", PEER, "share"]
    assert (shared["source"], shared["accepted"], shared["made_by"], shared["access"], shared["finding"]) == \
        (share, "invitation pending", "modelshare", "discover", None)


def test_table_csv_and_html_outputs(cli, profiles, estate, tmp_path):
    table = cli("report", "--workers", "1", "--profiles", profiles)
    assert table.code == 0, table.err
    assert "FINDING: the allowlist does not name" in table.out and "2 beyond the allowlist" in table.out
    assert "groups, 3/3 accounts" in table.err  # the progress bar
    rows = list(csv.DictReader(io.StringIO(cli("report", "--workers", "1", "--profiles", profiles, "--format", "csv").out)))
    assert {(r["group"], r["consumer"]) for r in rows if r["finding"]} == {("fraud-detector", STRANGER), ("churn-extra", PEER)}
    page = tmp_path / "report.html"
    written = cli("report", "--workers", "1", "--profiles", profiles, "--format", "html", "-o", str(page))
    assert written.code == 0, written.err
    assert "fraud-detector" in page.read_text() and "<script" in page.read_text()


def test_an_account_that_cannot_be_read_fails_the_report_and_says_so(cli, profiles, estate):
    result = cli("report", "--workers", "1", "--profiles", "me,nobody", "--format", "json")
    assert result.code == 1
    assert "nobody could not be read" in result.err
    assert any(g["group"] == "fraud-detector" for g in json.loads(result.out)["grants"])  # the rest is still there


def test_a_missing_allowlist_makes_every_grant_of_that_owner_a_finding(cli, profiles, estate):
    cli.ssm().delete_parameter(Name=PARAMETER)
    report = json.loads(cli("report", "--workers", "1", "--profiles", "me", "--format", "json").out)
    assert report["grants"] and all(g["finding"].startswith(f"no valid allowlist in {ME}") for g in report["grants"])


def test_the_report_of_a_thousand_group_organization(cloud):
    """1,000 groups of ME shared with PEER as modelshare converges them, one person's grant
    beyond: read in simulated parallel, the finding among 1,001 grants."""
    cloud.session(ME, REGION).client("ssm").put_parameter(Name=PARAMETER, Type="String", Value=json.dumps(
        {"version": 1, "shares": [{"owner": ME, "groups": ["g-*"], "consumers": [PEER]}]}))
    names = [f"g-{i:04d}" for i in range(1000)]
    seed_shared_groups(cloud, ME, (PEER,), REGION, names)
    cloud.registry.state.groups_in(ME, REGION)["g-0007"].policy = json.dumps({"Version": "2012-10-17", "Statement": [
        modelshare_statement("x", [PEER], DISCOVER),
        {"Sid": "Extra", "Effect": "Allow", "Principal": {"AWS": STRANGER}, "Action": DISCOVER, "Resource": "*"}]})
    started = cloud.clock.now()
    report = local_report(cloud, REGION, [ME, PEER], parameter=PARAMETER, ledger_table=DEFAULT_LEDGER_TABLE)
    assert len({g.grant.group for g in report.grants}) == 1000
    assert [(f.grant.group, f.grant.consumer) for f in report.findings] == [("g-0007", STRANGER)]
    assert cloud.clock.now() > started


def test_the_demo_ends_by_writing_the_access_report(tmp_path, capsys):
    """`make demo`: the simulated organization's report; the people's grants the allowlist does
    not name are flagged, modelshare's are not."""
    from pathlib import Path

    from modelshare_cli.main import main

    page = tmp_path / "access.html"
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.json"
    capsys.readouterr()
    assert main(["simulate", str(demo), "--json", "--access-report", str(page)]) == 0
    report = json.loads(capsys.readouterr().out)["access_report"]
    assert {(f["group"], f["consumer"], f["made_by"]) for f in report["findings"]} == {
        ("forecast-demand", f"arn:aws:iam::{PEER}:role/ml-reader", "person"),
        ("scratch-experiments", PEER, "person"), ("scratch-experiments", STRANGER, "person")}
    assert report["grants"] > len(report["findings"])  # modelshare's own grants are within the allowlist
    assert "forecast-demand" in page.read_text()


def test_the_bench_counts_the_reports_calls_and_simulated_time():
    from modelshare_cli.report.bench import report_cost

    cost = report_cost(40)
    # Per group one policy read and one share's permissions; the listings page 100 and 500 at a time.
    assert cost.calls["sagemaker:GetModelPackageGroupPolicy"] == 40
    assert cost.calls["ram:ListResourceSharePermissions"] == 40
    assert cost.calls.total() < 2 * 40 + 60
    assert cost.simulated_seconds > 0 and cost.grants == 40 * 3 * 2 and cost.findings == 0


def test_the_documented_policy_is_read_only_and_covers_every_call_the_report_makes(cli, profiles, estate):
    from pathlib import Path

    from policy_sentry.querying.actions import get_action_data

    document = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report-policy.json").read_text())
    allowed = {a.lower() for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    for action in allowed:  # the Service Authorization Reference's access level of each
        service, name = action.split(":")
        levels = {row["access_level"] for rows in get_action_data(service, name).values() for row in rows}
        assert levels and levels <= {"Read", "List"}, (action, levels)
    before = len(cli.cloud.calls)
    assert cli("report", "--workers", "1", "--profiles", profiles, "--format", "json").code == 0
    made = {f"{c.service}:{c.operation}".lower() for c in cli.cloud.calls[before:]}
    assert made - allowed == {"sts:getcalleridentity"}  # which account a profile is: needs no permission
