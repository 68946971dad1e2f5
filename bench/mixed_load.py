"""A closed-loop mixed load on a gateway: JSON creates interleaved with status polls, over a
fixed number of keep-alive connections, for a fixed amount of work. Run by scale_bench.py
in a process of its own (so it can be pinned apart from the driver):

    python bench/mixed_load.py --base-url URL --tasks 5000 --gets-per-create 10 \
        --connections 64 --out result.json        # key in BENCH_KEY

The work is a list of (gets-per-create + 1) x tasks operations taken in order by whichever
connection is free: every (gets-per-create + 1)-th is a create, the others poll a task
already created, as clients do: one picked at random among those not yet seen final (any
created task once all are). On stdout it writes one JSON line when the load starts and one
when it ends; the figures go to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

FINAL = {"completed", "failed", "cancelled"}


class MixedLoad:
    def __init__(self, args: argparse.Namespace, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.base = args.base_url.rstrip("/")
        self.tasks = args.tasks
        self.cycle = args.gets_per_create + 1
        self.ops = args.tasks * self.cycle
        self.next_op = 0
        self.rng = random.Random(1)
        self.created: list[str] = []
        self.open: list[str] = []  # created, not yet seen final: what clients still poll
        self.open_at: dict[str, int] = {}
        self.any_created = asyncio.Event()
        self.latency: dict[str, list[float]] = {"create": [], "get": []}
        self.codes: dict[str, Counter[str]] = {"create": Counter(), "get": Counter()}
        self.failures: list[str] = []  # first few unexpected answers, for the report

    def _note_failure(self, what: str, status: int | str, body: bytes) -> None:
        if len(self.failures) < 10:
            self.failures.append(f"{what}: {status} {body[:300]!r}")

    def _close(self, task_id: str) -> None:
        index = self.open_at.pop(task_id, None)
        if index is not None:  # swap-remove keeps the random pick O(1)
            last = self.open.pop()
            if last != task_id:
                self.open[index] = last
                self.open_at[last] = index

    async def create(self, number: int) -> None:
        body = {
            "model": "viduq3-pro",
            "prompt": f"scale bench task {number}",
            "duration": 1,
            "resolution": "540p",
        }
        started = time.perf_counter()
        try:
            async with self.session.post(f"{self.base}/v1/videos", json=body) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.codes["create"][type(exc).__name__] += 1
            self._note_failure("create", type(exc).__name__, str(exc).encode())
            return
        self.latency["create"].append(time.perf_counter() - started)
        self.codes["create"][str(status)] += 1
        if status != 200:
            self._note_failure("create", status, raw)
            return
        task_id = json.loads(raw)["id"]
        self.created.append(task_id)
        self.open_at[task_id] = len(self.open)
        self.open.append(task_id)
        self.any_created.set()

    async def get(self) -> None:
        await self.any_created.wait()
        pool = self.open or self.created
        task_id = pool[self.rng.randrange(len(pool))]
        started = time.perf_counter()
        try:
            async with self.session.get(f"{self.base}/v1/videos/{task_id}") as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.codes["get"][type(exc).__name__] += 1
            self._note_failure("get", type(exc).__name__, str(exc).encode())
            return
        self.latency["get"].append(time.perf_counter() - started)
        self.codes["get"][str(status)] += 1
        if status != 200:
            self._note_failure("get", status, raw)
            return
        video_status = json.loads(raw)["status"]
        if video_status in FINAL and task_id in self.open_at:
            self._close(task_id)

    async def connection(self) -> None:
        while self.next_op < self.ops:
            op = self.next_op
            self.next_op += 1
            if op % self.cycle == 0:
                await self.create(op // self.cycle)
            else:
                await self.get()


def emit(event: str) -> None:
    print(json.dumps({"event": event, "t": time.time()}), flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {os.environ['BENCH_KEY']}"}
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        load = MixedLoad(args, session)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        emit("start")
        started = time.time()
        await asyncio.gather(*(load.connection() for _ in range(args.connections)))
        ended = time.time()
        emit("end")
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "started": started,
        "ended": ended,
        "cpu_seconds": cpu,
        "created": load.created,
        "latency": load.latency,
        "codes": {kind: dict(counts) for kind, counts in load.codes.items()},
        "failures": load.failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--gets-per-create", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--request-timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = uvloop.run(run(args))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
