"""The console's pages about work done, in a real browser over real HTTP, on videos made
through the API with prices in force: tasks filtered by tenant, a task's timeline, the
usage and margin charts (and their CSV), and a webhook endpoint made for a tenant whose
delivery is sent again from its log and from the video's timeline; then the overview's
counts."""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from consolelib import Operator, form, open_page, receiving_in_thread
from pagelib import Shot
from waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_tasks_filtered_by_tenant_show_only_theirs(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    ours, our_token = console_gw.tenant_with_key("Ours")
    _theirs, their_token = console_gw.tenant_with_key("Theirs")
    mine = console_gw.video(our_token, "ours")
    other = console_gw.video(their_token, "theirs")
    open_page(console, "Tasks")
    rows = console.get_by_test_id("tasks").locator("tbody tr")
    expect(rows.filter(has_text=other["id"])).to_have_count(1)
    filters = form(console, "filters")
    filters.get_by_label("Tenant").select_option(ours)
    filters.get_by_role("button", name="Filter").click()
    expect(rows.filter(has_text=other["id"])).to_have_count(0)
    expect(rows.filter(has_text=mine["id"])).to_have_count(1)
    assert {r.get_attribute("data-tenant") for r in rows.all()} == {ours}
    assert f"tenant_id={ours}" in console.url
    listed = console_gw.ok("GET", "tasks", params={"tenant_id": ours})["data"]
    assert [t["id"] for t in listed] == [mine["id"]]
    screenshot(console, "console-tasks")


def test_a_tasks_timeline_runs_from_created_to_completed(
    console: Page, console_gw: Operator
) -> None:
    _tenant, token = console_gw.tenant_with_key("Timeline")
    video = console_gw.video(token, "a timeline")
    assert video["status"] == "completed"
    console.goto(f"{console_gw.gw.base_url}/console#/tasks/{video['id']}")
    events = console.get_by_test_id("timeline").locator("li.event")
    expect(events.filter(has_text="task.completed")).to_have_count(1)
    types = [e.get_attribute("data-type") for e in events.all()]
    changes = [t for t in types if t and t.startswith("task.")]
    assert (changes[0], changes[-1]) == ("task.created", "task.completed"), types
    assert "task.submitted" in changes, types
    ledger = [t for t in types if t and t.startswith("ledger.")]
    assert ledger == ["ledger.reserve", "ledger.settle"], types
    completed = events.filter(has_text="task.completed")
    expect(completed.locator(".badge.completed")).to_be_visible()
    api = console_gw.ok("GET", f"videos/{video['id']}/timeline")
    assert [e["type"] for e in api["events"]] == types


def test_the_usage_page_draws_the_days_and_models(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    _tenant, token = console_gw.tenant_with_key("Charts")
    console_gw.video(token, "for the charts")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    open_page(console, "Usage")
    by_day = console.get_by_test_id("usage-day")
    expect(by_day.locator(f"g[data-group='{today}'] rect.bar").first).to_be_visible()
    by_model = console.get_by_test_id("margin-model")
    expect(by_model.locator("g[data-group='viduq2-turbo'] rect.bar")).to_have_count(3)
    height = by_day.locator(f"g[data-group='{today}'] rect.bar.s0").get_attribute("height")
    assert float(height or 0) > 0
    report = console_gw.ok("GET", "usage", params={"group_by": "day"})
    assert [line["group"] for line in report["data"]] == [
        g.get_attribute("data-group") for g in by_day.locator("g.group").all()
    ]
    screenshot(console, "console-usage")
    card = console.locator("section.card", has=console.get_by_test_id("usage-model"))
    with console.expect_download() as download:
        card.get_by_role("button", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert "viduq2-turbo" in [row["model"] for row in rows], rows


def test_a_webhook_delivery_is_sent_again_from_its_log(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    tenant, token = console_gw.tenant_with_key("Hooked")
    with receiving_in_thread() as receiver:
        open_page(console, "Webhooks")
        create = form(console, "create-endpoint")
        create.get_by_label("Tenant").select_option(tenant)
        create.get_by_label("URL").fill(f"{receiver.base_url}/hooks")
        create.get_by_label("Events (empty: all)").fill("video.completed")
        create.get_by_role("button", name="Create endpoint").click()
        expect(console.get_by_test_id("secret")).to_contain_text("whsec_")
        expect(console.get_by_test_id("endpoints").locator("tbody tr")).to_have_count(1)
        screenshot(console, "console-webhooks")
        (endpoint,) = console_gw.ok("GET", "webhooks/endpoints", params={"tenant_id": tenant})[
            "data"
        ]
        assert endpoint["events"] == ["video.completed"]
        video = console_gw.video(token, "announced")
        console.get_by_role("link", name=endpoint["id"]).click()
        tries = console.get_by_test_id("deliveries").locator("tbody tr")
        expect(tries).to_have_count(1)
        expect(tries.first).to_contain_text(video["id"])
        tries.first.get_by_role("button", name="redeliver").click()
        expect(tries).to_have_count(2)
        expect(tries.first).to_have_attribute("data-attempt", "2")
        screenshot(console, "console-deliveries")
        wait_until(lambda: len(receiver.accepted()) == 2, what="the second try")
        ids = {d.headers["webhook-id"] for d in receiver.accepted()}
        assert len(ids) == 1, ids  # the same message, sent again
        log = console_gw.ok("GET", f"webhooks/endpoints/{endpoint['id']}/deliveries")["data"]
        assert [a["attempt"] for a in log] == [2, 1]

        # The video's timeline shows the message and its tries, and sends it once more.
        tries.first.get_by_role("link", name=video["id"]).click()
        timeline = console.get_by_test_id("timeline")
        delivered = timeline.locator("li[data-type='webhook.delivery']")
        expect(delivered).to_have_count(2)
        message = timeline.locator("li[data-type='webhook.message']")
        message.get_by_role("button", name="redeliver").click()
        expect(timeline.get_by_role("status")).to_contain_text("sent again")
        expect(delivered).to_have_count(3)
        screenshot(console, "console-timeline")
        wait_until(lambda: len(receiver.accepted()) == 3, what="the third try")

    open_page(console, "Webhooks")
    row = console.get_by_test_id("endpoints").locator(f"tr[data-endpoint='{endpoint['id']}']")
    row.get_by_role("button", name="disable").click()
    expect(row.locator(".badge")).to_have_text("disabled")
    assert console_gw.ok("GET", f"webhooks/endpoints/{endpoint['id']}")["disabled"] is True
    row.get_by_role("button", name="enable").click()
    expect(row.locator(".badge")).to_have_text("enabled")
    row.get_by_role("button", name="delete").click()
    row.get_by_role("button", name="delete: sure").click()
    expect(row).to_have_count(0)
    assert console_gw.ok("GET", "webhooks/endpoints", params={"tenant_id": tenant})["data"] == []


def test_the_overview_counts_tenants_money_and_tasks(
    console: Page, console_gw: Operator, screenshot: Shot
) -> None:
    """Last in the module: the tasks above are there to count."""
    tenants = console_gw.ok("GET", "tenants")["data"]
    completed = console_gw.ok("GET", "tasks", params={"status": "completed"})["data"]
    assert completed
    expect(console.get_by_test_id("tenant-count")).to_have_text(str(len(tenants)))
    total = sum(Decimal(t["balance"]) for t in tenants)
    expect(console.get_by_test_id("total-balance")).to_have_text(f"{total:.2f}")
    counts = console.get_by_test_id("overview-tasks")
    expect(counts.locator("dd[data-status='completed']")).to_have_text(str(len(completed)))
    expect(console.get_by_test_id("overview-upstream")).to_contain_text("sandbox")
    counts.get_by_role("link", name="completed").click()
    rows = console.get_by_test_id("tasks").locator("tbody tr")
    expect(rows).to_have_count(len(completed))
    open_page(console, "Overview")
    expect(counts.locator("dd[data-status='completed']")).to_have_text(str(len(completed)))
    expect(console.get_by_test_id("overview-upstream")).to_contain_text("sandbox")
    screenshot(console, "console-overview")
