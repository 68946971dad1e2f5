"""The settings of what the gateway tells its operator: metrics and log lines."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

LogFormat = Literal["auto", "json", "console"]


class ObservabilityFields(BaseModel):
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics at /metrics and count requests for them; "
        "off: no /metrics route and no per-request counting.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A bearer token that may read /metrics (for a Prometheus scrape job); "
        "an admin key may always read it. Unset: admin keys only.",
    )
    metrics_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process reuses the figures /metrics reads from the database "
        "(tasks by state, queues, ledger), so scrapes in a burst cost one read.",
    )
    log_format: LogFormat = Field(
        default="auto",
        description="json: one JSON object a line; console: `event key=value` lines for "
        "people; auto: console when stderr is a terminal, json otherwise.",
    )
    log_requests: bool = Field(
        default=True,
        description="Log one `http.request` event per request (route, status, duration, "
        "request and key ids).",
    )
