"""Reports as answers: the period a report covers (read from `since` and `until`), and the
usage and margin reports as JSON or CSV, for the admin API and a client's own usage.

CSV has a header row and one row per group, amounts as exact decimal strings; JSON adds
the totals. Both say when the groups were cut (`truncated`; the X-Truncated header)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from starlette.responses import JSONResponse, Response

from vidugate.domain.money import amount_text
from vidugate.domain.usage import (
    MAX_GROUPS,
    MarginLine,
    MarginReport,
    Period,
    UsageLine,
    UsageReport,
)
from vidugate.errors import InvalidRequestError

Format = Literal["json", "csv"]
TRUNCATED_HEADER = "X-Truncated"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNIX = re.compile(r"\d{1,10}(\.\d{1,6})?")
_LATEST = 7_258_118_400.0  # 2200-01-01
_FORMS = (
    "a UTC date (2026-12-04), an ISO 8601 time (2026-12-04T10:00:00Z; no offset: UTC) "
    "or unix seconds"
)
PERIOD_DOC = (
    "since: from this instant on (a date: from its start). until: before this instant (a "
    "date: to the end of that day, included). Each is " + _FORMS + "."
)


def report_responses() -> dict[int | str, dict[str, Any]]:
    """The 200 of a report route: JSON (the route's response_model) or CSV, and the
    truncation header."""
    return {
        200: {
            "description": "The report: JSON, or CSV with format=csv.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": {
                TRUNCATED_HEADER: {
                    "description": f"true when there were more than {MAX_GROUPS:,} groups "
                    "and only the first are answered.",
                    "schema": {"type": "string", "enum": ["true", "false"]},
                }
            },
        }
    }


def _instant(value: str | None, param: str, *, end_of_day: bool) -> float | None:
    if value is None:
        return None
    text = value.strip()
    try:
        if _UNIX.fullmatch(text):
            instant = float(text)
        elif _DATE.fullmatch(text):
            day = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
            instant = (day + dt.timedelta(days=1 if end_of_day else 0)).timestamp()
        else:
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            instant = moment.timestamp()
    except (ValueError, OverflowError):
        raise InvalidRequestError(
            f"{param} must be {_FORMS}; got {value!r}.", param=param
        ) from None
    if not 0 <= instant <= _LATEST:
        raise InvalidRequestError(
            f"{param} must be between 1970 and 2200; got {value!r}.", param=param
        )
    return instant


def parse_period(since: str | None, until: str | None) -> Period:
    start = _instant(since, "since", end_of_day=False)
    end = _instant(until, "until", end_of_day=True)
    if start is not None and end is not None and end <= start:
        raise InvalidRequestError(f"until ({until}) must be after since ({since}).", param="until")
    return Period(start, end)


def _shown(instant: float | None) -> str | None:
    if instant is None:
        return None
    return dt.datetime.fromtimestamp(instant, dt.UTC).isoformat().replace("+00:00", "Z")


def _or_none(value: Decimal | None) -> str | None:
    return None if value is None else amount_text(value)


def usage_line(line: UsageLine) -> dict[str, Any]:
    return {
        "group": line.group,
        "name": line.name,
        "tenant_id": line.tenant_id,
        "videos": line.videos,
        "settled_count": line.settled,
        "refunded_count": line.refunded,
        "reserved_amount": amount_text(line.reserved),
        "charged_amount": amount_text(line.charged),
        "refunded_amount": amount_text(line.refunded_amount),
    }


def margin_line(line: MarginLine) -> dict[str, Any]:
    return {
        "group": line.group,
        "name": line.name,
        "videos": line.videos,
        "charged_amount": amount_text(line.charged),
        "upstream_credits": amount_text(line.upstream_credits),
        "videos_with_credits": line.videos_with_credits,
        "upstream_cost": _or_none(line.upstream_cost),
        "margin": _or_none(line.margin),
    }


def usage_response(
    report: UsageReport, period: Period, currency: str | None, format: Format
) -> Response:
    lines = [usage_line(line) for line in report.lines]
    totals = usage_line(report.totals)
    return _report("usage", report.group_by.value, lines, totals, report.truncated,
                   period, currency, format)  # fmt: skip


def margin_response(
    report: MarginReport, period: Period, currency: str | None, format: Format
) -> Response:
    lines = [margin_line(line) for line in report.lines]
    totals = margin_line(report.totals)
    extra = {"credit_value": _or_none(report.credit_value)}
    return _report("margin", report.group_by.value, lines, totals, report.truncated,
                   period, currency, format, extra)  # fmt: skip


def _report(
    kind: str,
    group_by: str,
    lines: list[dict[str, Any]],
    totals: dict[str, Any],
    truncated: bool,
    period: Period,
    currency: str | None,
    format: Format,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A report's lines as CSV, or as JSON with its period, currency and totals."""
    if format == "csv":
        return _csv(group_by, kind, lines, truncated)
    body = {
        "object": kind,
        "group_by": group_by,
        "since": _shown(period.since),
        "until": _shown(period.until),
        "currency": currency,
        **(extra or {}),
        "data": lines,
        "totals": totals,
        "truncated": truncated,
    }
    return _json(body, truncated)


def _json(body: dict[str, Any], truncated: bool) -> Response:
    return JSONResponse(body, headers={TRUNCATED_HEADER: str(truncated).lower()})


def _csv(group_by: str, report: str, lines: Sequence[dict[str, Any]], truncated: bool) -> Response:
    """The lines as CSV: the first column is named for the grouping ("model", "day", ...)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = list(lines[0]) if lines else _COLUMNS[report]
    writer.writerow([group_by if name == "group" else name for name in columns])
    for line in lines:
        writer.writerow(["" if line[name] is None else line[name] for name in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            TRUNCATED_HEADER: str(truncated).lower(),
            "Content-Disposition": f'attachment; filename="{report}-by-{group_by}.csv"',
        },
    )


_COLUMNS = {
    "usage": list(usage_line(UsageLine(None, None, None, 0, 0, 0, *[Decimal(0)] * 3))),
    "margin": list(margin_line(MarginLine(None, None, 0, Decimal(0), Decimal(0), 0, None, None))),
}
