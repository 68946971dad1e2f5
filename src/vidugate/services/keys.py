"""Gateway API keys: made once, shown once, stored as a hash, looked up on every request."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from vidugate.clock import Clock, SystemClock
from vidugate.domain.keys import ApiKey, KeyRole, StatusDialect
from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.domain.limits import Limits
from vidugate.domain.tasks import new_id
from vidugate.errors import AuthenticationError
from vidugate.store.keys import KeyRepository

KEY_PREFIX = "vg-"
ADMIN_KEY_PREFIX = "vga-"
_NEGATIVE_TTL = 5.0
_CACHE_LIMIT = 10_000
# What a revoke does to the revoked keys' videos (services/limits.py: QueuedCanceller).
OnRevoke = Callable[[Sequence[ApiKey]], Awaitable[int]]


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class KeyService:
    def __init__(
        self,
        keys: KeyRepository,
        *,
        cache_seconds: float = 30.0,
        clock: Clock | None = None,
        on_revoke: OnRevoke | None = None,
    ) -> None:
        self.keys = keys
        self.on_revoke = on_revoke
        self.clock = clock or SystemClock()
        # Known keys are kept briefly so the status route needs no query; a revoke made in
        # another process takes effect within cache_seconds (in this process, at once).
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    async def create(
        self,
        name: str,
        status_dialect: StatusDialect = StatusDialect.AUTO,
        *,
        tenant_id: str = DEFAULT_TENANT,
        role: KeyRole = KeyRole.CLIENT,
        spend_cap: Decimal | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and the token itself (shown once). The tenant must exist (the caller
        checks: this layer has no tenants)."""
        token = (ADMIN_KEY_PREFIX if role is KeyRole.ADMIN else KEY_PREFIX) + secrets.token_urlsafe(
            32
        )
        now = self.clock.now()
        key = ApiKey(
            id=new_id("key_", now),
            name=name,
            prefix=token[:10],
            created_at=now,
            revoked_at=None,
            status_dialect=status_dialect,
            tenant_id=tenant_id,
            role=role,
            spend_cap=spend_cap,
        )
        await self.keys.insert(key, hash_key(token))
        return key, token

    async def authenticate(self, token: str, role: KeyRole = KeyRole.CLIENT) -> ApiKey:
        """The key of this token, if it is active and of this role: a client key is refused
        on the admin API and an admin key everywhere else."""
        digest = hash_key(token)
        now = self.clock.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            key = cached[0]
        else:
            key = await self.keys.by_hash(digest)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[digest] = (key, now + (self.cache_seconds if key else _NEGATIVE_TTL))
        if key is None:
            raise AuthenticationError("Incorrect API key provided.")
        if key.role is not role:
            raise AuthenticationError(
                "This is an admin key: it works only on the admin API (/admin/v1)."
                if key.role is KeyRole.ADMIN
                else "The admin API takes an admin key (vidugate keys create --admin)."
            )
        return key

    async def all(self, tenant_id: str | None = None) -> list[ApiKey]:
        return await self.keys.all(tenant_id)

    async def set_cap(self, key_id: str, cap: Decimal | None) -> ApiKey | None:
        key = await self.keys.set_cap(key_id, cap)
        self._cache.clear()
        return key

    async def revoke(self, id_or_prefix: str) -> list[ApiKey]:
        revoked = await self.keys.revoke(id_or_prefix, self.clock.now())
        self._cache.clear()
        if revoked and self.on_revoke is not None:
            await self.on_revoke(revoked)
        return revoked

    def forget(self) -> None:
        """Drop the cached keys (a tenant's limits, which they carry, changed)."""
        self._cache.clear()

    async def set_limits(self, key_id: str, limits: Limits) -> ApiKey | None:
        key = await self.keys.set_limits(key_id, limits)
        self._cache.clear()
        return key

    async def change_limits(self, key_id: str, values: dict[str, int | None]) -> ApiKey | None:
        key = await self.keys.change_limits(key_id, values)
        self._cache.clear()
        return key

    async def count_active(self) -> int:
        return await self.keys.count_active()
