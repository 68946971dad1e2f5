"""The console in a real browser over real HTTP: the admin key and a client key's refusal,
tenants (made, topped up with a reason), keys (made, the token shown once, a
limit, revoked), prices (a table put in force, a mistake in the API's words). Each action is
checked through the admin API afterwards."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from consolelib import Operator, form, open_page, sign_in_console
from pagelib import Shot, fresh_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_client_key_is_refused_in_the_api_words(browser: Browser, console_gw: Operator) -> None:
    _tenant, token = console_gw.tenant_with_key("refused")
    with fresh_page(browser, console_gw.gw.base_url + "/console") as page:
        sign_in_console(page, token)
        error = page.locator("#error-key")
        expect(error).to_have_text(
            "The admin API takes an admin key (vidugate keys create --admin)."
        )
        expect(page.get_by_role("navigation", name="Console")).to_have_count(0)


def test_a_tenant_is_made_then_topped_up_with_a_reason(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    open_page(console, "Tenants")
    create = form(console, "create-tenant")
    create.get_by_label("Name").fill("Harbour Films")
    create.get_by_label("First balance").fill("3.00")
    create.get_by_role("button", name="Create tenant").click()
    expect(create.get_by_role("status")).to_contain_text("Created Harbour Films")
    made = [t for t in console_gw.ok("GET", "tenants")["data"] if t["name"] == "Harbour Films"]
    assert [t["balance"] for t in made] == ["3.00"], made
    tenant = made[0]["id"]
    console.get_by_role("link", name="Harbour Films").click()
    expect(console.get_by_test_id("balance")).to_have_text("3.00")

    topup = form(console, "topup")
    topup.get_by_label("Amount").fill("ten")  # the API's words, next to the field it names
    topup.get_by_label("Reason").fill("invoice 42 paid")
    topup.get_by_role("button", name="Top up").click()
    expect(topup.locator("[data-field='amount'] .field-error")).to_contain_text("amount")
    assert console_gw.ok("GET", f"tenants/{tenant}")["balance"] == "3.00"
    topup.get_by_label("Amount").fill("12.50")
    topup.get_by_role("button", name="Top up").click()
    expect(console.get_by_test_id("balance")).to_have_text("15.50")
    row = console.get_by_test_id("ledger").locator(
        "tr[data-kind='topup']", has_text="invoice 42 paid"
    )
    expect(row).to_contain_text("12.50")
    assert console_gw.ok("GET", f"tenants/{tenant}")["balance"] == "15.50"
    ledger = console_gw.ok("GET", "ledger", params={"tenant_id": tenant})["data"]
    assert [(r["kind"], r["amount"], r["reason"]) for r in ledger][-1] == (
        "topup",
        "12.50",
        "invoice 42 paid",
    )
    screenshot(console, "console-tenant")
    edit = form(console, "tenant")
    edit.get_by_label("Weight (1-1000)").fill("3")
    edit.get_by_role("button", name="Save").click()
    expect(edit.get_by_role("status")).to_have_text("Saved.")
    assert console_gw.ok("GET", f"tenants/{tenant}")["weight"] == 3


def test_a_key_is_made_shown_once_limited_and_revoked(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    tenant, _token = console_gw.tenant_with_key("Keyholders")
    open_page(console, "Keys")
    create = form(console, "create-key")
    create.get_by_label("Tenant").select_option(tenant)
    create.get_by_label("Name").fill("render farm")
    create.get_by_role("button", name="Create key").click()
    shown = console.get_by_test_id("token")
    expect(shown).to_contain_text("vg-")
    token = shown.inner_text()
    with console_gw.gw.client(token) as client:
        assert client.get("/v1/balance").status_code == 200
    screenshot(console, "console-keys")
    (key,) = [
        k
        for k in console_gw.ok("GET", "keys", params={"tenant_id": tenant})["data"]
        if k["name"] == "render farm"
    ]
    assert "token" not in key
    console.get_by_role("link", name="render farm").click()
    expect(console.get_by_test_id("token")).to_have_count(0)  # shown that once only

    limits = form(console, "limits")
    limits.get_by_label("Creates per minute").fill("10")
    limits.get_by_label("Spend per day").fill("2.50")
    limits.get_by_role("button", name="Save limits").click()
    expect(limits.get_by_role("status")).to_have_text("Limits saved.")
    saved = console_gw.ok("GET", f"keys/{key['id']}/limits")
    assert (saved["creates_per_minute"], saved["spend_per_day"]) == (10, "2.50"), saved
    screenshot(console, "console-key")

    console.get_by_role("button", name="Revoke").click()
    console.get_by_role("button", name="Revoke: sure").click()
    expect(console.get_by_test_id("key-state")).to_contain_text("revoked")
    with console_gw.gw.client(token) as client:
        refused = client.get("/v1/balance")
    assert refused.status_code == 401, refused.text


def test_a_price_table_is_put_in_force(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    open_page(console, "Prices")
    expect(console.get_by_test_id("prices-in-force")).to_contain_text("EUR")
    prices = form(console, "prices")
    prices.get_by_label("Format").select_option("toml")
    table = prices.get_by_label("Table")
    # A model without every resolution it offers: the API names the entry at fault.
    table.fill('currency = "EUR"\n[models."viduq2-turbo"]\nper_second = { "540p" = "0.12" }\n')
    prices.get_by_role("button", name="Put in force").click()
    error = prices.locator("[data-field='form']")
    expect(error).to_contain_text("720p")
    in_force = console_gw.ok("GET", "prices")["document"]["models"]["viduq2-turbo"]
    assert Decimal(in_force["per_second"]["540p"]) == Decimal("0.10")  # unchanged
    table.fill(
        'currency = "EUR"\ndecimals = 2\n[models."viduq2-turbo"]\n'
        'per_second = { "540p" = "0.12", "720p" = "0.20", "1080p" = "0.40" }\n'
    )
    prices.get_by_role("button", name="Put in force").click()
    expect(prices.get_by_role("status")).to_contain_text("is in force")
    expect(console.get_by_test_id("prices-in-force")).to_contain_text('"540p": "0.12"')
    document = console_gw.ok("GET", "prices")["document"]
    assert Decimal(document["models"]["viduq2-turbo"]["per_second"]["540p"]) == Decimal("0.12")
    screenshot(console, "console-prices")
