"""Webhook deliveries: how fast completions turn into delivered webhooks, and what the
outbox costs the completion itself (issue 14's performance goal).

Method. One process runs the store (SQLite through the group-commit writer, or
--database-url), the outbox effect and the deliverer, as a gateway does; a receiver (aiohttp,
its own process) answers 200 and notes when each webhook-id arrived. N tasks of one account
are made and put in `processing`; then their `Completed` transitions are applied:
1. baseline: the task store with no outbox effect, N completions at once (64 at a time);
2. burst: the outbox effect and one endpoint (video.completed), N completions at once:
   completions/s, then deliveries/s to the last delivery, this process's CPU per delivery
   while the backlog drains, and transition -> delivery lag;
3. paced: `--rate` completions per second for `--seconds`: the lag a healthy receiver sees
   in steady state (goal: p99 under 1 s).
Lag is the receiver's arrival time minus the transition's time (both this machine's clock).

    uv run python bench/webhook_bench.py [--tasks 10000] [--rate 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from benchlib import free_port, pct

CHUNK = 64


def receive(port: int) -> None:
    arrived: dict[str, float] = {}

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        arrived[request.headers["webhook-id"]] = time.time()
        return web.Response(text="ok")

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(arrived)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def arrivals(session: aiohttp.ClientSession, base: str) -> dict[str, float]:
    async with session.get(f"{base}/stats") as answer:
        got: dict[str, float] = await answer.json()
        return got


async def bench(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    from vidugate.api.webhook_bodies import webhook_bodies
    from vidugate.clock import SystemClock
    from vidugate.domain.ledger import DEFAULT_TENANT
    from vidugate.domain.models import Mode
    from vidugate.domain.request import VideoFields, build_request
    from vidugate.domain.tasks import Surface, TaskStatus, VideoTask, new_id
    from vidugate.domain.transitions import Completed
    from vidugate.domain.webhooks import Endpoint, EventType, RetryPolicy
    from vidugate.net.fetch import FetchPolicy
    from vidugate.net.webhook_sender import WebhookSender
    from vidugate.services.signing import UrlSigner
    from vidugate.services.webhook_signing import WebhookSigner, new_secret
    from vidugate.settings import Settings
    from vidugate.store.db import open_database
    from vidugate.store.tasks import TaskRepository
    from vidugate.store.webhook_endpoints import EndpointRepository
    from vidugate.store.webhook_outbox import WebhookOutbox
    from vidugate.workers.deliverer import Deliverer

    port = free_port()
    receiver = multiprocessing.get_context("spawn").Process(target=receive, args=(port,))
    receiver.start()
    base = f"http://127.0.0.1:{port}"
    url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    fields = VideoFields(model="viduq2-turbo", prompt="bench")
    request = build_request(fields, mode=Mode.TEXT, image_count=0)
    request = request.with_seed().with_frame(None)
    done = Completed(
        video_key="k", thumbnail_key=None, watermarked_key=None, spritesheet_key=None,
        has_audio=False, width=960, height=540, keep_seconds=3600,
    )  # fmt: skip
    settings = Settings(data_dir=data_dir)
    out: dict[str, Any] = {}
    try:
        async with open_database(url) as database, aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    await arrivals(session, base)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            outbox = WebhookOutbox(database, webhook_bodies(settings, UrlSigner(b"b", 3600)))
            plain = TaskRepository(database)
            announcing = TaskRepository(database, effects=[outbox.effect])

            async def processing(count: int) -> list[str]:
                ids = []
                for start in range(0, count, CHUNK):
                    now = time.time()
                    batch = [
                        VideoTask(
                            id=new_id("video_", now),
                            key_id="key_bench",
                            surface=Surface.OPENAI,
                            provider="sandbox",
                            status=TaskStatus.QUEUED,
                            progress=0,
                            request=request,
                            created_at=now,
                            updated_at=now,
                            deadline_at=now + 3600,
                            tenant_id=DEFAULT_TENANT,
                        )  # fmt: skip
                        for _ in range(min(CHUNK, count - start))
                    ]
                    await asyncio.gather(*(plain.create(t) for t in batch))
                    ids += [t.id for t in batch]
                await database.run(
                    text(
                        "UPDATE tasks SET status = 'processing', lease_owner = 'bench'"
                        " WHERE status = 'queued'"
                    )
                )
                return ids

            async def complete(repo: TaskRepository, ids: list[str]) -> float:
                started = time.perf_counter()
                for start in range(0, len(ids), CHUNK):
                    chunk = ids[start : start + CHUNK]
                    await asyncio.gather(
                        *(repo.apply(i, done, owner="bench", now=time.time()) for i in chunk)
                    )
                return len(ids) / (time.perf_counter() - started)

            out["baseline_completions_per_s"] = await complete(plain, await processing(args.tasks))
            await EndpointRepository(database).insert(
                Endpoint(
                    id=new_id("whep_", time.time()), tenant_id=DEFAULT_TENANT,
                    url=f"{base}/hook", events=frozenset({EventType.COMPLETED}),
                    description="bench", disabled=False,
                    created_at=time.time(), updated_at=time.time(),
                ),
                new_secret(),
            )  # fmt: skip
            sender = WebhookSender(FetchPolicy(allow_private=True), timeout=10, answer_bytes=64)
            deliverer = Deliverer(
                outbox, sender, WebhookSigner(b"bench"), RetryPolicy(), clock=SystemClock()
            )
            outbox.wake = deliverer.wake
            await deliverer.start()
            try:
                burst_ids = await processing(args.tasks)
                t0 = time.time()
                out["burst_completions_per_s"] = await complete(announcing, burst_ids)
                # CPU of this process per delivery while the rest drains (the completions
                # are all written by then): signing, sending, the claim and the log row.
                sent_before = len(await arrivals(session, base))
                cpu = time.process_time()
                got = await drained(session, base, args.tasks)
                cpu = time.process_time() - cpu
                drained_count = max(1, args.tasks - sent_before)
                out["cpu_ms_per_delivery"] = round(cpu * 1000 / drained_count, 3)
                out["burst_deliveries_per_s"] = args.tasks / (max(got.values()) - t0)
                out["burst_lag"] = await lags(database, got)
                paced_count = int(args.rate * args.seconds)
                paced_ids = await processing(paced_count)
                interval = 1 / args.rate
                start = time.perf_counter()
                pending = []
                for n, task_id in enumerate(paced_ids):
                    delay = start + n * interval - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    pending.append(
                        asyncio.create_task(
                            announcing.apply(task_id, done, owner="bench", now=time.time())
                        )
                    )
                await asyncio.gather(*pending)
                got = await drained(session, base, args.tasks + paced_count)
                paced = await lags(database, got, set(paced_ids))
                out["paced"] = {"rate": args.rate, "seconds": args.seconds, **paced}
            finally:
                await deliverer.stop()
                await sender.close()
    finally:
        receiver.terminate()
        receiver.join()
    return out


async def drained(session: aiohttp.ClientSession, base: str, count: int) -> dict[str, float]:
    while True:
        got = await arrivals(session, base)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.2)


async def lags(database: Any, got: dict[str, float], tasks: set[str] | None = None) -> Any:
    async with database.read() as conn:
        query = text("SELECT id, task_id, created_at FROM webhook_messages")
        rows = (await conn.execute(query)).all()
    values = [
        got[i] - at for i, task_id, at in rows if i in got and (tasks is None or task_id in tasks)
    ]
    return {
        "count": len(values),
        "p50_s": round(pct(values, 0.50), 3),
        "p99_s": round(pct(values, 0.99), 3),
        "max_s": round(max(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("VIDUGATE_DATABASE_URL", None)
        figures = asyncio.run(bench(args, Path(tmp)))
    print(f"webhook bench: {args.tasks} tasks, one endpoint (video.completed), receiver 200")
    for name, value in figures.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
