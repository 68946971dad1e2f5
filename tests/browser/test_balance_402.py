"""The playground on a gateway with prices: the quote and the balance shown, a video paid
for, and the next one refused with the API's 402 in its own words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from inprocess import InProcessGateway
from pagelib import Shot, choose, generate, sign_in
from vidugate.domain.ledger import LedgerKind
from vidugate.domain.price_documents import loads_prices

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PRICES = """
currency = "EUR"
decimals = 2
[[adjustments]]
when = "start-end2video"
add = "0.05"
[models."viduq2-turbo"]
per_second = { "540p" = "0.10", "720p" = "0.20", "1080p" = "0.40" }
"""


def customer_key(gw: InProcessGateway, balance: Decimal) -> str:
    """Prices in force (on this module's own gateway) and a tenant's key with `balance`."""
    assert gw.app is not None
    billing = gw.app.state.gateway.billing
    gw.run(billing.prices.set(loads_prices(PRICES, format="toml"), "browser test"))
    tenant = gw.run(billing.create_tenant("thrifty"))
    gw.run(billing.move(tenant.id, LedgerKind.TOPUP, balance, "first payment"))
    return str(gw.run(billing.create_key(tenant.id, "thrifty-app"))[1])


def test_a_spent_balance_is_a_402_in_the_api_words(
    playground_gw: InProcessGateway, page: Page, screenshot: Shot
) -> None:
    page.get_by_role("button", name="Forget").click()
    sign_in(page, customer_key(playground_gw, Decimal("0.15")))
    expect(page.get_by_test_id("balance")).to_have_text("0.15 EUR")
    choose(page)
    expect(page.get_by_test_id("quote")).to_have_text("0.10 EUR")
    first = generate(page, "the one we can pay for")
    expect(first).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("balance")).to_have_text("0.05 EUR")
    expect(page.get_by_test_id("usage-videos")).to_have_text("1")
    page.get_by_role("button", name="Generate").click()
    error = page.locator("#error-form")
    expect(error).to_contain_text("0.10 EUR")
    screenshot(page, "playground-402")
    expect(page.locator("li.video")).to_have_count(1)
    # A start-end video, made on Vidu's route, is quoted too, with its mode's adjustment.
    choose(page, mode="Start–end")
    expect(page.get_by_test_id("quote")).to_have_text("0.15 EUR")
