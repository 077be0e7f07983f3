"""Values of the ports that an owner function's cold start does not build (each dataclass costs
about half a millisecond of it, built at import): what RAM shows a consumer, the invitations it
receives and the resources another account shares with it (modelshare.ram_ports,
ConsumerShareReads), and the allowlist's last valid version, read only when the one in force is
invalid (modelshare.ports, AllowlistSource). The other values and the errors: modelshare.ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modelshare.allowlist import Allowlist


@dataclass(frozen=True)
class Invitation:
    """An invitation to another account's share, as RAM lists it."""

    arn: str
    share_arn: str
    share_name: str
    sender: str
    status: str
    sent_at: datetime | None


@dataclass(frozen=True)
class SharedResource:
    """A resource of a share (pending or accepted): its ARN and RAM's type for it."""

    arn: str
    type: str


@dataclass(frozen=True)
class LastValidAllowlist:
    """The newest valid version of the allowlist in Parameter Store's history, and which one it
    is ("version 7 of /modelshare/allowlist", "revision 1a2b3c4d5e6f of the 3 parts under ...")."""

    allowlist: Allowlist
    version: str
