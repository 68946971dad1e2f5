"""Rate windows: requests and creates per minute, per key and per tenant.

GCRA (the generic cell rate algorithm): each window keeps one number, the theoretical
arrival time `tat`; a call is allowed when `max(tat, now) + T - now <= 60 s` (T = 60 s / limit)
and moves `tat` by T. So a limit of N lets N calls through at once, then one every T; no
bucket of timestamps to keep or trim (a sliding log costs a sorted set per key in Redis),
and no doubling at a window's edge (a fixed window lets 2 N through across a boundary).
The headers follow from the same number: remaining = what still fits under 60 s, reset =
`tat - now`, the time until the window is as if unused.

Every call checks all its windows at once (key and tenant; a create adds its creates
windows) and moves them only if all allow: a refused call uses up nothing. Without
`VIDUGATE_REDIS_URL` the windows are this process's (rates_redis.py keeps them in Redis,
shared). Time is the gateway's clock (passed in, so a ManualClock drives tests)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vidugate.clock import Clock
from vidugate.domain.keys import ApiKey
from vidugate.domain.limits import LimitKind, Limits
from vidugate.errors import RateLimitError, ServiceUnavailableError
from vidugate.logs import get_logger

log = get_logger("vidugate.limits")
PERIOD = 60.0
SLACK = 1e-9  # float sums of T must not refuse the N-th of N calls
_ALLOWED = PERIOD + SLACK
_PRUNE_AT = 50_000  # in-process windows: drop idle ones past this many
_MEMO_LIMIT = 10_000
_DOWN_LOG_SECONDS = 60.0
DOWN_SKIP_SECONDS = 1.0  # after a failed call, Redis is not tried again for this long
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Window:
    """One window to check: its storage key, its limit, and how a 429 names it."""

    key: str
    limit: int
    kind: LimitKind
    whose: str  # "this key" / "this key's tenant"
    scope: str = "key"  # or "tenant", whose limit it is
    interval: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", PERIOD / self.limit)

    @property
    def exact(self) -> bool:
        """Checked against the shared store on every call (creates); a request window
        may be batched (rates_redis.py)."""
        return self.kind is LimitKind.CREATES_PER_MINUTE


class StoreDownError(Exception):
    """The shared store could not be reached (or answered too late)."""


class WindowStore(Protocol):
    async def take(
        self, windows: Sequence[Window], now: float, mono: float
    ) -> tuple[list[float], bool]:
        """Each window's tat before this call (clamped to now), and whether every one
        allowed it: then each moved by one interval, else all left as they were.
        StoreDownError if the store is away."""
        ...

    async def close(self) -> None: ...


def allows(window: Window, tat: float, now: float) -> bool:
    return tat + window.interval - now <= _ALLOWED


class MemoryWindows:
    """This process's windows (one process, or no Redis)."""

    def __init__(self) -> None:
        self._tats: dict[str, float] = {}

    async def take(
        self, windows: Sequence[Window], now: float, mono: float
    ) -> tuple[list[float], bool]:
        return self.take_now(windows, now)

    def take_now(self, windows: Sequence[Window], now: float) -> tuple[list[float], bool]:
        """The tats before the call, and whether every window allowed it (then moved)."""
        # One pass to read and judge, one to move: the status poll's path, kept lean.
        known = self._tats
        tats = []
        allowed = True
        for w in windows:
            tat = known.get(w.key, now)
            if tat < now:
                tat = now
            tats.append(tat)
            if tat + w.interval - now > _ALLOWED:
                allowed = False
        if allowed:
            if len(known) > _PRUNE_AT:
                self._tats = known = {k: v for k, v in known.items() if v > now}
            for w, tat in zip(windows, tats, strict=True):
                known[w.key] = tat + w.interval
        return tats, allowed

    def set(self, key: str, tat: float) -> None:
        self._tats[key] = tat

    def forget(self) -> None:
        self._tats.clear()

    async def close(self) -> None:
        return None


def format_reset(seconds: float) -> str:
    """As OpenAI writes x-ratelimit-reset-*: a Go duration ("20ms", "6s", "1m0s")."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 2):g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{round(rest, 2):g}s"


class RateLimiter:
    """The request and create checks a client key's calls go through."""

    def __init__(
        self,
        store: WindowStore,
        defaults: Limits,
        *,
        clock: Clock,
        redis_down_closed: bool = False,
    ) -> None:
        self.store = store
        self.defaults = defaults
        self.clock = clock
        self.closed = redis_down_closed
        self._down_until = -math.inf
        self._logged_at = -math.inf
        # The windows of a key object, by its identity: the key cache hands out the same
        # object until it reads the key again (a change of limits makes a new one).
        self._memo: dict[tuple[int, bool], tuple[ApiKey, list[Window]]] = {}

    def windows(self, key: ApiKey, *, create: bool) -> list[Window]:
        memo = self._memo.get((id(key), create))
        if memo is not None and memo[0] is key:
            return memo[1]
        mine = key.limits.over(self.defaults)
        tenant = key.tenant_limits.over(self.defaults)
        kinds = [LimitKind.REQUESTS_PER_MINUTE]
        if create:
            kinds.append(LimitKind.CREATES_PER_MINUTE)
        out = []
        for kind in kinds:
            short = "r" if kind is LimitKind.REQUESTS_PER_MINUTE else "c"
            for limit, scope, whose in (
                (getattr(mine, kind.value), f"k:{key.id}", "this key"),
                (getattr(tenant, kind.value), f"t:{key.tenant_id}", "this key's tenant"),
            ):
                if limit is not None:
                    owner = "tenant" if scope.startswith("t:") else "key"
                    out.append(Window(f"{short}:{scope}", limit, kind, whose, owner))
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[(id(key), create)] = (key, out)
        return out

    async def check(self, key: ApiKey, *, create: bool = False) -> Headers:
        """The x-ratelimit-* headers of an allowed call; RateLimitError (429) if a window
        refuses it, carrying the same headers."""
        windows = self.windows(key, create=create)
        if not windows:
            return []
        now = self.clock.now()
        store = self.store
        if type(store) is MemoryWindows:
            tats, allowed = store.take_now(windows, now)
        else:
            taken = await self._take(windows, now)
            if taken is None:
                return []
            tats, allowed = taken
        headers = _headers(windows, tats, now, moved=allowed)
        if not allowed:
            refused = [(w, t) for w, t in zip(windows, tats, strict=True) if not allows(w, t, now)]
            wait, window = max(
                ((t + w.interval - PERIOD - now, w) for w, t in refused), key=lambda p: p[0]
            )
            raise RateLimitError(
                f"Rate limit reached: {window.kind.words} for {window.whose}: {window.limit}. "
                f"Try again in {format_reset(wait)}.",
                retry_after=wait,
                headers={k.decode(): v.decode() for k, v in headers},
                limit=window.kind.value,
                scope=window.scope,
            )
        return headers

    async def _take(self, windows: list[Window], now: float) -> tuple[list[float], bool] | None:
        """The tats, or None when the store is away and the setting says to let calls pass."""
        mono = self.clock.monotonic()
        if mono >= self._down_until:
            try:
                return await self.store.take(windows, now, mono)
            except StoreDownError as exc:
                self._down(exc.__cause__ or exc, mono)
        if self.closed:
            raise ServiceUnavailableError(
                "The gateway's rate limits cannot be checked just now (Redis is unreachable); "
                "try again shortly.",
                code="limits_unavailable",
                retry_after=DOWN_SKIP_SECONDS,
            )
        return None

    def _down(self, exc: BaseException, mono: float) -> None:
        self._down_until = mono + DOWN_SKIP_SECONDS
        if mono - self._logged_at >= _DOWN_LOG_SECONDS:
            self._logged_at = mono
            log.warning(
                "limits.redis_down",
                mode="closed" if self.closed else "open",
                error=type(exc).__name__,
            )

    async def close(self) -> None:
        await self.store.close()


_NAMES = {
    LimitKind.REQUESTS_PER_MINUTE: (
        b"x-ratelimit-limit-requests",
        b"x-ratelimit-remaining-requests",
        b"x-ratelimit-reset-requests",
    ),
    LimitKind.CREATES_PER_MINUTE: (
        b"x-ratelimit-limit-creates",
        b"x-ratelimit-remaining-creates",
        b"x-ratelimit-reset-creates",
    ),
}


def _headers(windows: list[Window], tats: list[float], now: float, *, moved: bool) -> Headers:
    """Per kind, the tightest window (fewest calls left): its limit, remaining and reset.
    `windows` come grouped by kind (RateLimiter.windows makes them so): one pass, no dict,
    as this runs on every checked call."""
    headers: Headers = []
    kind: LimitKind | None = None
    remaining, used, limit = 0, 0.0, 0
    for w, tat in zip(windows, tats, strict=True):
        w_used = (tat + w.interval if moved else tat) - now
        left = int((PERIOD - w_used) / w.interval + SLACK)
        w_remaining = w.limit if left > w.limit else (left if left > 0 else 0)
        if w.kind is not kind:
            if kind is not None:
                headers += _triple(kind, remaining, used, limit)
            kind, remaining, used, limit = w.kind, w_remaining, w_used, w.limit
        elif w_remaining < remaining or (w_remaining == remaining and w_used > used):
            remaining, used, limit = w_remaining, w_used, w.limit
    if kind is not None:
        headers += _triple(kind, remaining, used, limit)
    return headers


def _triple(kind: LimitKind, remaining: int, used: float, limit: int) -> Headers:
    limit_name, remaining_name, reset_name = _NAMES[kind]
    limit_bytes = _as_bytes(limit)
    return [
        (limit_name, limit_bytes),
        (remaining_name, limit_bytes if remaining == limit else b"%d" % remaining),
        (reset_name, _reset_bytes(used)),
    ]


@functools.lru_cache(maxsize=256)
def _as_bytes(number: int) -> bytes:
    return b"%d" % number


def _reset_bytes(seconds: float) -> bytes:
    # Under a millisecond (a window far from its limit, every call of a busy key) is the
    # common answer: one bytes object, not a formatted string per call.
    if seconds <= 0.001:
        return _ONE_MS if seconds > 0 else _ZERO_MS
    return format_reset(seconds).encode()


_ZERO_MS, _ONE_MS = b"0ms", b"1ms"
