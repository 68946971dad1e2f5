"""Deadlines, content expiry and row retention through the HTTP API, in the test process
(the app with its lifespan, workers, sweeper and sandbox renders) on a ManualClock: time is
moved to the moment that matters, never waited out. Only the sandbox's renders run in real
time, in their own processes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from conftest import image_bytes
from inprocess import asgi_client, gateway_settings, running_app
from vidugate.clock import ManualClock

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

CLIP = {"model": "viduq2-turbo", "prompt": "a slow sunrise", "duration": 1, "resolution": "540p"}
DAY = 24 * 3600
STEP = 0.25  # the sandbox's poll interval: each move of the clock is one more look
TRIES = 4000


async def new_key(app: FastAPI) -> str:
    _key, token = await app.state.gateway.keys.create("test")
    return str(token)


async def until(
    clock: ManualClock,
    client: httpx.AsyncClient,
    video_id: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    step: float = STEP,
) -> dict[str, Any]:
    """Poll the video, moving the clock by `step` between polls, until `done(body)`; the
    bound on tries only ends a broken run (the renders take real time)."""
    for _ in range(TRIES):
        body: dict[str, Any] = (await client.get(f"/v1/videos/{video_id}")).json()
        if done(body):
            return body
        clock.advance(step)
        await asyncio.sleep(0.01)
    raise AssertionError(f"{video_id} never got there: {body}")


def files_of(data_dir: Path, video_id: str) -> list[Path]:
    found = [*(data_dir / "media").rglob("*"), *(data_dir / "work").rglob("*")]
    return [p for p in found if video_id in str(p) and p.is_file()]


async def test_deadline_fails_a_stuck_task(tmp_path: Path) -> None:
    clock = ManualClock()
    # pace 10: a 4-second video renders for 40 real seconds, long past the 2-second
    # deadline the clock reaches in a few looks.
    settings = gateway_settings(tmp_path, sandbox_pace=10.0, task_deadline_seconds=2.0)
    async with (
        running_app(settings, clock) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        created = (await client.post("/v1/videos", json={**CLIP, "duration": 4})).json()
        body = await until(clock, client, created["id"], lambda v: v["status"] != "queued")
        assert body["status"] == "processing"
        done = await until(clock, client, created["id"], lambda v: v["status"] == "failed")
        assert done["error"]["code"] == "timeout"
        assert "deadline" in done["error"]["message"]
        # The render is stopped and its files are gone.
        await until(clock, client, created["id"], lambda _: not files_of(tmp_path, created["id"]))


async def test_content_expires(tmp_path: Path) -> None:
    clock = ManualClock()
    # A day's keep: the polls move the clock a step each while the render runs in real time,
    # and on a loaded machine a short keep would run out before the poll that sees completion.
    settings = gateway_settings(tmp_path, retention_seconds=DAY)
    async with (
        running_app(settings, clock) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        created = (await client.post("/v1/videos", json=CLIP)).json()
        done = await until(clock, client, created["id"], lambda v: v["status"] == "completed")
        assert done["expires_at"] - done["completed_at"] == DAY
        assert done["video_url"] is not None
        assert (await client.get(f"/v1/videos/{created['id']}/content")).status_code == 200
        # From its keep-until time, no links and no content (410), whether or not the files
        # are gone yet; the next sweep (every minute) removes them.
        clock.advance(DAY)
        gone = (await client.get(f"/v1/videos/{created['id']}")).json()
        assert (gone["status"], gone["video_url"]) == ("completed", None)
        answer = await client.get(f"/v1/videos/{created['id']}/content")
        assert answer.status_code == 410
        assert answer.json()["error"]["code"] == "expired"
        stored = tmp_path / "media" / "videos" / created["id"]
        await until(clock, client, created["id"], lambda _: not stored.exists(), step=30)


async def test_inputs_go_once_finished_and_old_rows_with_their_idempotency_keys(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    async with (
        running_app(gateway_settings(tmp_path), clock) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        fields = {k: str(v) for k, v in CLIP.items()}

        async def create() -> httpx.Response:
            return await client.post(
                "/v1/videos",
                data=fields,
                files={"images": ("a.png", image_bytes())},
                headers={"Idempotency-Key": "k0"},
            )

        created = (await create()).json()
        inputs = tmp_path / "media" / "inputs" / created["id"]
        assert (inputs / "image0").exists()
        await until(clock, client, created["id"], lambda v: v["status"] == "completed")
        # What made the video goes once it has finished; the video itself is kept.
        await until(clock, client, created["id"], lambda _: not inputs.exists())
        assert (await client.get(f"/v1/videos/{created['id']}/content")).status_code == 200
        assert (await create()).json()["id"] == created["id"]  # the key's task
        # 31 days on (past the default 30), a sweep purges the row and its key.
        clock.advance(31 * DAY)
        for _ in range(TRIES):
            if (await client.get(f"/v1/videos/{created['id']}")).status_code == 404:
                break
            # The clock goes on: a sweep that was running when it jumped sleeps its
            # interval from then, and must wake again.
            clock.advance(1)
            await asyncio.sleep(0.01)
        assert (await client.get(f"/v1/videos/{created['id']}")).status_code == 404
        assert not (tmp_path / "media" / "videos" / created["id"]).exists()
        fresh = await create()
        assert fresh.status_code == 200
        assert fresh.json()["id"] != created["id"]
