"""A gateway API key, as the code passes it around (the key itself is never kept)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None
