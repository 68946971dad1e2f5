"""Limits set by the operator: the admin API (PATCH .../limits, shown in GET) and the CLI
(`vidugate keys limits`, `vidugate tenants limits`, shown in `keys list`/`tenants show`;
a revoke from the CLI cancels the key's queued videos)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from limitlib import BODY, app_with, client, new_key

from adminlib import operator
from gatewaylib import SECRET, cli
from inprocess import asgi_client
from vidugate.clock import ManualClock

pytestmark = pytest.mark.asyncio


async def test_admin_api_sets_shows_and_clears_limits(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False, role="api") as op:
        made = await op.admin.post("/admin/v1/tenants", json={"name": "acme"})
        tenant = made.json()["id"]
        made_key = await op.admin.post("/admin/v1/keys", json={"tenant_id": tenant, "name": "k"})
        assert made_key.status_code == 200, made_key.text
        key = made_key.json()
        patched = await op.admin.patch(
            f"/admin/v1/keys/{key['id']}/limits",
            json={"creates_per_minute": 1, "spend_per_day": "2.50"},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json() == {
            "requests_per_minute": None,
            "creates_per_minute": 1,
            "active_videos": None,
            "spend_per_day": "2.50",
        }
        listed = (await op.admin.get("/admin/v1/keys")).json()["data"]
        shown = next(k for k in listed if k["id"] == key["id"])
        assert shown["limits"]["creates_per_minute"] == 1
        tenant_patch = await op.admin.patch(
            f"/admin/v1/tenants/{tenant}/limits", json={"active_videos": 0}
        )
        assert tenant_patch.json()["active_videos"] == 0
        got = (await op.admin.get(f"/admin/v1/tenants/{tenant}")).json()
        assert got["limits"]["active_videos"] == 0
        async with asgi_client(op.app, key["token"]) as http:
            refused = await http.post("/v1/videos", json=BODY)
            assert refused.status_code == 429
            assert "unfinished videos at once for this key's tenant: 0" in refused.text
        cleared = await op.admin.patch(
            f"/admin/v1/tenants/{tenant}/limits", json={"active_videos": None}
        )
        assert cleared.json()["active_videos"] is None
        bad = await op.admin.patch(
            f"/admin/v1/keys/{key['id']}/limits", json={"requests_per_minute": 0}
        )
        assert bad.status_code == 400
        missing = await op.admin.patch("/admin/v1/keys/key_nope/limits", json={})
        assert missing.status_code == 404


async def test_changes_of_different_limits_at_once_all_stand(tmp_path: Path) -> None:
    # Each PATCH writes only the limits it names: two at once never undo each other.
    async with operator(tmp_path, prices=False, role="api") as op:
        tenant = (await op.admin.post("/admin/v1/tenants", json={"name": "acme"})).json()["id"]
        for round_ in range(1, 21):
            paths = (f"/admin/v1/tenants/{tenant}/limits",) * 2
            answers = await asyncio.gather(
                op.admin.patch(paths[0], json={"requests_per_minute": round_}),
                op.admin.patch(paths[1], json={"active_videos": round_}),
            )
            assert [a.status_code for a in answers] == [200, 200]
            limits = (await op.admin.get(f"/admin/v1/tenants/{tenant}")).json()["limits"]
            assert (limits["requests_per_minute"], limits["active_videos"]) == (round_, round_)


async def test_cli_limits_and_revoke(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        settings = app.state.settings
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")},
            "VIDUGATE_DATA_DIR": str(settings.data_dir),
            "VIDUGATE_DATABASE_URL": settings.database_url,
            "VIDUGATE_SECRET": SECRET,
        }
        key, token = await new_key(app)
        done = cli(env, "keys", "limits", key.id, "--active-videos", "2", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["limits"]["active_videos"] == 2
        listed = cli(env, "keys", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        shown = next(k for k in json.loads(listed.stdout) if k["id"] == key.id)
        assert shown["limits"]["active_videos"] == 2
        assert cli(env, "keys", "list").returncode == 0  # the table, with its limits column
        tenant_shown = cli(env, "tenants", "show", key.tenant_id)
        assert "limits: requests per minute: default" in tenant_shown.stdout
        tenant = cli(env, "tenants", "limits", key.tenant_id, "--requests-per-minute", "none")
        assert tenant.returncode == 0, tenant.stderr
        assert "requests per minute: default" in tenant.stdout
        usage = cli(env, "keys", "limits", key.id)
        assert usage.returncode == 2
        app.state.gateway.keys.forget()
        async with client(app, token) as http:
            made = [(await http.post("/v1/videos", json=BODY)).json()["id"] for _ in range(2)]
            assert (await http.post("/v1/videos", json=BODY)).status_code == 429
        revoked = cli(env, "keys", "revoke", key.id)
        assert revoked.returncode == 0, revoked.stderr
        for task_id in made:
            app.state.gateway.tasks.forget(task_id)
            task = await app.state.gateway.tasks.get(task_id)
            assert task is not None
            assert task.status.value == "cancelled"
