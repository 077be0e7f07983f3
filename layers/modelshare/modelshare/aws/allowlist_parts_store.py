"""Path mode for the admin commands: the allowlist's parts under one path, read with their
versions and written so that no moment between the first and the last call looks like a valid
document (modelshare.allowlist_parts says why each mixed state is refused).

The CLI (modelshare_cli) and the local AWS's deployment (localaws) both write the allowlist this
way: it lives here, below both. No function calls it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelshare.allowlist import Allowlist
from modelshare.allowlist_parts import MergedDocument, merge, part_name
from modelshare.aws.allowlist_store import PARAMETERS_PER_PAGE

if TYPE_CHECKING:  # a development dependency
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_ssm.type_defs import PutParameterRequestTypeDef


@dataclass(frozen=True)
class StoredParts:
    """The parameters directly under the path: value and version by name relative to the path."""

    path: str
    values: dict[str, str]
    versions: dict[str, int]

    @property
    def name(self) -> str:
        return self.path

    @property
    def exists(self) -> bool:
        return bool(self.values)

    def merged(self) -> MergedDocument:
        """Raises AllowlistError when the parts are not one valid document."""
        return merge(self.values, self.path)

    def parse(self) -> Allowlist:
        return self.merged().allowlist

    def describe(self) -> str:
        return f"{self.path} ({len(self.values)} parameter{'' if len(self.values) == 1 else 's'})"


def read_parts(ssm: SSMClient, path: str) -> StoredParts:
    """Every parameter directly under `path`, paging GetParametersByPath (at most 10 a page,
    docs/aws-behaviour.md, SSM-BY-PATH)."""
    values: dict[str, str] = {}
    versions: dict[str, int] = {}
    pages = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, Recursive=False, WithDecryption=True, PaginationConfig={"PageSize": PARAMETERS_PER_PAGE})
    for page in pages:
        for parameter in page.get("Parameters", []):
            name = parameter["Name"].removeprefix(path).lstrip("/")
            values[name] = parameter["Value"]
            versions[name] = int(parameter["Version"])
    return StoredParts(path, values, versions)


@dataclass
class PartsWrite:
    """What a write did, in order: parts written (name, version) and parameters deleted."""

    written: list[tuple[str, int]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # Names whose version moved between the read and this write: another writer slipped in.
    overtaken: list[str] = field(default_factory=list)


def write_parts(ssm: SSMClient, stored: StoredParts, values: list[str], *, advanced_tier: bool = False,
                progress: Callable[[str], None] = lambda line: None) -> PartsWrite:
    """Write `values` as part-001 onwards (in Parameter Store's advanced tier, or its default
    standard one), then delete every other parameter under the path.

    Parameter Store writes one parameter a call (docs/aws-behaviour.md, SSM-NO-TRANSACTION).
    Every part carries the new revision and the number of parts, so until the last call the
    parts under the path are of two revisions, or too few, or too many: refused by every reader.
    New parts are created without Overwrite (a concurrent creation fails the call); a part that
    was there is overwritten, and a version other than the read one + 1 is reported. Deletions
    come last, so a write that stops half way leaves an invalid document (nothing shared), never
    an old and a new half that look valid; writing the whole document again repairs it."""
    done = PartsWrite()
    for number, value in enumerate(values, start=1):
        name = part_name(number)
        existing = stored.versions.get(name)
        request: PutParameterRequestTypeDef = {"Name": f"{stored.path}/{name}", "Value": value, "Type": "String",
                                               "Overwrite": existing is not None}
        if advanced_tier:
            request["Tier"] = "Advanced"
        answer = ssm.put_parameter(**request)
        version = int(answer["Version"])
        done.written.append((name, version))
        if existing is not None and version != existing + 1:
            done.overtaken.append(name)
        progress(f"wrote {stored.path}/{name} version {version}")
    wanted = {part_name(n) for n in range(1, len(values) + 1)}
    for name in sorted(set(stored.values) - wanted):
        try:
            ssm.delete_parameter(Name=f"{stored.path}/{name}")
        except ssm.exceptions.ParameterNotFound:
            done.overtaken.append(name)
            continue
        done.deleted.append(name)
        progress(f"deleted {stored.path}/{name}")
    return done
