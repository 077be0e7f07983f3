"""What a real project carries: a license, a changelog naming the current version, and deploying
docs (docs/deploying.md) that say how to remove the stack and what removal leaves, with AWS CLI
commands that exist."""

from __future__ import annotations

import gzip
import json
import re
import tomllib
from pathlib import Path

import botocore

import modelshare

ROOT = Path(__file__).resolve().parents[2]
BOTOCORE_DATA = Path(botocore.__file__).parent / "data"


def removing_section() -> str:
    deploying = (ROOT / "docs" / "deploying.md").read_text()
    start = deploying.index("## Removing the stack\n")
    end = deploying.find("\n## ", start + 1)
    return deploying[start:end if end >= 0 else None]


def test_the_license_is_apache_2_with_the_authors_copyright():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "   Copyright 2026 modelshare authors\n" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (project["license"], project["license-files"]) == ("Apache-2.0", ["LICENSE"])


def test_the_changelog_names_the_current_version_first():
    headings = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    released = [h for h in headings if h != "Unreleased"]
    assert released and released[0] == modelshare.__version__


def test_removing_the_stack_says_what_stays_and_how_to_clear_it():
    section = " ".join(removing_section().split())
    for needed in ("sam delete", "modelshare-*` customer managed permissions", "quota of 10 per resource type",
                   "RAM-QUOTAS", "empty share", "delete-resource-share", "delete-permission"):
        assert needed in section, needed
    assert "| RAM-QUOTAS | 10 customer managed permissions per resource type" in (ROOT / "docs/aws-behaviour.md").read_text()


def _model(service: str) -> dict:
    model, = sorted((BOTOCORE_DATA / service).glob("*/service-2.json.gz"))[-1:]
    return json.loads(gzip.decompress(model.read_bytes()))


def test_every_aws_command_in_removing_the_stack_exists_with_its_options():
    """Each `aws SERVICE COMMAND --option ...` names an operation of botocore's model and members
    of its input (--query is the CLI's own)."""
    text = " ".join(removing_section().split())
    found = set()
    for service, command, rest in re.findall(r"aws ([a-z]+) ([a-z-]+)((?: --[a-z-]+(?: (?:\"[^\"]*\"|'[^']*'|[^\s`-][^\s`]*))?)*)",
                                             text):
        model = _model(service)
        operation = "".join(part.title() for part in command.split("-"))
        assert operation in model["operations"], f"aws {service} {command}"
        members = {name.lower() for name in model["shapes"][model["operations"][operation]["input"]["shape"]]["members"]}
        for option in re.findall(r"--([a-z-]+)", rest):
            assert option == "query" or option.replace("-", "") in members, f"aws {service} {command} --{option}"
        found.add((service, operation))
    assert {("ram", "DeleteResourceShare"), ("ram", "DeletePermission"), ("ram", "ListPermissions"),
            ("dynamodb", "Scan"), ("dynamodb", "GetItem"), ("dynamodb", "DeleteResourcePolicy"),
            ("dynamodb", "DeleteTable"), ("cloudformation", "DeleteStack")} <= found


def test_removal_lifts_the_ledger_s_deny_before_it_deletes_the_table():
    """The ledger table's resource policy denies DeleteTable to every principal without the
    stack's tag, which no administrator's carries: the table's policy goes first."""
    template = (ROOT / "template.yaml").read_text()
    deny = template[template.index("Sid: OnlyModelshareWritesTheLedger"):]
    deny = deny[:deny.index("Condition:")]
    assert "Effect: Deny" in deny and "dynamodb:DeleteTable" in deny
    section = " ".join(removing_section().split())
    assert "delete-resource-policy" in section
    assert section.index("delete-resource-policy") < section.index("aws dynamodb delete-table")
