"""Prometheus metrics: what happens, counted where it happens (`instruments`), and what
is, read from the database at each scrape (`state`); `exposition` puts them together for
/metrics. docs/metrics.md lists every metric and its labels.

This package stands on prometheus-client alone and imports nothing of the gateway's, so
any layer may record into it (tests/docs/test_layers.py)."""

from vidugate.metrics.exposition import (
    CONTENT_TYPE,
    Exposition,
    multiprocess_mode,
    process_gone,
    use_multiprocess_dir,
)
from vidugate.metrics.instruments import (
    limit_refused,
    poll_lag,
    render,
    request,
    result_copy,
    transition,
    upstream_call,
    webhook_delivery,
)
from vidugate.metrics.state import (
    NO_TENANT,
    LedgerTotal,
    StateSnapshot,
    TaskCount,
    TenantBalance,
    TenantQueue,
)

__all__ = [
    "CONTENT_TYPE",
    "NO_TENANT",
    "Exposition",
    "LedgerTotal",
    "StateSnapshot",
    "TaskCount",
    "TenantBalance",
    "TenantQueue",
    "limit_refused",
    "multiprocess_mode",
    "poll_lag",
    "process_gone",
    "render",
    "request",
    "result_copy",
    "transition",
    "upstream_call",
    "use_multiprocess_dir",
    "webhook_delivery",
]
