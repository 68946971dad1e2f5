"""The `vidu` provider: submit, status, cancel, fetch_result and find against the Vidu
platform, across several accounts."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Coroutine, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vidugate.clock import Clock, SystemClock
from vidugate.domain.accounts import AccountHealth
from vidugate.domain.scheduling import SlotPool
from vidugate.errors import (
    PermissionDeniedError,
    ProviderError,
    UpstreamAuthError,
    UpstreamOutcomeUnknownError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from vidugate.logs import get_logger
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
from vidugate.providers.vidu.credits import CreditBook
from vidugate.providers.vidu.failures import INSUFFICIENT_CREDITS, quoted
from vidugate.providers.vidu.images import InputUrl, upstream_images
from vidugate.providers.vidu.mapping import (
    ENDPOINTS,
    create_body,
    job_status,
    marker,
    parse_credits,
    result_urls,
    upstream_model,
)
from vidugate.providers.vidu.pricing import estimate

log = get_logger("vidugate.vidu")

SLOT_PREFIX = "vidu:"


def slot_account(slot: str | None) -> str | None:
    """The account a slot pool id names (None for another provider's, or none)."""
    return slot.removeprefix(SLOT_PREFIX) if slot and slot.startswith(SLOT_PREFIX) else None


LIST_PAGES = 20
LIST_PAGE_SIZE = 100
LIST_SKEW = 300.0
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
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.pool = AccountPool(accounts, states, self.clock)
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
        given = urlsplit(callback_url) if callback_url else None
        self._given_target = (given.path or "/", given.query) if given else None
        self.credits = CreditBook(client, self.clock, states, self.id)

    def verify_callback(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> SignedCallback:
        try:
            return self._callbacks.verify(method, path, query, headers)
        except PermissionDeniedError:
            given = self._given_target
            if given is None or given == (path, query):
                raise
        # Vidu signs the URL it was given. A proxy in front of the gateway may have rewritten
        # it on the way in (a stripped path prefix of VIDUGATE_PUBLIC_BASE_URL is common), so
        # a request that fails as received is checked against that URL too.
        return self._callbacks.verify(method, given[0], given[1], headers)

    async def slot_pools(self, owner: str) -> list[SlotPool]:
        """One pool per account, of its `concurrency`, shared by every process: the
        accounts taking new tasks now (all of them when none does, so tasks still reach
        submit, which waits or fails as it always has)."""
        await self.pool.refresh()
        accounts = self.pool.open_accounts(set()) or list(self.pool.accounts.values())
        return [SlotPool(f"{SLOT_PREFIX}{a.id}", a.concurrency, weight=a.weight) for a in accounts]

    async def read_credits(self, account_id: str) -> Decimal | None:
        account = self.pool.get(account_id)
        return None if account is None else await self.credits.read_now(account)

    def _pinned(self, job: ProviderJob) -> Account:
        account = self.pool.get(job.account or "")
        if account is None:
            raise UpstreamRejectedError(
                f"The Vidu account {job.account!r} this task was sent to is no longer configured.",
                code="upstream_account_missing",
            )
        return account

    def _price(self, job: ProviderJob, account: Account) -> float | None:
        return estimate(job.request, upstream_model(job.request, account.model_map))

    async def submit(self, job: ProviderJob, record_intent: RecordIntent) -> Submission:
        await self.pool.refresh()
        await self.credits.refresh(self.pool.accounts.values())
        images = await upstream_images(job.task_id, job.image_paths, self.input_url)
        tried: set[str] = set()
        asked_anyway = False
        while True:
            account = self.pool.pick(
                tried,
                lambda a: self.credits.affords(a.id, self._price(job, a)),
                prefer=slot_account(job.slot),
            )
            if account is None and not asked_anyway:
                # Prices are estimates: before giving up, the richest account is asked once.
                account = self._richest(job, tried)
                asked_anyway = account is not None
            if account is None:
                break
            tried.add(account.id)
            price = self._price(job, account)
            body = create_body(
                job.request,
                task_id=job.task_id,
                images=images,
                model_map=account.model_map,
                callback_url=self.callback_url,
            )
            await record_intent(account.id)
            self.credits.hold(account.id, price)
            try:
                answer = await self.client.call(
                    account, "POST", ENDPOINTS[job.request.mode], body=body, create=True
                )
            except UpstreamOutcomeUnknownError:
                raise  # it may have been made and charged: the hold stays until a read
            except UpstreamAuthError as exc:
                self.credits.release(account.id, price)
                await self.pool.disable(account.id, exc.message)
                continue
            except UpstreamUnavailableError as exc:
                self.credits.release(account.id, price)
                if exc.code == "upstream_out_of_credits":
                    remain = await self.credits.refused(account, price)
                    log.warning(
                        "upstream.credits_short",
                        account=account.id,
                        task_id=job.task_id,
                        price="unknown" if price is None else f"{price:g}",
                        remain="unknown" if remain is None else f"{remain:g}",
                    )
                    continue
                if not await self._rest_if_throttled(account, exc):
                    raise
                continue
            except ProviderError:
                self.credits.release(account.id, price)
                raise
            upstream_id = str(answer.get("task_id") or "") if isinstance(answer, dict) else ""
            if not upstream_id:
                raise UpstreamOutcomeUnknownError("Vidu accepted a create without a task_id.")
            charged = parse_credits(answer.get("credits"))
            self.credits.charged(account.id, price, charged)
            self.pool.track(account.id, upstream_id, active=True)
            return Submission(upstream_id=upstream_id, account=account.id, credits=charged)
        raise self._no_account(job)

    def _richest(self, job: ProviderJob, tried: set[str]) -> Account | None:
        """The untried open account with the most credits that Vidu has not yet refused a
        task of this price on (None when there is none)."""
        best: tuple[float, Account] | None = None
        for account in self.pool.open_accounts(tried):
            price = self._price(job, account)
            balance = self.credits.balance(account.id)
            if balance.remain is None or balance.remain <= 0:
                continue
            if price is not None and balance.short_of is not None and price >= balance.short_of:
                continue
            if best is None or balance.remain > best[0]:
                best = (balance.remain, account)
        return best[1] if best else None

    def _no_account(self, job: ProviderJob) -> ProviderError:
        open_now = self.pool.open_accounts(set())
        resting = self.pool.resting()
        # Every open account is short of credits for this task (any other failure either
        # raised or took the account out of the open ones): unless an account resting from a
        # 429 may afford it later, waiting would only wait for someone to add credits.
        waits = any(self.credits.affords(a.id, self._price(job, a)) for a in resting)
        if open_now and not waits:
            price = self._price(job, open_now[0])
            known = [self.credits.balance(a.id).remain for a in open_now]
            most = max((r for r in known if r is not None), default=None)
            request = job.request
            return UpstreamRejectedError(
                f"No Vidu account has the credits for this task ({request.model}, "
                f"{request.duration} s, {request.resolution}"
                + ("" if price is None else f": about {price:g} credits")
                + ("" if most is None else f"; the most any account has is {most:g}")
                + "). Ask for a shorter or lower-resolution video, or add credits to an "
                "account.",
                code=INSUFFICIENT_CREDITS,
            )
        # Back when the first resting account may take work again, at most NO_ACCOUNT_RETRY
        # later: when every account got a 1 s Retry-After, waiting 30 s ignores what Vidu said.
        free_in = self.pool.soonest_free_in()
        return UpstreamUnavailableError(
            "No Vidu account can take work now (all throttled or disabled).",
            code="upstream_accounts_unavailable",
            retry_after=NO_ACCOUNT_RETRY
            if free_in is None
            else min(NO_ACCOUNT_RETRY, max(free_in, NO_ACCOUNT_MIN_WAIT)),
        )

    async def _rest_if_throttled(self, account: Account, exc: UpstreamUnavailableError) -> bool:
        if exc.code == "upstream_throttled":
            await self.pool.rest(
                account.id, AccountHealth.THROTTLED, exc.retry_after or 5.0, exc.message
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
            await self._rest_if_throttled(account, exc)
            raise
        status = job_status(
            doc, job.started_at, job.request.spec.typical_seconds, now=self.clock.now()
        )
        if status.state is JobState.FAILED and status.error is not None:
            log.warning(
                "upstream.task_failed",
                task_id=job.task_id,
                account=account.id,
                err_code=quoted(str(doc.get("err_code") or "")) or "-",
                code=status.error.code,
            )
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
        cover = work_dir / "thumbnail.jpg" if cover_url else None
        watermarked = None
        if job.request.watermark and watermarked_url:
            watermarked = work_dir / "watermarked.mp4"
        wanted = [(video_url, video), (cover_url, cover), (watermarked_url, watermarked)]
        # At once: the copy takes one round trip to the upstream's storage, not one a file.
        await _all_or_none(
            [self.client.download(url, path) for url, path in wanted if url and path]
        )
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
        now = self.clock.now()
        sent = job.submitted_at or now
        # Vidu's "tasks-list" names: created_at.from/.to, paper.pagesz (sic, at most 100)
        # and pager.page_token. The window allows for clock skew either way.
        params = {
            "created_at.from": _rfc3339(sent - LIST_SKEW),
            "created_at.to": _rfc3339(now + LIST_SKEW),
            "paper.pagesz": str(LIST_PAGE_SIZE),
        }
        wanted = marker(job.task_id)
        for _ in range(LIST_PAGES):
            page = await self.client.call(account, "GET", "/ent/v2/tasks", params=params)
            for item in page.get("tasks") or []:
                if item.get("payload") == wanted:
                    upstream_id = str(item.get("id") or item.get("task_id"))
                    credits = parse_credits(item.get("credits"))
                    return Submission(upstream_id=upstream_id, account=account.id, credits=credits)
            token = page.get("next_page_token")
            if not token:
                break
            params["pager.page_token"] = str(token)
        waited = self.clock.now() - sent
        if wait and waited < self.lookup_grace:
            raise UpstreamUnavailableError(
                "A create's answer was lost; waiting before looking it up again.",
                retry_after=self.lookup_grace - waited,
            )
        return None

    async def close(self) -> None:
        await self.client.close()


async def _all_or_none(calls: list[Coroutine[Any, Any, int]]) -> None:
    """Run the calls at once; the first to fail stops the others (the caller removes
    what they wrote) and its error is raised, as itself rather than in a group."""
    running = [asyncio.ensure_future(call) for call in calls]
    try:
        done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    for task in done:
        error = task.exception()
        if error is not None:
            raise error


def _rfc3339(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
