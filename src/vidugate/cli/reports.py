"""`vidugate usage` and `vidugate margin`: the admin API's reports (GET /admin/v1/usage and
/admin/v1/margin), read from the database directly, as a table, JSON (the API's body) or
CSV (the API's columns).

Usage comes from the ledger, so it outlives purged task rows: per group, the videos
reserved, how many were settled or refunded, and the money those rows moved. The margin
sets what clients were charged against what the upstream charged (its credits, times
VIDUGATE_UPSTREAM_CREDIT_VALUE when that is set)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vidugate.cli.money import (
    EXIT_USAGE,
    JsonOption,
    currency_of,
    iso,
    optional_money,
    print_json,
    show,
    with_billing,
)
from vidugate.cli.preflight import exit_with, settings_or_exit

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.usage import MarginReport, Period, UsageReport
    from vidugate.services.billing import Billing


class UsageBy(StrEnum):
    TENANT = "tenant"
    KEY = "key"
    MODEL = "model"
    DAY = "day"


class MarginBy(StrEnum):
    MODEL = "model"
    DAY = "day"
    TENANT = "tenant"


_PERIOD = (
    "a UTC date (2026-12-04), an ISO 8601 time (2026-12-04T10:00:00Z; no offset: UTC) or "
    "unix seconds"
)
SinceOption = Annotated[
    str | None, typer.Option(help=f"From this instant on (a date: from its start): {_PERIOD}.")
]
UntilOption = Annotated[
    str | None,
    typer.Option(help=f"Before this instant (a date: to the end of that day): {_PERIOD}."),
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV on stdout instead.")]
# The columns of the human table: (JSON key, heading).
_USAGE_COLUMNS = (
    ("videos", "videos"),
    ("settled_count", "settled"),
    ("refunded_count", "refunded"),
    ("reserved_amount", "reserved"),
    ("charged_amount", "charged"),
    ("refunded_amount", "refunded back"),
)
_MARGIN_COLUMNS = (
    ("videos", "videos"),
    ("charged_amount", "charged"),
    ("upstream_credits", "upstream credits"),
    ("videos_with_credits", "with credits"),
    ("upstream_cost", "upstream cost"),
    ("margin", "margin"),
)


def _period(since: str | None, until: str | None) -> Period:
    from vidugate.api.admin.export import parse_period
    from vidugate.errors import InvalidRequestError

    try:
        return parse_period(since, until)
    except InvalidRequestError as exc:
        raise exit_with(f"--{exc.param}: {exc.message}", EXIT_USAGE) from None


def _output(csv_out: bool, json_out: bool) -> None:
    if csv_out and json_out:
        raise exit_with("give --csv or --json, not both", EXIT_USAGE)


def usage(
    by: Annotated[
        UsageBy, typer.Option("--by", case_sensitive=False, help="One line per this.")
    ] = UsageBy.TENANT,
    since: SinceOption = None,
    until: UntilOption = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's videos.")] = None,
    csv_out: CsvOption = False,
    json_out: JsonOption = False,
) -> None:
    """What was charged and refunded, per tenant, key, model or day (from the ledger)."""
    from vidugate.api.admin.export import usage_line
    from vidugate.domain.usage import UsageGroup

    _output(csv_out, json_out)
    period = _period(since, until)

    async def run(billing: Billing) -> tuple[UsageReport, str | None]:
        report = await billing.usage(UsageGroup(by.value), period, tenant_id=tenant)
        return report, await currency_of(billing)

    report, currency = with_billing(run)
    lines = [usage_line(line) for line in report.lines]
    totals = usage_line(report.totals)
    _print(
        "usage", report.group_by.value, period, currency, lines, totals, report.truncated,
        csv_out=csv_out, json_out=json_out, columns=_USAGE_COLUMNS,
    )  # fmt: skip


def margin(
    by: Annotated[
        MarginBy, typer.Option("--by", case_sensitive=False, help="One line per this.")
    ] = MarginBy.MODEL,
    since: SinceOption = None,
    until: UntilOption = None,
    csv_out: CsvOption = False,
    json_out: JsonOption = False,
) -> None:
    """What clients were charged against what the upstream charged, per model, day or
    tenant (the cost in money needs VIDUGATE_UPSTREAM_CREDIT_VALUE)."""
    from vidugate.api.admin.export import margin_line
    from vidugate.domain.usage import UsageGroup

    _output(csv_out, json_out)
    period = _period(since, until)
    settings = settings_or_exit()

    async def run(billing: Billing) -> tuple[MarginReport, str | None]:
        credit_value = settings.upstream_credit_value
        report = await billing.margin(UsageGroup(by.value), period, credit_value)
        return report, await currency_of(billing)

    report, currency = with_billing(run, settings)
    lines = [margin_line(line) for line in report.lines]
    totals = margin_line(report.totals)
    extra = {"credit_value": optional_money(report.credit_value)}
    _print(
        "margin", report.group_by.value, period, currency, lines, totals, report.truncated,
        csv_out=csv_out, json_out=json_out, columns=_MARGIN_COLUMNS, extra=extra,
    )  # fmt: skip
    if report.credit_value is None and not (csv_out or json_out):
        print("upstream cost and margin: set VIDUGATE_UPSTREAM_CREDIT_VALUE (one credit's cost)")


def _print(
    report: str,
    group_by: str,
    period: Period,
    currency: str | None,
    lines: Sequence[dict[str, Any]],
    totals: dict[str, Any],
    truncated: bool,
    *,
    csv_out: bool,
    json_out: bool,
    columns: tuple[tuple[str, str], ...],
    extra: dict[str, Any] | None = None,
) -> None:
    if truncated:
        print(f"vidugate: only the first {len(lines):,} groups are shown", file=sys.stderr)
    if json_out:
        print_json(
            {
                "object": report,
                "group_by": group_by,
                "since": iso(period.since),
                "until": iso(period.until),
                "currency": currency,
                **(extra or {}),
                "data": list(lines),
                "totals": totals,
                "truncated": truncated,
            }
        )
        return
    if csv_out:
        # The admin API's CSV columns; the first is named for the grouping.
        names = list(totals)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([group_by if name == "group" else name for name in names])
        for line in lines:
            writer.writerow(["" if line[name] is None else line[name] for name in names])
        return
    _table(report, group_by, currency, lines, totals, columns)


def _table(
    report: str,
    group_by: str,
    currency: str | None,
    lines: Sequence[dict[str, Any]],
    totals: dict[str, Any],
    columns: tuple[tuple[str, str], ...],
) -> None:
    from rich.table import Table

    named = group_by in ("tenant", "key")
    table = Table(group_by, *(["name"] if named else []))
    for _, heading in columns:
        table.add_column(heading, justify="right")

    def cells(line: dict[str, Any], group: str) -> list[str]:
        shown = [group, *([line["name"] or ""] if named else [])]
        return shown + ["-" if line[key] is None else str(line[key]) for key, _ in columns]

    for index, line in enumerate(lines):
        table.add_row(*cells(line, str(line["group"] or "-")), end_section=index == len(lines) - 1)
    table.add_row(*cells({**totals, "name": ""}, "total"))
    table.title = f"{report} by {group_by}" + (f", in {currency}" if currency else "")
    show(table)
