"""The one settings object. Only this module reads the environment."""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Re-exported: StatusDialect (also a key's) and Role are settings' types, read from here too.
from vidugate.domain.keys import StatusDialect as StatusDialect
from vidugate.domain.scheduling import Scheduling as Scheduling
from vidugate.roles import Role as Role

RedisDown = Literal["open", "closed"]


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDUGATE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("vidugate-data"),
        description="Where the SQLite database, stored videos and the generated secret live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or "
        "postgresql+asyncpg://USER@HOST/DB; default: SQLite at DATA_DIR/vidugate.db.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections each process keeps (and as many more at peaks).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Absolute base URL clients reach the gateway at, used in video_url; "
        "default: taken from each request.",
    )
    secret: SecretStr | None = Field(
        default=None,
        description="Key for signing video URLs; default: generated once into DATA_DIR/secret.",
    )
    host: str = Field(default="127.0.0.1", description="Address `vidugate serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `vidugate serve` binds.")
    role: Role = Field(default=Role.ALL, description="all: API and workers; api; worker.")
    processes: int = Field(
        default=1,
        ge=1,
        description="Gateway processes `vidugate serve` starts on one port (PostgreSQL "
        "for more than one; each runs the role).",
    )
    shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On SIGTERM, how long running task steps may finish before they are "
        "handed back to be resumed by another worker.",
    )
    log_level: str = Field(default="info", description="Log level (debug, info, warning).")
    provider: str = Field(default="sandbox", description="Provider that runs new tasks.")
    status_dialect: StatusDialect = Field(
        default=StatusDialect.AUTO,
        description="Status words on the OpenAI surface for keys made with auto: auto "
        "(OpenAI-compatible clients get in_progress), seed, or openai. A key's own dialect and "
        "the X-Vidugate-Status-Dialect header come first.",
    )

    sandbox_concurrency: int = Field(
        default=2, ge=1, description="Sandbox renders running at once (each in its own process)."
    )
    sandbox_pace: float = Field(
        default=0.0,
        ge=0,
        description="Minimum wall seconds per second of video, to behave like a slow upstream.",
    )

    scheduling: Scheduling = Field(
        default=Scheduling.FAIR,
        description="fair: queued tasks wait in the gateway and are submitted as slots free "
        "up, to the tenant with the lowest share first (docs/scheduling.md); fifo: every "
        "task is submitted at once, first come first served.",
    )

    worker_concurrency: int = Field(
        default=512, ge=1, description="Task steps (submit/poll/store) a worker runs at once."
    )
    lease_seconds: float = Field(
        default=15.0, gt=0, description="How long a worker's claim on a task lasts unrenewed."
    )
    task_deadline_seconds: float = Field(
        default=3600.0, gt=0, description="A task not finished this long after creation fails."
    )
    off_peak_deadline_seconds: float = Field(
        default=49 * 3600.0, gt=0, description="Deadline for off_peak tasks (upstream: up to 48 h)."
    )
    retention_seconds: int = Field(
        default=7 * 24 * 3600, gt=0, description="How long finished videos are kept (expires_at)."
    )
    signed_url_ttl_seconds: int = Field(
        default=3600, gt=0, description="Lifetime of the signed video_url links."
    )
    key_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a process trusts a key lookup; bounds how late a revoke made "
        "by another process (e.g. `vidugate keys revoke`) takes effect.",
    )
    poll_after_ms: int = Field(
        default=1000, ge=100, description="openai-poll-after-ms suggested to polling clients."
    )

    max_image_bytes: int = Field(
        default=50 * 1024 * 1024, gt=0, description="Largest input image, decoded."
    )
    fetch_allow_private: bool = Field(
        default=False,
        description="Let image/watermark URLs reach loopback, private and link-local addresses.",
    )
    fetch_allow_networks: list[str] = Field(
        default_factory=list, description="CIDRs image URLs may reach even when private."
    )
    fetch_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Whole-fetch time limit for image and watermark URLs."
    )
    body_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a request body may take to arrive in full (then 408).",
    )
    body_stall_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a request body may send nothing before it is cut off (408).",
    )

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

    task_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory each process may use to keep tasks it has read (polls answered "
        "without a query), and as much again for parsed task requests; least recently used "
        "go first.",
    )
    render_cache_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        description="Memory each process may use to keep serialised video objects, reused "
        "while a polled task has not changed.",
    )
    list_page_bytes: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        description="About the most task data one list page holds (GET /v1/videos, "
        "/vidu/ent/v2/tasks); a page that reaches it ends early, with has_more or a "
        "next_page_token.",
    )

    image_decode_threads: int = Field(
        default=2,
        ge=1,
        description="Threads each process decodes and scales input images in (a pool of "
        "their own; one decode at a time per API key).",
    )
    max_fetch_bytes_per_request: int = Field(
        default=100 * 1024 * 1024,
        gt=0,
        description="Most bytes the image and watermark URLs of one request may make the "
        "gateway download, all together (then 413).",
    )
    task_row_retention_seconds: int = Field(
        default=30 * 24 * 3600,
        gt=0,
        description="How long a finished task's row (and its Idempotency-Key) is kept after "
        "it finished; then it is purged. At least VIDUGATE_RETENTION_SECONDS.",
    )

    prices_file: Path | None = Field(
        default=None,
        description="A price table (TOML or JSON, see prices.example.toml) stored in the "
        "database at start, replacing the one in force if it differs. With no price table "
        "(none here, none set through the admin API) nothing is charged.",
    )
    cancel_charge_percent: Decimal = Field(
        default=Decimal(100),
        ge=0,
        le=100,
        description="What a cancel costs, in percent of the price, once the upstream has begun "
        "making the video (before that it is refunded in full). Vidu cannot stop a task it "
        "is processing and charges for it.",
    )
    limit_requests_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="Default limit of a key's (and a tenant's) authenticated calls per minute; "
        "unset: none. Each key and tenant may set its own (`vidugate keys limits`).",
    )
    limit_creates_per_minute: int | None = Field(
        default=None, ge=1, description="Default limit of creates per minute (every surface)."
    )
    limit_active_videos: int | None = Field(
        default=None,
        ge=0,
        description="Default limit of unfinished (queued + processing) videos at once.",
    )
    limit_spend_per_day: Decimal | None = Field(
        default=None,
        ge=0,
        description="Default limit of spend per UTC day, in the price table's currency "
        "(only with prices).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for rate windows shared by every process (redis://host:6379/0); "
        "unset: each process counts its own.",
    )
    limits_redis_down: RedisDown = Field(
        default="open",
        description="When Redis cannot be reached: open (requests pass; logged "
        "limits.redis_down once a minute) or closed (503 with Retry-After).",
    )
    limits_redis_timeout_seconds: float = Field(
        default=0.25, gt=0, description="Time limit of one rate check against Redis."
    )
    limits_redis_batch_seconds: float = Field(
        default=0.1,
        ge=0,
        description="How often a process sends Redis the calls its requests windows let "
        "through (0: every call checked in Redis; creates always are). Across P processes a "
        "window may pass (P - 1) x one interval's calls beyond its limit.",
    )
    limits_redis_prefix: str = Field(
        default="vidugate:rl:", description="Prefix of the Redis keys of the rate windows."
    )
    upstream_credit_value: Decimal | None = Field(
        default=None,
        ge=0,
        description="What one upstream credit (Vidu's) costs you, in the price table's "
        "currency: the margin report's cost side. Unset: the report shows credits only.",
    )

    head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a request's line and headers may take to arrive in full, "
        "counted from the connection's start (or from the next request's first byte); then "
        "the connection is closed (with a 408 if part of a request came).",
    )
    keep_alive_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a connection may stay idle between requests before it is closed.",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections each process serves at once; a request on one past it is "
        "answered 503 with Retry-After and its connection closed.",
    )
    vidu_dialect: ViduDialect = Field(
        default=ViduDialect.AUTO,
        description="created_at in /vidu/ent/v2 create answers: auto (Vidu's ISO string for "
        "Authorization: Token, the platform's unix seconds for Bearer), vidu, or platform. "
        "The X-Vidugate-Vidu-Dialect header comes first.",
    )
    spritesheet_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Spritesheets each process makes at once, each in a thread of its own "
        "(made on a video's first variant=spritesheet request, from the stored MP4).",
    )

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _rows_outlive_content(self) -> Settings:
        if self.task_row_retention_seconds < self.retention_seconds:
            raise ValueError(
                "VIDUGATE_TASK_ROW_RETENTION_SECONDS must be at least VIDUGATE_RETENTION_SECONDS "
                f"({self.retention_seconds}): a task's row is kept as long as its video."
            )
        return self

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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'vidugate.db'}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def signing_key(self) -> bytes:
        """The URL-signing key; generated and kept in DATA_DIR so links survive restarts."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        path = self.data_dir / "secret"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            return path.read_bytes().strip()
        except FileNotFoundError:
            pass
        # Write aside, then link into place: two processes starting together agree on one key.
        tmp = path.with_name(f"secret.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_urlsafe(48).encode())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_bytes().strip()


def _accounts_from_file(path: Path) -> list[ViduAccountSettings]:
    text = path.read_text()
    data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    items = data.get("accounts", []) if isinstance(data, dict) else data
    return [ViduAccountSettings.model_validate(item) for item in items]
