"""AWS account IDs as modelshare reads them: exactly twelve ASCII digits.

Python's regular-expression digit class, str.isdigit and int() also take any Unicode decimal
digit: "44445555666\uff16" (a full-width six) or twelve Arabic-Indic digits would pass for an
account ID, print like one, and name no account. Every pattern that reads an ID spells its digits
`[0-9]` (tests/unit/test_ascii_account_ids.py checks that no code reads digits the Unicode way).
"""

from __future__ import annotations

import re

# The text of the pattern, for the ARN patterns that hold an account ID.
ACCOUNT_ID = "[0-9]{12}"
_ACCOUNT_ID = re.compile(ACCOUNT_ID)


def is_account_id(value: object) -> bool:
    return isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) is not None
