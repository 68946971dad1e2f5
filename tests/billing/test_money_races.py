"""Money under concurrency: 50 creates racing for a balance (or a key's spend cap) that
covers only some of them, and the official openai SDK retrying a create whose answer it
never got. Exactly as many are charged as the money covers, the rest answered 402, the
balance never below zero, one charge per video; the books (moneylib) checked after each.

On PostgreSQL two apps share one database, each with its own pool, worker and caches, as
two processes would: that is where the conditional UPDATEs really race. On SQLite one
app takes the creates (its writes are serialised by design)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import httpx
import httpx2
import openai
import pytest
from fastapi import FastAPI

from conftest import image_bytes
from dblib import on_postgres, run_sync
from gatewaylib import free_port
from inprocess import InProcessGateway, asgi_client, gateway_settings, running_app
from moneylib import (
    CLIP,
    CLIP_PRICE,
    PRICES,
    Account,
    check_books,
    check_books_sync,
    funded_app_tenant,
    funded_tenant,
)
from vidugate.domain.ledger import LedgerKind
from vidugate.domain.price_documents import loads_prices

CREATES = 50
COVERED = 7  # the creates the money covers
# Held "running" by the sandbox for longer than any test: no renders compete with the race.
HELD = {**CLIP, "prompt": "held [sandbox:fail]"}


@contextlib.asynccontextmanager
async def apps(tmp_path: Path) -> AsyncIterator[tuple[list[FastAPI], str]]:
    """Two apps on one PostgreSQL database, or one on SQLite; prices in force."""
    first = gateway_settings(tmp_path / "a", sandbox_pace=600.0)
    url = str(first.database_url)
    async with contextlib.AsyncExitStack() as stack:
        running = [await stack.enter_async_context(running_app(first))]
        await running[0].state.gateway.billing.prices.set(loads_prices(PRICES, format="toml"), "t")
        if on_postgres():  # started after the prices were set: it reads them at once
            second = gateway_settings(tmp_path / "b", sandbox_pace=600.0, database_url=url)
            running.append(await stack.enter_async_context(running_app(second)))
        yield running, url


async def race(clients: list[httpx.AsyncClient]) -> list[httpx.Response]:
    """CREATES creates at once, dealt round the clients."""
    return list(
        await asyncio.gather(
            *(
                clients[n % len(clients)].post(
                    "/v1/videos", json={**HELD, "prompt": f"{HELD['prompt']} {n}"}
                )
                for n in range(CREATES)
            )
        )
    )


@pytest.mark.asyncio
async def test_racing_creates_never_overdraw_the_balance(tmp_path: Path) -> None:
    async with apps(tmp_path) as (running, url):
        account = await funded_app_tenant(running[0], COVERED * CLIP_PRICE)
        # A second key of the same tenant for the second app: the balance is the tenant's.
        _key, other = await running[0].state.gateway.billing.create_key(account.tenant_id, "b")
        tokens = [account.token, other]
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(asgi_client(app, tokens[n]))
                for n, app in enumerate(running)
            ]
            answers = await race(clients)
        codes = Counter(answer.status_code for answer in answers)
        assert codes == {200: COVERED, 402: CREATES - COVERED}, codes
        for answer in answers:
            if answer.status_code == 402:
                assert answer.json()["error"]["code"] == "insufficient_quota", answer.text
        assert await running[0].state.gateway.billing.ledger.unbalanced() == []
    books = await check_books(url)
    assert books.balance(account.tenant_id) == 0
    reserves = [row for row in books.rows if row[4] == LedgerKind.RESERVE.value]
    assert len(reserves) == COVERED
    assert min(int(row[6]) for row in reserves) == 0  # the last one took it to zero, not below
    charged = {row[3] for row in reserves}
    assert charged == {a.json()["id"] for a in answers if a.status_code == 200}
    assert len(books.tasks) == COVERED  # a refused create left no task


@pytest.mark.asyncio
async def test_racing_creates_stop_at_the_key_spend_cap(tmp_path: Path) -> None:
    async with apps(tmp_path) as (running, url):
        account = await funded_app_tenant(
            running[0], Decimal("100.00"), spend_cap=COVERED * CLIP_PRICE
        )
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(asgi_client(app, account.token)) for app in running
            ]
            answers = await race(clients)
        codes = Counter(answer.status_code for answer in answers)
        assert codes == {200: COVERED, 402: CREATES - COVERED}, codes
        for answer in answers:
            if answer.status_code == 402:
                assert answer.json()["error"]["code"] == "spend_cap_reached", answer.text
        assert await running[0].state.gateway.billing.ledger.unbalanced() == []
    books = await check_books(url)
    assert books.spent(account.key_id) == COVERED * CLIP_PRICE
    assert books.balance(account.tenant_id) == Decimal("100.00") - COVERED * CLIP_PRICE
    assert len(books.tasks) == COVERED


# The openai SDK, over a real socket: a create whose answer is lost, and one so slow that
# the SDK's retry arrives while it is still being made.


class LoseFirstAnswer(httpx2.HTTPTransport):
    """A transport of the SDK's own HTTP client (HTTPX2): sends every request; the first
    POST's answer is read and then thrown away, as if the connection had dropped on its way
    back (the SDK sees a timeout, and retries)."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[httpx2.Headers] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            self.posts.append(request.headers)
            if len(self.posts) == 1:
                response.read()
                response.close()
                raise httpx2.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.fixture
def sdk_gateway(tmp_path: Path) -> Iterator[tuple[InProcessGateway, Account]]:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)
    gw = InProcessGateway(
        tmp_path / "gw",
        settings={
            "VIDUGATE_PRICES_FILE": str(prices),
            "VIDUGATE_SANDBOX_PACE": "600",
            "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.2/32"]',
        },
    )
    # Funded before the start, as an operator would have (one database user at a time).
    account = run_sync(funded_tenant(gw.database_url, Decimal("1.00")))
    gw.key = account.token
    gw.start()
    yield gw, account
    gw.stop()


def sdk(gw: InProcessGateway, transport: httpx2.BaseTransport, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gw.base_url}/v1",
        api_key=gw.key,
        max_retries=3,
        http_client=openai.DefaultHttpx2Client(transport=transport, **kwargs),
    )


def create(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.videos.create(
        model="viduq2-turbo",
        prompt=str(HELD["prompt"]),
        seconds=cast(Any, "1"),  # the SDK types Sora's "4" | "8" | "12"; any string goes
        extra_body={"resolution": "540p", **kwargs.pop("extra_body", {})},
        **kwargs,
    )


def test_sdk_sends_no_idempotency_key_of_its_own(
    sdk_gateway: tuple[InProcessGateway, Account],
) -> None:
    """So a retried create is a second video (and a second charge, each its own): an app
    that wants one video per call sends Idempotency-Key itself (the next tests)."""
    gw, account = sdk_gateway
    transport = LoseFirstAnswer()
    with sdk(gw, transport) as client:
        create(client)
    first, retry = transport.posts
    assert "idempotency-key" not in first
    assert "idempotency-key" not in retry
    assert retry["x-stainless-retry-count"] == "1"
    books = check_books_sync(gw.database_url)
    assert sum(1 for row in books.rows if row[4] == LedgerKind.RESERVE.value) == 2


def test_sdk_retry_of_a_lost_answer_is_charged_once(
    sdk_gateway: tuple[InProcessGateway, Account],
) -> None:
    gw, account = sdk_gateway
    transport = LoseFirstAnswer()
    with sdk(gw, transport) as client:
        video = create(client, extra_headers={"Idempotency-Key": "order-1"})
    assert [p["idempotency-key"] for p in transport.posts] == ["order-1", "order-1"]
    books = check_books_sync(gw.database_url)
    assert list(books.tasks) == [video.id]
    assert books.of_task(video.id) == [("reserve", -100_000)]
    assert books.balance(account.tenant_id) == Decimal("0.90")
    assert books.spent(account.key_id) == Decimal("0.10")


class HeldImages:
    """Serves a PNG from 127.0.0.2; the first request is held until a second one comes."""

    def __init__(self) -> None:
        self.second = threading.Event()
        self.count = 0
        self.lock = threading.Lock()
        png = image_bytes(320, 180)
        held = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with held.lock:
                    held.count += 1
                    first = held.count == 1
                if first:
                    held.second.wait(60)
                else:
                    held.second.set()
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", free_port("127.0.0.2")), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_port}/image.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HeldImages:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.second.set()
        self.server.shutdown()
        self.server.server_close()


def test_sdk_retry_racing_a_slow_create_is_charged_once(
    sdk_gateway: tuple[InProcessGateway, Account],
) -> None:
    # The first create waits on its image until the retry asks for it too: the two then
    # race to store the same Idempotency-Key, and one task (one reserve) comes of it.
    gw, account = sdk_gateway
    with HeldImages() as images:
        with sdk(gw, httpx2.HTTPTransport(), timeout=2.0) as client:
            video = create(
                client,
                extra_body={"images": images.url},  # multipart: one image, one field
                extra_headers={"Idempotency-Key": "order-2"},
            )
        assert images.count >= 2
    books = check_books_sync(gw.database_url)
    assert list(books.tasks) == [video.id]
    assert books.of_task(video.id) == [("reserve", -100_000)]
    assert books.balance(account.tenant_id) == Decimal("0.90")
