"""The browser tests' plugin (tests/conftest.py loads it) and what they do on the page.

Playwright (PyPI) drives Debian's chromium at /usr/bin/chromium: nothing is downloaded and
`playwright install` is never run. Fixtures: `browser` (one per test module), `playground_gw`
(a gateway served in the test process, one per test module), `page` (a fresh
browser profile on the page, signed in with a key of its own), `screenshot`. Every wait
is on the page's state, never a sleep. Without chromium the tests skip on a workstation
and fail on CI (.ci/run installs it). `pytest tests/browser --screenshots` also saves the
pages people look at into docs/screenshots/ (scripts/screenshots)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from inprocess import InProcessGateway

Shot = Callable[[Page, str], None]  # the `screenshot` fixture: (page, name)

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
# A loaded two-core machine renders and polls slowly; a page state not reached in this
# long is a failure, whatever the machine.
WAIT_MS = 90_000

# pace 1: a clip renders for as long as it lasts, so a 10 s one can be cancelled meanwhile.
SETTINGS = {"VIDUGATE_SANDBOX_PACE": "1"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="save the playground's and the console's pages to docs/screenshots/ "
        "(scripts/screenshots)",
    )


# Per module, not per session: while Playwright's sync API is open, its event loop is the
# thread's running loop, and the asyncio tests collected after this module could not run.
@pytest.fixture(scope="module")
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
def playground_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessGateway]:
    gateway = InProcessGateway(tmp_path_factory.mktemp("browser"), settings=SETTINGS).start()
    yield gateway
    gateway.stop()
    log = gateway.all_logs()  # as tests/conftest.py's assert_clean_log: a 500 is a bug
    assert "api.unhandled" not in log, log
    assert "Traceback" not in log, log


@contextlib.contextmanager
def fresh_page(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh browser profile on `url`, its console errors collected and asserted none when
    the block ends (an API's 4xx, which the page shows, excepted)."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    yield page
    context.close()
    # The CSP forbids anything not same-origin: a violation would be a console error.
    assert [p for p in problems if "status of 4" not in p] == [], problems


@pytest.fixture
def page(browser: Browser, playground_gw: InProcessGateway) -> Iterator[Page]:
    """A fresh browser profile on the playground, signed in with a key of its own (so each
    test's history holds its own videos)."""
    with fresh_page(browser, playground_gw.base_url + "/") as page:
        sign_in(page, playground_gw.new_key("browser"))
        yield page


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Shot:
    """shot(page, name): with --screenshots, the page as it is now, for the README."""
    wanted = bool(request.config.getoption("--screenshots"))

    def shot(page: Page, name: str) -> None:
        if wanted:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shot


def sign_in(page: Page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(page.get_by_role("button", name="Generate")).to_be_visible()


def choose(page: Page, *, model: str = "viduq2-turbo", duration: str = "1", mode: str = "") -> None:
    """A short, small clip: the sandbox renders it in about a second."""
    page.get_by_label("Model").select_option(model)
    if mode:
        page.get_by_label(mode, exact=True).check()
    page.get_by_label("Duration (s)").select_option(duration)
    page.get_by_label("Resolution").select_option("540p")


def generate(page: Page, prompt: str) -> Locator:
    """Submits the form; answers the result panel of the video it made."""
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_role("button", name="Generate").click()
    watch = page.locator("section.watch[data-video]")
    expect(watch).to_be_visible()
    return watch


def picture(path: Path, width: int, height: int, colour: str = "skyblue") -> Path:
    """An image file to pick in the page (its format from the suffix)."""
    Image.new("RGB", (width, height), colour).save(path)
    return path
