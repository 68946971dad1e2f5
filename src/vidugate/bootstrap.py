"""The composition root: `open_gateway(settings, clock=...)` builds every long-lived object
of one gateway process (database, file store, caches, providers, services, worker,
sweeper), starts the worker and sweeper where the process's role runs them, and closes it
all in reverse order. The app's lifespan opens one; nothing else builds services.

It sits above the layers and may import any of them; none imports it. So the one place
that knows both `services` and `workers` is here: the worker drives the lifecycle, and the
services are handed only its `wake` callable. The links providers need (signed input
URLs, the callback URL) are built by the API layer (`api/links.py`), passed in here."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass

from vidugate import metrics
from vidugate.api.links import callback_url, input_url
from vidugate.api.readiness import Readiness
from vidugate.api.scrape import Scrape
from vidugate.api.webhook_bodies import webhook_bodies
from vidugate.clock import Clock, SystemClock
from vidugate.domain.price_documents import load_prices
from vidugate.domain.webhooks import MAX_LOGGED_ANSWER_BYTES, RetryPolicy
from vidugate.files.base import FileStore
from vidugate.files.local import LocalFileStore
from vidugate.net.fetch import UrlFetcher
from vidugate.net.webhook_sender import WebhookSender
from vidugate.providers.registry import build_providers
from vidugate.services.admission import Admission, gated
from vidugate.services.billing import Billing, PriceBook
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.callbacks import CallbackService
from vidugate.services.content import Spritesheets
from vidugate.services.images import DecodePool, ImageIngest
from vidugate.services.keys import KeyService
from vidugate.services.lifecycle import LifecycleConfig, TaskLifecycle
from vidugate.services.limits import QueuedCanceller, default_limits, task_books
from vidugate.services.rates import MemoryWindows, RateLimiter, WindowStore
from vidugate.services.retention import Retention
from vidugate.services.signing import UrlSigner
from vidugate.services.timeline import TimelineService
from vidugate.services.upstream import UpstreamAccounts, configured_accounts
from vidugate.services.videos import CreateConfig, VideoService
from vidugate.services.webhook_signing import WebhookSigner
from vidugate.services.webhooks import WebhookService
from vidugate.settings import Role, Settings
from vidugate.store.accounts import AccountRepository
from vidugate.store.db import Database, open_database
from vidugate.store.keys import KeyRepository
from vidugate.store.limits import queued_reader
from vidugate.store.nonces import NonceRepository
from vidugate.store.prices import PriceRepository
from vidugate.store.slot_use import slot_use
from vidugate.store.stats import read_state
from vidugate.store.tasks import TaskRepository
from vidugate.store.tenants import TenantRepository
from vidugate.store.usage import UsageQueries
from vidugate.store.webhook_endpoints import EndpointRepository
from vidugate.store.webhook_log import WebhookLog
from vidugate.store.webhook_outbox import WebhookOutbox
from vidugate.workers.deliverer import Deliverer
from vidugate.workers.runner import Worker
from vidugate.workers.sweeper import Sweeper


@dataclass(frozen=True, slots=True)
class Gateway:
    """One process's objects. Routes are given single members (api/deps.py), never this."""

    database: Database
    files: FileStore
    tasks: CachedTasks
    keys: KeyService
    videos: VideoService
    billing: Billing
    signer: UrlSigner
    callbacks: CallbackService
    readiness: Readiness
    rates: RateLimiter
    webhooks: WebhookService
    scrape: Scrape
    timeline: TimelineService
    upstream: UpstreamAccounts


@contextlib.asynccontextmanager
async def open_gateway(
    settings: Settings, *, clock: Clock | None = None, run_workers: bool = True
) -> AsyncIterator[Gateway]:
    """Everything built and started; closed on exit. `run_workers=False` builds a process
    that serves the API only, whatever its role says (no worker, no sweeper)."""
    clock = clock or SystemClock()
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    files = LocalFileStore(settings.media_dir)
    fetch_policy = settings.fetch_policy
    async with contextlib.AsyncExitStack() as stack:
        database = await stack.enter_async_context(
            open_database(settings.resolved_database_url, settings.database_pool_size)
        )
        signer = UrlSigner(settings.signing_key(), settings.signed_url_ttl_seconds, clock=clock)
        webhook_signer = WebhookSigner(settings.signing_key())
        outbox = WebhookOutbox(database, webhook_bodies(settings, signer))
        books = task_books(database, settings, outbox)
        ledger, counts = books.ledger, books.counts
        limit_defaults = default_limits(settings)
        rates = RateLimiter(
            _rate_windows(settings),
            limit_defaults,
            clock=clock,
            redis_down_closed=settings.limits_redis_down == "closed",
        )
        stack.push_async_callback(rates.close)
        prices = PriceBook(PriceRepository(database), clock=clock)
        if settings.prices_file is not None:
            # Checked by serve's preflight already; a table stored by another process
            # starting with the same file is the same table, stored once.
            await prices.set(load_prices(settings.prices_file), f"file {settings.prices_file}")
        nonces = NonceRepository(database)
        fetcher = await stack.enter_async_context(UrlFetcher(fetch_policy))
        account_states = AccountRepository(database)
        providers = build_providers(
            settings,
            account_states=account_states,
            input_url=input_url(settings, signer),
            callback_url=callback_url(settings),
            clock=clock,
        )
        for provider in providers.values():
            stack.push_async_callback(provider.close)
        waiting = gated(providers, settings.scheduling)
        repo = TaskRepository(
            database,
            cache_bytes=settings.task_cache_bytes,
            effects=books.effects,
            progress_effects=[outbox.progress_effect],
            waiting_providers=waiting,
        )
        # SQLite with one process is the only set-up where no other process writes tasks.
        shared = not database.group_commit or settings.processes > 1
        tasks = CachedTasks(repo, shared=shared, clock=clock, max_bytes=settings.task_cache_bytes)
        lifecycle = TaskLifecycle(
            tasks,
            providers,
            files,
            LifecycleConfig(
                retention_seconds=settings.retention_seconds,
                work_dir=settings.work_dir,
                waiting_providers=waiting,
            ),
            clock=clock,
        )
        worker = None
        sweeper = None
        deliverer = None
        sender = WebhookSender(
            fetch_policy,
            timeout=settings.webhook_timeout_seconds,
            answer_bytes=MAX_LOGGED_ANSWER_BYTES,
        )
        stack.push_async_callback(sender.close)
        if run_workers and settings.role in (Role.ALL, Role.WORKER):
            worker = Worker(
                lifecycle,
                tasks,
                clock=clock,
                concurrency=settings.worker_concurrency,
                lease_seconds=settings.lease_seconds,
                shutdown_grace=settings.shutdown_grace_seconds,
                admission=Admission(
                    tasks,
                    providers,
                    settings.scheduling,
                    clock=clock,
                    hold_seconds=settings.lease_seconds,
                ),
            )
            sweeper = Sweeper(
                Retention(
                    tasks,
                    files,
                    nonces,
                    row_retention=settings.task_row_retention_seconds,
                    outbox=outbox,
                ),
                clock=clock,
            )
            deliverer = Deliverer(
                outbox,
                sender,
                webhook_signer,
                RetryPolicy(
                    first=settings.webhook_retry_first_seconds,
                    window=settings.webhook_retry_window_seconds,
                ),
                clock=clock,
                concurrency=settings.webhook_concurrency,
                per_destination=settings.webhook_per_destination,
                poll_seconds=settings.webhook_poll_seconds,
            )
            outbox.wake = deliverer.wake
        wake_worker = worker.wake if worker is not None else _no_worker
        decode_pool = DecodePool(settings.image_decode_threads)
        stack.callback(decode_pool.close)
        videos = VideoService(
            tasks,
            ImageIngest(
                files,
                fetcher,
                settings.work_dir,
                max_bytes=settings.max_image_bytes,
                pool=decode_pool,
                fetch_budget=settings.max_fetch_bytes_per_request,
            ),
            files,
            CreateConfig(
                provider=settings.provider,
                deadline_seconds=settings.task_deadline_seconds,
                off_peak_deadline_seconds=settings.off_peak_deadline_seconds,
            ),
            wake_worker=wake_worker,
            clock=clock,
            page_bytes=settings.list_page_bytes,
            sheets=Spritesheets(files, settings.work_dir, threads=settings.spritesheet_threads),
            prices=prices,
            check_destination=sender.check,
        )
        keys = KeyService(
            KeyRepository(database),
            cache_seconds=settings.key_cache_seconds,
            clock=clock,
            on_revoke=QueuedCanceller(queued_reader(database, counts), tasks.apply),
        )
        gateway = Gateway(
            database=database,
            files=files,
            tasks=tasks,
            keys=keys,
            videos=videos,
            billing=Billing(TenantRepository(database), ledger, keys, prices, clock=clock),
            signer=signer,
            callbacks=CallbackService(tasks, providers, nonces, wake_worker),
            readiness=Readiness(database.ping, worker, clock),
            rates=rates,
            webhooks=WebhookService(
                EndpointRepository(database),
                outbox,
                WebhookLog(database),
                TenantRepository(database),
                sender,
                webhook_signer,
                clock=clock,
            ),
            timeline=TimelineService(
                UsageQueries(database), books.events, ledger, WebhookLog(database)
            ),
            upstream=UpstreamAccounts(
                configured_accounts(settings),
                account_states,
                functools.partial(slot_use, database),
                providers,
                clock=clock,
            ),
            scrape=Scrape(
                functools.partial(read_state, database),
                # Several processes on one port: any of them answers a scrape for all.
                metrics.Exposition(settings.metrics_dir if settings.processes > 1 else None),
                clock=clock,
                cache_seconds=settings.metrics_cache_seconds,
            ),
        )
        for loop in (worker, sweeper, deliverer):
            if loop is not None:
                await loop.start()
                stack.push_async_callback(loop.stop)
        yield gateway


def _no_worker() -> None:
    """API-only processes leave new tasks for the workers, which find them by polling."""


def _rate_windows(settings: Settings) -> WindowStore:
    """Where the rate windows live: Redis when one is named, else this process. Imported
    only then: a gateway without Redis does not load its client (~6 MB resident)."""
    if not settings.redis_url:
        return MemoryWindows()
    from vidugate.services.rates_redis import RedisWindows

    return RedisWindows(
        settings.redis_url,
        prefix=settings.limits_redis_prefix,
        timeout=settings.limits_redis_timeout_seconds,
        batch=settings.limits_redis_batch_seconds,
    )
