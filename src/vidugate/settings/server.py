"""The settings of serving: address, processes, and the time and count limits of connections."""

from __future__ import annotations

from pydantic import BaseModel, Field

from vidugate.roles import Role


class ServerFields(BaseModel):
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
