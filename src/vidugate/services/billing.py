"""Money as the API and CLI use it: the price table in force, tenants, their keys and
balances, and the operator's movements. The charges of tasks themselves are the ledger's
effects on task transitions (store/ledger.py); nothing here charges a task."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from vidugate.clock import Clock
from vidugate.domain.keys import ApiKey, KeyRole, StatusDialect
from vidugate.domain.ledger import LedgerEntry, LedgerKind, Tenant
from vidugate.domain.price_documents import parse_prices
from vidugate.domain.prices import PriceTable, PriceTableError, Quote
from vidugate.domain.request import VideoRequest
from vidugate.domain.tasks import new_id
from vidugate.domain.usage import (
    MarginReport,
    Period,
    TaskQuery,
    TaskSummary,
    UsageGroup,
    UsageReport,
)
from vidugate.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError
from vidugate.logs import get_logger
from vidugate.services.keys import KeyService
from vidugate.store.ledger import Ledger
from vidugate.store.prices import PriceRepository, StoredPrices
from vidugate.store.tenants import TenantRepository
from vidugate.store.usage import UsageQueries

log = get_logger("vidugate.billing")

# How stale a process's view of the price table may be when another process changed it.
PRICES_REFRESH_SECONDS = 5.0
MAX_TENANT_NAME_CHARS = 200
MAX_WEIGHT = 1000  # a tenant's weight under fair scheduling: 1 (the default) to this
# Quotes kept per process (a few hundred bytes each); the whole cache is dropped when full.
QUOTE_CACHE_ENTRIES = 4096


class PriceBook:
    """The price table in force as this process sees it: the newest stored one, checked
    for a newer one at most every `refresh_seconds` (one indexed read), so every process
    of a gateway prices alike within that time of a change."""

    def __init__(
        self,
        repo: PriceRepository,
        *,
        clock: Clock,
        refresh_seconds: float = PRICES_REFRESH_SECONDS,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self._id: int | None = None
        self._table: PriceTable | None = None
        self._broken: str | None = None
        self._fresh_until = float("-inf")
        self._lock = asyncio.Lock()
        self._quoted: dict[tuple[object, ...], Quote] = {}
        self._quoted_for: PriceTable | None = None

    async def current(self) -> PriceTable | None:
        """The table in force (None: no prices set, nothing is charged). A stored table
        this version cannot read stops creates (503) rather than let them through free."""
        if self.clock.monotonic() >= self._fresh_until:
            async with self._lock:
                if self.clock.monotonic() >= self._fresh_until:
                    await self._refresh()
        if self._broken is not None:
            raise ServiceUnavailableError(
                f"The price table in force cannot be read ({self._broken}); the operator must "
                "set prices again. Nothing was created.",
                retry_after=60,
            )
        return self._table

    async def _refresh(self) -> None:
        latest = await self.repo.latest_id()
        if latest != self._id:
            stored = await self.repo.latest()
            if stored is None:
                self._id, self._table, self._broken = None, None, None
            else:
                try:
                    self._table, self._broken = parse_prices(stored.document), None
                except PriceTableError as exc:
                    log.error("prices.unreadable", id=stored.id, error=exc.message)
                    self._table, self._broken = None, exc.message
                self._id = stored.id
        self._fresh_until = self.clock.monotonic() + self.refresh_seconds

    async def quote(self, request: VideoRequest) -> Quote | None:
        table = await self.current()
        if table is None:
            return None
        # A price depends on these alone; most creates repeat a few shapes, and a quote
        # costs about as much as the rest of the create's accounting (bench/README.md).
        shape = (
            request.model,
            request.mode,
            request.resolution,
            request.duration,
            request.audio,
            request.bgm,
            request.is_rec,
            request.off_peak,
        )
        if self._quoted_for is not table:
            self._quoted, self._quoted_for = {}, table
        quote = self._quoted.get(shape)
        if quote is None:
            quote = table.quote(request)  # raises for an unpriced model: nothing kept
            if len(self._quoted) >= QUOTE_CACHE_ENTRIES:
                self._quoted.clear()
            self._quoted[shape] = quote
        return quote

    async def set(self, table: PriceTable, source: str) -> bool:
        """Put this table in force (False: it already was, nothing stored)."""
        async with self._lock:
            await self._refresh()
            if self._table is not None and self._table == table and self._broken is None:
                return False
            await self.repo.save(table.to_document(), source, self.clock.now())
            self._fresh_until = float("-inf")
            await self._refresh()
            return True


@dataclass(frozen=True, slots=True)
class KeyBalance:
    """What a client key may see of its money."""

    tenant: Tenant
    currency: str | None  # the price table's (None: no prices set)
    spend_cap: Decimal | None
    spent: Decimal


class Billing:
    def __init__(
        self,
        tenants: TenantRepository,
        ledger: Ledger,
        keys: KeyService,
        prices: PriceBook,
        *,
        clock: Clock,
    ) -> None:
        self.tenants = tenants
        self.ledger = ledger
        self.keys = keys
        self.prices = prices
        self.clock = clock

    async def create_tenant(self, name: str, *, overdraft: Decimal = Decimal(0)) -> Tenant:
        name = name.strip()
        if not name or len(name) > MAX_TENANT_NAME_CHARS:
            raise InvalidRequestError(
                f"Give the tenant a name of 1 to {MAX_TENANT_NAME_CHARS} characters.", param="name"
            )
        if overdraft < 0:
            raise InvalidRequestError("An overdraft is 0 or more.", param="overdraft")
        now = self.clock.now()
        tenant = Tenant(new_id("tenant_", now), name, Decimal(0), overdraft, now)
        await self.tenants.insert(tenant)
        return tenant

    async def tenant(self, tenant_id: str) -> Tenant:
        tenant = await self.tenants.get(tenant_id)
        if tenant is None:
            raise NotFoundError(f"No tenant {tenant_id!r}.", param="tenant_id")
        return tenant

    async def move(
        self, tenant_id: str, kind: LedgerKind, amount: Decimal, reason: str
    ) -> LedgerEntry:
        return await self.ledger.move(tenant_id, kind, amount, reason, now=self.clock.now())

    async def create_key(
        self,
        tenant_id: str,
        name: str,
        *,
        spend_cap: Decimal | None = None,
        status_dialect: StatusDialect = StatusDialect.AUTO,
        role: KeyRole = KeyRole.CLIENT,
    ) -> tuple[ApiKey, str]:
        await self.tenant(tenant_id)
        if spend_cap is not None and spend_cap < 0:
            raise InvalidRequestError("A spend cap is 0 or more.", param="spend_cap")
        return await self.keys.create(
            name, status_dialect, tenant_id=tenant_id, role=role, spend_cap=spend_cap
        )

    async def balance(self, key: ApiKey) -> KeyBalance:
        tenant = await self.tenant(key.tenant_id)
        table = await self.prices.current()
        spent = await self.keys.keys.spent(key.id)
        return KeyBalance(tenant, table.currency if table else None, key.spend_cap, spent)

    # The admin API's operations and the reports (api/admin, api/billing.py).

    @property
    def reports(self) -> UsageQueries:
        return UsageQueries(self.ledger.db)

    async def open_tenant(
        self, name: str, *, overdraft: Decimal = Decimal(0), balance: Decimal = Decimal(0)
    ) -> Tenant:
        """A new tenant, with its first money as a top-up row ("initial balance")."""
        if balance < 0:
            raise InvalidRequestError("An initial balance is 0 or more.", param="balance")
        tenant = await self.create_tenant(name, overdraft=overdraft)
        if balance:
            await self.move(tenant.id, LedgerKind.TOPUP, balance, "initial balance")
            tenant = await self.tenant(tenant.id)
        return tenant

    async def set_overdraft(self, tenant_id: str, overdraft: Decimal) -> Tenant:
        if overdraft < 0:
            raise InvalidRequestError("An overdraft is 0 or more.", param="overdraft")
        tenant = await self.tenants.set_overdraft(tenant_id, overdraft)
        if tenant is None:
            raise NotFoundError(f"No tenant {tenant_id!r}.", param="tenant_id")
        return tenant

    async def set_weight(self, tenant_id: str, weight: int) -> Tenant:
        """A tenant's share of the slots under fair scheduling (docs/scheduling.md)."""
        if not 1 <= weight <= MAX_WEIGHT:
            raise InvalidRequestError(f"A weight is 1 to {MAX_WEIGHT}.", param="weight")
        tenant = await self.tenants.set_weight(tenant_id, weight)
        if tenant is None:
            raise NotFoundError(f"No tenant {tenant_id!r}.", param="tenant_id")
        return tenant

    async def keys_with_spent(self, tenant_id: str | None) -> list[tuple[ApiKey, Decimal]]:
        """Every key (of one tenant, or all), oldest first, with what it has spent."""
        if tenant_id is not None:
            await self.tenant(tenant_id)
        keys = await self.keys.all(tenant_id)
        spent = await self.reports.spent_by_key(key.id for key in keys)
        return [(key, spent.get(key.id, Decimal(0))) for key in keys]

    async def key(self, key_id: str) -> ApiKey:
        key = await self.keys.keys.get(key_id)
        if key is None:
            raise NotFoundError(f"No key {key_id!r}.", param="key_id")
        return key

    async def set_key_cap(self, key_id: str, cap: Decimal | None) -> tuple[ApiKey, Decimal]:
        if cap is not None and cap < 0:
            raise InvalidRequestError("A spend cap is 0 or more.", param="spend_cap")
        key = await self.keys.set_cap(key_id, cap)
        if key is None:
            raise NotFoundError(f"No key {key_id!r}.", param="key_id")
        return key, await self.keys.keys.spent(key_id)

    async def revoke_key(self, key_id: str) -> tuple[ApiKey, Decimal]:
        """Revoke by id (not by prefix, as the CLI may); revoking a revoked key changes
        nothing and answers it as it is."""
        key = await self.key(key_id)
        if key.revoked_at is None:
            revoked = await self.keys.revoke(key.id)
            key = next((k for k in revoked if k.id == key_id), await self.key(key_id))
        return key, await self.keys.keys.spent(key_id)

    async def stored_prices(self) -> StoredPrices:
        """The price table in force as stored, with where it came from and when."""
        stored = await self.prices.repo.latest()
        if stored is None:
            raise NotFoundError(
                "No price table is set, so nothing is charged. Set one with PUT "
                "/admin/v1/prices, `vidugate prices set FILE` or VIDUGATE_PRICES_FILE."
            )
        return stored

    async def put_prices(self, table: PriceTable, source: str) -> tuple[StoredPrices, bool]:
        """Put `table` in force; False when it already was (nothing stored)."""
        changed = await self.prices.set(table, source)
        return await self.stored_prices(), changed

    async def usage(
        self,
        group_by: UsageGroup,
        period: Period,
        *,
        tenant_id: str | None = None,
        key_id: str | None = None,
    ) -> UsageReport:
        return await self.reports.usage(group_by, period, tenant_id=tenant_id, key_id=key_id)

    async def margin(
        self, group_by: UsageGroup, period: Period, credit_value: Decimal | None
    ) -> MarginReport:
        return await self.reports.margin(group_by, period, credit_value)

    async def all_tasks(self, query: TaskQuery) -> tuple[list[TaskSummary], bool]:
        return await self.reports.tasks(query)
