"""The console's browser tests' plugin (tests/conftest.py loads it beside pagelib) and what
they do through the API.

Fixtures: `console_gw` (one gateway per test module, served in the test process, with prices
in force, webhooks allowed to loopback and an upstream credit value for the margin; its
settings from `console_settings`, which a module may override), and
`console` (a fresh browser profile on /console, signed in with the gateway's admin key).
`Operator` sets things up and checks them over the admin API, as another admin would;
`receiving_in_thread` runs tests/webhooks/receiverlib's receiver on its own event loop
(Playwright's sync API holds the test thread's)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from receiverlib import Receiver, receiving

from adminlib import CLIP, PRICES
from gatewaylib import wait_final
from inprocess import InProcessGateway
from pagelib import fresh_page
from vidugate.domain.keys import KeyRole
from vidugate.domain.ledger import DEFAULT_TENANT

SETTINGS = {
    "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.0/8"]',  # the tests' webhook receiver
    "VIDUGATE_WEBHOOK_RETRY_FIRST_SECONDS": "0.2",
    "VIDUGATE_UPSTREAM_CREDIT_VALUE": "0.01",
    "VIDUGATE_KEY_CACHE_SECONDS": "1",
}


@dataclass
class Operator:
    """The console's gateway, and an admin's client on it."""

    gw: InProcessGateway
    token: str
    admin: httpx.Client

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of an admin call that must succeed."""
        response = self.admin.request(method, f"/admin/v1/{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def tenant_with_key(self, name: str, balance: str = "5.00") -> tuple[str, str]:
        """A tenant with this balance and a client key of its: (tenant id, token)."""
        tenant = self.ok("POST", "tenants", json={"name": name, "balance": balance})
        key = self.ok("POST", "keys", json={"tenant_id": tenant["id"], "name": f"{name}-app"})
        return tenant["id"], key["token"]

    def video(self, token: str, prompt: str = "a slow sunrise") -> dict[str, Any]:
        """A video made with this client key, once it has finished."""
        with self.gw.client(token) as client:
            made = client.post("/v1/videos", json={**CLIP, "prompt": prompt})
            assert made.status_code == 200, made.text
            return wait_final(client, made.json()["id"])


@pytest.fixture(scope="module")
def console_settings() -> dict[str, str]:
    """The console gateway's settings (a test module may override this fixture)."""
    return SETTINGS


@pytest.fixture(scope="module")
def console_gw(
    tmp_path_factory: pytest.TempPathFactory, console_settings: dict[str, str]
) -> Iterator[Operator]:
    data_dir = tmp_path_factory.mktemp("console")
    gw = InProcessGateway(data_dir, settings=console_settings).start()
    assert gw.app is not None
    billing = gw.app.state.gateway.billing
    _key, token = gw.run(billing.create_key(DEFAULT_TENANT, "console", role=KeyRole.ADMIN))
    with gw.client(token) as admin:
        operator = Operator(gw, str(token), admin)
        operator.ok("PUT", "prices", json=PRICES)
        yield operator
    gw.stop()
    log = gw.all_logs()  # as tests/conftest.py's assert_clean_log: a 500 is a bug
    assert "api.unhandled" not in log, log
    assert "Traceback" not in log, log


def sign_in_console(page: Page, key: str) -> None:
    page.get_by_label("Admin key").fill(key)
    page.get_by_role("button", name="Use key").click()


@pytest.fixture
def console(browser: Browser, console_gw: Operator) -> Iterator[Page]:
    """A fresh browser profile on the console, signed in with the admin key."""
    with fresh_page(browser, console_gw.gw.base_url + "/console") as page:
        sign_in_console(page, console_gw.token)
        expect(page.get_by_role("navigation", name="Console")).to_be_visible()
        yield page


def open_page(page: Page, name: str) -> None:
    """A page of the console, from its nav."""
    page.get_by_role("navigation", name="Console").get_by_role("link", name=name).click()
    expect(page.locator("main.page > h2").first).to_contain_text(name.split()[0])


def form(page: Page, name: str) -> Any:
    """The console's form of this name (data-form)."""
    return page.locator(f"form[data-form='{name}']")


@contextlib.contextmanager
def receiving_in_thread() -> Iterator[Receiver]:
    """A webhook receiver on loopback, served from a thread of its own."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    got: list[Receiver] = []
    stop = asyncio.Event()

    async def serve() -> None:
        async with receiving() as receiver:
            got.append(receiver)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30), "the receiver did not start"
    try:
        yield got[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
