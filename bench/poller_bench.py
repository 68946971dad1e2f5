"""Status polling with many tasks in flight: the gateway's poller against the Vidu emulator,
with callbacks off and on, on one process (SQLite) and on two (PostgreSQL), next to a
one-task-at-a-time poller (the peers' design).

Method: the emulator runs on core 1 (`taskset`); one gateway process on core 0, two
(`vidugate serve --processes 2`, a fresh PostgreSQL database per run, dropped after) on
cores 0-1. All are real processes talking HTTP on loopback. N tasks are created through
the gateway's `POST /v1/videos` (JSON); upstream, each spends `--queue` seconds queueing,
then `--process` + `--spread`*duration seconds processing (durations 1..10, so completions
are spread out). Figures:
- polls/s: status calls the emulator served per second while every task was in flight
  (from the last create until the first upstream completion);
- lag: for each task, the gateway's completed_at minus the emulator's success time
  (p50 / p99 over all tasks; it includes copying the result);
- peak ends/s: the most upstream completions in any 5 s, per second (each one is a
  callback, a status call, two downloads and a write for the gateway: the load);
- CPU ms/task: the gateway's CPU (every process) from the first create until every task
  is final, per task; "of it, ends": from the first upstream completion on (the
  completions, their callbacks and the polls of the tasks still running).
`--before SRC` adds the one-process configurations with the gateway imported from SRC (a
copy of src/ as it was before a change), in the same run. The baseline polls the same
kind of upstream tasks, created directly on the emulator, one call at a time in a loop
over all of them (new-api's poller, without its 1 s pauses).

    uv run python bench/poller_bench.py [--tasks 10000] [--process 90] [--spread 10]
        [--only polling|callbacks|polling-pg2|callbacks-pg2|baseline ...] [--before SRC]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from benchlib import KEY, Emulator, free_port, pct, pinned, wait_http
from poller_parts import (
    completion_lags,
    dump,
    every_process_up,
    gateway_cpu,
    iso,
    summary,
    wait_completed,
)
from scale_parts import recreate_database


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, **kwargs)


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


@dataclass(frozen=True)
class Setup:
    """One gateway configuration: its processes, where its tasks live, its cores."""

    name: str
    callbacks: bool
    processes: int = 1  # more than one: on PostgreSQL (a fresh database, dropped after)
    source: str | None = None  # import the gateway from this copy of src/ (a "before" run)

    @property
    def cpus(self) -> str:
        # One process on core 0 (the emulator has core 1); two share both cores with it.
        return "0" if self.processes == 1 else "0,1"


async def gateway_run(args: argparse.Namespace, setup: Setup) -> dict[str, float]:
    emulator = emulator_for(args)
    port = free_port()
    database = f"vgpoll_{os.getpid()}_{setup.name}" if setup.processes > 1 else None
    if database is not None:
        await recreate_database(args.postgres, database)
    with tempfile.TemporaryDirectory() as data:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")},
            "VIDUGATE_DATA_DIR": data,
            "VIDUGATE_PORT": str(port),
            "VIDUGATE_PROVIDER": "vidu",
            "VIDUGATE_LOG_LEVEL": "warning",
            "VIDUGATE_VIDU_ACCOUNTS": json.dumps(
                [{"id": "bench", "api_key": KEY, "base_url": emulator.url, "concurrency": 10**6}]
            ),
        }
        if database is not None:
            env["VIDUGATE_DATABASE_URL"] = f"postgresql+asyncpg://{args.postgres}/{database}"
        if setup.source is not None:
            env["PYTHONPATH"] = setup.source
        if setup.callbacks:
            env["VIDUGATE_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        gateway = spawn(
            [*pinned(setup.cpus), sys.executable, "-m", "vidugate", "serve",
             "--processes", str(setup.processes)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert gateway.stdout is not None
            key = gateway.stdout.readline().strip().split("=", 1)[1]
            if os.environ.get("BENCH_PIDS"):  # for a profiler to attach to
                dump(Path(os.environ["BENCH_PIDS"]), gateway.pid)
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {key}"}
            timeout = aiohttp.ClientTimeout(total=120)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await emulator.ready(session)
                await wait_http(session, f"{base}/healthz")
                await every_process_up(gateway.pid, setup.processes)
                cpu_before = gateway_cpu(gateway.pid)
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
                cpu_ends_from = gateway_cpu(gateway.pid)
                done = await wait_completed(args, Path(data), database, len(ids))
                cpu_now = gateway_cpu(gateway.pid)
                per_task = 1000 / max(len(ids), 1)
                cpu = {
                    "gateway_cpu_ms_per_task": (cpu_now - cpu_before) * per_task,
                    "gateway_cpu_ms_per_end": (cpu_now - cpu_ends_from) * per_task,
                }
                lags, ends = await completion_lags(session, emulator, done)
        finally:
            gateway.send_signal(signal.SIGINT)
            gateway.wait(60)
            emulator.stop()
            if database is not None:
                await recreate_database(args.postgres, database, drop_only=True)
    # Where creates are slower than the first ends come (a busy machine), the early
    # completions compete with creates: the tail of the tasks that end after the last
    # create is the poller's own.
    quiet = [lag for lag, end in zip(lags, ends, strict=True) if end >= created]
    return {**summary(rate, lags, ends), **cpu, "lag_p99_after_creates_s": pct(quiet, 0.99)}


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


GOALS = {False: 5.0, True: 1.0}  # p99 lag goal, s: polling only, callbacks on
SETUPS = {
    "polling": Setup("polling", callbacks=False),
    "callbacks": Setup("callbacks", callbacks=True),
    "polling-pg2": Setup("polling_pg2", callbacks=False, processes=2),
    "callbacks-pg2": Setup("callbacks_pg2", callbacks=True, processes=2),
}
TITLES = {
    "polling": "1 proc SQLite, polling",
    "callbacks": "1 proc SQLite, callbacks",
    "polling-pg2": "2 procs PG, polling",
    "callbacks-pg2": "2 procs PG, callbacks",
    "baseline": "baseline: one at a time",
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
    parser.add_argument("--postgres", default="postgres@127.0.0.1:5432", help="USER@HOST:PORT")
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="also run the one-process configurations with the gateway imported from SRC "
        "(a copy of src/ as it was), in the same run",
    )
    parser.add_argument("--only", choices=[*SETUPS, "baseline"], action="append")
    args = parser.parse_args()
    chosen = args.only or [*SETUPS, "baseline"]
    runs: list[tuple[str, Callable[[], Awaitable[dict[str, float]]], bool | None]] = []
    for key in chosen:
        if key == "baseline":
            runs.append((TITLES[key], lambda: baseline_run(args), None))
            continue
        setup = SETUPS[key]
        if args.before and setup.processes == 1:
            before = Setup(f"{setup.name}_before", setup.callbacks, source=args.before)
            runs.append((f"before: {TITLES[key]}", partial(gateway_run, args, before), None))
        runs.append((TITLES[key], partial(gateway_run, args, setup), setup.callbacks))
    load_before = os.getloadavg()
    results: dict[str, dict[str, float]] = {}
    for name, run, _ in runs:
        print(f"{name} ... (load average {os.getloadavg()[0]:.2f})", flush=True)
        results[name] = await run()
    load_after = os.getloadavg()
    print(
        f"\n{args.tasks} tasks in flight; emulator on cpu 1, one gateway process on cpu 0, "
        f"two on cpus 0-1; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}\n"
    )
    print(
        f"{'':34}{'polls/s':>9}{'lag p50 s':>11}{'lag p99 s':>11}{'(after creates)':>16}"
        f"{'peak ends/s':>13}"
        f"{'CPU ms/task':>12}{'of it, ends':>12}  goal"
    )
    nan = float("nan")
    for name, _, callbacks in runs:
        fig = results[name]
        goal = ""
        if callbacks is not None:
            limit = GOALS[callbacks]
            met = fig["lag_p99_s"] < limit
            goal = f"p99 < {limit:.0f} s: {'met' if met else 'NOT met'}"
        print(
            f"{name:34}{fig['polls_per_s']:>9.0f}{fig['lag_p50_s']:>11.2f}"
            f"{fig['lag_p99_s']:>11.2f}{fig.get('lag_p99_after_creates_s', nan):>16.2f}"
            f"{fig['peak_ends_per_s']:>13.0f}"
            f"{fig.get('gateway_cpu_ms_per_task', nan):>12.1f}"
            f"{fig.get('gateway_cpu_ms_per_end', nan):>12.1f}  {goal}"
        )
    if TITLES["baseline"] in results and TITLES["polling"] in results:
        base = results[TITLES["baseline"]]["polls_per_s"]
        ours = results[TITLES["polling"]]["polls_per_s"]
        print(f"poll rate, gateway / baseline: {ours / base:.1f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
