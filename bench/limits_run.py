"""api_bench.py --limits: the status GET with no limit configured, with a request limit
kept in the process, and with the same limit kept in Redis (the machine's, 127.0.0.1:6379),
each on a full gateway (API + worker) reading its finished task; the gateways run side by
side and are measured in turns (none, memory, redis, redis, memory, none, ...) so a change
in the machine's load falls on all alike. The limit is far above what a run can send, so
every call is checked and none refused (a refusal would count as an error). With
--before SRC, a gateway on that older src/ is measured in the same turns ("today")."""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import uuid
from pathlib import Path

import httpx

from api_bench import (
    LOAD_CPU,
    SERVER_CPU,
    Figure,
    free_port,
    load_average,
    median_of,
    print_figures,
    start_gateway,
    stop,
    wrk,
)
from benchlib import finished_video

LIMITS_GOAL = 0.90  # issue 13: status GET with limits checked, of the figure without
HUGE = str(10**9)  # requests per minute: checked on every call, never reached
REDIS = "redis://127.0.0.1:6379/0"


def run_limits(args: argparse.Namespace) -> None:
    configs: dict[str, dict[str, str]] = {
        "no limit": {},
        "limit (memory)": {"VIDUGATE_LIMIT_REQUESTS_PER_MINUTE": HUGE},
        "limit (redis)": {
            "VIDUGATE_LIMIT_REQUESTS_PER_MINUTE": HUGE,
            "VIDUGATE_REDIS_URL": REDIS,
            "VIDUGATE_LIMITS_REDIS_PREFIX": f"vidugate-bench:{uuid.uuid4().hex}:",
        },
    }
    sources: dict[str, str | None] = dict.fromkeys(configs)
    if args.before:
        configs = {"before (no limit)": {}, **configs}
        sources["before (no limit)"] = args.before
    loads = [load_average()]
    runs: dict[str, list[Figure]] = {name: [] for name in configs}
    servers: dict[str, tuple[subprocess.Popen[bytes], str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, settings in configs.items():
                port = free_port()
                data_dir = Path(tmp) / name.replace(" ", "_").strip("()")
                proc, key = start_gateway(
                    data_dir, port, "all", sources.get(name), settings=settings
                )
                base = f"http://127.0.0.1:{port}"
                url = f"{base}/v1/videos/{finished_video(base, key)}"
                servers[name] = (proc, key, url)
                limited = httpx.get(url, headers={"Authorization": f"Bearer {key}"})
                if settings and "x-ratelimit-limit-requests" not in limited.headers:
                    raise SystemExit(f"{name}: the limit is not checked: {limited.headers}")

            def run(name: str, seconds: int) -> Figure:
                proc, key, url = servers[name]
                return wrk(
                    url,
                    seconds=seconds,
                    connections=args.connections,
                    key=key,
                    script=None,
                    pid=proc.pid,
                )

            for name in runs:
                run(name, 2)  # warm-up
            order = list(runs)
            for _ in range(args.rounds):
                for name in order:
                    runs[name].append(run(name, args.seconds))
                order.reverse()
        finally:
            for proc, _key, _url in servers.values():
                stop(proc)
    loads.append(load_average())
    results = {name: median_of(figures) for name, figures in runs.items()}
    print(f"\nserver on cpu {SERVER_CPU}, wrk on cpu {LOAD_CPU}, {args.connections} connections, "
          f"status GET, median of {args.rounds} x {args.seconds}s each, measured in turns; "
          f"load average before {loads[0]}, after {loads[1]}\n")  # fmt: skip
    print_figures(results)
    unlimited = results["no limit"]
    print()
    for name in ("limit (memory)", "limit (redis)"):
        share = results[name].rps / unlimited.rps
        met = "met" if share >= LIMITS_GOAL else "NOT met"
        print(f"goal: status GET with {name} >= {LIMITS_GOAL:.0%} of no limit, by req/s: "
              f"{share:.1%}: {met}")  # fmt: skip
    errors = sum(f.errors for f in results.values())
    print(f"goal: no errors: {errors}: {'met' if errors == 0 else 'NOT met'}")
    print(json.dumps({"results": {k: vars(v) for k, v in results.items()}, "load": loads}))
