"""Liveness and readiness."""

from __future__ import annotations

import time

from fastapi import APIRouter
from starlette.responses import JSONResponse

from vidugate.api.deps import ServicesDep

router = APIRouter(tags=["health"])

WORKER_STALE_SECONDS = 30.0


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await services.database.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    worker = services.worker
    if worker is not None:
        fresh = time.time() - worker.last_loop_at < WORKER_STALE_SECONDS
        checks["worker"] = "ok" if worker.alive and fresh else "stalled"
    ready = all(value == "ok" for value in checks.values())
    headers = {} if ready else {"Retry-After": "5"}
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers=headers,
    )
