"""The first key, as a new user meets it: printed once as a line that works when pasted into
a shell, and on later starts a pointer to `vidugate keys create` instead."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dblib import fresh_database_url
from gatewaylib import free_port

pytestmark = pytest.mark.process


def start(data_dir: Path, database_url: str, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")}
    env.update(
        VIDUGATE_DATA_DIR=str(data_dir),
        VIDUGATE_DATABASE_URL=database_url,
        VIDUGATE_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "vidugate", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"gateway did not start: {process.communicate()}")


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=30)


def test_the_first_key_pastes_into_a_shell_and_a_restart_says_how_to_make_more(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    database_url = fresh_database_url(data_dir)
    port = free_port()
    process = start(data_dir, database_url, port)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    try:
        # The machine-readable line is the shell line: `export NAME=value`.
        assert line.startswith("export VIDUGATE_API_KEY=vg-"), line
        key = line.split("=", 1)[1]
        # Pasted as is, the key reaches the commands started after it (the CLI included).
        child = f"{sys.executable} -c 'import os; print(os.environ[\"VIDUGATE_API_KEY\"])'"
        shell = subprocess.run(
            ["bash", "-c", f"{line}\n{child}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert shell.stdout.strip() == key
        answer = httpx.get(
            f"http://127.0.0.1:{port}/v1/videos", headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code == 200, answer.text
    finally:
        rest, err = stop(process)
    assert rest == ""  # the key is the only line on stdout
    assert line in err  # and the person reading the terminal sees the same line
    # The terminal also names the playground, at an address that serves it.
    playground = re.search(r"playground: (\S+)", err)
    assert playground is not None, err
    assert playground.group(1) == f"http://127.0.0.1:{port}/"

    again = start(data_dir, database_url, port)
    out, err = stop(again)
    assert out == ""  # keys exist: none is made, none printed
    assert "vidugate keys create" in err
