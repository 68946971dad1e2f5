"""The Vidu surface: /ent/v2 create, status, cancel, list and credits.

Each handler authenticates, makes one call into `Emulator` and answers bytes it encoded
itself (Starlette's JSONResponse re-encodes with default separators; the status poll
answers cached bytes instead). Choices where vidu-upstream.md is silent:
- bodies are JSON only: a Content-Type other than JSON is 400 `FieldInvalid`; a body over
  20 MiB is 413 `RequestTooLarge` (checked on Content-Length, then while reading);
- cancel requires the body `{"id": "<task id>"}` naming the task of the path;
- `GET /ent/v2/credits` answers, as Vidu's "get-account-info" page shows,
  `{"remains": [{"type": "metered", "credit_remain": N, "concurrency_limit": C,
  "current_concurrency": R, "queue_count": Q}]}`, plus a one-package `packages` list with
  `?show_detail=true`.
"""

from __future__ import annotations

import json
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vidugate.emulator.catalog import Endpoint
from vidugate.emulator.core import Emulator
from vidugate.emulator.documents import create_answer, encode, list_item, status_bytes
from vidugate.emulator.errors import ViduError, field_invalid
from vidugate.emulator.faults import LostAnswer
from vidugate.emulator.listing import page, parse_list_query
from vidugate.emulator.tasks import State
from vidugate.emulator.validation import parse_create

MAX_BODY_BYTES = 20 * 1024 * 1024
JSON = "application/json"


def _too_large() -> ViduError:
    return ViduError(413, "RequestTooLarge", f"the request body exceeds {MAX_BODY_BYTES} bytes")


async def read_json(request: Request) -> object:
    """The parsed JSON body, refusing non-JSON content types and bodies over the limit."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _too_large()
    content_type = request.headers.get("content-type", "").lower()
    if content_type and "json" not in content_type:
        raise field_invalid("body: Content-Type must be application/json")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        raise field_invalid("body: not valid JSON") from None


class ViduApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def routes(self) -> list[Route]:
        # The status poll first: it is by far the most frequent request.
        routes = [
            Route("/ent/v2/tasks/{task_id}/creations", self.status, methods=["GET"]),
            Route("/ent/v2/tasks/{task_id}/cancel", self.cancel, methods=["POST"]),
            Route("/ent/v2/tasks", self.list_tasks, methods=["GET"]),
            Route("/ent/v2/credits", self.credits, methods=["GET"]),
        ]
        for endpoint in Endpoint:
            handler = partial(self.create, endpoint)
            routes.append(Route(f"/ent/v2/{endpoint.value}", handler, methods=["POST"]))
        return routes

    def base_url(self, request: Request) -> str:
        configured = self.emulator.config.public_base_url
        if configured:
            return configured
        host = request.headers.get("host") or "localhost"
        return f"{request.scope['scheme']}://{host}{request.scope.get('root_path', '')}"

    async def status(self, request: Request) -> Response:
        emulator = self.emulator
        account = emulator.authenticate(request.headers.get("authorization"))
        now = emulator.clock.now()
        task = emulator.find(account, request.path_params["task_id"], now)
        state = task.state(now)
        emulator.stats.polls += 1
        base = self.base_url(request) if state is State.SUCCESS else ""
        body = status_bytes(task, state, emulator.links, base, emulator.config.result_ttl)
        return Response(body, media_type=JSON)

    async def create(self, endpoint: Endpoint, request: Request) -> Response:
        emulator = self.emulator
        account = emulator.authenticate(request.headers.get("authorization"))
        try:
            body = await read_json(request)
            task = emulator.create(
                account,
                parse_create(endpoint, body),
                self.base_url(request),
                emulator.clock.now(),
            )
        except ViduError:
            emulator.stats.creates_rejected += 1
            raise
        if emulator.roll("lost_create"):
            emulator.stats.creates_lost += 1
            return LostAnswer()
        return Response(encode(create_answer(task)), media_type=JSON)

    async def cancel(self, request: Request) -> Response:
        emulator = self.emulator
        account = emulator.authenticate(request.headers.get("authorization"))
        task_id = request.path_params["task_id"]
        body = await read_json(request)
        if not isinstance(body, dict) or body.get("id") != task_id:
            raise field_invalid('id: the body must be {"id": "<task_id>"} naming the task')
        emulator.cancel(account, task_id, emulator.clock.now())
        return Response(b"{}", media_type=JSON)

    async def list_tasks(self, request: Request) -> Response:
        emulator = self.emulator
        account = emulator.authenticate(request.headers.get("authorization"))
        now = emulator.clock.now()
        query = parse_list_query(request.query_params, now)
        account.advance(now, emulator.config)
        tasks, token = page(account, query, now)
        emulator.stats.list_calls += 1
        base = self.base_url(request)
        items = [list_item(t, t.state(now), emulator.links, base) for t in tasks]
        return Response(encode({"tasks": items, "next_page_token": token}), media_type=JSON)

    async def credits(self, request: Request) -> Response:
        emulator = self.emulator
        account = emulator.authenticate(request.headers.get("authorization"))
        account.advance(emulator.clock.now(), emulator.config)
        emulator.stats.credit_queries += 1
        credits = account.credits
        remain = int(credits) if float(credits).is_integer() else credits
        remains = {
            "type": "metered",
            "credit_remain": remain,
            "concurrency_limit": emulator.config.concurrency,
            "current_concurrency": account.running,
            "queue_count": account.queued,
        }
        answer: dict[str, object] = {"remains": [remains]}
        if request.query_params.get("show_detail") == "true":
            answer["packages"] = [
                {
                    "id": "pkg-1",
                    "name": "emulator credits",
                    "type": "metered",
                    "concurrency": emulator.config.concurrency,
                    "credit_amount": remain,
                    "credit_remain": remain,
                }
            ]
        return Response(encode(answer), media_type=JSON)
