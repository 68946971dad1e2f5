"""Thousands of hostile requests, each invalid by construction (fuzzlib.py: truncated, wrong
types, unknown and repeated fields, odd Unicode, lone surrogates, bad bytes, deep nesting,
oversized fields, wrong content types, broken multipart framing; fuzzlinks.py: signed
links with odd Unicode digits, huge numbers, empty and repeated parameters), on both
surfaces. Every one must be refused with the 4xx its case names, in the envelope of the
surface called; never a 5xx, never a success. The session's log is checked for tracebacks
at its end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from clusterlib import report
from fuzzlib import GENERATORS, Case, build, corpus

from gatewaylib import Gateway

SEED = 20261126
SIZE = 3200


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client(gateway.new_key("fuzz-corpus")) as client:
        yield client


def send(client: httpx.Client, case: Case) -> httpx.Response:
    return client.request(case.method, case.path, content=case.body, headers=case.headers)


def test_corpus_is_reproducible_and_covers_every_generator() -> None:
    cases = corpus(SEED, SIZE)
    assert build(SEED, 1234) == cases[1234]
    assert {case.kind for case in cases} == {g.__name__ for g in GENERATORS}
    distinct = {(c.method, c.path, tuple(c.headers.items()), c.body) for c in cases}
    assert len(distinct) > SIZE * 0.9  # not a few cases sent many times over


def test_every_hostile_body_is_refused_in_the_envelope(client: httpx.Client) -> None:
    statuses: Counter[int] = Counter()
    wrong = []
    for case in corpus(SEED, SIZE):
        try:
            response = send(client, case)
        except httpx.TransportError as exc:  # the server dropped the connection: a crash
            statuses[0] += 1
            wrong.append(f"{case.describe()}\n  -> no answer: {exc!r}")
            continue
        statuses[response.status_code] += 1
        problem: str | None
        if response.status_code not in case.expected:
            problem = f"status {response.status_code}, expected {sorted(case.expected)}"
        else:
            problem = envelope_problem(case.vidu, response)
        if problem is not None:
            wrong.append(f"{case.describe()}\n  -> {problem}: {response.text[:300]}")
    codes = " ".join(f"{code}:{n}" for code, n in sorted(statuses.items()))
    fives = sum(n for code, n in statuses.items() if code >= 500 or code == 0)
    report("fuzz corpus", cases=SIZE, statuses=codes, server_errors=fives, wrong=len(wrong))
    assert not wrong, f"{len(wrong)} cases answered wrongly:\n" + "\n".join(wrong[:40])


def envelope_problem(case_is_vidu: bool, response: httpx.Response) -> str | None:
    """What is wrong with an error answer's body, or None: OpenAI's envelope on /v1,
    Vidu's on /vidu/."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if case_is_vidu:
        ok = (
            isinstance(body, dict)
            and set(body) == {"code", "reason", "message", "metadata"}
            and body["code"] == response.status_code
            and isinstance(body["reason"], str)
            and isinstance(body["message"], str)
            and body["message"]
            and isinstance(body["metadata"].get("trace_id"), str)
        )
    else:
        error = body.get("error") if isinstance(body, dict) else None
        ok = (
            isinstance(error, dict)
            and set(body) == {"error"}
            and set(error) == {"message", "type", "param", "code"}
            and isinstance(error["message"], str)
            and error["message"] != ""
            and isinstance(error["type"], str)
            and isinstance(error["code"], str)
            and (error["param"] is None or isinstance(error["param"], str))
        )
    return None if ok else f"not the envelope: {body!r:.300}"
