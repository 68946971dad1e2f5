"""A gateway API key, as the code passes it around (the key itself is never kept)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.domain.limits import NO_LIMITS, Limits


class StatusDialect(StrEnum):
    """The words a video's status is told in on the OpenAI surface: the seed's (`processing`,
    `cancelled`) or OpenAI's (`in_progress`; a cancel is `failed` with code `cancelled`), for
    whose polling loops stop on anything but `queued` and `in_progress`."""

    AUTO = "auto"  # OpenAI words for clients that identify as OpenAI-compatible, else the seed's
    SEED = "seed"
    OPENAI = "openai"


class KeyRole(StrEnum):
    """A client key makes and reads videos; an admin key reaches only the admin API (and a
    client key never reaches it)."""

    CLIENT = "client"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None
    # Chosen when the key is made, for clients that cannot be recognised by their headers.
    status_dialect: StatusDialect = StatusDialect.AUTO
    tenant_id: str = DEFAULT_TENANT
    role: KeyRole = KeyRole.CLIENT
    spend_cap: Decimal | None = None  # what the key may spend net of refunds (None: no cap)
    limits: Limits = NO_LIMITS  # its own (None in a field: the settings' default)
    # Its tenant's own limits, read with the key so a request's checks need no query.
    tenant_limits: Limits = NO_LIMITS
    active_videos: int = 0  # unfinished videos, as last read
