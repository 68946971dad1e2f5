"""The console's upstream page in a real browser, on a gateway with a Vidu account ("a")
served by the emulator on loopback beside the sandbox: each line's health, credits and
slots; the account's credits read again, and an account the upstream refused (disabled)
reset by the operator, each checked through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from emulatorlib import KEY_A, RunningEmulator, fast_config, run_emulator
from playwright.sync_api import Page, expect

from consolelib import SETTINGS, Operator, open_page
from pagelib import Shot
from vidugate.domain.accounts import AccountHealth, AccountState

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(fast_config()) as running:
        yield running


@pytest.fixture(scope="module")
def console_settings(emulator: RunningEmulator) -> dict[str, str]:
    account = {"id": "a", "api_key": KEY_A, "base_url": emulator.base_url, "concurrency": 3}
    return {
        **SETTINGS,
        "VIDUGATE_PROVIDER": "vidu",
        "VIDUGATE_VIDU_ACCOUNTS": json.dumps([account]),
        "VIDUGATE_VIDU_CALLBACKS": "false",
    }


def line_of(console_gw: Operator, account: str) -> dict[str, object]:
    lines = console_gw.ok("GET", "upstream/accounts")["data"]
    return next(line for line in lines if line["id"] == account)


def test_the_accounts_health_credits_and_a_reset(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    open_page(console, "Upstream")
    table = console.get_by_test_id("upstream")
    sandbox = table.locator("tr[data-account='sandbox']")
    expect(sandbox).to_have_attribute("data-health", "active")
    expect(sandbox.get_by_role("button", name="refresh credits")).to_have_count(0)
    vidu = table.locator("tr[data-account='a']")
    expect(vidu).to_contain_text(console_gw.ok("GET", "upstream/accounts")["data"][0]["base_url"])
    expect(vidu.locator("svg[aria-label='0 of 3 running']")).to_be_visible()  # the slots bar

    vidu.get_by_role("button", name="refresh credits").click()
    expect(console.get_by_role("status")).to_have_text("a: 10000 credits.")
    expect(vidu.locator("td.num")).to_contain_text("10000")
    assert line_of(console_gw, "a")["credits"] == "10000"

    # What the gateway makes of a 401 from Vidu (providers/vidu/accounts.py).
    gateway = console_gw.gw.app.state.gateway  # type: ignore[union-attr]
    refused = AccountState("a", "vidu", AccountHealth.DISABLED, "401 Unauthorized")
    console_gw.gw.run(gateway.upstream.states.save(refused))
    open_page(console, "Overview")
    expect(console.get_by_test_id("overview-upstream")).to_contain_text("401 Unauthorized")
    open_page(console, "Upstream")
    expect(vidu).to_have_attribute("data-health", "disabled")
    expect(vidu).to_contain_text("401 Unauthorized")
    screenshot(console, "console-upstream")
    vidu.get_by_role("button", name="reset").click()
    expect(vidu).to_have_attribute("data-health", "active")
    expect(vidu).to_contain_text("reset by an operator")
    line = line_of(console_gw, "a")
    assert (line["health"], line["reason"]) == ("active", "reset by an operator")
