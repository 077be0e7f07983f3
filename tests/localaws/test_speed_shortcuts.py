"""What the local AWS does for speed only (docs/local-aws.md) changes no answer: code under test
gets a session of its own, and a client gets the methods its own session gives it."""

from __future__ import annotations

import botocore.session

from localaws.runtime.cloud import LocalCloud
from modelshare_cli.report.collect import AccountReader

OWNER, REGION = "111122223333", "eu-west-1"


def test_a_report_reader_counts_only_the_calls_made_through_its_own_session() -> None:
    """The CLI's AccountReader counts its calls with a handler on the session it is given. In
    AWS that session is its own; the harness's calls (its own cached session) are not counted."""
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        reader = AccountReader(OWNER, cloud.session(OWNER, REGION), parameter="/p", ledger_table="t")
        cloud.harness_session(OWNER, REGION).client("sts").get_caller_identity()
        cloud.session(OWNER, REGION).client("sts").get_caller_identity()  # another caller's own session
        assert reader.calls == 0
        assert cloud.harness_session(OWNER, REGION) is cloud.harness_session(OWNER, REGION)
        assert cloud.harness_session(OWNER, REGION, person=True) is not cloud.harness_session(OWNER, REGION)


def test_a_plain_botocore_client_gets_no_boto3_methods_whichever_came_first() -> None:
    """boto3 adds upload_file to its S3 clients (creating-client-class); botocore's own S3
    client has no such method, before or after a boto3 one."""
    with LocalCloud() as cloud:
        cloud.add_account(OWNER)
        plain_first = botocore.session.get_session().create_client("s3", region_name=REGION)
        assert hasattr(cloud.session(OWNER, REGION).client("s3"), "upload_file")
        plain_after = botocore.session.get_session().create_client("s3", region_name=REGION)
        assert not hasattr(plain_first, "upload_file") and not hasattr(plain_after, "upload_file")
        assert hasattr(cloud.session(OWNER, REGION).client("s3"), "upload_file")
