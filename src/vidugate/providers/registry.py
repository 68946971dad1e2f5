"""Provider id -> instance, built from settings."""

from __future__ import annotations

from vidugate.clock import Clock
from vidugate.errors import InvalidRequestError
from vidugate.providers.base import AccountStates, Provider
from vidugate.providers.sandbox import SandboxProvider
from vidugate.providers.vidu import Account, ViduProvider
from vidugate.providers.vidu.client import ViduClient
from vidugate.providers.vidu.images import InputUrl
from vidugate.settings import Settings


def build_providers(
    settings: Settings,
    *,
    account_states: AccountStates | None = None,
    input_url: InputUrl | None = None,
    callback_url: str | None = None,
    clock: Clock | None = None,
) -> dict[str, Provider]:
    providers: dict[str, Provider] = {
        "sandbox": SandboxProvider(
            settings.work_dir, concurrency=settings.sandbox_concurrency, pace=settings.sandbox_pace
        ),
    }
    accounts = [
        Account(
            id=item.id,
            api_key=item.api_key.get_secret_value(),
            base_url=item.base_url,
            weight=item.weight,
            concurrency=item.concurrency,
            model_map=item.model_map if item.model_map is not None else settings.vidu_model_map,
        )
        for item in settings.all_vidu_accounts()
    ]
    if accounts:
        providers["vidu"] = ViduProvider(
            accounts,
            client=ViduClient(settings.vidu_timeout_seconds),
            states=account_states,
            # With callbacks, polling is only the net for lost ones: it can be slow.
            poll_interval=(
                settings.vidu_callback_poll_seconds if callback_url else settings.vidu_poll_seconds
            ),
            input_url=input_url,
            callback_url=callback_url,
            lookup_grace=settings.vidu_lookup_grace_seconds,
            clock=clock,
        )
    if settings.provider not in providers:
        hint = (
            " Set VIDUGATE_VIDU_API_KEY (or VIDUGATE_VIDU_ACCOUNTS) to use vidu."
            if settings.provider == "vidu"
            else ""
        )
        raise InvalidRequestError(
            f"VIDUGATE_PROVIDER={settings.provider!r} is not available; "
            f"available: {', '.join(providers)}.{hint}",
            param="VIDUGATE_PROVIDER",
        )
    return providers
