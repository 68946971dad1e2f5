"""The CLI starts without the server's stack: `vidugate --help` and `vidugate generate` import
neither the database layer nor the media stack nor the web server. Checked on what the
interpreter reports importing (`-X importtime`), not on a time: the set of modules is what
decides how fast a command starts, and it does not depend on how busy the machine is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatewaylib import free_port

TESTS = Path(__file__).resolve().parents[1]

# What serving needs and the CLI's light commands must not pay for.
SERVER_STACK = (
    "sqlalchemy",
    "alembic",
    "av",
    "numpy",
    "PIL",
    "fastapi",
    "uvicorn",
    "aiohttp",
    "pydantic_settings",
    "vidugate.settings",
    "vidugate.store",
    "vidugate.services",
)
# Rich's help formatter (Markdown, syntax highlighting) and httpx's own command line.
HELP_EXTRAS = ("rich.markdown", "pygments")


def imported(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Every module the command imported (top-level package and full names), its output."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vidugate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    names: set[str] = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name)
            names.add(name.split(".", 1)[0])
    return names, result.stdout + result.stderr


@pytest.mark.parametrize("args", [("--help",), ("keys", "--help"), ("serve", "--help")])
def test_help_imports_no_server_stack(args: tuple[str, ...]) -> None:
    names, output = imported(*args)
    assert "Usage:" in output
    loaded = sorted(set(SERVER_STACK + HELP_EXTRAS) & names)
    assert not loaded, f"vidugate {' '.join(args)} imported {loaded}"


def test_generate_sends_its_request_without_the_server_stack() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")}
    env["VIDUGATE_API_KEY"] = "vg-not-a-key"
    # Nothing listens there: the command imports all it needs to send, sends, and stops.
    url = f"http://127.0.0.1:{free_port()}"
    names, output = imported("generate", "--prompt", "x", "--base-url", url, env=env)
    assert "cannot reach the gateway" in output, output[-2000:]
    assert "httpx" in names  # it did get as far as sending
    loaded = sorted(set(SERVER_STACK + HELP_EXTRAS) & names)
    assert not loaded, f"vidugate generate imported {loaded}"


def test_a_gateway_loads_the_redis_client_and_cryptography_only_when_it_needs_them(
    tmp_path: Path,
) -> None:
    """Started on its defaults (no Redis, no webhook sent), a gateway does not import
    `redis` or `cryptography` (~13 MB resident between them); its JWKS, read, loads the
    latter."""
    script = f"""
import asyncio, sys
sys.path.insert(0, {str(TESTS)!r})
from inprocess import asgi_client, gateway_settings, running_app

async def main():
    settings = gateway_settings(__import__("pathlib").Path({str(tmp_path)!r}))
    async with running_app(settings) as app:
        before = ("redis" in sys.modules, "cryptography" in sys.modules)
        async with asgi_client(app) as client:
            jwks = (await client.get("/.well-known/jwks.json")).json()
        print(before, "cryptography" in sys.modules, jwks["keys"][0]["crv"])

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[-2] == "(False, False) True Ed25519", result.stdout
