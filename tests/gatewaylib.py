"""Run the real `vidugate serve` as a child process for tests, and talk to it over HTTP: the
tier for what needs a process of its own (kills, restarts after a crash, signals, several
processes, the serve command itself, its RSS). Tests that start one are marked `process`
(conftest.py checks it); the rest run the gateway in the test process (inprocess.py)."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx

from dblib import fresh_database_url, query, run_sync
from vidugate.services.keys import KeyService
from vidugate.store.db import open_database
from vidugate.store.keys import KeyRepository

SECRET = "test-signing-secret-not-for-production"
FINAL = {"completed", "failed", "cancelled"}
# A client drops an idle connection before the gateway does (its keep-alive limit is 5 s): a
# request sent just as the gateway closes the connection is lost, and httpx does not resend it.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=2.0)
# Set for each test by conftest.py: whether it is marked `process`, and so may start one.
PROCESS_ALLOWED = True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidugate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Gateway:
    data_dir: Path
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    key: str = ""
    log_path: Path | None = None
    # A fresh database per gateway, on the backend the run is for (see dblib).
    database_url: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = fresh_database_url(self.data_dir)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")}
        env.update(
            {
                "VIDUGATE_DATA_DIR": str(self.data_dir),
                "VIDUGATE_DATABASE_URL": self.database_url,
                "VIDUGATE_PORT": str(self.port),
                "VIDUGATE_SECRET": SECRET,
                "VIDUGATE_LOG_LEVEL": "info",
                **self.settings,
            }
        )
        return env

    def start(self) -> Gateway:
        if not PROCESS_ALLOWED:
            raise RuntimeError(
                "a test that starts `vidugate serve` is marked @pytest.mark.process; "
                "or run it on the in-process tier (tests/inprocess.py)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"serve-{time.time_ns()}.log"
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vidugate", "serve"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gateway did not start:\n{self.log()}")
        if not self.key:
            self.key = self._first_key()
        return self

    def _first_key(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line.startswith("export VIDUGATE_API_KEY="), line
        return line.split("=", 1)[1]

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""

    def all_logs(self) -> str:
        """Every start's log (a restarted gateway writes a new one)."""
        return "".join(p.read_text() for p in sorted(self.data_dir.glob("serve-*.log")))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to tidy up, as in a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def new_key(self, name: str = "test") -> str:
        """A key made through the service, in-process (the CLI's own tests cover the CLI)."""

        async def create() -> str:
            async with open_database(self.database_url) as database:
                _key, token = await KeyService(KeyRepository(database)).create(name)
            return token

        return run_sync(create())

    def sql(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows straight from the gateway's database ($1-style parameters)."""
        return run_sync(query(self.database_url, statement, *args))

    def client(self, key: str | None = None, scheme: str = "Bearer") -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"{scheme} {key or self.key}"},
            timeout=60,
            limits=CLIENT_LIMITS,
        )


def wait_final(client: httpx.Client, video_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/videos/{video_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in FINAL:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{video_id} not final after {timeout}s: {body}")


def wait_for(
    client: httpx.Client, video_id: str, predicate: Any, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/videos/{video_id}").json()
        if predicate(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"condition not met for {video_id}: {body}")


@dataclass(frozen=True)
class Probe:
    codec: str
    width: int
    height: int
    frames: int
    duration: float
    fps: float
    audio_codec: str | None


def probe_mp4(data: bytes) -> Probe:
    """Decode every frame: a file that merely has the right header does not pass."""
    with av.open(io.BytesIO(data), mode="r") as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = 0
        for _frame in container.decode(video=0):
            frames += 1
        duration = 0.0
        if video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        return Probe(
            codec=video.codec_context.name,
            width=video.codec_context.width,
            height=video.codec_context.height,
            frames=frames,
            duration=duration,
            fps=float(video.average_rate or 0),
            audio_codec=audio.codec_context.name if audio is not None else None,
        )


def assert_video(data: bytes, *, width: int, height: int, seconds: int, audio: bool) -> Probe:
    probe = probe_mp4(data)
    assert probe.codec == "h264"
    assert (probe.width, probe.height) == (width, height)
    assert abs(probe.frames - seconds * 24) <= 1, probe
    assert abs(probe.duration - seconds) <= 1 / 24 + 1e-6, probe
    assert (probe.audio_codec == "aac") if audio else probe.audio_codec is None, probe
    return probe
