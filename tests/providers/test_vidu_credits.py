"""Routing by credits: each task goes to an account that can still pay for it, priced from
Vidu's credit table, with balances read from `GET /ent/v2/credits` (the emulator's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulatorlib import fast_config
from vidulib import KEY_A, upstream_of, vidu_gateway, wait_until

from conftest import assert_clean_log
from gatewaylib import wait_final
from loglib import events
from vidugate.domain.models import Mode
from vidugate.domain.request import VideoFields, build_request
from vidugate.providers.vidu.credits import remaining_credits
from vidugate.providers.vidu.pricing import estimate

# The poor account ("poor" in fast_config) has 5 credits: enough for SMALL only.
SMALL: dict[str, Any] = {"model": "viduq3-pro", "duration": 1, "resolution": "540p"}
BIG: dict[str, Any] = {"model": "viduq3-pro", "duration": 16, "resolution": "1080p"}


def priced(mode: Mode = Mode.TEXT, count: int = 0, **fields: Any) -> float | None:
    request = build_request(VideoFields(**{"prompt": "p", **fields}), mode=mode, image_count=count)
    return estimate(request, request.model)


def test_prices_follow_the_table() -> None:
    small, big = priced(**SMALL), priced(**BIG)
    assert small is not None
    assert big is not None
    assert small < 5 < big
    five = priced(model="viduq3-pro", duration=5, resolution="720p")
    assert five is not None
    off_peak = priced(model="viduq3-pro", duration=5, resolution="720p", off_peak=True)
    assert off_peak == five / 2
    with_rec = priced(Mode.IMAGE, 1, model="viduq3-pro", duration=5, is_rec=True)
    assert with_rec == priced(Mode.IMAGE, 1, model="viduq3-pro", duration=5) + 10  # type: ignore[operator]
    request = build_request(VideoFields(model="viduq2", prompt="p"), mode=Mode.TEXT, image_count=0)
    assert estimate(request, "a-model-vidu-added-later") is None


def test_the_credits_answer_is_read_as_vidu_documents_it() -> None:
    two_packages = {
        "remains": [
            {"type": "metered", "credit_remain": 120, "concurrency_limit": 5},
            {"type": "test", "credit_remain": 7.5},
        ]
    }
    assert remaining_credits(two_packages) == 127.5
    assert remaining_credits({"remaining_credits": [{"credit_remain": 3}]}) == 3
    for unreadable in ({}, {"remains": "lots"}, {"remains": [{"credit_remain": True}]}, [1]):
        assert remaining_credits(unreadable) is None


@pytest.mark.slow
def test_a_task_too_big_for_an_account_goes_elsewhere_and_a_small_one_still_uses_it(
    tmp_path: Path,
) -> None:
    keys = {"poor": "poor", "rich": KEY_A}
    # The poor account is (all but) always the first choice by weight.
    weights = {"poor": 1e9, "rich": 1e-9}
    config = fast_config(result_mode="fixed")
    with vidu_gateway(tmp_path, config=config, keys=keys, weights=weights) as (gateway, emu):
        with gateway.client() as client:
            big = client.post("/v1/videos", json={"prompt": "big", **BIG}).json()["id"]
            wait_until(lambda: bool(upstream_of(emu, big)), what="the big task upstream")
            small = client.post("/v1/videos", json={"prompt": "small", **SMALL}).json()["id"]
            assert wait_final(client, big)["status"] == "completed"
            assert wait_final(client, small)["status"] == "completed"
        # The big one went to the account that could pay for it; the poor account was not
        # parked for it, and took the small one it can afford.
        assert [t["account"] for t in upstream_of(emu, big)] == [KEY_A]
        assert [t["account"] for t in upstream_of(emu, small)] == ["poor"]
        assert emu.stats()["credit_queries"] >= 2
        log = gateway.all_logs()
        assert "upstream.account_exhausted" not in log
        assert events(log, "upstream.credits", account="poor", remain="5")
    assert_clean_log(gateway)


@pytest.mark.slow
def test_a_task_no_account_can_pay_for_fails_at_once_with_a_clear_code(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    with vidu_gateway(tmp_path, config=config, keys={"poor": "poor"}) as (gateway, emu):
        with gateway.client() as client:
            big = client.post("/v1/videos", json={"prompt": "big", **BIG}).json()["id"]
            done = wait_final(client, big, timeout=60)
            assert done["status"] == "failed"
            assert done["error"]["code"] == "insufficient_credits"
            assert "shorter or lower-resolution" in done["error"]["message"]
            assert "the most any account has is 5" in done["error"]["message"]
            # The account still serves what it can pay for, at once.
            small = client.post("/v1/videos", json={"prompt": "small", **SMALL}).json()["id"]
            assert wait_final(client, small)["status"] == "completed"
        assert upstream_of(emu, big) == []
        assert [t["account"] for t in upstream_of(emu, small)] == ["poor"]
        # Vidu was asked once (the price table is an estimate), refused, and the balance
        # re-read; nothing was charged.
        assert events(gateway.all_logs(), "upstream.credits_short", account="poor")
    assert_clean_log(gateway)
