"""Vidu's signed callbacks into the gateway: signed as Vidu's worked example signs them,
accepted; refused when tampered, stale, replayed (whatever the replay's body) or unsigned,
the last before its body is read; values from them cannot forge log lines; and callbacks
make tasks finish without waiting for the next poll.

Signatures are computed here with hmac/base64 from Vidu's page "callback-signature", not
with the project's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from emulatorlib import fast_config
from vidulib import KEY_A, vidu_gateway

from gatewaylib import Gateway, free_port, wait_final
from loglib import events
from vidugate.clock import ManualClock
from vidugate.emulator.signing import string_to_sign as emulator_string_to_sign
from vidugate.errors import PermissionDeniedError
from vidugate.providers.vidu.callbacks import CallbackVerifier, string_to_sign
from vidugate.providers.vidu.client import Account

pytestmark = pytest.mark.slow

PATH = "/v1/upstream/vidu/callback"

# Vidu's worked example, from its page "callback-signature".
VIDU_DATE = "Tue, 06 May 2025 12:09:42 GMT"
VIDU_NONCE = "123e4567-e89b-12d3-a456-426614174000"
VIDU_STRING = (
    "POST\n/vidu/callback\nname=james&age=36\nvidu\nTue, 06 May 2025 12:09:42 GMT\n"
    "Date:Tue, 06 May 2025 12:09:42 GMT\nx-request-nonce:123e4567-e89b-12d3-a456-426614174000\n"
)


def hmac_b64(key: str, text: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()


def signed_headers(
    key: str,
    *,
    nonce: str,
    date: str | None = None,
    path: str = PATH,
    query: str = "",
    listed: tuple[str, ...] = ("Date", "x-request-nonce"),
) -> dict[str, str]:
    """Headers as Vidu sends them (`Date;x-request-nonce` signed), or with other `listed`
    headers signed; each written into the string with its name as listed."""
    date = date or formatdate(time.time(), usegmt=True)
    values = {"date": date, "x-request-nonce": nonce}
    text = f"POST\n{path}\n{query}\nvidu\n{date}\n"
    text += "".join(f"{name}:{values[name.lower()]}\n" for name in listed)
    return {
        "Content-Type": "application/json",
        "Date": date,
        "x-request-nonce": nonce,
        "X-HMAC-SIGNED-HEADERS": ";".join(listed),
        "X-HMAC-ALGORITHM": "hmac-sha256",
        "X-HMAC-ACCESS-KEY": "vidu",
        "X-HMAC-SIGNATURE": hmac_b64(key, text),
    }


def test_vidus_worked_example_is_signed_and_verified_byte_for_byte() -> None:
    listed = [("Date", VIDU_DATE), ("x-request-nonce", VIDU_NONCE)]
    query = "name=james&age=36"
    assert string_to_sign("POST", "/vidu/callback", query, VIDU_DATE, listed) == VIDU_STRING
    emulator = emulator_string_to_sign("POST", "/vidu/callback", query, VIDU_DATE, dict(listed))
    assert emulator == VIDU_STRING
    account = Account("acct", "some-key", "http://vidu", 1.0, 1, {})
    clock = ManualClock(now=parsedate_to_datetime(VIDU_DATE).timestamp())
    verifier = CallbackVerifier([account], clock=clock)
    headers = {
        # Looked up whatever their case; signed with the names as X-HMAC-SIGNED-HEADERS lists.
        "DATE": VIDU_DATE,
        "X-Request-Nonce": VIDU_NONCE,
        "X-HMAC-SIGNED-HEADERS": "Date;x-request-nonce",
        "X-HMAC-ALGORITHM": "hmac-sha256",
        "X-HMAC-ACCESS-KEY": "vidu",
        "X-HMAC-SIGNATURE": hmac_b64("some-key", VIDU_STRING),
    }
    signed = verifier.verify("POST", "/vidu/callback", query, headers)
    assert (signed.account, signed.nonce) == ("acct", VIDU_NONCE)
    with pytest.raises(PermissionDeniedError, match="signature"):
        verifier.verify("POST", "/vidu/callback", "age=36&name=james", headers)  # reordered


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    path = tmp_path_factory.mktemp("callbacks")
    with vidu_gateway(path, config=fast_config(result_mode="fixed")) as (running, _emu):
        yield running


def _post(
    gateway: Gateway, body: object, headers: dict[str, str], query: str = ""
) -> httpx.Response:
    url = f"{gateway.base_url}{PATH}" + (f"?{query}" if query else "")
    return httpx.post(url, content=json.dumps(body).encode(), headers=headers)


def test_signatures_are_checked(gateway: Gateway) -> None:
    body = {"id": "123", "state": "success"}
    good = signed_headers(KEY_A, nonce="n-1")
    assert _post(gateway, body, good).status_code == 200
    replayed = _post(gateway, body, good)
    assert replayed.status_code == 403
    assert "replay" in replayed.json()["error"]["message"]
    # The query as it stands in the URL: in its own order, escapes kept.
    query = "name=james&age=%7e36"
    with_query = signed_headers(KEY_A, nonce="n-q", query=query)
    assert _post(gateway, body, with_query, query).status_code == 200
    reordered = signed_headers(KEY_A, nonce="n-r", query="age=%7e36&name=james")
    assert _post(gateway, body, reordered, query).status_code == 403

    tampered = {**signed_headers(KEY_A, nonce="n-2"), "x-request-nonce": "n-3"}
    assert _post(gateway, body, tampered).status_code == 403
    wrong_key = signed_headers("someone-else", nonce="n-4")
    assert _post(gateway, body, wrong_key).status_code == 403
    stale_date = formatdate(time.time() - 3600, usegmt=True)
    stale = _post(gateway, body, signed_headers(KEY_A, nonce="n-5", date=stale_date))
    assert stale.status_code == 403
    assert "Date" in stale.json()["error"]["message"]
    odd = {**signed_headers(KEY_A, nonce="n-6"), "X-HMAC-SIGNATURE": "s\u00e9gnature"}
    raw = [(name.encode(), value.encode("latin-1")) for name, value in odd.items()]
    non_ascii = httpx.post(f"{gateway.base_url}{PATH}", content=b"{}", headers=raw)
    assert non_ascii.status_code == 403  # not a 500
    unsigned = _post(gateway, body, {"Content-Type": "application/json"})
    assert unsigned.status_code == 403
    elsewhere = httpx.post(f"{gateway.base_url}/v1/upstream/sandbox/callback", content=b"{}")
    assert elsewhere.status_code == 404


def test_a_nonce_is_used_once_whatever_the_body_says(gateway: Gateway) -> None:
    headers = signed_headers(KEY_A, nonce="n-processing", listed=("x-request-nonce",))
    assert _post(gateway, {"id": "123", "state": "processing"}, headers).status_code == 200
    again = _post(gateway, {"id": "123", "state": "success"}, headers)
    assert again.status_code == 403
    assert "replay" in again.json()["error"]["message"]


def _read_status_line(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def test_an_unsigned_body_is_refused_before_it_is_read(gateway: Gateway) -> None:
    # 3 MB announced (under the 4 MB cap), 1 KB sent: the answer can only come before the
    # body if the gateway did not wait to read it.
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {3 * 1024 * 1024}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=60) as sock:
        sock.sendall(head + b"{" + b" " * 1023)
        assert _read_status_line(sock) == b"HTTP/1.1 403 Forbidden"
    # Signed, it is read and taken.
    signed = signed_headers(KEY_A, nonce="n-big")
    big = {"id": "9", "state": "success", "pad": "x" * 1_000_000}
    assert _post(gateway, big, signed).status_code == 200


def test_values_from_a_callback_cannot_forge_log_lines(gateway: Gateway) -> None:
    forged = "a\nINJECTED callback.received task_id=x\r\u2028\u0085\x1b[2J"
    headers = signed_headers(KEY_A, nonce="n-log", listed=("x-request-nonce",))
    assert _post(gateway, {"id": forged, "state": "success"}, headers).status_code == 200
    log = gateway.log()
    # The value is one field of one line, whole, and nothing in it reached the log raw.
    assert events(log, "callback.no_active_task", upstream_id=forged)
    for line in log.split("\n"):
        assert not line.startswith("INJECTED"), line
        assert line.isprintable(), line
        assert line.isascii() or not line.startswith("{"), line  # the banner has box lines


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
        assert "invalid_signature" not in gw.log()


def test_a_callback_through_a_proxy_that_strips_a_path_prefix_is_accepted(
    tmp_path: Path,
) -> None:
    """Vidu signs the callback URL the gateway gave it (under VIDUGATE_PUBLIC_BASE_URL,
    here with a /gw prefix); a proxy that strips the prefix must not make it a forgery."""
    port = free_port()
    settings = {"VIDUGATE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}/gw"}
    with vidu_gateway(tmp_path, settings=settings, port=port) as (gw, _emu):
        body = {"id": "123", "state": "success"}
        given = signed_headers(KEY_A, nonce="n-prefix", path=f"/gw{PATH}")
        assert _post(gw, body, given).status_code == 200
        # Still only with the right key, and still once.
        assert _post(gw, body, given).status_code == 403
        forged = signed_headers("someone-else", nonce="n-prefix-2", path=f"/gw{PATH}")
        assert _post(gw, body, forged).status_code == 403
