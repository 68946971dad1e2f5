"""The one settings object. Only this package reads the environment: `Settings` is one
pydantic-settings class (every variable `VIDUGATE_*`), its fields written down by concern
in the modules beside this one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Re-exported: StatusDialect (also a key's) and Role are settings' types, read from here too.
from vidugate.domain.keys import StatusDialect as StatusDialect
from vidugate.domain.scheduling import Scheduling as Scheduling
from vidugate.net.fetch import FetchPolicy
from vidugate.roles import Role as Role
from vidugate.settings.money import MoneyFields, RedisDown
from vidugate.settings.observability import LogFormat, ObservabilityFields
from vidugate.settings.server import ServerFields
from vidugate.settings.vidu import (
    DEFAULT_VIDU_MODEL_MAP,
    ViduAccountSettings,
    ViduDialect,
    ViduFields,
)
from vidugate.settings.webhooks import WebhookFields


class Settings(
    ServerFields, ViduFields, MoneyFields, WebhookFields, ObservabilityFields, BaseSettings
):
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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'vidugate.db'}"

    @property
    def metrics_dir(self) -> Path:
        """Where the processes of `serve --processes N` keep their counters for /metrics."""
        return self.data_dir / "metrics"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def fetch_policy(self) -> FetchPolicy:
        """Where the gateway may send a request (image fetches, webhooks)."""
        return FetchPolicy(
            allow_private=self.fetch_allow_private,
            allow_networks=tuple(self.fetch_allow_networks),
            timeout=self.fetch_timeout_seconds,
        )

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


__all__ = [
    "DEFAULT_VIDU_MODEL_MAP",
    "LogFormat",
    "RedisDown",
    "Role",
    "Settings",
    "StatusDialect",
    "Scheduling",
    "ViduAccountSettings",
    "ViduDialect",
]
