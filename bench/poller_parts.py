"""Measuring a poller_bench run (bench/poller_bench.py): the gateway's CPU, when every task
has ended (read from its database, so the bench adds no load to what it measures), the
lag of each task behind the upstream, and the run's summary figures."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import time
from datetime import datetime
from pathlib import Path

import aiohttp
from sqlalchemy import text

from benchlib import Emulator, pct
from procstat import children, cpu_seconds
from scale_parts import engine


def dump(path: Path, data: object) -> None:
    path.write_text(json.dumps(data))


def iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def gateway_cpu(pid: int) -> float:
    """CPU seconds of the gateway: the server and every process under it."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children(pid))


async def every_process_up(pid: int, processes: int) -> None:
    """With several processes, wait until uvicorn has started all of them (plus its
    multiprocessing helper) and they have had a moment to open their workers."""
    if processes == 1:
        return
    for _ in range(600):
        if len(children(pid)) >= processes:
            await asyncio.sleep(3)
            return
        await asyncio.sleep(0.1)
    raise SystemExit("the gateway's processes did not all start")


async def wait_completed(
    args: argparse.Namespace, data: Path, database: str | None, count: int
) -> dict[str, float]:
    """Wait for every task to end, read from the gateway's database (so the bench does not
    load the gateway it measures): task id -> completed_at."""
    deadline = time.time() + 900
    done: dict[str, float] = {}
    query = "SELECT id, completed_at FROM tasks WHERE completed_at IS NOT NULL"
    db = engine(args.postgres, database) if database is not None else None
    try:
        while time.time() < deadline:
            await asyncio.sleep(2)
            if db is not None:
                async with db.connect() as conn:
                    rows = (await conn.execute(text(query))).all()
            else:
                with sqlite3.connect(f"file:{data / 'vidugate.db'}?mode=ro", uri=True) as lite:
                    rows = lite.execute(query).fetchall()
            done = {row[0]: float(row[1]) for row in rows}
            if len(done) >= count:
                break
    finally:
        if db is not None:
            await db.dispose()
    if len(done) < count:
        print(f"  {count - len(done)} tasks did not finish", flush=True)
    return done


async def completion_lags(
    session: aiohttp.ClientSession, emulator: Emulator, done: dict[str, float]
) -> tuple[list[float], list[float]]:
    """Pair each task's end at the gateway with the upstream's."""
    upstream = {
        t["payload"].removeprefix("vidugate:"): t
        for t in (await emulator.admin(session, "/tasks"))["tasks"]
    }
    pairs = [
        (
            iso(upstream[video_id]["ended_at"]),
            max(0.0, finished - iso(upstream[video_id]["ended_at"])),
        )
        for video_id, finished in done.items()
        if video_id in upstream and upstream[video_id]["ended_at"]
    ]
    if os.environ.get("BENCH_DUMP"):  # (end time, lag) pairs, for a closer look
        dump(Path(os.environ["BENCH_DUMP"]), sorted(pairs))
    return [lag for _, lag in pairs], [end for end, _ in pairs]


def summary(rate: float, lags: list[float], ends: list[float] | None = None) -> dict[str, float]:
    peak = 0.0
    if ends:
        ordered = sorted(ends)
        start = 0
        for stop, moment in enumerate(ordered):
            while moment - ordered[start] > 5.0:
                start += 1
            peak = max(peak, (stop - start + 1) / 5.0)
    return {
        "polls_per_s": rate,
        "peak_ends_per_s": peak,
        "lag_p50_s": statistics.median(lags) if lags else float("nan"),
        "lag_p99_s": pct(lags, 0.99),
        "tasks_measured": float(len(lags)),
    }
