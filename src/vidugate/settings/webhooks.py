"""The settings of webhook deliveries (docs/webhooks.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebhookFields(BaseModel):
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Time limit of one webhook delivery (connect, send, answer); past it the "
        "try has failed and is retried.",
    )
    webhook_retry_first_seconds: float = Field(
        default=5.0,
        gt=0,
        description="The wait before a failed delivery's second try; each next wait is three "
        "times the one before, at most 4 hours.",
    )
    webhook_retry_window_seconds: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="How long after its event a delivery is retried; then it has failed "
        "(a redeliver call sends it again).",
    )
    webhook_concurrency: int = Field(
        default=64, ge=1, le=1024, description="Deliveries each process sends at once."
    )
    webhook_per_destination: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Deliveries each process sends to one endpoint (or URL) at once: a slow "
        "receiver holds only its own share.",
    )
    webhook_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often a process looks for due deliveries (besides being woken by "
        "its own tasks' events and by retries falling due).",
    )
