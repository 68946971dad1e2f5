"""Provider id -> instance, built from settings."""

from __future__ import annotations

from vidugate.errors import InvalidRequestError
from vidugate.providers.base import Provider
from vidugate.providers.sandbox import SandboxProvider
from vidugate.settings import Settings


def build_providers(settings: Settings) -> dict[str, Provider]:
    providers: dict[str, Provider] = {
        "sandbox": SandboxProvider(
            settings.work_dir, concurrency=settings.sandbox_concurrency, pace=settings.sandbox_pace
        ),
    }
    if settings.provider not in providers:
        raise InvalidRequestError(
            f"VIDUGATE_PROVIDER={settings.provider!r} is not a provider; "
            f"known: {', '.join(providers)}.",
            param="VIDUGATE_PROVIDER",
        )
    return providers
