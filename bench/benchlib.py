"""Helpers the benchmarks share: ports, percentiles, waiting for a server, CPU pinning and
the Vidu emulator as a child process. Imported by the bench scripts (their own folder is
on sys.path when they run as `python bench/NAME.py`)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp
import httpx

KEY = "bench-key"  # the emulator account's API key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def pinned(cpus: str | None) -> list[str]:
    """The `taskset` prefix that runs a command on `cpus` ("0", "0,1"); none for None."""
    return ["taskset", "-c", cpus] if cpus else []


async def wait_http(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(600):
        try:
            async with session.get(url) as response:
                if response.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"not up: {url}")


class Emulator:
    """`vidugate emulate-vidu` with one account (KEY, unlimited credits and concurrency,
    so upstream queueing is never the bottleneck) serving one tiny fixed MP4 per result."""

    def __init__(
        self,
        *,
        cpus: str | None,
        queue: float,
        process: float,
        latency: float,
        per_video_second: float = 0.0,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*pinned(cpus), sys.executable, "-m", "vidugate", "emulate-vidu",
             "--port", str(self.port), "--key", f"{KEY}:1e12", "--result-mode", "fixed",
             "--concurrency", "1000000", "--queue-seconds", str(queue),
             "--process-seconds", str(process), "--fault", f"latency={latency}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.per_video_second = per_video_second

    async def ready(self, session: aiohttp.ClientSession) -> None:
        await wait_http(session, f"{self.url}/_emulator/stats")
        async with session.post(
            f"{self.url}/_emulator/config", json={"per_video_second": self.per_video_second}
        ) as response:
            assert response.status == 200, await response.text()

    async def admin(self, session: aiohttp.ClientSession, path: str) -> Any:
        async with session.get(f"{self.url}/_emulator{path}") as response:
            return await response.json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def finished_video(base: str, key: str) -> str:
    """Make a 1 s video on the gateway at base and wait until it is final: its id (the
    status GET benchmarks poll a finished one)."""
    headers = {"Authorization": f"Bearer {key}"}
    video = httpx.post(
        f"{base}/v1/videos",
        headers=headers,
        json={"model": "viduq2-turbo", "prompt": "bench", "duration": 1},
    ).json()
    while video["status"] not in ("completed", "failed"):
        time.sleep(0.2)
        video = httpx.get(f"{base}/v1/videos/{video['id']}", headers=headers).json()
    return str(video["id"])
