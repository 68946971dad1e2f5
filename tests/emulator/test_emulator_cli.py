"""`vidugate emulate-vidu`, run as a user runs it: a real process on a real port."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
from emulatorlib import free_port

from gatewaylib import probe_mp4


def test_emulate_vidu_serves_the_api_until_interrupted() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "vidugate", "emulate-vidu", "--port", str(port),
            "--key", "cli-key:100", "--key", "other", "--result-mode", "fixed",
            "--queue-seconds", "0.05", "--process-seconds", "0.2", "--fault", "latency=0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        assert lines == [
            f"VIDU_BASE_URL=http://127.0.0.1:{port}",
            "VIDU_API_KEY=cli-key",
            "VIDU_API_KEY=other",
        ]
        base = lines[0].split("=", 1)[1]
        with httpx.Client(base_url=base, headers={"Authorization": "Token cli-key"}) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    credits = client.get("/ent/v2/credits")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, process.stderr
                    time.sleep(0.1)
            assert credits.json()["remains"][0]["credit_remain"] == 100
            body = {"model": "viduq2", "prompt": "cli", "duration": 1, "resolution": "540p"}
            task_id = client.post("/ent/v2/text2video", json=body).json()["task_id"]
            while (document := client.get(f"/ent/v2/tasks/{task_id}/creations").json())[
                "state"
            ] != "success":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            video = httpx.get(document["creations"][0]["url"]).content
            assert probe_mp4(video).codec == "h264"
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_emulate_vidu_refuses_a_bad_fault() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vidugate", "emulate-vidu", "--port", "1", "--fault", "nope=1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "nope=1" in result.stderr


def _started(host: str) -> str:
    """The emulator's stderr from start to an interrupt once it has said where it serves."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "vidugate", "emulate-vidu", "--host", host, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"VIDU_BASE_URL=http://{host}:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    return stderr


def test_the_unauthenticated_control_api_is_announced_off_loopback() -> None:
    assert "no authentication" in _started("0.0.0.0")
    assert "no authentication" not in _started("127.0.0.1")
