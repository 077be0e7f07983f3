"""`modelshare status --versions`: from the consumer's side, the newest approved version of each
model package group other accounts share with this one (docs/version-events.md, "Lost forwards"):
what the owners' version events should have told it, read from the registries themselves."""

from __future__ import annotations

import argparse
import json
from typing import Any

from botocore.exceptions import ClientError

from modelshare.aws.ram_consumer import RamConsumerShares
from modelshare.aws.version_bus import SageMakerVersions
from modelshare.ram_ports import ConsumerShareReads
from modelshare.version_events import Version
from modelshare.version_ports import ModelVersions
from modelshare_cli.common import INVALID, OK, session
from modelshare_cli.output import table

HELP = ("print, instead of the groups and invitations, the newest approved version of each group "
        "shared with this account (what the owners' version events tell)")
GROUP_ARN_PART = ":model-package-group/"


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--versions", action="store_true", help=HELP)


def latest_versions(shares: ConsumerShareReads, versions: ModelVersions) -> list[dict[str, Any]]:
    """One row per group shared with this account (through shares it accepted), owner and name
    order: its newest approved version, None when it has none, or why it cannot be read."""
    groups = sorted({r.arn for held in shares.received_resources().values() for r in held if GROUP_ARN_PART in r.arn},
                    key=lambda arn: (arn.split(":")[4], arn))
    rows = []
    for arn in groups:
        row: dict[str, Any] = {"owner": arn.split(":")[4], "group": arn.rpartition("/")[2], "group_arn": arn,
                               "version": None, "version_arn": None, "last_modified": None, "error": None}
        try:
            latest = versions.latest_approved(arn)
            if latest is not None:
                version = Version.from_description(versions.describe(latest))
                row.update(version=version.number, version_arn=version.arn, last_modified=version.last_modified)
        except ClientError as error:  # the share no longer lets this account read the group
            row["error"] = str(error.response.get("Error", {}).get("Code", "error"))
        rows.append(row)
    return rows


def versions_command(args: argparse.Namespace) -> int:
    aws = session(args)
    account = aws.client("sts").get_caller_identity()["Account"]
    rows = latest_versions(RamConsumerShares(aws), SageMakerVersions(aws.client("sagemaker")))
    if args.json:
        print(json.dumps({"account": account, "region": aws.region_name, "shared_groups": rows}, indent=2))
    else:
        print(f"Account {account} in {aws.region_name}")
        print()
        print("Newest approved version of each group shared with this account:")
        if not rows:
            print("  (no group is shared with this account)")
        cells = [(r["owner"], r["group"], "-" if r["version"] is None else r["version"], r["last_modified"] or "-",
                  f"unreadable: {r['error']}" if r["error"] else r["version_arn"] or "no approved version")
                 for r in rows]
        if cells:
            for line in table(("OWNER", "GROUP", "VERSION", "LAST MODIFIED", "VERSION ARN"), cells):
                print(line)
    return INVALID if any(r["error"] for r in rows) else OK
