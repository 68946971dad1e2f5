"""The counters and histograms of what happens in a process: requests, upstream calls,
poll lag, renders, result copies, task transitions, limit refusals, webhook deliveries.
Each is recorded by one small function here, called where the thing happens; the metric
objects stay private to this module.

They live in this module's own registry, and (under `serve --processes N`) in
prometheus-client's multiprocess files, which /metrics sums over every process
(metrics/exposition.py). Label values are bounded where they are made: routes are
templates, methods and outcomes come from short fixed lists, accounts, models and
providers from configuration; and each metric keeps at most MAX_SERIES label sets, so a bug
that labels by something unbounded costs one `other` series, not the process's memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, cast

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram

# No `_created` series beside each counter and histogram (multiprocess mode has none
# either): the same names whether one process answers or several. (Unannotated upstream.)
cast(Callable[[], None], prometheus_client.disable_created_metrics)()
INSTRUMENTS = CollectorRegistry(auto_describe=True)
MAX_SERIES = 2000
OTHER = "other"
_LABEL_CHARS = 100

Child = TypeVar("Child")


class _Series(Generic[Child]):
    """A metric's children by label values, made once each (labels() takes a lock and
    builds a key on every call) and capped at MAX_SERIES."""

    __slots__ = ("_children", "_make", "_width")

    def __init__(self, make: Callable[..., Child], width: int) -> None:
        self._make = make
        self._width = width
        self._children: dict[tuple[str, ...], Child] = {}

    def __call__(self, *values: str) -> Child:
        child = self._children.get(values)
        if child is None:
            if len(self._children) >= MAX_SERIES:
                values = (OTHER,) * self._width
                child = self._children.get(values)
            if child is None:
                child = self._make(*(value[:_LABEL_CHARS] for value in values))
                self._children[values] = child
        return child


def _counter(name: str, doc: str, labels: tuple[str, ...]) -> _Series[Counter]:
    metric = Counter(name, doc, labels, registry=INSTRUMENTS)
    return _Series(metric.labels, len(labels))


def _histogram(
    name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]
) -> _Series[Histogram]:
    metric = Histogram(name, doc, labels, registry=INSTRUMENTS, buckets=buckets)
    return _Series(metric.labels, len(labels))


# From a cached status read (well under a millisecond) to a large upload.
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLOW = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
_LAG = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

_requests = _counter(
    "vidugate_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"),
)
_request_seconds = _histogram(
    "vidugate_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ("route", "method"),
    _FAST,
)
_upstream_calls = _counter(
    "vidugate_upstream_calls_total",
    "Calls to an upstream API, by account, endpoint and outcome.",
    ("account", "endpoint", "outcome"),
)
_upstream_seconds = _histogram(
    "vidugate_upstream_call_duration_seconds",
    "Time of one upstream API call, by account and endpoint.",
    ("account", "endpoint"),
    _FAST,
)
_poll_lag = _histogram(
    "vidugate_poll_lag_seconds",
    "How late a worker took up a task's look after the time it was due, by provider.",
    ("provider",),
    _LAG,
)
_render_seconds = _histogram(
    "vidugate_render_duration_seconds",
    "Time of one sandbox render, from its start in a slot to its end, by outcome.",
    ("outcome",),
    _SLOW,
)
_copy_seconds = _histogram(
    "vidugate_result_copy_duration_seconds",
    "Time to copy a finished task's files into the file store, by provider and outcome.",
    ("provider", "outcome"),
    _SLOW,
)
_copy_bytes = _counter(
    "vidugate_result_copy_bytes_total",
    "Bytes of finished tasks' files copied into the file store, by provider.",
    ("provider",),
)
_transitions = _counter(
    "vidugate_task_transitions_total",
    "Task changes applied (domain/transitions.py), by transition and provider.",
    ("transition", "provider"),
)
_refusals = _counter(
    "vidugate_limit_refusals_total",
    "Requests refused with 429 by a limit, by limit and whose limit (key or tenant).",
    ("limit", "scope"),
)
_webhooks = _counter(
    "vidugate_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome.",
    ("outcome",),
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UPSTREAM_OUTCOMES = frozenset(
    {"ok", "rejected", "throttled", "server_error", "unreachable", "failed"}
)
WEBHOOK_OUTCOMES = frozenset({"delivered", "failed", "gave_up"})


def request(route: str, method: str, status: int, seconds: float) -> None:
    """One answered request; `route` is the template it matched (or `unmatched`)."""
    if method not in METHODS:
        method = OTHER
    _requests(route, method, str(status)).inc()
    _request_seconds(route, method).observe(seconds)


def upstream_call(account: str, endpoint: str, outcome: str, seconds: float) -> None:
    """One call to an upstream API: `endpoint` is a template (no ids), `outcome` one of
    UPSTREAM_OUTCOMES."""
    _upstream_calls(account, endpoint, outcome if outcome in UPSTREAM_OUTCOMES else OTHER).inc()
    _upstream_seconds(account, endpoint).observe(seconds)


def poll_lag(provider: str, seconds: float) -> None:
    _poll_lag(provider).observe(max(0.0, seconds))


def render(outcome: str, seconds: float) -> None:
    _render_seconds(outcome).observe(seconds)


def result_copy(provider: str, outcome: str, seconds: float, size: int) -> None:
    _copy_seconds(provider, outcome).observe(seconds)
    if size:
        _copy_bytes(provider).inc(size)


def transition(name: str, provider: str) -> None:
    _transitions(name, provider).inc()


def limit_refused(limit: str, scope: str) -> None:
    _refusals(limit, scope).inc()


def webhook_delivery(outcome: str) -> None:
    """One webhook delivery attempt, called by the webhook worker once an attempt:
    `delivered` (a 2xx), `failed` (an error answer or none; another attempt will follow),
    `gave_up` (failed, and no attempt follows)."""
    _webhooks(outcome if outcome in WEBHOOK_OUTCOMES else OTHER).inc()
