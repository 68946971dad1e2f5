from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from clusterlib import FIGURES
from PIL import Image

import gatewaylib
from dblib import drop_created
from gatewaylib import Gateway
from inprocess import InProcessGateway

# The browser tests' fixtures and --screenshots (tests/browser), the console's beside them.
pytest_plugins = ["pagelib", "consolelib"]


@pytest.fixture(scope="session", autouse=True)
def databases() -> Iterator[None]:
    """Drops the run's PostgreSQL databases at the end (first set up, so last torn down)."""
    yield
    drop_created()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Only tests marked `process` may start `vidugate serve` as a child process (their
    fixtures included): the others run on the in-process tier (tests/inprocess.py)."""
    gatewaylib.PROCESS_ALLOWED = item.get_closest_marker("process") is not None


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway on the embedded defaults (SQLite, sandbox), shared by the API tests,
    served in the test process. Image URLs may reach 127.0.0.2 (the tests' image server)
    but not 127.0.0.1."""
    gw = InProcessGateway(
        tmp_path_factory.mktemp("gateway"),
        settings={
            "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.2/32"]',
            "VIDUGATE_KEY_CACHE_SECONDS": "1",
        },
    ).start()
    yield gw
    gw.stop()
    assert_clean_log(gw)


def assert_clean_log(gw: Gateway) -> None:
    """No request may have hit an unexpected exception (a 500 is a bug)."""
    log = gw.all_logs()
    assert "api.unhandled" not in log, log
    assert "Traceback" not in log, log


def image_bytes(width: int = 320, height: int = 240, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    for x in range(width // 2, width):
        for y in range(0, height, 4):
            image.putpixel((x, y), (30, 60, 220))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def png_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("images") / "image.png"
    path.write_bytes(image_bytes())
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The reliability suite's figures, at the end of the run (docs/reliability.md keeps
    a copy)."""
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
