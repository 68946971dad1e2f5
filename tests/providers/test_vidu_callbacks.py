"""Vidu's signed callbacks into the gateway: accepted, refused when tampered, stale or
replayed, and making tasks finish without waiting for the next poll."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from emulatorlib import fast_config
from vidulib import KEY_A, vidu_gateway

from gatewaylib import free_port, wait_final
from vidugate.emulator import sign_callback

pytestmark = pytest.mark.slow

PATH = "/v1/upstream/vidu/callback"


def signed_headers(key: str, *, nonce: str, date: str | None = None) -> dict[str, str]:
    date = date or formatdate(time.time(), usegmt=True)
    return {
        "Content-Type": "application/json",
        "Date": date,
        "x-request-nonce": nonce,
        "X-HMAC-SIGNED-HEADERS": "x-request-nonce",
        "X-HMAC-ALGORITHM": "hmac-sha256",
        "X-HMAC-ACCESS-KEY": "vidu",
        "X-HMAC-SIGNATURE": sign_callback("POST", PATH, "", date, {"x-request-nonce": nonce}, key),
    }


def test_callbacks_finish_tasks_without_waiting_for_a_poll(tmp_path: Path) -> None:
    port = free_port()
    settings = {
        "VIDUGATE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "VIDUGATE_VIDU_POLL_SECONDS": "600",  # polling alone would take ten minutes
    }
    config = fast_config(result_mode="fixed")
    with (
        vidu_gateway(tmp_path, config=config, settings={**settings}, port=port) as (gw, emu),
        gw.client() as client,
    ):
        ids = [
            client.post(
                "/v1/videos",
                json={"model": "viduq3-pro", "prompt": f"c{i}", "duration": 1},
            ).json()["id"]
            for i in range(3)
        ]
        for video_id in ids:
            assert wait_final(client, video_id, timeout=30)["status"] == "completed"
        callbacks = emu.stats()["callbacks"]
        assert callbacks["sent"] >= 3


def test_signatures_are_checked(tmp_path: Path) -> None:
    body = b'{"id": "123", "state": "success"}'
    with vidu_gateway(tmp_path, config=fast_config(result_mode="fixed")) as (gateway, _emu):
        url = f"{gateway.base_url}{PATH}"
        good = signed_headers(KEY_A, nonce="n-1")
        assert httpx.post(url, content=body, headers=good).status_code == 200
        replayed = httpx.post(url, content=body, headers=good)
        assert replayed.status_code == 403
        assert "replay" in replayed.json()["error"]["message"]

        tampered = {**signed_headers(KEY_A, nonce="n-2"), "x-request-nonce": "n-3"}
        assert httpx.post(url, content=body, headers=tampered).status_code == 403
        wrong_key = signed_headers("someone-else", nonce="n-4")
        assert httpx.post(url, content=body, headers=wrong_key).status_code == 403
        stale_date = formatdate(time.time() - 3600, usegmt=True)
        stale = httpx.post(
            url, content=body, headers=signed_headers(KEY_A, nonce="n-5", date=stale_date)
        )
        assert stale.status_code == 403
        assert "Date" in stale.json()["error"]["message"]
        unsigned = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 403
        elsewhere = httpx.post(f"{gateway.base_url}/v1/upstream/sandbox/callback", content=body)
        assert elsewhere.status_code == 404
