"""What is observed from inside the process, with no clock: the app runs in-process
(httpx's ASGITransport, lifespan and all) on a real database.

Another key's task and a missing one take the same path: the same queries, in the same
number, whatever the cache holds, so not even timing tells them apart (every statement
sent is recorded from the engine). And the caches hold one entry per task whatever the
Host, within their byte budgets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import event

from dblib import fresh_database_url
from gatewaylib import SECRET
from vidugate.app import create_app
from vidugate.bootstrap import Gateway
from vidugate.settings import Role, Settings

pytestmark = pytest.mark.asyncio

MISSING = "video_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
BUDGET = 4 * 1024 * 1024
FAST = {"model": "viduq2-turbo", "prompt": "a red kite", "duration": 1, "resolution": "540p"}


@dataclass
class Statements:
    seen: list[str] = field(default_factory=list)

    def on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement)

    def take(self) -> list[str]:
        """The statements since the last take (their text: values are bound apart)."""
        taken, self.seen = self.seen, []
        return [re.sub(r"\s+", " ", statement) for statement in taken]


@dataclass
class App:
    app: FastAPI
    gateway: Gateway
    statements: Statements

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://gateway.test",
            headers={"Authorization": f"Bearer {token}"},
        )


@pytest_asyncio.fixture
async def running(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=fresh_database_url(tmp_path),
        secret=SecretStr(SECRET),
        role=Role.API,  # no workers: the tasks stay as made, and no statement is theirs
        task_cache_bytes=BUDGET,
        render_cache_bytes=BUDGET,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        gateway: Gateway = app.state.gateway
        statements = Statements()
        engine = gateway.database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", statements.on_execute)
        try:
            yield App(app, gateway, statements)
        finally:
            event.remove(engine, "before_cursor_execute", statements.on_execute)


async def test_another_keys_task_takes_the_path_of_a_missing_one(running: App) -> None:
    _, owner_token = await running.gateway.keys.create("owner")
    _, stranger_token = await running.gateway.keys.create("stranger")
    async with running.client(owner_token) as owner, running.client(stranger_token) as stranger:
        created = await owner.post("/v1/videos", json=FAST)
        assert created.status_code == 200, created.text
        theirs = created.json()["id"]
        assert (await owner.get(f"/v1/videos/{theirs}")).status_code == 200  # now cached
        await stranger.get("/v1/videos")  # the stranger's key is looked up, and kept
        paths = {
            "status": "/v1/videos/{}",
            "content": "/v1/videos/{}/content",
            "cancel": "/v1/videos/{}/cancel",
            "delete": "/v1/videos/{}",
            "vidu status": "/vidu/ent/v2/tasks/{}/creations",
        }
        for name, path in paths.items():
            method = {"cancel": "POST", "delete": "DELETE"}.get(name, "GET")
            seen: dict[str, list[list[str]]] = {}
            for task_id in (theirs, MISSING, theirs, MISSING):
                running.statements.take()
                answer = await stranger.request(method, path.format(task_id))
                assert answer.status_code == 404, (name, answer.text)
                seen.setdefault(task_id, []).append(running.statements.take())
            assert seen[theirs] == seen[MISSING], name
            assert all(statements for statements in seen[MISSING]), name  # a query each time
    async with running.client(owner_token) as owner:
        assert (await owner.get(f"/v1/videos/{theirs}")).status_code == 200


async def test_caches_keep_one_entry_per_task_within_their_byte_budgets(running: App) -> None:
    _, token = await running.gateway.keys.create("cached")
    rendered = running.app.state.rendered_videos
    big = {**FAST, "payload": "x" * 100_000}
    async with running.client(token) as client:
        ids = [(await client.post("/v1/videos", json=big)).json()["id"] for _ in range(3)]
        for host in range(50):
            for video_id in ids:
                for dialect in ({}, {"X-Stainless-Lang": "python"}):
                    headers = {"Host": f"h{host}.example", **dialect}
                    answer = await client.get(f"/v1/videos/{video_id}", headers=headers)
                    assert answer.status_code == 200
        entries, size = rendered.size
        assert entries == 2 * len(ids)  # per task and dialect; not per Host
        assert size < 2 * len(ids) * 110_000
        for _ in range(60):  # ~6 MB of tasks, more than either budget
            created = await client.post("/v1/videos", json=big)
            assert (await client.get(f"/v1/videos/{created.json()['id']}")).status_code == 200
        assert rendered.size[1] <= BUDGET
        assert running.gateway.tasks.size[1] <= BUDGET
        assert 0 < running.gateway.tasks.size[0] < 60
