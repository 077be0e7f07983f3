"""`modelshare allowlist validate` on random bytes, random JSON and mutations of valid documents
(issue 9, malformed input), through the CLI's entry point on the local AWS, from a file or stdin,
for one parameter or a path: exit 0 with one OK line (and on stderr one warning per pair of
conflicting rules), 1 with each problem as `JSON path: message` (a key repeated in an object too)
and one closing error line, or 2 (as documented: unreadable or not JSON) with one error line.
Never a traceback, and no AWS call at all, so nothing written anywhere."""

from __future__ import annotations

import io
import re
import sys
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelshare import strict_json
from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_conflicts import conflicts
from modelshare.allowlist_parts import TIER_LIMITS, split
from tests.fuzzing import raw_bytes
from tests.unit.test_malformed_allowlist import TEXTS

PATH = "/modelshare/allowlist"
CONTENTS = st.one_of(raw_bytes(TEXTS), TEXTS.map(lambda text: text.encode("utf-8", "surrogatepass")))


def verdict(data: bytes, errors: str, path_mode: bool) -> int:
    """The exit status the documented contract gives `data`."""
    try:
        document = strict_json.loads(data.decode("utf-8", errors))  # a repeated key is a problem (exit 1)
    except (ValueError, RecursionError):
        return 2
    try:
        Allowlist.parse(document)
        if path_mode:
            split(document, TIER_LIMITS["Standard"])
    except AllowlistError:
        return 1
    return 0


# The fixtures are set up once for all examples, which suits them: a call to AWS or a file left by
# one example would fail every later one too.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=CONTENTS, source=st.sampled_from(["file", "stdin", "stdin-surrogateescape"]), path_mode=st.booleans())
def test_validate_exits_0_1_or_2_with_json_paths_never_a_traceback_and_calls_no_aws(cli, tmp_path, data, source,
                                                                                     path_mode):
    name = tmp_path / "fuzzed.json"
    name.write_bytes(data)
    errors = "surrogateescape" if source.endswith("surrogateescape") else "strict"
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors)
    argv = ["allowlist", "validate", str(name) if source == "file" else "-", *(["--path", PATH] if path_mode else [])]
    with mock.patch.object(sys, "stdin", stdin):
        result = cli(*argv)  # an exception would end the test here, with its traceback

    assert "Traceback" not in result.err
    assert cli.cloud.calls == [], "validate calls no AWS API"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fuzzed.json"], "and writes no file"
    assert result.code == verdict(data, errors, path_mode), result
    if result.code == 0:
        assert len(result.out.splitlines()) == 1 and ": OK, a valid allowlist with " in result.out
        warnings = len(conflicts(Allowlist.parse(strict_json.loads(data.decode("utf-8", errors)))))
        assert len(result.err_lines) == warnings and all(line.startswith("modelshare: warning: $.shares[")
                                                         for line in result.err_lines), result.err
        return
    assert result.out == ""
    *problems, last = result.err_lines
    assert last.startswith("modelshare: error: "), last
    if result.code == 2:
        assert problems == [] and re.search(r"(is not JSON|cannot read)", last), result.err
        return
    assert problems and all(line.startswith("$") and ": " in line for line in problems), problems
    assert f"({len(problems)} problem" in last, last
