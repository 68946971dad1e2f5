"""Bodies that are too large or too slow are cut off: memory stays bounded by the caps, not
by what a client sends, and no client holds a connection (and the request behind it) for
longer than the body limits allow (api/limits.py).

A gateway of its own: small caps (an 8 MiB image, so a ~19 MB body) and short body limits,
and its memory peak can be reset and read for each upload. The requests go over raw
sockets, so the test reads the answer while it is still sending, as the gateway means it
to be read, and sees whether the gateway closes the connection."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clusterlib import report

from gatewaylib import Gateway

pytestmark = [pytest.mark.slow, pytest.mark.process]

MB = 1024 * 1024
HUGE = 300 * MB
CHUNK = MB
STALL_SECONDS = 2
TOTAL_SECONDS = 6
# Not a speed requirement: only "cut off rather than waiting forever".
CEILING = 60.0


@pytest.fixture(scope="module")
def gateway_small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = Gateway(
        tmp_path_factory.mktemp("limits"),
        settings={
            "VIDUGATE_MAX_IMAGE_BYTES": str(8 * MB),
            "VIDUGATE_BODY_STALL_SECONDS": str(STALL_SECONDS),
            "VIDUGATE_BODY_TIMEOUT_SECONDS": str(TOTAL_SECONDS),
        },
    ).start()
    yield gw
    gw.stop()
    # As the session gateway's check (tests/conftest.py): an unexpected exception is a bug.
    log = gw.all_logs()
    assert "api.unhandled" not in log, log
    assert "Traceback" not in log, log


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent_before_answer: int  # body bytes handed to the socket before the answer was in
    sent: int  # all the body bytes the gateway let through
    closed: bool  # the gateway closed the connection
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(
    gw: Gateway,
    path: str,
    headers: dict[str, str],
    chunks: Iterator[bytes],
    *,
    chunked: bool = True,
    pause: float = 0.0,
    finish: bool = True,
) -> Answer:
    """POST path with a body sent chunk by chunk (pause seconds apart), reading as it goes.
    Like a careless (or hostile) client it goes on sending after the answer, until its body
    ends or the gateway closes the connection; without finish, the body stops short and the
    socket waits. Gives up at CEILING."""
    start = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=CEILING)
    sock.setblocking(False)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{gw.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    pending = ("\r\n".join(lines) + "\r\n\r\n").encode()
    received, sent, sending, closed = b"", 0, True, False
    sent_before_answer = None
    try:
        while time.monotonic() - start < CEILING and not closed:
            if sending and not pending:
                chunk = next(chunks, None)
                if chunk is None:
                    pending, sending = (b"0\r\n\r\n" if chunked and finish else b""), False
                else:
                    time.sleep(pause)
                    sent += len(chunk)
                    pending = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 0.2)
            if readable:
                try:
                    data = sock.recv(MB)
                except ConnectionResetError:
                    data = b""
                closed, received = not data, received + data
                if sent_before_answer is None and _complete(received):
                    sent_before_answer = sent
            if writable and pending:
                try:
                    pending = pending[sock.send(pending) :]
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
    finally:
        sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1.1 "), received[:300]
    assert sent_before_answer is not None, received[:300]
    fields = dict(line.lower().split(": ", 1) for line in header_lines)
    return Answer(
        status=int(status_line.split()[1]),
        headers=fields,
        body=body,
        sent_before_answer=sent_before_answer,
        sent=sent,
        closed=closed,
        seconds=time.monotonic() - start,
    )


def _complete(received: bytes) -> bool:
    head, found, body = received.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return len(body) >= int(value)
    return False


@contextlib.contextmanager
def memory_peak(pid: int) -> Iterator[list[float]]:
    """The rise of the process's memory peak (VmHWM, reset on entry) over the block, in MB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _status_kb(pid, "VmRSS")
    growth: list[float] = []
    yield growth
    growth.append((_status_kb(pid, "VmHWM") - before) / 1024)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def repeated(block: bytes, total: int) -> Iterator[bytes]:
    for _ in range(total // len(block)):
        yield block


def auth(gw: Gateway, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.key}", **more}


def _multipart_huge() -> Iterator[bytes]:
    yield (
        b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nviduq3-pro\r\n'
        b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n'
        b'--b\r\nContent-Disposition: form-data; name="images"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n"
    )
    yield from repeated(os.urandom(CHUNK), HUGE)


def _json_huge(field: str) -> Iterator[bytes]:
    yield b'{"model": "viduq3-pro", "prompt": "x", "' + field.encode() + b'": "'
    yield from repeated(b"A" * CHUNK, HUGE)


BODIES = {
    "multipart": ("/v1/videos", "multipart/form-data; boundary=b", _multipart_huge),
    "json": ("/v1/videos", "application/json", lambda: _json_huge("images")),
    "vidu-json": ("/vidu/ent/v2/img2video", "application/json", lambda: _json_huge("images")),
    # The one route without a key: it must not hold whatever anyone sends either.
    "callback": ("/v1/upstream/vidu/callback", "application/json", lambda: _json_huge("payload")),
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_huge_streamed_body_is_refused_while_it_streams_in_bounded_memory(
    gateway_small: Gateway, kind: str
) -> None:
    path, content_type, body = BODIES[kind]
    assert gateway_small.process is not None
    headers = auth(gateway_small, **{"Content-Type": content_type})
    with memory_peak(gateway_small.process.pid) as growth:
        answer = exchange(gateway_small, path, headers, body())
    report(
        f"huge {kind} upload",
        streamed_mb=HUGE // MB,
        refused=answer.status,
        answered_after_mb=round(answer.sent_before_answer / MB),
        taken_mb=round(answer.sent / MB),
        memory_peak_growth_mb=round(growth[0], 1),
    )
    # A callback is refused on its headers before its body is read (this gateway takes none).
    assert answer.status == (404 if kind == "callback" else 413), (answer.status, answer.body[:300])
    assert answer.sent_before_answer < HUGE, "the whole body was taken before the answer"
    # Not read (and thrown away) to its end either: the connection was closed on it.
    assert answer.closed
    assert answer.sent < HUGE
    assert growth[0] < 64, f"memory peak rose {growth[0]:.0f} MB"


def test_a_declared_huge_body_is_refused_before_it_is_sent(gateway_small: Gateway) -> None:
    headers = auth(gateway_small, **{"Content-Type": "application/json"})
    headers["Content-Length"] = str(HUGE)
    answer = exchange(
        gateway_small, "/v1/videos", headers, repeated(b"A" * CHUNK, HUGE), chunked=False
    )
    assert answer.status == 413, answer.body[:300]
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "too_large")
    assert answer.closed
    assert answer.sent < HUGE


def trickle(count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield b"{"


@pytest.mark.parametrize(
    ("path", "how"),
    [
        ("/v1/videos", "stall"),
        ("/v1/videos", "trickle"),
        ("/vidu/ent/v2/text2video", "stall"),
        ("/vidu/ent/v2/tasks/video_01ZZZZZZZZZZZZZZZZZZZZZZZZ/cancel", "trickle"),
    ],
)
def test_a_slow_body_is_cut_off_and_its_connection_closed(
    gateway_small: Gateway, path: str, how: str
) -> None:
    """A body that stops (stall) or that keeps coming a byte at a time, never finishing
    (trickle): the first is cut at the stall limit, the second at the whole-body limit."""
    # Within every route's cap (a cancel takes 64 KB): only the time limits can stop it.
    headers = auth(gateway_small, **{"Content-Type": "application/json", "Content-Length": "1000"})
    if how == "stall":  # one byte, then silence
        answer = exchange(gateway_small, path, headers, trickle(1), chunked=False, finish=False)
    else:
        answer = exchange(gateway_small, path, headers, trickle(10**6), chunked=False, pause=0.5)
    assert answer.status == 408, answer.body[:300]
    body = answer.json()
    if path.startswith("/vidu/"):
        assert body["code"] == 408
        message = body["message"]
    else:
        assert body["error"]["code"] == "request_timeout"
        message = body["error"]["message"]
    # Which limit cut it: a trickle never stalls, so only the whole-body one can.
    assert ("sent nothing" if how == "stall" else "did not arrive in full") in message
    assert answer.headers.get("connection") == "close"
    # How long the gateway waited is its own business (the limits are its settings); that
    # it stopped, before CEILING, is the point.
    assert answer.closed, "the connection was left open"


def test_an_answer_before_the_body_closes_the_connection(gateway_small: Gateway) -> None:
    """A route that answers without reading the body (here: no key) must not leave the
    rest of a trickled body to arrive for as long as the client likes."""
    headers = {"Authorization": "Bearer wrong", "Content-Type": "application/json"}
    headers["Content-Length"] = "1000"
    answer = exchange(
        gateway_small, "/v1/videos", headers, trickle(10**6), chunked=False, pause=0.5
    )
    assert answer.status == 401
    assert answer.closed, "the connection was left open to the trickle"
