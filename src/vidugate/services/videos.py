"""Video tasks as a client sees them: create, read, list, cancel, delete."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from vidugate.clock import Clock
from vidugate.domain.keys import ApiKey
from vidugate.domain.ledger import Charge, ChargeState
from vidugate.domain.listing import EVERYTHING, TaskFilter
from vidugate.domain.models import Mode
from vidugate.domain.prices import Quote
from vidugate.domain.request import (
    VideoFields,
    VideoRequest,
    build_request,
    check_idempotency_key,
    check_start_end_shapes,
)
from vidugate.domain.tasks import Surface, TaskStatus, VideoTask, is_task_id, new_id
from vidugate.domain.transitions import Cancelled, Deleted
from vidugate.errors import ConflictError, InvalidRequestError, NotFoundError
from vidugate.files.base import FileStore
from vidugate.services.billing import PriceBook
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.content import Spritesheets, StoredContent, Variant, locate
from vidugate.services.images import ImageIngest, ImageSource, RequestImages, StoredImage
from vidugate.services.lifecycle import input_prefix, result_prefix
from vidugate.store.tasks import DuplicateIdempotencyKeyError

IDEMPOTENCY_WINDOW = 24 * 3600.0
# About the most task data one list page holds (VIDUGATE_LIST_PAGE_BYTES).
DEFAULT_PAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CreateConfig:
    provider: str
    deadline_seconds: float
    off_peak_deadline_seconds: float


@dataclass(frozen=True, slots=True)
class NewVideo:
    """A create call as the API layer hands it over."""

    fields: VideoFields
    mode: Mode
    images: Sequence[ImageSource] = ()
    image_param: str = "images"
    # Each image's field as the client named it (subjects[1].images[0]); empty: image_param.
    image_params: Sequence[str] = ()
    surface: Surface = Surface.OPENAI
    idempotency_key: str | None = None
    callback_param: str = "callback_url"  # what the surface calls the task's own webhook URL


class VideoService:
    def __init__(
        self,
        tasks: CachedTasks,
        ingest: ImageIngest,
        files: FileStore,
        config: CreateConfig,
        wake_worker: Callable[[], None],
        *,
        clock: Clock,
        page_bytes: int = DEFAULT_PAGE_BYTES,
        sheets: Spritesheets | None = None,
        prices: PriceBook | None = None,
        check_destination: Callable[[str, str], object] | None = None,
    ) -> None:
        self.tasks = tasks
        self.prices = prices
        # Refuses a task's own webhook URL the gateway may not call (the fetch guard's rules).
        self.check_destination = check_destination
        self.sheets = sheets
        self.clock = clock
        self.ingest = ingest
        self.files = files
        self.config = config
        self.wake_worker = wake_worker
        self.page_bytes = page_bytes

    async def create(self, key: ApiKey, new: NewVideo) -> VideoTask:
        # Every rule that needs no image is checked before any image is fetched.
        check_idempotency_key(new.idempotency_key)
        if new.fields.callback_url is not None and self.check_destination is not None:
            self.check_destination(new.fields.callback_url, new.callback_param)
        request = build_request(new.fields, mode=new.mode, image_count=len(new.images))
        # Priced before any image is fetched: an unpriced model costs nothing to refuse.
        quote = await self.prices.quote(request) if self.prices is not None else None
        fingerprint = None
        if new.idempotency_key is not None:
            fingerprint = await asyncio.to_thread(_fingerprint, new)
            earlier = await self._idempotent(key, new.idempotency_key, fingerprint)
            if earlier is not None:
                return earlier
        task_id = new_id("video_", self.clock.now())
        # One request's images and watermark share one fetch budget and the key's decode slot.
        intake = self.ingest.for_request(key.id)
        try:
            images = await self._ingest_images(task_id, new, intake)
            if new.mode is Mode.START_END:
                # Needs both images' sizes, so it runs once they are in.
                first, last = ((image.info.width, image.info.height) for image in images)
                check_start_end_shapes(first, last)
            watermark = None
            if request.watermark and request.wm_url:
                watermark = await intake.ingest(
                    request.wm_url, f"{input_prefix(task_id)}/watermark", param="wm_url"
                )
            shape = (images[0].info.width, images[0].info.height) if images else None
            request = request.with_seed().with_frame(shape)
            task = self._new_task(key, task_id, request, images, watermark, new.surface, quote)
            try:
                await self.tasks.create(
                    task, idempotency_key=new.idempotency_key, request_hash=fingerprint
                )
            except DuplicateIdempotencyKeyError:
                # Two requests with one key raced; the first one's task is the answer.
                await self.files.delete_prefix(input_prefix(task_id))
                earlier = await self._idempotent(key, new.idempotency_key or "", fingerprint)
                if earlier is None:
                    raise
                return earlier
        except BaseException:
            await self.files.delete_prefix(input_prefix(task_id))
            raise
        self.wake_worker()
        return task

    async def _ingest_images(
        self, task_id: str, new: NewVideo, intake: RequestImages
    ) -> list[StoredImage]:
        stored = []
        for index, source in enumerate(new.images):
            param = new.image_param if len(new.images) == 1 else f"{new.image_param}[{index}]"
            if new.image_params:
                param = new.image_params[index]
            key = f"{input_prefix(task_id)}/image{index}"
            stored.append(await intake.ingest(source, key, param=param))
        return stored

    def _new_task(
        self,
        key: ApiKey,
        task_id: str,
        request: VideoRequest,
        images: list[StoredImage],
        watermark: StoredImage | None,
        surface: Surface,
        quote: Quote | None,
    ) -> VideoTask:
        now = self.clock.now()
        deadline = (
            self.config.off_peak_deadline_seconds
            if request.off_peak
            else self.config.deadline_seconds
        )
        return VideoTask(
            id=task_id,
            key_id=key.id,
            surface=surface,
            provider=self.config.provider,
            status=TaskStatus.QUEUED,
            progress=0,
            request=request,
            created_at=now,
            updated_at=now,
            deadline_at=now + deadline,
            images=tuple(image.key for image in images),
            watermark_key=watermark.key if watermark else None,
            tenant_id=key.tenant_id,
            # Reserved by the ledger in the transaction that stores the task (or neither).
            charge=(
                None
                if quote is None
                else Charge(quote.amount, quote.currency, ChargeState.RESERVED)
            ),
        )

    async def quote(self, new: NewVideo) -> tuple[VideoRequest, Quote | None]:
        """Validate a create and price it, creating nothing and fetching no image (None:
        no prices are set)."""
        check_idempotency_key(new.idempotency_key)
        request = build_request(new.fields, mode=new.mode, image_count=len(new.images))
        return request, (await self.prices.quote(request) if self.prices is not None else None)

    async def _idempotent(
        self, key: ApiKey, idem: str, fingerprint: str | None
    ) -> VideoTask | None:
        found = await self.tasks.repo.find_idempotent(key.id, idem)
        if found is None:
            return None
        task, earlier_fingerprint = found
        if self.clock.now() - task.created_at > IDEMPOTENCY_WINDOW:
            raise ConflictError(
                "This Idempotency-Key was used more than 24 hours ago; use a new key.",
                param="Idempotency-Key",
            )
        if earlier_fingerprint != fingerprint:
            raise ConflictError(
                "This Idempotency-Key was already used with a different request body.",
                param="Idempotency-Key",
            )
        if task.deleted_at is not None:
            # Answering the task would bring it back as if it still existed, with links to
            # files that are gone; making a new one would break "one key, one task".
            raise ConflictError(
                f"The video made with this Idempotency-Key ({task.id}) was deleted; send the "
                "request with a new Idempotency-Key to make a new video.",
                param="Idempotency-Key",
            )
        return task

    async def get(self, key: ApiKey, task_id: str) -> VideoTask:
        # Looked up by key and id together: another key's task takes the very path of a
        # missing one (the same query, no cache hit), so not even timing tells them apart.
        task = await self.tasks.get_owned(key.id, task_id)
        if task is None or task.deleted_at is not None:
            raise NotFoundError(f"No video found with id {_shown(task_id)!r}.", param="video_id")
        return task

    async def get_linked(self, task_id: str) -> VideoTask:
        """The task behind a signed link (the signature stood in for the key)."""
        task = await self.tasks.get(task_id)
        if task is None or task.deleted_at is not None:
            raise NotFoundError(f"No video found with id {_shown(task_id)!r}.", param="video_id")
        return task

    async def content(self, task: VideoTask, variant: Variant) -> StoredContent:
        """The stored file that answers for a task's variant, if it may be served now."""
        return await locate(self.files, task, variant, now=self.clock.now(), sheets=self.sheets)

    async def list(
        self,
        key: ApiKey,
        *,
        after: str | None,
        limit: int,
        newest_first: bool,
        where: TaskFilter = EVERYTHING,
        offset: int = 0,
    ) -> tuple[list[VideoTask], bool]:
        """A page of up to limit tasks that the filter keeps (past the first offset of
        them), fewer when their data would pass page_bytes (the client then goes on from
        the last one, as has_more says)."""
        if after is not None and not is_task_id(after):
            raise InvalidRequestError(
                "after: must be the id of a video from an earlier page (video_...).", param="after"
            )
        page, more = await self.tasks.repo.page_for_key(
            key.id,
            after=after,
            limit=limit,
            newest_first=newest_first,
            max_bytes=self.page_bytes,
            where=where,
            offset=offset,
        )
        for task in page:
            self.tasks.remember(task)
        return page, more

    async def cancel(self, key: ApiKey, task_id: str) -> VideoTask:
        task = await self.get(key, task_id)
        cancelled = await self._stop(task, deleted=False)
        if cancelled is None:
            current = await self.get(key, task_id)
            raise ConflictError(
                f"Video {task_id} is already {current.status.value}; only queued or "
                "processing videos can be cancelled.",
                param="video_id",
            )
        return cancelled

    async def delete(self, key: ApiKey, task_id: str) -> None:
        task = await self.get(key, task_id)
        stopped = await self._stop(task, deleted=True)
        if stopped is None:
            # Already finished (no state goes back to active, so this cannot miss).
            await self.tasks.apply(task.id, Deleted())
        await self.files.delete_prefix(result_prefix(task.id))
        await self.files.delete_prefix(input_prefix(task.id))
        self.tasks.forget(task.id)

    async def _stop(self, task: VideoTask, *, deleted: bool) -> VideoTask | None:
        """Cancel an active task; a worker then takes the upstream job back and cleans up."""
        stopped = await self.tasks.apply(task.id, Cancelled(deleted=deleted))
        if stopped is not None:
            self.wake_worker()
        return stopped


def _shown(task_id: str) -> str:
    """An id as an answer may repeat it: no id is longer than this."""
    return task_id if len(task_id) <= 64 else task_id[:64] + "..."


def _fingerprint(new: NewVideo) -> str:
    """What makes two creates "the same request" for Idempotency-Key."""
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(new.fields), sort_keys=True).encode())
    digest.update(new.mode.value.encode())
    for source in new.images:
        if isinstance(source, str):
            digest.update(b"s" + source.encode())
        else:
            source.file.seek(0)
            while chunk := source.file.read(1024 * 1024):
                digest.update(chunk)
            source.file.seek(0)
    return digest.hexdigest()
