"""A tenant's weight (fair scheduling): set over the admin API and the CLI, shown on the
tenant, refused outside 1..1000 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adminlib import error_of, operator
from gatewaylib import Gateway, cli


@pytest.mark.asyncio
async def test_the_admin_api_sets_a_tenant_weight(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False) as op:
        tenant_id, _key, _token = await op.tenant_with_key("0")
        assert (await op.admin.get(f"/admin/v1/tenants/{tenant_id}")).json()["weight"] == 1
        changed = await op.admin.patch(f"/admin/v1/tenants/{tenant_id}", json={"weight": 3})
        assert changed.status_code == 200, changed.text
        assert changed.json()["weight"] == 3
        assert changed.json()["overdraft"] == "0.00"  # the rest as it was
        for bad in (0, 1001, "two"):
            refused = await op.admin.patch(f"/admin/v1/tenants/{tenant_id}", json={"weight": bad})
            assert error_of(refused, 400)["param"] == "weight"
        again = await op.admin.get(f"/admin/v1/tenants/{tenant_id}")
        assert again.json()["weight"] == 3


def test_the_cli_sets_a_tenant_weight(tmp_path: Path) -> None:
    env = Gateway(tmp_path / "gw").env
    made = cli(env, "tenants", "create", "acme", "--json")
    assert made.returncode == 0, made.stderr
    tenant_id = json.loads(made.stdout)["id"]
    done = cli(env, "tenants", "weight", tenant_id, "2", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["weight"] == 2
    assert cli(env, "tenants", "weight", tenant_id, "0").returncode != 0
    missing = cli(env, "tenants", "weight", "tenant_nope", "2")
    assert missing.returncode != 0
    assert "tenant_nope" in missing.stderr
