"""What a gateway process does. Apart from settings/, so the CLI can name the choices in
its --help without importing pydantic-settings (most of what `vidugate --help` would cost)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ALL = "all"
    API = "api"
    WORKER = "worker"
