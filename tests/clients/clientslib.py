"""A gateway for real clients that poll: the sandbox takes at least three seconds per
second of video (VIDUGATE_SANDBOX_PACE), so every poll loop meets a video while it is being
made and sees the word it is told then; and it suggests 200 ms between polls. It is served
in the test process; the clients (LiteLLM's and Node's in processes of their own) reach it
over a loopback socket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import assert_clean_log
from gatewaylib import Gateway
from inprocess import InProcessGateway

PACE = "3"


@contextmanager
def paced_gateway(data_dir: Path) -> Iterator[Gateway]:
    gateway = InProcessGateway(
        data_dir, settings={"VIDUGATE_SANDBOX_PACE": PACE, "VIDUGATE_POLL_AFTER_MS": "200"}
    ).start()
    try:
        yield gateway
    finally:
        gateway.stop()
    assert_clean_log(gateway)
