"""Browser tests of the playground: Playwright (PyPI) driving Debian's chromium at
/usr/bin/chromium (nothing is downloaded; `playwright install` is never run) against a
gateway served in the test process. Every wait is on the page's state, never a sleep.

Without chromium the tests skip on a workstation and fail on CI (.ci/run installs it).
`pytest tests/browser --screenshots` also saves the pages people look at into
docs/screenshots/ (scripts/screenshots)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from inprocess import InProcessGateway
from pagelib import Shot, sign_in

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# A loaded two-core machine renders and polls slowly; a page state not reached in this
# long is a failure, whatever the machine.
WAIT_MS = 90_000

# pace 1: a clip renders for as long as it lasts, so a 10 s one can be cancelled meanwhile.
SETTINGS = {"VIDUGATE_SANDBOX_PACE": "1"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="save the playground's pages to docs/screenshots/ (scripts/screenshots)",
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        problem = "no /usr/bin/chromium (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the browser tests: {problem}")
        pytest.skip(problem)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessGateway]:
    gateway = InProcessGateway(tmp_path_factory.mktemp("browser"), settings=SETTINGS).start()
    yield gateway
    gateway.stop()
    log = gateway.all_logs()  # as tests/conftest.py's assert_clean_log: a 500 is a bug
    assert "api.unhandled" not in log, log
    assert "Traceback" not in log, log


@pytest.fixture
def page(browser: Browser, gw: InProcessGateway) -> Iterator[Page]:
    """A fresh browser profile on the playground, signed in with a key of its own (so each
    test's history holds its own videos), its console errors collected and asserted none."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(gw.base_url + "/")
    sign_in(page, gw.new_key("browser"))
    yield page
    context.close()
    # The CSP forbids anything not same-origin: a violation would be a console error.
    assert [p for p in problems if "status of 4" not in p] == [], problems


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Shot:
    """shot(page, name): with --screenshots, the page as it is now, for the README."""
    wanted = bool(request.config.getoption("--screenshots"))

    def shot(page: Page, name: str) -> None:
        if wanted:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shot
