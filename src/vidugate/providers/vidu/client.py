"""The HTTP client for Vidu: one aiohttp session for every account (aiohttp, not httpx:
measured ~10x more requests per core, which the poller needs). Network failures become
the gateway's errors here, told apart by whether the request could have reached Vidu."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

from vidugate import metrics
from vidugate.errors import UpstreamOutcomeUnknownError, UpstreamUnavailableError
from vidugate.files.private import DIR_MODE, FILE_MODE
from vidugate.providers.vidu.mapping import error_for

MAX_RESULT_BYTES = 4 * 1024**3
SMALL_FILE = 4 * 1024 * 1024
# An upstream task id in a path, replaced for the metrics' endpoint label.
_TASK_ID = re.compile(r"(?<=/tasks/)[^/]+")


def endpoint_of(path: str) -> str:
    """The path as a template: `/ent/v2/tasks/{id}/creations` (bounded: one per endpoint)."""
    return _TASK_ID.sub("{id}", path)


def outcome_of(status: int) -> str:
    if status < 300:
        return "ok"
    if status == 429:
        return "throttled"
    return "server_error" if status >= 500 else "rejected"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    api_key: str
    base_url: str
    weight: float
    concurrency: int
    model_map: dict[str, dict[str, str]]


class ViduClient:
    def __init__(self, timeout: float) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10.0))
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1024, limit_per_host=512),
                timeout=self.timeout,
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        account: Account,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        create: bool = False,
    ) -> Any:
        """One call; a non-2xx answer raises the mapped error. For a create, any failure
        after the request may have reached Vidu is UpstreamOutcomeUnknownError."""
        headers = {"Authorization": f"Token {account.api_key}"}
        url = account.base_url.rstrip("/") + path
        start = time.perf_counter()
        outcome = "failed"
        try:
            async with self._get_session().request(
                method, url, json=body, params=params, headers=headers
            ) as response:
                data = await _json_or_text(response)
                outcome = outcome_of(response.status)
                if response.status >= 300:
                    error = error_for(
                        response.status, data, retry_after=_retry_after(response.headers)
                    )
                    if create and response.status >= 500:
                        # A 5xx after the body was read may still have made the task.
                        raise UpstreamOutcomeUnknownError(error.message) from None
                    raise error
                return data
        except aiohttp.ClientConnectorError as exc:
            # Never connected: the request provably did not reach Vidu.
            outcome = "unreachable"
            raise UpstreamUnavailableError(f"Vidu unreachable: {type(exc).__name__}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            message = f"Vidu call failed: {type(exc).__name__}"
            if create:
                raise UpstreamOutcomeUnknownError(message) from None
            raise UpstreamUnavailableError(message) from None
        finally:
            seconds = time.perf_counter() - start
            metrics.upstream_call(account.id, endpoint_of(path), outcome, seconds)

    async def credits(self, account: Account) -> Any:
        """`GET /ent/v2/credits`: the account's remaining credits, under the same time limit
        and error mapping as every other call (retries are the caller's, as for the others)."""
        return await self.call(account, "GET", "/ent/v2/credits")

    async def download(self, url: str, dest: Path) -> int:
        """Stream a result file to dest, a new file (its folder is made if missing) that no
        one reads until the caller publishes it. On a failure the caller removes the
        attempt's files (services/results.py), whatever was written of dest with them."""
        try:
            timeout = aiohttp.ClientTimeout(total=None, sock_read=60, connect=10)
            async with self._get_session().get(url, timeout=timeout) as response:
                if response.status != 200:
                    raise UpstreamUnavailableError(
                        f"Vidu result download answered HTTP {response.status}."
                    )
                size = response.content_length
                if size is not None and size <= SMALL_FILE:
                    # A small file is written in one thread hop rather than one per step.
                    data = await response.read()
                    return await asyncio.to_thread(_write_whole, dest, data)
                return await _stream_to(response, dest)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamUnavailableError(
                f"Vidu result download failed: {type(exc).__name__}"
            ) from None


def _create(dest: Path) -> BinaryIO:
    # Private whatever the process's umask (files/private.py), and never over another file.
    dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")


async def _stream_to(response: aiohttp.ClientResponse, dest: Path) -> int:
    written = 0
    handle = await asyncio.to_thread(_create, dest)
    try:
        async for chunk in response.content.iter_chunked(1024 * 1024):
            written += len(chunk)
            if written > MAX_RESULT_BYTES:
                raise UpstreamUnavailableError("Vidu result is implausibly large.")
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return written


def _write_whole(dest: Path, data: bytes) -> int:
    with _create(dest) as handle:
        handle.write(data)
    return len(data)


async def _json_or_text(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"message": text[:300]}


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
