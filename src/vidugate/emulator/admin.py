"""/_emulator/...: introspection and control for tests; not part of Vidu, no auth.

- `GET /_emulator/stats`: counters (see `stats.Stats.as_json`);
- `GET|POST /_emulator/faults`: read, or partially update, `Faults` (a new `seed`
  restarts the fault dice);
- `GET|POST /_emulator/config`: read, or partially update, the run-time fields
  (`config.RUNTIME_FIELDS`); `{"accounts": {"key": credits}}` opens accounts or sets their
  balance;
- `GET /_emulator/tasks`: every task with its account, state, payload and timestamps;
- `POST /_emulator/tasks/{id}/finish`: success now; `/fail` with optional
  `{"err_code": "..."}`: failure now (refunded); 409 if the task is already final;
- `POST /_emulator/expire-results`: every result link issued so far answers 403 expired.

Refusals use Vidu's error envelope (400 `FieldInvalid` for a bad update).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidugate.emulator.config import RUNTIME_FIELDS, apply_changes
from vidugate.emulator.core import Emulator
from vidugate.emulator.documents import encode
from vidugate.emulator.errors import field_invalid
from vidugate.emulator.tasks import State, Task, iso_utc

PREFIX = "/_emulator"


def _answer(document: object) -> Response:
    return Response(encode(document), media_type="application/json")


async def _json_object(request: Request) -> dict[str, object]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise field_invalid("body: not valid JSON") from None
    if not isinstance(body, dict):
        raise field_invalid("body: must be a JSON object")
    return body


class AdminApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def routes(self) -> list[Route]:
        return [
            Route(f"{PREFIX}/stats", self.stats, methods=["GET"]),
            Route(f"{PREFIX}/faults", self.faults, methods=["GET", "POST"]),
            Route(f"{PREFIX}/config", self.config, methods=["GET", "POST"]),
            Route(f"{PREFIX}/tasks", self.tasks, methods=["GET"]),
            Route(f"{PREFIX}/tasks/{{task_id}}/finish", self.finish, methods=["POST"]),
            Route(f"{PREFIX}/tasks/{{task_id}}/fail", self.fail, methods=["POST"]),
            Route(f"{PREFIX}/expire-results", self.expire_results, methods=["POST"]),
        ]

    async def stats(self, _request: Request) -> Response:
        return _answer(self.emulator.stats.as_json())

    async def faults(self, request: Request) -> Response:
        emulator = self.emulator
        if request.method == "POST":
            changes = await _json_object(request)
            try:
                apply_changes(emulator.config.faults, changes)
            except ValueError as exc:
                raise field_invalid(str(exc)) from None
            if "seed" in changes:
                emulator.reseed()
        return _answer(asdict(emulator.config.faults))

    async def config(self, request: Request) -> Response:
        emulator = self.emulator
        if request.method == "POST":
            changes = await _json_object(request)
            accounts = changes.pop("accounts", {})
            if not isinstance(accounts, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in accounts.values()
            ):
                raise field_invalid("accounts: must map API keys to non-negative credits")
            try:
                apply_changes(emulator.config, changes)
            except ValueError as exc:
                raise field_invalid(str(exc)) from None
            for key, credits in accounts.items():
                emulator.set_credits(str(key), float(credits))
            emulator.on_change(None)
        config = emulator.config
        view: dict[str, object] = {name: getattr(config, name) for name in sorted(RUNTIME_FIELDS)}
        view["result_mode"] = config.result_mode
        view["accounts"] = {key: a.credits for key, a in emulator.accounts.items()}
        return _answer(view)

    def _view(self, task: Task, now: float) -> dict[str, object]:
        state = self.emulator.state_of(task, now)
        return {
            "id": task.id,
            "account": task.key,
            "type": task.request.endpoint.value,
            "model": task.request.model,
            # What was asked, for tests of what a caller sends.
            "duration": task.request.duration,
            "resolution": task.request.resolution,
            "aspect_ratio": task.request.aspect_ratio,
            "style": task.request.style,
            "images": len(task.request.images),
            "subjects": [
                {"id": subject_id, "images": count, "voice_id": voice_id}
                for subject_id, count, voice_id in task.request.subjects
            ],
            "state": state.value,
            "err_code": task.visible_err_code(state),
            "credits": task.visible_credits(),
            "payload": task.request.payload,
            "callback_url": task.request.callback_url,
            "created_at": task.created_iso,
            "started_at": iso_utc(task.start_at) if task.start_at is not None else None,
            "ended_at": iso_utc(task.end_at) if task.end_at is not None else None,
        }

    async def tasks(self, _request: Request) -> Response:
        now = self.emulator.clock.now()
        views = [self._view(task, now) for task in self.emulator.tasks.values()]
        return _answer({"tasks": views})

    async def finish(self, request: Request) -> Response:
        now = self.emulator.clock.now()
        task = self.emulator.force(request.path_params["task_id"], State.SUCCESS, "", now)
        return _answer(self._view(task, now))

    async def fail(self, request: Request) -> Response:
        body = await _json_object(request)
        err_code = body.get("err_code", self.emulator.config.faults.fail_err_code)
        if not isinstance(err_code, str) or not err_code:
            raise field_invalid("err_code: must be a non-empty string")
        now = self.emulator.clock.now()
        task = self.emulator.force(request.path_params["task_id"], State.FAILED, err_code, now)
        return _answer(self._view(task, now))

    async def expire_results(self, _request: Request) -> Response:
        self.emulator.links.expire_all()
        return _answer({"epoch": self.emulator.links.epoch})
