"""GET /vidu/ent/v2/tasks: the query parameters of Vidu's "tasks-list" page, read into one
task filter and a page (the store filters in SQL; see store/listing.py).

Vidu's page names them created_at.from / created_at.to, task_ids, states, model_versions,
resolutions, templates, paper.page, paper.pagesz and pager.page_token ("paper" is how
the page spells it; pager.* is taken too, and each paging name under either prefix). An
array comes as repeated keys (task_ids=a&task_ids=b, as gRPC gateways read them) or as
one comma-separated value. Times are RFC 3339 (UTC unless they say otherwise) or unix
seconds. The window defaults to the 7 days up to created_at.to (or now), as Vidu's does.

The gateway's earlier names (state, created_at_from, created_at_to, pager.page_size) are
still read, as deprecated synonyms."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query

from vidugate.api.deps import ClockDep
from vidugate.api.vidu.render import STATE_FILTERS
from vidugate.domain.listing import TaskFilter
from vidugate.domain.models import MODELS
from vidugate.domain.tasks import TaskStatus, is_task_id
from vidugate.errors import InvalidRequestError

DEFAULT_WINDOW = 7 * 24 * 3600.0
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# Page numbers skip tasks in the database; past this many, go on with pager.page_token.
MAX_SKIPPED = 10_000
MAX_TASK_IDS = 100
MAX_VALUES = 32  # of any other array
MAX_VALUE_CHARS = 64
MAX_REPEATS = 100  # keys given again and again
_NUMBER = re.compile(r"^\s*\d{1,12}(\.\d{1,9})?\s*$")
MAX_TIME = (2**48 - 2) / 1000  # the last millisecond a task id can hold


@dataclass(frozen=True, slots=True)
class ListQuery:
    where: TaskFilter
    after: str | None
    offset: int
    limit: int


def _q(alias: str, description: str, *, deprecated: bool = False) -> Any:
    return Query(alias=alias, max_length=4096, description=description, deprecated=deprecated)


def _array(alias: str, description: str) -> Any:
    return Query(alias=alias, max_length=MAX_REPEATS, description=description)


One = str | None
Many = list[str] | None


async def list_query(
    clock: ClockDep,
    created_from: Annotated[One, _q("created_at.from", "RFC 3339 or unix seconds.")] = None,
    created_to: Annotated[One, _q("created_at.to", "RFC 3339 or unix seconds.")] = None,
    task_ids: Annotated[Many, _array("task_ids", "Task ids; repeated or comma-separated.")] = None,
    states: Annotated[
        Many, _array("states", "created, queueing, processing, success, failed.")
    ] = None,
    model_versions: Annotated[
        Many, _array("model_versions", "q3-pro, q2-pro, 2.0, ... (the model without 'vidu').")
    ] = None,
    resolutions: Annotated[Many, _array("resolutions", "540p, 720p, 1080p, ...")] = None,
    templates: Annotated[
        Many, _array("templates", "The gateway makes no template tasks: lists none.")
    ] = None,
    paper_page: Annotated[One, _q("paper.page", "Page number from 0.")] = None,
    pager_page: Annotated[One, _q("pager.page", "The same as paper.page.")] = None,
    paper_pagesz: Annotated[One, _q("paper.pagesz", "Tasks per page: 1-100, default 10.")] = None,
    pager_pagesz: Annotated[One, _q("pager.pagesz", "The same as paper.pagesz.")] = None,
    page_token: Annotated[One, _q("pager.page_token", "next_page_token of the last page.")] = None,
    paper_token: Annotated[One, _q("paper.page_token", "The same as pager.page_token.")] = None,
    state: Annotated[One, _q("state", "Deprecated: use states.", deprecated=True)] = None,
    old_from: Annotated[
        One, _q("created_at_from", "Deprecated: created_at.from.", deprecated=True)
    ] = None,
    old_to: Annotated[
        One, _q("created_at_to", "Deprecated: created_at.to.", deprecated=True)
    ] = None,
    page_size: Annotated[
        One, _q("pager.page_size", "Deprecated: paper.pagesz.", deprecated=True)
    ] = None,
) -> ListQuery:
    """The list's parameters, each refused with a 400 that names it."""
    to = _moment(*_one(("created_at.to", created_to), ("created_at_to", old_to)))
    since = _moment(*_one(("created_at.from", created_from), ("created_at_from", old_from)))
    if since is None:
        since = max((clock.now() if to is None else to) - DEFAULT_WINDOW, 0.0)
    limit = _integer(
        *_one(
            ("paper.pagesz", paper_pagesz),
            ("pager.pagesz", pager_pagesz),
            ("pager.page_size", page_size),
        ),
        low=1,
        high=MAX_PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE,
    )
    token_name, token = _one(("pager.page_token", page_token), ("paper.page_token", paper_token))
    if token is not None and not is_task_id(token):
        raise InvalidRequestError(
            f"{token_name} must be the next_page_token of an earlier page (video_...).",
            param=token_name,
        )
    page_name, page_text = _one(("paper.page", paper_page), ("pager.page", pager_page))
    page = _integer(page_name, page_text, low=0, high=MAX_SKIPPED // limit, default=0)
    where = TaskFilter(
        statuses=_statuses(states, state),
        ids=_ids(task_ids),
        created_from=since,
        created_to=to,
        models=_models(model_versions),
        resolutions=_resolutions(resolutions),
    )
    if templates is not None and _values("templates", templates, MAX_VALUES):
        where = TaskFilter(ids=())  # no task of the gateway's is made from a template
    # A page token says where the page starts: a page number beside it would skip again.
    return ListQuery(where, token, 0 if token else page * limit, limit)


def _one(*spellings: tuple[str, str | None]) -> tuple[str, str | None]:
    """The one value given under any of a parameter's names (an empty one is not given)."""
    given = [(name, value) for name, value in spellings if value]
    if len({value for _, value in given}) > 1:
        names = " and ".join(name for name, _ in given)
        raise InvalidRequestError(f"{names} disagree; give one of them.", param=given[0][0])
    return given[0] if given else (spellings[0][0], None)


def _values(param: str, given: Iterable[str], most: int) -> list[str]:
    """Repeated keys and comma-separated values, in order, without repeats."""
    parts = (part.strip() for item in given for part in item.split(","))
    values = list(dict.fromkeys(part for part in parts if part))
    if len(values) > most:
        raise InvalidRequestError(f"{param} has {len(values)} values; at most {most}.", param=param)
    for value in values:
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidRequestError(
                f"{param}: {value[:MAX_VALUE_CHARS]!r}... is longer than any of its values "
                f"({MAX_VALUE_CHARS} characters at most).",
                param=param,
            )
    return values


def _statuses(states: list[str] | None, state: str | None) -> frozenset[TaskStatus] | None:
    named = [("states", value) for value in _values("states", states or [], MAX_VALUES)]
    named += [("state", value) for value in _values("state", [state] if state else [], 1)]
    if not named:
        return None
    chosen: set[TaskStatus] = set()
    for param, value in named:
        statuses = STATE_FILTERS.get(value)
        if statuses is None:
            raise InvalidRequestError(
                f"{param}: {value!r} is not a task state; allowed: {', '.join(STATE_FILTERS)}.",
                param=param,
            )
        chosen |= statuses
    return frozenset(chosen)


def _ids(task_ids: list[str] | None) -> tuple[str, ...] | None:
    if task_ids is None:
        return None
    values = _values("task_ids", task_ids, MAX_TASK_IDS)
    if not values:
        return None
    # Anything but the gateway's own ids (video_...) names no task of it.
    return tuple(value for value in values if is_task_id(value))


def _models(versions: list[str] | None) -> frozenset[str] | None:
    values = _values("model_versions", versions or [], MAX_VALUES)
    if not values:
        return None
    models = set()
    for value in values:
        # Vidu names versions (q2-pro for viduq2-pro); a whole model id is taken too.
        model = value if value in MODELS else f"vidu{value}"
        if model not in MODELS:
            allowed = ", ".join(model_id.removeprefix("vidu") for model_id in MODELS)
            raise InvalidRequestError(
                f"model_versions: {value!r} is not a model version; allowed: {allowed}.",
                param="model_versions",
            )
        models.add(model)
    return frozenset(models)


def _resolutions(given: list[str] | None) -> frozenset[str] | None:
    values = [value.lower() for value in _values("resolutions", given or [], MAX_VALUES)]
    if not values:
        return None
    known = sorted({r for spec in MODELS.values() for r in spec.resolutions}, key=_pixels)
    for value in values:
        if value not in known:
            raise InvalidRequestError(
                f"resolutions: {value!r} is not a resolution; allowed: {', '.join(known)}.",
                param="resolutions",
            )
    return frozenset(values)


def _pixels(resolution: str) -> int:
    digits = resolution.rstrip("pP")
    return int(digits) if digits.isdigit() else 0


def _integer(param: str, text: str | None, *, low: int, high: int, default: int) -> int:
    if text is None:
        return default
    stripped = text.strip()
    if not (stripped.isdigit() and len(stripped) <= 9 and low <= int(stripped) <= high):
        raise InvalidRequestError(
            f"{param} must be an integer from {low} to {high}; got {text[:32]!r}.", param=param
        )
    return int(stripped)


def _moment(param: str, text: str | None) -> float | None:
    """RFC 3339 (UTC unless it says otherwise) or unix seconds, as seconds in 0..MAX_TIME."""
    if text is None:
        return None
    try:
        seconds = float(text) if _NUMBER.match(text) else _iso_seconds(text)
    except (ValueError, OverflowError):
        raise InvalidRequestError(
            f"{param} must be an RFC 3339 time (e.g. 2026-01-01T15:41:31Z) or unix seconds; "
            f"got {text[:64]!r}.",
            param=param,
        ) from None
    return min(max(seconds, 0.0), MAX_TIME)


def _iso_seconds(text: str) -> float:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
