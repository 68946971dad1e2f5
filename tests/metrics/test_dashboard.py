"""The docs keep step with /metrics: every metric a scrape declares is in docs/metrics.md,
and every expression of the Grafana dashboard names only metrics a scrape declares."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from inprocess import asgi_client, gateway_settings, running_app
from vidugate.domain.keys import KeyRole
from vidugate.domain.ledger import DEFAULT_TENANT

DOCS = Path(__file__).resolve().parents[2] / "docs"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


async def _declared(tmp_path: Path) -> dict[str, str]:
    """Each metric family a scrape declares (# TYPE lines), with its type."""
    async with running_app(gateway_settings(tmp_path)) as app:
        billing = app.state.gateway.billing
        _, token = await billing.create_key(DEFAULT_TENANT, "ops", role=KeyRole.ADMIN)
        async with asgi_client(app, token) as client:
            text = (await client.get("/metrics")).text
    found = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE)
    return {name.removesuffix("_total"): kind for name, kind in found}


@pytest.mark.asyncio
async def test_each_metric_is_documented_and_each_panel_names_real_ones(tmp_path: Path) -> None:
    declared = await _declared(tmp_path)
    assert len(declared) >= 19
    documented = (DOCS / "metrics.md").read_text()
    for family, kind in declared.items():
        shown = family + ("_total" if kind == "counter" else "")
        assert f"`{shown}`" in documented, shown
    samples = {family + s for family, kind in declared.items() for s in SUFFIXES[kind]}

    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\bvidugate_[a-z_]+", target["expr"]))
            assert names, target["expr"]
            assert names <= samples, (panel["title"], names - samples)
            used |= names
    # Every family is on the dashboard somewhere.
    on_it = {re.sub(r"_(bucket|count|sum|total)$", "", name) for name in used}
    assert set(declared) <= on_it, set(declared) - on_it
