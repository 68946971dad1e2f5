"""Status polling with many tasks in flight: the gateway's poller against the Vidu emulator,
with callbacks off and on, next to a one-task-at-a-time poller (the peers' design).

Method: the emulator runs on core 1 (`taskset`), the gateway on core 0; both are real
processes talking HTTP on loopback. N tasks are created through the gateway's
`POST /v1/videos` (JSON); upstream, each spends `--queue` seconds queueing, then
`--process` + `--spread`*duration seconds processing (durations 1..10, so completions are
spread out). Figures:
- polls/s: status calls the emulator served per second while every task was in flight
  (from the last create until the first upstream completion);
- lag: for each task, the gateway's completed_at minus the emulator's success time
  (p50 / p99 over all tasks; it includes copying the result);
- peak ends/s: the most upstream completions in any 5 s, per second (each one is a status
  call, two downloads and a write for the gateway: the completion rate is the load).
The baseline polls the same kind of upstream tasks, created directly on the emulator, one
call at a time in a loop over all of them (new-api's poller, without its 1 s pauses).

    uv run python bench/poller_bench.py [--tasks 10000] [--process 90] [--spread 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from benchlib import KEY, Emulator, free_port, pct, wait_http


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, **kwargs)


def dump(path: Path, data: object) -> None:
    path.write_text(json.dumps(data))


def iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def emulator_for(args: argparse.Namespace) -> Emulator:
    """The emulator on core 1, with this run's timings."""
    return Emulator(
        cpus="1",
        queue=args.queue,
        process=args.process,
        latency=args.latency,
        per_video_second=args.spread,
    )


async def create_many(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> list[str]:
    ids: list[str] = [""] * len(bodies)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)

    async def one() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            async with session.post(url, json=bodies[index], headers=headers) as response:
                body = await response.json()
                assert response.status == 200, body
                ids[index] = body.get("id") or body.get("task_id")

    await asyncio.gather(*(one() for _ in range(32)))
    return ids


def bodies(n: int) -> list[dict[str, Any]]:
    return [
        {"model": "viduq3-pro", "prompt": f"task {i}", "duration": 1 + i % 10, "resolution": "540p"}
        for i in range(n)
    ]


async def gateway_run(args: argparse.Namespace, callbacks: bool) -> dict[str, float]:
    emulator = emulator_for(args)
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "VIDUGATE_DATA_DIR": data,
            "VIDUGATE_PORT": str(port),
            "VIDUGATE_PROVIDER": "vidu",
            "VIDUGATE_LOG_LEVEL": "warning",
            "VIDUGATE_VIDU_ACCOUNTS": json.dumps(
                [{"id": "bench", "api_key": KEY, "base_url": emulator.url, "concurrency": 10**6}]
            ),
        }
        if callbacks:
            env["VIDUGATE_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        gateway = spawn(
            ["taskset", "-c", "0", sys.executable, "-m", "vidugate", "serve"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert gateway.stdout is not None
            key = gateway.stdout.readline().strip().split("=", 1)[1]
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {key}"}
            timeout = aiohttp.ClientTimeout(total=120)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await emulator.ready(session)
                await wait_http(session, f"{base}/healthz")
                started = time.time()
                ids = await create_many(session, f"{base}/v1/videos", headers, bodies(args.tasks))
                created = time.time()
                print(f"  created {len(ids)} tasks in {created - started:.1f}s", flush=True)
                # Every task is in flight from the last create until the first one can end.
                first_end = started + args.queue + args.process + args.spread
                polls_before = (await emulator.admin(session, "/stats"))["polls"]
                window_start = time.time()
                await asyncio.sleep(max(1.0, first_end - time.time()))
                polls_after = (await emulator.admin(session, "/stats"))["polls"]
                rate = (polls_after - polls_before) / (time.time() - window_start)
                print(f"  steady window {time.time() - window_start:.1f}s: {rate:.0f} polls/s")
                lags, ends = await completion_lags(
                    session, Path(data) / "vidugate.db", emulator, ids
                )
        finally:
            gateway.terminate()
            gateway.wait(60)
            emulator.stop()
    return summary(rate, lags, ends)


async def completion_lags(
    session: aiohttp.ClientSession, database: Path, emulator: Emulator, ids: list[str]
) -> tuple[list[float], list[float]]:
    """Wait for every task to end (read from the gateway's database, so the bench does not
    load the gateway it measures), then pair each end with the upstream's."""
    deadline = time.time() + 900
    done: dict[str, float] = {}
    while time.time() < deadline:
        await asyncio.sleep(2)
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT id, completed_at FROM tasks WHERE completed_at IS NOT NULL"
            ).fetchall()
        done = {row[0]: float(row[1]) for row in rows}
        if len(done) >= len(ids):
            break
    if len(done) < len(ids):
        print(f"  {len(ids) - len(done)} tasks did not finish", flush=True)
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


async def baseline_run(args: argparse.Namespace) -> dict[str, float]:
    emulator = emulator_for(args)
    try:
        timeout = aiohttp.ClientTimeout(total=120)
        connector = aiohttp.TCPConnector(limit=1)
        headers = {"Authorization": f"Token {KEY}"}
        async with aiohttp.ClientSession(timeout=timeout) as setup:
            await emulator.ready(setup)
            texts = [{**b, "payload": str(i)} for i, b in enumerate(bodies(args.tasks))]
            ids = await create_many(setup, f"{emulator.url}/ent/v2/text2video", headers, texts)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            seen: dict[str, float] = {}
            polls = 0
            loop_started = time.time()
            stop_at = loop_started + args.baseline_seconds
            while len(seen) < len(ids) and time.time() < stop_at:
                for task_id in ids:  # one at a time, as the peers do
                    if task_id in seen or time.time() >= stop_at:
                        continue
                    url = f"{emulator.url}/ent/v2/tasks/{task_id}/creations"
                    async with session.get(url, headers=headers) as response:
                        doc = await response.json()
                    polls += 1
                    if doc["state"] in ("success", "failed"):
                        seen[task_id] = time.time()
            ended = time.time()
            elapsed, counted = ended - loop_started, polls
            upstream = {t["id"]: t for t in (await emulator.admin(session, "/tasks"))["tasks"]}
            # A task the loop never got back to has waited at least until the loop stopped.
            lags = [
                max(0.0, seen.get(task_id, ended) - iso(task["ended_at"]))
                for task_id, task in upstream.items()
                if task["ended_at"] and iso(task["ended_at"]) < ended
            ]
            print(f"  saw {len(seen)} of {len(ids)} tasks end within {args.baseline_seconds:.0f}s")
            return summary(counted / max(elapsed, 1e-9), lags)
    finally:
        emulator.stop()


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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--queue", type=float, default=5.0)
    parser.add_argument("--process", type=float, default=90.0)
    parser.add_argument("--spread", type=float, default=10.0)
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds the emulator takes per answer"
    )
    parser.add_argument(
        "--baseline-seconds", type=float, default=240.0, help="how long the baseline may run"
    )
    parser.add_argument("--only", choices=["polling", "callbacks", "baseline"], action="append")
    args = parser.parse_args()
    runs = {
        "polling": ("gateway, polling only", lambda: gateway_run(args, callbacks=False)),
        "callbacks": ("gateway, callbacks on", lambda: gateway_run(args, callbacks=True)),
        "baseline": ("baseline: one at a time", lambda: baseline_run(args)),
    }
    results = {}
    for key in args.only or list(runs):
        name, run = runs[key]
        print(f"{name} ...", flush=True)
        results[name] = await run()
    print(f"\n{args.tasks} tasks in flight; emulator on cpu 1, gateway on cpu 0\n")
    print(f"{'':26}{'polls/s':>10}{'lag p50 s':>12}{'lag p99 s':>12}{'peak ends/s':>13}")
    for name, fig in results.items():
        print(
            f"{name:26}{fig['polls_per_s']:>10.0f}{fig['lag_p50_s']:>12.2f}"
            f"{fig['lag_p99_s']:>12.2f}{fig['peak_ends_per_s']:>13.0f}"
        )
    if "baseline: one at a time" in results and "gateway, polling only" in results:
        base = results["baseline: one at a time"]["polls_per_s"]
        ours = results["gateway, polling only"]["polls_per_s"]
        print(f"poll rate, gateway / baseline: {ours / base:.1f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
