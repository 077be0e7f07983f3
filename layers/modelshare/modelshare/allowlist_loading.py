"""How the domain reads the allowlist: fail closed. An invalid, missing or half-written
document means nothing is shared or accepted; the reason is logged and counted, never raised
into the run."""

from __future__ import annotations

from modelshare.allowlist import Allowlist, AllowlistError
from modelshare.allowlist_parts import AllowlistIncomplete
from modelshare.observability import count, logger
from modelshare.ports import AllowlistSource


def load_allowlist(source: AllowlistSource, *, fresh: bool = False) -> Allowlist | None:
    """The allowlist, or None (logged, counted) when it is invalid, missing or (path mode) half
    written: fail closed. A half-written document is counted apart (AllowlistIncomplete): every
    write over several parts looks so until its last call, so only its persisting is alarmed."""
    try:
        return source.load(fresh=fresh)
    except AllowlistIncomplete as error:
        logger.warning("Allowlist incomplete (a write in progress or interrupted): nothing is shared or accepted",
                       extra={"problems": [f"{path}: {message}" for path, message in error.problems]})
        count("AllowlistIncomplete")
        return None
    except AllowlistError as error:
        logger.error("Allowlist invalid: nothing is shared or accepted",
                     extra={"problems": [f"{path}: {message}" for path, message in error.problems]})
        count("AllowlistInvalid")
        return None
