"""`vidugate videos timeline` and `vidugate upstream accounts`, run as the real command on
the database (no server) after the app in the test process made a video there: the API's
own JSON bodies with --json, a table without, and an unknown video refused in one line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from dblib import run_sync
from gatewaylib import Gateway, cli
from inprocess import asgi_client, running_app, settings_from

CLIP = {"model": "viduq2-turbo", "prompt": "a paper boat", "duration": 1, "resolution": "540p"}


async def _made(env: dict[str, str], token: str) -> str:
    """A video made by the gateway (in this process), to its end; its id."""
    async with running_app(settings_from(env)) as app, asgi_client(app, token) as client:
        created = await client.post("/v1/videos", json=CLIP)
        assert created.status_code == 200, created.text
        for _ in range(6000):
            body: dict[str, Any] = (await client.get(f"/v1/videos/{created.json()['id']}")).json()
            if body["status"] == "completed":
                return str(body["id"])
            await asyncio.sleep(0.02)
    raise AssertionError("the video never finished")


def test_the_console_commands(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path / "data")
    env = gateway.env
    video_id = run_sync(_made(env, gateway.new_key("app")))

    shown = cli(env, "videos", "timeline", video_id, "--json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["object"] == "video.timeline"
    assert body["video"]["id"] == video_id
    task = [e["type"] for e in body["events"] if e["source"] == "task"]
    assert task == ["task.created", "task.admitted", "task.submitted", "task.completed"]
    table = cli(env, "videos", "timeline", video_id)
    assert table.returncode == 0, table.stderr
    assert "task.completed" in table.stdout

    missing = cli(env, "videos", "timeline", "video_nothing")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == ["vidugate: No video 'video_nothing'."]

    listed = cli(env, "upstream", "accounts", "--json")
    assert listed.returncode == 0, listed.stderr
    (sandbox,) = json.loads(listed.stdout)["data"]
    assert (sandbox["id"], sandbox["health"], sandbox["running"]) == ("sandbox", "active", 0)
    assert "sandbox" in cli(env, "upstream", "accounts").stdout
