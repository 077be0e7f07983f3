"""How the domain reads the allowlist: fail closed. An invalid, missing or half-written
document means nothing new is shared or accepted; the reason is logged and counted, never raised
into the run.

The owner side's sweep alone goes one step further (`load_allowlist_in_force`): an invalid edit
must not freeze a removal or narrowing an earlier valid version asked for. It then applies the
most restrictive of the last valid version in Parameter Store's history and what is live
(modelshare.restriction), and says so."""

from __future__ import annotations

from dataclasses import dataclass

from modelshare.allowlist import Allowlist, AllowlistError, AllowlistUnreadable
from modelshare.observability import count, logger
from modelshare.ports import AllowlistSource


def load_allowlist(source: AllowlistSource, *, fresh: bool = False) -> Allowlist | None:
    """The allowlist, or None (logged, counted) when it is invalid, missing or (path mode) half
    written: fail closed. A half-written document is counted apart (AllowlistIncomplete): every
    write over several parts looks so until its last call, so only its persisting is alarmed."""
    try:
        return source.load(fresh=fresh)
    except AllowlistError as error:
        _report(error, "nothing is shared or accepted")
        return None


# Never compared or printed: no generated __eq__/__repr__, less to build at cold start.
@dataclass(frozen=True, eq=False, repr=False)
class AllowlistInForce:
    """The allowlist a sweep decides with. `restrict_only`: the current document is invalid and
    this is its last valid version (`version`): only what takes access away may be applied."""

    allowlist: Allowlist
    restrict_only: bool = False
    version: str = ""


def load_allowlist_in_force(source: AllowlistSource) -> AllowlistInForce | None:
    """The current allowlist (read afresh) or, when it is invalid, missing or half written, its
    last valid version from Parameter Store's history, to apply restrictions only. None when no
    version in the history is valid: nothing is changed (fail closed). Each case is logged with
    the problems and counted (AllowlistInvalid or AllowlistIncomplete, then
    AllowlistLastValidApplied or AllowlistNoValidVersion)."""
    try:
        return AllowlistInForce(source.load(fresh=True))
    except AllowlistError as error:
        problems = _report(error, "nothing new is shared")
    last = source.last_valid()
    if last is None:
        logger.error("No valid allowlist in Parameter Store's history: nothing is changed",
                     extra={"problems": problems})
        count("AllowlistNoValidVersion")
        return None
    logger.warning("Applying only the removals and narrowings of the last valid allowlist (the most restrictive "
                   "of that version and what is live); nothing is added or promoted until the allowlist is valid",
                   extra={"problems": problems, "last_valid_version": last.version})
    count("AllowlistLastValidApplied")
    return AllowlistInForce(last.allowlist, restrict_only=True, version=last.version)


def _report(error: AllowlistError, consequence: str) -> list[str]:
    problems = [f"{path}: {message}" for path, message in error.problems]
    if isinstance(error, AllowlistUnreadable):
        # Counted apart and as invalid too (its alarm): the parameter, not the document, is at fault.
        logger.error(f"Allowlist unreadable: {consequence}", extra={"problems": problems})
        count("AllowlistUnreadable")
        count("AllowlistInvalid")
    elif _incomplete(error):
        logger.warning(f"Allowlist incomplete (a write in progress or interrupted): {consequence}",
                       extra={"problems": problems})
        count("AllowlistIncomplete")
    else:
        logger.error(f"Allowlist invalid: {consequence}", extra={"problems": problems})
        count("AllowlistInvalid")
    return problems


def _incomplete(error: AllowlistError) -> bool:
    """A half-written document in path mode (allowlist_parts: loaded by the path mode's source,
    which alone raises it; never at a cold start in the parameter mode)."""
    from modelshare.allowlist_parts import AllowlistIncomplete

    return isinstance(error, AllowlistIncomplete)
