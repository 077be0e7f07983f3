"""JSON read so that a document cannot say one thing to a reader and another to the code.

`json.loads` keeps the last of a key given twice in one object (`{"version": 2, "version": 1}` is
version 1), where a person reading the text, or another parser, may take the first. `loads` marks
each object that repeats a key, and `repeated_keys` names every such key by its JSON path, so that
the allowlist's parsers refuse the document.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any


class _RepeatingObject(dict[str, Any]):
    """A JSON object in which some key appears more than once; json's value is the last one."""

    repeated: dict[str, int]


def loads(text: str | bytes) -> Any:
    """`json.loads`, each object that repeats a key marked with those keys. Raises what
    json.loads raises (ValueError, RecursionError)."""
    return json.loads(text, object_pairs_hook=_object)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    marked = _RepeatingObject(found)
    marked.repeated = {key: n for key, n in Counter(key for key, _ in pairs).items() if n > 1}
    return marked


def repeated_keys(data: Any, root: str = "$") -> list[tuple[str, int]]:
    """(JSON path, how many times) of every key an object in `data` (as `loads` made it) repeats,
    in document order. Iterative: json decodes nesting deeper than Python recurses."""
    found: list[tuple[str, int]] = []
    stack: list[tuple[Any, str]] = [(data, root)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _RepeatingObject):
            found.extend((key_path(path, key), count) for key, count in value.repeated.items())
        if isinstance(value, dict):
            stack.extend((child, key_path(path, key)) for key, child in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(value))))
    return found


def key_path(path: str, key: str) -> str:
    """The JSON path of `key` in the object at `path`: `$.name`, or for a key that is not a plain
    name `$["key"]` (JSON-escaped, so that a newline or a lone surrogate in a key can neither
    break a problem's line nor its being printed or logged)."""
    return f"{path}.{key}" if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else f"{path}[{_json(key)}]"


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        return f"a {type(value).__name__}"
