"""Requests/s and latency of the gateway's status GET and JSON create, next to a bare
Starlette app on the same server settings, in the same run.

Method: the server under test runs alone on core 0 (taskset), wrk runs on core 1; both
servers are one uvicorn process with uvloop + httptools and no access log. Each figure is
the median of --rounds wrk runs of --seconds each, after a warm-up run. Each gateway's
resident memory is read from /proc when it is idle after start and again after its load,
its own process apart from its children (the sandbox's render forkserver). With
--before SRC, the create is measured a second time on the source tree SRC (an older
src/ of vidugate, put first on PYTHONPATH), in the same run.

With --accounting, only the JSON create, with accounting off and on
(bench/accounting_run.py).

    uv run python bench/api_bench.py [--seconds 8] [--connections 32] [--rounds 3] \
        [--before /path/to/old/src] [--accounting] [--limits] [--metrics]

With --limits, only the status GET, with no limit, a limit in memory and one in Redis
(bench/limits_run.py). With --metrics, only the status GET, with metrics off and on
(bench/metrics_run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchlib import finished_video
from procstat import children, cpu_seconds

HERE = Path(__file__).resolve().parent
CPUS = os.cpu_count() or 1
SERVER_CPU, LOAD_CPU = "0", "1" if CPUS > 1 else "0"


# The goals of issue 11 (item 7).
CREATE_SHARE_GOAL = 0.25  # JSON create req/s of the bare POST's
CREATE_P99_GOAL_MS = 20.0
RSS_GOAL_MB = 150.0  # the gateway process after the load, its children apart
SETTLE_SECONDS = 3.0  # idle time before a memory reading


@dataclass
class Memory:
    """Resident MB of a gateway process and of its children, idle and after its load."""

    idle_mb: float = 0.0
    idle_children_mb: float = 0.0
    loaded_mb: float = 0.0
    loaded_children_mb: float = 0.0


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0.0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else 0.0


def tree_rss_mb(pid: int) -> float:
    """The RSS of pid's children and all their descendants."""
    return sum(rss_mb(child) + tree_rss_mb(child) for child in children(pid))


def read_memory(pid: int) -> tuple[float, float]:
    time.sleep(SETTLE_SECONDS)
    return rss_mb(pid), tree_rss_mb(pid)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Figure:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    # The server's CPU (all its threads) per answered request: less disturbed than req/s
    # by other jobs on the machine, which take the core but not this process's CPU time.
    cpu_us: float = 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server did not start: {url}")


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str, *, seconds: int, connections: int, key: str, script: str | None, pid: int
) -> Figure:
    cpu_before = cpu_seconds(pid)
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    cmd += ["--latency", "-H", f"Authorization: Bearer {key}"]
    if script:
        cmd += ["-s", str(HERE / script)]
    out = subprocess.run(
        [*cmd, url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_KEY": key},
    ).stdout
    cpu = cpu_seconds(pid) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Figure(rps, p50, p99, errors, cpu * 1e6 / max(1, answered))


def measure(
    url: str, args: argparse.Namespace, key: str, pid: int, script: str | None = None
) -> Figure:
    def run(seconds: int) -> Figure:
        return wrk(
            url, seconds=seconds, connections=args.connections, key=key, script=script, pid=pid
        )

    run(2)  # warm-up
    return median_of([run(args.seconds) for _ in range(args.rounds)])


def median_of(runs: list[Figure]) -> Figure:
    return Figure(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
        cpu_us=statistics.median(r.cpu_us for r in runs),
    )


def start_gateway(
    data_dir: Path,
    port: int,
    role: str,
    source: str | None = None,
    *,
    key: str | None = None,
    settings: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """A `vidugate serve` on data_dir and the key to use: `key`, or else the one the
    first start on an empty data dir prints."""
    env = {
        **os.environ,
        **({"PYTHONPATH": source} if source else {}),
        "VIDUGATE_DATA_DIR": str(data_dir),
        "VIDUGATE_PORT": str(port),
        "VIDUGATE_ROLE": role,
        "VIDUGATE_LOG_LEVEL": "warning",
        **(settings or {}),
    }
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "vidugate", "serve"],
        env=env,
        stdout=subprocess.DEVNULL if key else subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    if key is None:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode().strip()
        key = first.split("=", 1)[1] if first.startswith("export VIDUGATE_API_KEY=") else ""
    wait_up(f"http://127.0.0.1:{port}/healthz", proc)
    return proc, key


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", help="an older src/ to measure the create on as well")
    parser.add_argument(
        "--accounting", action="store_true", help="the create with accounting off and on only"
    )
    parser.add_argument(
        "--limits", action="store_true", help="the status GET without and with limits only"
    )
    parser.add_argument(
        "--metrics", action="store_true", help="the status GET with metrics off and on only"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    if args.accounting:
        from accounting_run import run_accounting  # the create with accounting off and on

        run_accounting(args)
        return
    if args.limits:
        from limits_run import run_limits  # the status GET with and without limits

        run_limits(args)
        return
    if args.metrics:
        from metrics_run import run_metrics  # the status GET with metrics off and on

        run_metrics(args)
        return

    results: dict[str, Figure] = {}
    loads = [load_average()]
    port = free_port()
    bare = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "uvicorn", "bare_app:app",
         "--port", str(port), "--loop", "uvloop", "--http", "httptools",
         "--no-access-log", "--log-level", "warning"],
        cwd=HERE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/v1/videos/x", bare)
        results["bare GET"] = measure(f"{base}/v1/videos/video_x", args, "none", bare.pid)
        results["bare POST"] = measure(f"{base}/v1/videos", args, "none", bare.pid, "post.lua")
    finally:
        stop(bare)

    memory: dict[str, Memory] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Status GET on a full gateway (API + worker), reading a finished task.
        port = free_port()
        gateway, key = start_gateway(Path(tmp) / "all", port, "all")
        try:
            base = f"http://127.0.0.1:{port}"
            video_id = finished_video(base, key)
            mem = memory["gateway (all), GET load"] = Memory()
            mem.idle_mb, mem.idle_children_mb = read_memory(gateway.pid)
            results["gateway GET"] = measure(f"{base}/v1/videos/{video_id}", args, key, gateway.pid)
            mem.loaded_mb, mem.loaded_children_mb = read_memory(gateway.pid)
        finally:
            stop(gateway)
        # JSON create on an API-only gateway: the requests are what is measured, not the
        # renders they would start (those are the sandbox's work, measured in media tests).
        sources = [("gateway POST", None)]
        if args.before:
            sources.append(("POST (before)", args.before))
        for name, source in sources:
            port = free_port()
            gateway, key = start_gateway(Path(tmp) / name.replace(" ", "_"), port, "api", source)
            try:
                mem = memory[f"{name} (api)"] = Memory()
                mem.idle_mb, mem.idle_children_mb = read_memory(gateway.pid)
                results[name] = measure(
                    f"http://127.0.0.1:{port}/v1/videos", args, key, gateway.pid, "post.lua"
                )
                mem.loaded_mb, mem.loaded_children_mb = read_memory(gateway.pid)
            finally:
                stop(gateway)
    loads.append(load_average())
    report(args, results, memory, loads)


def print_figures(results: dict[str, Figure]) -> None:
    print(f"{'':16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'CPU us/req':>12}")
    for name, fig in results.items():
        print(f"{name:16}{fig.rps:>10.0f}{fig.p50_ms:>10.2f}{fig.p99_ms:>10.2f}{fig.errors:>8}"
              f"{fig.cpu_us:>12.0f}")  # fmt: skip


def report(
    args: argparse.Namespace,
    results: dict[str, Figure],
    memory: dict[str, Memory],
    loads: list[str],
) -> None:
    print(f"\nserver on cpu {SERVER_CPU}, wrk on cpu {LOAD_CPU}, {args.connections} connections, "
          f"median of {args.rounds} x {args.seconds}s; load average before {loads[0]}, "
          f"after {loads[1]}\n")  # fmt: skip
    print_figures(results)
    for verb in ("GET", "POST"):
        gateway, bare = results[f"gateway {verb}"], results[f"bare {verb}"]
        print(f"gateway/bare {verb}: {gateway.rps / bare.rps:.0%} by req/s, "
              f"{bare.cpu_us / gateway.cpu_us:.0%} by CPU per request")  # fmt: skip
    print(f"\n{'resident MB':28}{'idle':>8}{'children':>10}{'loaded':>8}{'children':>10}")
    for name, mem in memory.items():
        print(f"{name:28}{mem.idle_mb:>8.1f}{mem.idle_children_mb:>10.1f}"
              f"{mem.loaded_mb:>8.1f}{mem.loaded_children_mb:>10.1f}")  # fmt: skip
    post = results["gateway POST"]
    share = post.rps / results["bare POST"].rps
    worst = max(mem.loaded_mb for name, mem in memory.items() if "before" not in name)
    goals = [
        (f"JSON create >= {CREATE_SHARE_GOAL:.0%} of bare POST", f"{share:.0%}",
         share >= CREATE_SHARE_GOAL),
        (f"JSON create p99 < {CREATE_P99_GOAL_MS:g} ms", f"{post.p99_ms:.1f} ms",
         post.p99_ms < CREATE_P99_GOAL_MS),
        (f"gateway RSS after load <= {RSS_GOAL_MB:g} MB", f"{worst:.1f} MB",
         worst <= RSS_GOAL_MB),
        ("no errors", str(sum(f.errors for f in results.values())),
         all(f.errors == 0 for f in results.values())),
    ]  # fmt: skip
    print()
    for goal, value, met in goals:
        print(f"goal: {goal}: {value}: {'met' if met else 'NOT met'}")
    figures = {k: vars(v) for k, v in results.items()}
    print(json.dumps({"results": figures, "memory": {k: vars(v) for k, v in memory.items()},
                      "load": loads}))  # fmt: skip


if __name__ == "__main__":
    main()
