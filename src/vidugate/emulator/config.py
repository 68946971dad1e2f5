"""Emulator configuration: plain mutable dataclasses that the admin API changes at run time.

They are deliberately not pydantic models: the emulator reads them on hot paths (every
status poll reads `concurrency`, every request reads `faults`) and a dataclass attribute read
is the cheapest thing Python offers. Changes from outside (the admin API, the CLI) go
through `apply_changes`, which checks names, types and ranges before touching anything, so a
bad update is refused whole and never leaves the config half-changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

RESULT_MODES = ("render", "fixed")

# Fields of Faults that are probabilities (0..1); `latency` and `slow_seconds` are seconds,
# `seed` an int.
PROBABILITIES = (
    "error_5xx",
    "throttle_429",
    "lost_create",
    "drop_callback",
    "fail_task",
    "slow",
)

# EmulatorConfig fields that POST /_emulator/config may change (timings and delivery knobs).
RUNTIME_FIELDS = frozenset(
    {
        "concurrency",
        "queue_seconds",
        "process_seconds",
        "per_video_second",
        "result_ttl",
        "public_base_url",
        "callback_backoff",
        "callback_timeout",
    }
)


@dataclass
class Faults:
    """Injected failures. Probabilities are drawn per request/event from one seeded RNG."""

    error_5xx: float = 0.0  # 500/502/503 InternalServiceFailure before doing anything
    throttle_429: float = 0.0  # 429 TooManyRequests / SystemThrottling with Retry-After
    latency: float = 0.0  # seconds added to every /ent/v2 answer
    slow: float = 0.0  # an /ent/v2 answer held back a further slow_seconds (a client timeout)
    slow_seconds: float = 0.0
    lost_create: float = 0.0  # task made and charged, then the connection closed unanswered
    drop_callback: float = 0.0  # a callback delivery silently never sent
    fail_task: float = 0.0  # decided at creation: the task ends failed with fail_err_code
    fail_err_code: str = "InternalServiceFailure"
    seed: int = 1


@dataclass
class EmulatorConfig:
    """How the emulated platform behaves; the timing model is in `tasks` and `accounts`."""

    accounts: dict[str, float]  # api key -> starting credits
    concurrency: int = 5  # tasks in "processing" per account; the rest wait in "queueing"
    queue_seconds: float = 0.5  # minimum time in created/queueing
    process_seconds: float = 2.0  # time in processing, per task
    per_video_second: float = 0.0  # extra processing seconds per second of requested video
    result_ttl: float = 86_400.0  # result URLs expire this long after the task succeeded
    result_mode: str = "render"  # "render" (real MP4 per spec) or "fixed" (one tiny MP4)
    callback_secret_source: str = "key"  # "key": HMAC key is the account's API key
    public_base_url: str | None = None  # base of result URLs; default: from the request
    faults: Faults = field(default_factory=Faults)
    # Not in Vidu's surface; knobs for tests and offline use.
    callback_backoff: float = 1.0  # retry n (1..3) waits callback_backoff * 2**(n-1) seconds
    callback_timeout: float = 10.0  # seconds per callback attempt
    cache_dir: Path | None = None  # rendered videos; None: a temp dir removed at shutdown


def check_config(config: EmulatorConfig) -> None:
    """Raise ValueError on a config the emulator cannot run with."""
    if config.result_mode not in RESULT_MODES:
        raise ValueError(f"result_mode must be one of {RESULT_MODES}, not {config.result_mode!r}")
    if config.concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    for name in ("queue_seconds", "process_seconds", "per_video_second", "callback_backoff"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must not be negative")
    if config.result_ttl <= 0 or config.callback_timeout <= 0:
        raise ValueError("result_ttl and callback_timeout must be positive")
    for name in PROBABILITIES:
        if not 0.0 <= getattr(config.faults, name) <= 1.0:
            raise ValueError(f"faults.{name} must be a probability between 0 and 1")
    if config.faults.latency < 0 or config.faults.slow_seconds < 0:
        raise ValueError("faults.latency and faults.slow_seconds must not be negative")
    for key, credits in config.accounts.items():
        if not key or credits < 0:
            raise ValueError("accounts need a non-empty key and non-negative credits")


def _coerce(name: str, current: object, value: object) -> object:
    """`value` converted to the type of `current`, or ValueError naming the field."""
    if name == "public_base_url" and (value is None or isinstance(value, str)):
        return value.rstrip("/") if isinstance(value, str) else None
    if isinstance(current, bool) or isinstance(value, bool):
        raise ValueError(f"{name}: booleans are not accepted here")
    if isinstance(current, float) and isinstance(value, int | float):
        return float(value)
    if isinstance(current, int) and isinstance(value, int):
        return value
    if isinstance(current, str) and isinstance(value, str):
        return value
    raise ValueError(f"{name}: expected {type(current).__name__}, got {type(value).__name__}")


def apply_changes(target: Faults | EmulatorConfig, changes: Mapping[str, object]) -> None:
    """Set several fields at once, all or nothing, then re-check the whole config."""
    allowed = (
        {f.name for f in fields(Faults)} if isinstance(target, Faults) else set(RUNTIME_FIELDS)
    )
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValueError(
            f"cannot change {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    coerced = {name: _coerce(name, getattr(target, name), value) for name, value in changes.items()}
    if isinstance(target, Faults):
        trial = Faults(**{f.name: getattr(target, f.name) for f in fields(Faults)})
        for name, value in coerced.items():
            setattr(trial, name, value)
        check_config(EmulatorConfig(accounts={}, faults=trial))
    else:
        probe = EmulatorConfig(**{f.name: getattr(target, f.name) for f in fields(EmulatorConfig)})
        for name, value in coerced.items():
            setattr(probe, name, value)
        check_config(probe)
    for name, value in coerced.items():
        setattr(target, name, value)
