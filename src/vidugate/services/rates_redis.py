"""Rate windows in Redis, shared by every process that names the same Redis and prefix.

A check is one Lua script over all the call's windows (one round trip): it reads each
window's tat, and moves them all only if all allow. Creates windows go to Redis on every
call, exactly. Requests windows may be batched (`VIDUGATE_LIMITS_REDIS_BATCH_SECONDS`, 0:
never): a process checks them against its own copy of each window and sends the calls it
let through to Redis once per interval (one round trip per interval, not per call), taking
back the window as all processes moved it. The first call of a window in a process is always
checked in Redis, so a process new to a key never starts from an empty window. The price of
batching: a process does not see the others' calls of the last interval, so across P
processes a window may let through up to (P - 1) x (the calls one process makes in one
interval) beyond its limit; with one process, nothing. Each Redis call is bounded by
`VIDUGATE_LIMITS_REDIS_TIMEOUT_SECONDS`; a failed one raises StoreDownError."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from vidugate.services.rates import PERIOD, SLACK, MemoryWindows, StoreDownError, Window

# KEYS: the windows; ARGV: now, then each window's interval. Returns the tats (as strings:
# Redis truncates Lua numbers to integers) before the call; moves them only if all allow.
_TAKE = """
local now = tonumber(ARGV[1])
local tats = {}
local ok = true
for i, key in ipairs(KEYS) do
  local t = tonumber(redis.call('GET', key) or now)
  if t < now then t = now end
  tats[i] = t
  if t + tonumber(ARGV[i + 1]) - now > LIMIT then ok = false end
end
local out = {}
for i, key in ipairs(KEYS) do
  if ok then
    local new = tats[i] + tonumber(ARGV[i + 1])
    redis.call('SET', key, string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
  end
  out[i] = string.format('%.6f', tats[i])
end
return out
""".replace("LIMIT", repr(PERIOD + SLACK))

# KEYS: the windows; ARGV: now, then how far to move each (the calls let through locally
# times the interval). Returns each window's tat after the move.
_MOVE = """
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local t = tonumber(redis.call('GET', key) or now)
  if t < now then t = now end
  local new = t + tonumber(ARGV[i + 1])
  redis.call('SET', key, string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
  out[i] = string.format('%.6f', new)
end
return out
"""


class RedisWindows:
    def __init__(self, url: str, *, prefix: str, timeout: float, batch: float = 0.0) -> None:
        self.prefix = prefix
        self.timeout = timeout
        self.batch = batch
        self.client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._take = self.client.register_script(_TAKE)
        self._move = self.client.register_script(_MOVE)
        # Batched request windows: this process's copy, and the intervals it owes Redis.
        self._local = MemoryWindows()
        self._known: set[str] = set()
        self._owed: dict[str, float] = {}
        self._flush_at = 0.0
        self._flushing = False

    async def take(
        self, windows: Sequence[Window], now: float, mono: float
    ) -> tuple[list[float], bool]:
        if self.batch <= 0:
            return await self._exact(windows, now, mono)
        known = self._known
        for w in windows:
            if w.exact or w.key not in known:
                return await self._exact(windows, now, mono)
        if mono >= self._flush_at and not self._flushing:
            await self._flush(now, mono)
        tats, allowed = self._local.take_now(windows, now)
        if allowed:
            owed = self._owed
            for w in windows:
                owed[w.key] = owed.get(w.key, 0.0) + w.interval
        return tats, allowed

    async def _exact(
        self, windows: Sequence[Window], now: float, mono: float
    ) -> tuple[list[float], bool]:
        keys = [self.prefix + w.key for w in windows]
        args = [f"{now:.6f}", *(f"{w.interval:.9f}" for w in windows)]
        out = await self._call(self._take, keys, args)
        tats = [float(v) for v in out]
        moved = all(
            t + w.interval - now <= PERIOD + SLACK for w, t in zip(windows, tats, strict=True)
        )
        if self.batch > 0:
            for w, tat in zip(windows, tats, strict=True):
                if not w.exact:
                    # Redis's window, plus what this process let through and still owes.
                    after = tat + w.interval if moved else tat
                    self._local.set(w.key, after + self._owed.get(w.key, 0.0))
                    self._known.add(w.key)
            if not self._owed and mono >= self._flush_at:
                self._flush_at = mono + self.batch  # a copy just read lives one interval
        return tats, moved

    async def _flush(self, now: float, mono: float) -> None:
        self._flush_at = mono + self.batch
        owed, self._owed = self._owed, {}
        # A window with no call in the interval is dropped: its next call reads Redis again
        # (and sees the other processes' calls), so no copy is older than one interval.
        self._known &= set(owed)
        if not owed:
            self._local.forget()
            return
        self._flushing = True
        try:
            keys = list(owed)
            out = await self._call(
                self._move,
                [self.prefix + k for k in keys],
                [f"{now:.6f}", *(f"{owed[k]:.9f}" for k in keys)],
            )
        finally:
            self._flushing = False
        for key, tat in zip(keys, out, strict=True):
            self._local.set(key, float(tat) + self._owed.get(key, 0.0))

    async def _call(self, script: object, keys: list[str], args: list[str]) -> list[bytes]:
        try:
            async with asyncio.timeout(self.timeout):
                out: list[bytes] = await script(keys=keys, args=args)  # type: ignore[operator]
        except (RedisError, OSError, TimeoutError) as exc:
            # Whatever this process let through and has not sent is dropped with its copies.
            self._owed.clear()
            self._known.clear()
            self._local.forget()
            raise StoreDownError(str(exc)) from exc
        return out

    async def close(self) -> None:
        await self.client.aclose()
