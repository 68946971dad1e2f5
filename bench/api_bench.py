"""Requests/s and latency of the gateway's status GET and JSON create, next to a bare
Starlette app on the same server settings, in the same run.

Method: the server under test runs alone on core 0 (taskset), wrk runs on core 1; both
servers are one uvicorn process with uvloop + httptools and no access log. Each figure is
the median of --rounds wrk runs of --seconds each, after a warm-up run.

    uv run python bench/api_bench.py [--seconds 8] [--connections 32] [--rounds 3]
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

HERE = Path(__file__).resolve().parent
CPUS = os.cpu_count() or 1
SERVER_CPU, LOAD_CPU = "0", "1" if CPUS > 1 else "0"


@dataclass
class Figure:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


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


def wrk(url: str, *, seconds: int, connections: int, key: str, script: str | None) -> Figure:
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
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Figure(rps, p50, p99, errors)


def measure(url: str, args: argparse.Namespace, key: str, script: str | None = None) -> Figure:
    wrk(url, seconds=2, connections=args.connections, key=key, script=script)  # warm-up
    runs = [
        wrk(url, seconds=args.seconds, connections=args.connections, key=key, script=script)
        for _ in range(args.rounds)
    ]
    return Figure(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )


def start_gateway(data_dir: Path, port: int, role: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "VIDUGATE_DATA_DIR": str(data_dir),
        "VIDUGATE_PORT": str(port),
        "VIDUGATE_ROLE": role,
        "VIDUGATE_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "vidugate", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
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
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    results: dict[str, Figure] = {}
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
        results["bare GET"] = measure(f"{base}/v1/videos/video_x", args, "none")
        results["bare POST"] = measure(f"{base}/v1/videos", args, "none", "post.lua")
    finally:
        stop(bare)

    with tempfile.TemporaryDirectory() as tmp:
        # Status GET on a full gateway (API + worker), reading a finished task.
        port = free_port()
        gateway, key = start_gateway(Path(tmp) / "all", port, "all")
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {key}"}
            video = httpx.post(
                f"{base}/v1/videos",
                headers=headers,
                json={"model": "viduq2-turbo", "prompt": "bench", "duration": 1},
            ).json()
            while video["status"] not in ("completed", "failed"):
                time.sleep(0.2)
                video = httpx.get(f"{base}/v1/videos/{video['id']}", headers=headers).json()
            results["gateway GET"] = measure(f"{base}/v1/videos/{video['id']}", args, key)
        finally:
            stop(gateway)
        # JSON create on an API-only gateway: the requests are what is measured, not the
        # renders they would start (those are the sandbox's work, measured in media tests).
        port = free_port()
        gateway, key = start_gateway(Path(tmp) / "api", port, "api")
        try:
            results["gateway POST"] = measure(
                f"http://127.0.0.1:{port}/v1/videos", args, key, "post.lua"
            )
        finally:
            stop(gateway)

    print(f"\nserver on cpu {SERVER_CPU}, wrk on cpu {LOAD_CPU}, {args.connections} connections, "
          f"median of {args.rounds} x {args.seconds}s\n")  # fmt: skip
    print(f"{'':14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, fig in results.items():
        print(f"{name:14}{fig.rps:>10.0f}{fig.p50_ms:>10.2f}{fig.p99_ms:>10.2f}{fig.errors:>8}")
    for verb in ("GET", "POST"):
        ratio = results[f"gateway {verb}"].rps / results[f"bare {verb}"].rps
        print(f"gateway/bare {verb}: {ratio:.0%}")
    print(json.dumps({k: vars(v) for k, v in results.items()}))


if __name__ == "__main__":
    main()
