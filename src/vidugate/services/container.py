"""Builds every long-lived object once, from settings, and closes them in reverse order.
The app's lifespan and the CLI both open one of these; nothing is a module global."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from vidugate.files.base import FileStore
from vidugate.files.local import LocalFileStore
from vidugate.net.fetch import FetchPolicy, UrlFetcher
from vidugate.providers.base import Provider
from vidugate.providers.registry import build_providers
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.callbacks import CallbackService
from vidugate.services.images import DecodePool, ImageIngest
from vidugate.services.keys import KeyService
from vidugate.services.lifecycle import LifecycleConfig, TaskLifecycle
from vidugate.services.signing import UrlSigner
from vidugate.services.videos import CreateConfig, VideoService
from vidugate.settings import Role, Settings
from vidugate.store.accounts import AccountRepository
from vidugate.store.db import Database, open_database
from vidugate.store.keys import KeyRepository
from vidugate.store.nonces import NonceRepository
from vidugate.store.tasks import TaskRepository
from vidugate.workers.runner import Worker
from vidugate.workers.sweeper import Sweeper


@dataclass(slots=True)
class Services:
    settings: Settings
    database: Database
    files: FileStore
    tasks: CachedTasks
    keys: KeyService
    videos: VideoService
    lifecycle: TaskLifecycle
    providers: dict[str, Provider]
    signer: UrlSigner
    callbacks: CallbackService
    worker: Worker | None
    sweeper: Sweeper | None


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, run_workers: bool) -> AsyncIterator[Services]:
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    files = LocalFileStore(settings.media_dir)
    fetch_policy = FetchPolicy(
        allow_private=settings.fetch_allow_private,
        allow_networks=tuple(settings.fetch_allow_networks),
        timeout=settings.fetch_timeout_seconds,
    )
    async with contextlib.AsyncExitStack() as stack:
        database = await stack.enter_async_context(
            open_database(settings.resolved_database_url, settings.database_pool_size)
        )
        repo = TaskRepository(database, cache_bytes=settings.task_cache_bytes)
        # SQLite with one process is the only set-up where no other process writes tasks.
        shared = not database.group_commit or settings.processes > 1
        tasks = CachedTasks(repo, shared=shared, max_bytes=settings.task_cache_bytes)
        fetcher = await stack.enter_async_context(UrlFetcher(fetch_policy))
        signer = UrlSigner(settings.signing_key(), settings.signed_url_ttl_seconds)
        providers = build_providers(
            settings,
            account_states=AccountRepository(database),
            input_url=_input_url(settings, signer),
            callback_url=_callback_url(settings),
        )
        for provider in providers.values():
            stack.push_async_callback(provider.close)
        lifecycle = TaskLifecycle(
            tasks,
            providers,
            files,
            LifecycleConfig(
                retention_seconds=settings.retention_seconds,
                work_dir=settings.work_dir,
                spritesheet_threads=settings.spritesheet_threads,
            ),
        )
        worker = None
        sweeper = None
        if run_workers and settings.role in (Role.ALL, Role.WORKER):
            worker = Worker(
                lifecycle,
                repo,
                concurrency=settings.worker_concurrency,
                lease_seconds=settings.lease_seconds,
                shutdown_grace=settings.shutdown_grace_seconds,
            )
            sweeper = Sweeper(
                tasks,
                files,
                NonceRepository(database),
                row_retention=settings.task_row_retention_seconds,
            )
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
            wake_worker=worker.wake if worker is not None else _no_worker,
            page_bytes=settings.list_page_bytes,
        )
        services = Services(
            settings=settings,
            database=database,
            files=files,
            tasks=tasks,
            keys=KeyService(KeyRepository(database), cache_seconds=settings.key_cache_seconds),
            videos=videos,
            lifecycle=lifecycle,
            providers=providers,
            signer=signer,
            callbacks=CallbackService(
                tasks, providers, NonceRepository(database), videos.wake_worker
            ),
            worker=worker,
            sweeper=sweeper,
        )
        for loop in (worker, sweeper):
            if loop is not None:
                await loop.start()
                stack.push_async_callback(loop.stop)
        yield services


def _input_url(settings: Settings, signer: UrlSigner) -> Callable[[str, int], str] | None:
    """Signed links to a task's input images, for upstreams that fetch them (Vidu), when
    the gateway has a public address; without one, images travel inline."""
    base = settings.public_base_url
    if base is None:
        return None

    def url(task_id: str, index: int) -> str:
        return f"{base}/v1/inputs/{task_id}/{index}?{signer.sign(task_id, f'input{index}')}"

    return url


def _callback_url(settings: Settings) -> str | None:
    if settings.public_base_url is None or not settings.vidu_callbacks:
        return None
    return f"{settings.public_base_url}/v1/upstream/vidu/callback"


def _no_worker() -> None:
    """API-only processes leave new tasks for the workers, which find them by polling."""
