"""Upstream calls in /metrics, against the Vidu emulator on loopback: by account (its name,
never its key), endpoint (a template, never a task id) and outcome, as many as the
emulator answered."""

from __future__ import annotations

from pathlib import Path

from emulatorlib import KEY_A, fast_config
from metricslib import Scraped
from vidulib import vidu_gateway

from gatewaylib import Gateway, wait_final

TOKEN = "scrape-token-for-the-upstream-tests"
CALLS = "vidugate_upstream_calls_total"


def _scrape(gateway: Gateway) -> tuple[str, Scraped]:
    with gateway.client(TOKEN) as client:
        text = client.get("/metrics").text
    return text, Scraped.parse(text)


def test_upstream_calls_are_counted_by_account_endpoint_and_outcome(tmp_path: Path) -> None:
    settings = {"VIDUGATE_METRICS_TOKEN": TOKEN}
    config = fast_config(result_mode="fixed")
    # An account of this test's own: the counters are the test process's, and other
    # tests' gateways call accounts named "a".
    keys = {"metered": KEY_A}
    with vidu_gateway(tmp_path, config=config, keys=keys, settings=settings) as (
        gateway,
        emulator,
    ):
        with gateway.client() as client:
            ids = [
                client.post(
                    "/v1/videos", json={"model": "viduq3-pro", "prompt": f"up {i}", "duration": 1}
                ).json()["id"]
                for i in range(2)
            ]
            assert [wait_final(client, i)["status"] for i in ids] == ["completed"] * 2
        # The emulator's counts and a scrape, taken with no call in between.
        for _ in range(20):
            before = emulator.stats()
            text, scraped = _scrape(gateway)
            if emulator.stats() == before:
                break
        stats = before
    assert scraped.value(CALLS, account="metered", endpoint="/ent/v2/text2video", outcome="ok") == 2
    assert stats["creates_accepted"] == 2
    polls = scraped.value(
        CALLS, account="metered", endpoint="/ent/v2/tasks/{id}/creations", outcome="ok"
    )
    assert polls == stats["polls"] > 0
    assert (
        scraped.value(CALLS, account="metered", endpoint="/ent/v2/credits", outcome="ok")
        == stats["credit_queries"]
    )
    mine = scraped.total(CALLS, account="metered")
    assert scraped.total(CALLS, account="metered", outcome="ok") == mine
    assert scraped.total("vidugate_upstream_call_duration_seconds_count", account="metered") == mine
    assert scraped.total("vidugate_result_copy_bytes_total", provider="vidu") > 0
    endpoints = {dict(labels)["endpoint"] for name, labels in scraped.samples if name == CALLS}
    assert not any("video_" in e or e.count("/") > 5 for e in endpoints), endpoints
    assert KEY_A not in text
