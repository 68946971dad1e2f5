"""The `vidu` provider: submit, status, cancel, fetch_result and find against the Vidu
platform, across several accounts."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vidugate.domain.accounts import AccountHealth
from vidugate.errors import (
    UpstreamAuthError,
    UpstreamOutcomeUnknownError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from vidugate.providers.base import (
    AccountStates,
    CancelOutcome,
    JobState,
    JobStatus,
    ProviderJob,
    RecordIntent,
    ResultFiles,
    SignedCallback,
    Submission,
)
from vidugate.providers.vidu.accounts import AccountPool
from vidugate.providers.vidu.callbacks import CallbackVerifier
from vidugate.providers.vidu.client import Account, ViduClient
from vidugate.providers.vidu.images import InputUrl, upstream_images
from vidugate.providers.vidu.mapping import (
    ENDPOINTS,
    create_body,
    job_status,
    marker,
    result_urls,
)

log = logging.getLogger("vidugate.vidu")

OUT_OF_CREDITS_REST = 600.0
LIST_PAGES = 20
SUCCESS_DOCS = 10_000
NO_ACCOUNT_RETRY = 30.0
NO_ACCOUNT_MIN_WAIT = 0.5


class ViduProvider:
    id = "vidu"

    def __init__(
        self,
        accounts: list[Account],
        *,
        client: ViduClient,
        states: AccountStates | None,
        poll_interval: float,
        input_url: InputUrl | None = None,
        callback_url: str | None = None,
        lookup_grace: float = 60.0,
    ) -> None:
        self.pool = AccountPool(accounts, states)
        self.client = client
        self.poll_interval = poll_interval
        self.jobs_in_process = False
        self.input_url = input_url
        self.callback_url = callback_url
        # A create that got no answer may still be in flight upstream: only after this long
        # does "not in the task list" prove it was never made.
        self.lookup_grace = lookup_grace
        self._success: dict[str, dict[str, Any]] = {}
        self._callbacks = CallbackVerifier(accounts)

    def verify_callback(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> SignedCallback:
        return self._callbacks.verify(method, path, query, headers)

    def _pinned(self, job: ProviderJob) -> Account:
        account = self.pool.get(job.account or "")
        if account is None:
            raise UpstreamRejectedError(
                f"The Vidu account {job.account!r} this task was sent to is no longer configured.",
                code="upstream_account_missing",
            )
        return account

    async def submit(self, job: ProviderJob, record_intent: RecordIntent) -> Submission:
        await self.pool.refresh()
        images = await upstream_images(job.task_id, job.image_paths, self.input_url)
        tried: set[str] = set()
        while (account := self.pool.pick(tried)) is not None:
            tried.add(account.id)
            body = create_body(
                job.request,
                task_id=job.task_id,
                images=images,
                model_map=account.model_map,
                callback_url=self.callback_url,
            )
            await record_intent(account.id)
            try:
                answer = await self.client.call(
                    account, "POST", ENDPOINTS[job.request.mode], body=body, create=True
                )
            except UpstreamOutcomeUnknownError:
                raise
            except UpstreamAuthError as exc:
                await self.pool.disable(account.id, exc.message)
                continue
            except UpstreamUnavailableError as exc:
                if not await self._rest_if_overloaded(account, exc):
                    raise
                continue
            upstream_id = str(answer.get("task_id") or "") if isinstance(answer, dict) else ""
            if not upstream_id:
                raise UpstreamOutcomeUnknownError("Vidu accepted a create without a task_id.")
            self.pool.track(account.id, upstream_id, active=True)
            return Submission(upstream_id=upstream_id, account=account.id)
        # Back when the first resting account may take work again, at most NO_ACCOUNT_RETRY
        # later: when every account got a 1 s Retry-After, waiting 30 s ignores what Vidu said.
        free_in = self.pool.soonest_free_in()
        raise UpstreamUnavailableError(
            "No Vidu account can take work now (all throttled, out of credits or disabled).",
            code="upstream_accounts_unavailable",
            retry_after=NO_ACCOUNT_RETRY
            if free_in is None
            else min(NO_ACCOUNT_RETRY, max(free_in, NO_ACCOUNT_MIN_WAIT)),
        )

    async def _rest_if_overloaded(self, account: Account, exc: UpstreamUnavailableError) -> bool:
        if exc.code == "upstream_throttled":
            await self.pool.rest(
                account.id, AccountHealth.THROTTLED, exc.retry_after or 5.0, exc.message
            )
            return True
        if exc.code == "upstream_out_of_credits":
            await self.pool.rest(
                account.id, AccountHealth.EXHAUSTED, OUT_OF_CREDITS_REST, exc.message
            )
            return True
        return False

    async def status(self, job: ProviderJob) -> JobStatus:
        account = self._pinned(job)
        await self.pool.refresh()
        wait = self.pool.throttled_for(account.id)
        if wait > 0:
            raise UpstreamUnavailableError("The Vidu account is throttled.", retry_after=wait)
        try:
            doc = await self.client.call(
                account, "GET", f"/ent/v2/tasks/{job.upstream_id}/creations"
            )
        except UpstreamAuthError as exc:
            await self.pool.disable(account.id, exc.message)
            raise UpstreamUnavailableError(exc.message, retry_after=60.0) from None
        except UpstreamUnavailableError as exc:
            await self._rest_if_overloaded(account, exc)
            raise
        status = job_status(doc, job.started_at, job.request.spec.typical_seconds)
        active = status.state in (JobState.QUEUED, JobState.RUNNING)
        self.pool.track(account.id, job.upstream_id or "", active=active)
        if status.state is JobState.SUCCEEDED:
            # Kept for fetch_result's links; bounded, as a stopped task never fetches.
            if len(self._success) >= SUCCESS_DOCS:
                self._success.pop(next(iter(self._success)))
            self._success[job.upstream_id or ""] = doc
        return status

    async def fetch_result(self, job: ProviderJob, work_dir: Path) -> ResultFiles:
        doc = self._success.pop(job.upstream_id or "", None)
        if doc is None:
            account = self._pinned(job)
            doc = await self.client.call(
                account, "GET", f"/ent/v2/tasks/{job.upstream_id}/creations"
            )
        video_url, cover_url, watermarked_url = result_urls(doc)
        video = work_dir / "video.mp4"
        await self.client.download(video_url, video)
        cover = None
        if cover_url:
            cover = work_dir / "thumbnail.jpg"
            await self.client.download(cover_url, cover)
        watermarked = None
        if job.request.watermark and watermarked_url:
            watermarked = work_dir / "watermarked.mp4"
            await self.client.download(watermarked_url, watermarked)
        request = job.request
        return ResultFiles(
            video=video,
            thumbnail=cover,
            width=request.width,
            height=request.height,
            has_audio=request.audio or request.bgm,
            watermarked=watermarked,
        )

    async def cancel(self, job: ProviderJob) -> CancelOutcome:
        upstream_id = job.upstream_id
        if upstream_id is None and job.account is not None:
            found = await self.find(job, wait=False)
            upstream_id = found.upstream_id if found else None
        if upstream_id is None:
            return CancelOutcome(cancelled=True, message="Nothing was sent upstream.")
        account = self._pinned(job)
        try:
            await self.client.call(
                account, "POST", f"/ent/v2/tasks/{upstream_id}/cancel", body={"id": upstream_id}
            )
        except UpstreamRejectedError as exc:
            return CancelOutcome(
                cancelled=False, message=f"Vidu could no longer cancel the task ({exc.message})."
            )
        self.pool.track(account.id, upstream_id, active=False)
        return CancelOutcome(cancelled=True)

    async def find(self, job: ProviderJob, *, wait: bool = True) -> Submission | None:
        account = self._pinned(job)
        sent = job.submitted_at or time.time()
        since = datetime.datetime.fromtimestamp(sent - 300, datetime.UTC)
        params = {
            "created_at_from": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "pager.page_size": "100",
        }
        wanted = marker(job.task_id)
        for _ in range(LIST_PAGES):
            page = await self.client.call(account, "GET", "/ent/v2/tasks", params=params)
            for item in page.get("tasks") or []:
                if item.get("payload") == wanted:
                    upstream_id = str(item.get("id") or item.get("task_id"))
                    return Submission(upstream_id=upstream_id, account=account.id)
            token = page.get("next_page_token")
            if not token:
                break
            params["pager.page_token"] = str(token)
        too_soon = time.time() - sent < self.lookup_grace
        if wait and too_soon:
            raise UpstreamUnavailableError(
                "A create's answer was lost; waiting before looking it up again.",
                retry_after=self.lookup_grace - (time.time() - sent),
            )
        return None

    async def close(self) -> None:
        await self.client.close()
