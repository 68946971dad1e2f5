"""A gateway API key, as the code passes it around (the key itself is never kept)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StatusDialect(StrEnum):
    """The words a video's status is told in on the OpenAI surface: the seed's (`processing`,
    `cancelled`) or OpenAI's (`in_progress`; a cancel is `failed` with code `cancelled`), for
    whose polling loops stop on anything but `queued` and `in_progress`."""

    AUTO = "auto"  # OpenAI words for clients that identify as OpenAI-compatible, else the seed's
    SEED = "seed"
    OPENAI = "openai"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None
    # Chosen when the key is made, for clients that cannot be recognised by their headers.
    status_dialect: StatusDialect = StatusDialect.AUTO
