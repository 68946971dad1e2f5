"""The settings of the `vidu` provider: its accounts and how it talks to Vidu."""

from __future__ import annotations

import json
import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class ViduDialect(StrEnum):
    """The form of created_at in /vidu/ent/v2 create answers (their status field is always
    the seed platform's, their state Vidu's)."""

    AUTO = "auto"  # Vidu's (an ISO string) for Authorization: Token, the platform's otherwise
    VIDU = "vidu"
    PLATFORM = "platform"  # unix seconds


class ViduAccountSettings(BaseModel):
    """One upstream Vidu account (an API key on vidu.com or vidu.cn)."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    api_key: SecretStr
    base_url: str = "https://api.vidu.com"
    weight: float = Field(default=1.0, gt=0)
    concurrency: int = Field(default=5, ge=1)
    model_map: dict[str, dict[str, str]] | None = None


DEFAULT_VIDU_MODEL_MAP = {
    # Vidu's text2video has no viduq2-pro / viduq2-turbo: their text-only requests go to viduq2.
    "text2video": {"viduq2-pro": "viduq2", "viduq2-turbo": "viduq2"},
}


class ViduFields(BaseModel):
    vidu_api_key: SecretStr | None = Field(
        default=None,
        description="A Vidu API key: with VIDUGATE_PROVIDER=vidu, all one account needs.",
    )
    vidu_base_url: str = Field(
        default="https://api.vidu.com",
        description="Base URL for VIDUGATE_VIDU_API_KEY (https://api.vidu.cn for vidu.cn).",
    )
    vidu_accounts: list[ViduAccountSettings] = Field(
        default_factory=list,
        description="Several Vidu accounts, as JSON: [{id, api_key, base_url, weight, "
        "concurrency, model_map}].",
    )
    vidu_accounts_file: Path | None = Field(
        default=None, description="A JSON or TOML file with the same list (TOML: [[accounts]])."
    )
    vidu_model_map: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_VIDU_MODEL_MAP.items()},
        description="Gateway model -> upstream model, per Vidu endpoint (JSON).",
    )
    vidu_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Time limit of one call to Vidu (a create included)."
    )
    vidu_callbacks: bool = Field(
        default=True,
        description="Ask Vidu for signed callbacks (needs VIDUGATE_PUBLIC_BASE_URL); polling "
        "stays on as the fallback.",
    )
    vidu_lookup_grace_seconds: float = Field(
        default=60.0,
        ge=0,
        description='After a create got no answer, how long before "not in Vidu\'s task list" '
        "counts as never made (and the create may be sent again).",
    )
    vidu_callback_poll_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often a running Vidu task is looked at when callbacks are on "
        "(they bring changes at once; this only catches lost ones).",
    )
    vidu_poll_seconds: float = Field(
        default=3.0, gt=0, description="How often a running Vidu task is looked at."
    )
    vidu_dialect: ViduDialect = Field(
        default=ViduDialect.AUTO,
        description="created_at in /vidu/ent/v2 create answers: auto (Vidu's ISO string for "
        "Authorization: Token, the platform's unix seconds for Bearer), vidu, or platform. "
        "The X-Vidugate-Vidu-Dialect header comes first.",
    )

    def all_vidu_accounts(self) -> list[ViduAccountSettings]:
        accounts = list(self.vidu_accounts)
        if self.vidu_accounts_file is not None:
            accounts += _accounts_from_file(self.vidu_accounts_file)
        if self.vidu_api_key is not None:
            accounts.append(
                ViduAccountSettings(
                    id="default", api_key=self.vidu_api_key, base_url=self.vidu_base_url
                )
            )
        return accounts


def _accounts_from_file(path: Path) -> list[ViduAccountSettings]:
    text = path.read_text()
    data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    items = data.get("accounts", []) if isinstance(data, dict) else data
    return [ViduAccountSettings.model_validate(item) for item in items]
