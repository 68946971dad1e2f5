"""A corpus of hostile request bodies, each invalid by construction, built from a seed.

Case i is built from Random(f"{seed}:{i}") alone, so any one case can be rebuilt (and sent
again) from its number. Each generator starts from a body the gateway accepts and breaks it
in one way that no reading of the API allows, so its answer must be a 4xx: which ones is
in the case."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fuzzlinks import MISSING_TASK, signed_link_junk

OPENAI_BASE = {"model": "viduq3-pro", "prompt": "A paper boat", "duration": 1}
VIDU_BASE = {"model": "viduq2", "prompt": "A paper boat", "duration": 1}
VIDU_CREATES = ["text2video", "img2video", "start-end2video", "reference2video"]

# Text that is hard on parsers and logs: right-to-left and zero-width marks, a BOM, NUL and
# other controls, combining marks, astral characters.
ODD_TEXT = [
    "\u202e", "\u200f", "\u200b", "\u2060", "\ufeff", "\x00", "\x1b[31m", "\r\n",
    "e\u0301\u0301\u0301", "\U0001f600", "\U000e0001", "\u0644\u0627", "%00", "'; --",
    "${jndi:x}",
]  # fmt: skip
SURROGATES = ["\\ud800", "\\udfff", "\\ud83d", "a\\udc00b"]

# Values of the wrong type for each field, per surface. Only values that no coercion of
# that surface accepts: the seed surface reads "5" as 5 and "true" as true, Vidu's does not.
_TEXT_WRONG: list[Any] = [5, 1.5, True, [], {}, ["x"]]
_INT_WRONG: list[Any] = ["abc", "1.5", 1.5, True, [], {}, [1], " ", "0x10", "1e3", "--1"]
_FLAG_WRONG: list[Any] = ["yes", "maybe", 2, -1, 1.5, [], {}, "ture"]
OPENAI_WRONG: dict[str, list[Any]] = {
    "model": [*_TEXT_WRONG, "vidu", "VIDUQ3-PRO", "viduq3-pro\u200b", "\u202eviduq3-pro"],
    "prompt": _TEXT_WRONG,
    "duration": [*_INT_WRONG, 0, 17, -1, 10**30],
    "seed": [*_INT_WRONG, -1, 2**31],
    "audio": _FLAG_WRONG,
    "bgm": _FLAG_WRONG,
    "off_peak": _FLAG_WRONG,
    "is_rec": _FLAG_WRONG,
    "watermark": _FLAG_WRONG,
    "images": [5, True, {}, [5], [[]], [{}]],
    "input_reference": [5, True, [], {"image_url": 5}, {"url": "x"}, {"image_url": "x", "a": 1}],
    "size": [5, "1280x", "x", "0x0", "99999x1", "1280*720"],
    "resolution": [5, "720", "9000p", "720P "],
    "aspect_ratio": [5, "17:9", "16/9", "0:0"],
    "seconds": [*_INT_WRONG, 0, 99],
}
VIDU_WRONG: dict[str, list[Any]] = {
    "model": [*_TEXT_WRONG, "vidu", "viduq2\u200b"],
    "prompt": _TEXT_WRONG,
    "duration": [*_INT_WRONG, "1", 0, 99],
    "seed": [*_INT_WRONG, "7", -1],
    "audio": [*_FLAG_WRONG, "true", 1, 0],
    "bgm": [*_FLAG_WRONG, "false", 1],
    "images": ["https://example.com/a.png", 5, {}, [5], [[]], [None]],
    "movement_amplitude": [5, True, []],
    "callback_url": [5, [], {}],
}
# Multipart fields are text; these are the texts no field of that name accepts.
FORM_WRONG: dict[str, list[str]] = {
    "model": ["vidu", "viduq3-pro ", "VIDUQ3-PRO", "viduq3-pro\u200b", "\u202eviduq3-pro"],
    "duration": ["abc", "1.5", " ", "0x10", "1e3", "0", "17", "--1", "\u00b2"],
    "seed": ["abc", "-1", "2147483648", "1.0"],
    "audio": ["yes", "maybe", "2", "-1", "on"],
    "resolution": ["720", "9000p"],
    "aspect_ratio": ["17:9", "16/9"],
    "size": ["1280x", "x", "0x0"],
}
WRONG_JSON_TYPES = ["text/plain", "application/xml", "application/jsonl", "image/png", "json"]
NO_BOUNDARY = [
    "multipart/form-data",
    "multipart/form-data; boundary=",
    'multipart/form-data; boundary=""',
]
BAD_VIDEO_QUERIES = [
    "limit=0", "limit=101", "limit=abc", "limit=-1", "order=sideways", "after=" + "v" * 65,
    "limit=1e1", "limit=" + "9" * 40,
]  # fmt: skip
BAD_TASK_QUERIES = [
    "pager.page_size=0", "pager.page_size=101", "state=bogus", "created_at_from=yesterday",
    "created_at_to=2026-13-45", "task_ids=" + ",".join(f"video_{i}" for i in range(101)),
    "pager.page_token=" + "x" * 65,
]  # fmt: skip


@dataclass(frozen=True)
class Case:
    number: int
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    expected: frozenset[int]

    @property
    def vidu(self) -> bool:
        return self.path.startswith("/vidu/")

    def describe(self) -> str:
        return f"case {self.number} ({self.kind}) {self.method} {self.path} {self.body[:300]!r}"


def _junk_name(rng: random.Random) -> str:
    """A field name no surface knows (the prefix sees to that: "seed" is a real one)."""
    odd = (rng.choice([*ODD_TEXT, *string.ascii_letters]) for _ in range(rng.randint(1, 6)))
    return "zz" + "".join(odd)


def _json_text(pairs: list[tuple[str, Any]]) -> bytes:
    """An object with these members in this order, repeats kept (json.dumps cannot)."""
    members = (f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs)
    return ("{" + ",".join(members) + "}").encode()


def _prompt(rng: random.Random) -> str:
    """A valid prompt, odd but not empty, so bodies differ beyond what each case breaks."""
    pieces = [*ODD_TEXT, *string.ascii_letters, " "]
    return "p" + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


def _surface(rng: random.Random) -> tuple[str, dict[str, Any], dict[str, list[Any]]]:
    if rng.random() < 0.5:
        path, body, wrong = "/v1/videos", dict(OPENAI_BASE), OPENAI_WRONG
    else:
        path, body, wrong = f"/vidu/ent/v2/{rng.choice(VIDU_CREATES)}", dict(VIDU_BASE), VIDU_WRONG
    body["prompt"] = _prompt(rng)
    if rng.random() < 0.5:
        body["seed"] = rng.randint(1, 2**31 - 1)
    return path, body, wrong


def _json_case(path: str, body: bytes, *, content_type: str = "application/json") -> dict[str, Any]:
    return {"path": path, "headers": {"Content-Type": content_type}, "body": body}


def json_wrong_type(rng: random.Random) -> dict[str, Any]:
    path, body, wrong = _surface(rng)
    for name in rng.sample(sorted(wrong), rng.randint(1, 3)):
        body[name] = rng.choice(wrong[name])
    return _json_case(path, json.dumps(body).encode())


def json_unknown_field(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    name = rng.choice(["__proto__", "constructor", "model ", "Model", _junk_name(rng)])
    # Not null: a null field counts as not given.
    body[name] = rng.choice([1, "x", [], {"a": 1}, True])
    return _json_case(path, json.dumps(body).encode())


def json_duplicate_key(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    pairs = list(body.items())
    name = rng.choice(list(body))
    # The repeat may even agree with the first: a repeated member is refused as such.
    pairs.insert(rng.randint(0, len(pairs)), (name, rng.choice([body[name], "viduq2-pro", 3])))
    return _json_case(path, _json_text(pairs))


def json_truncated(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    raw = json.dumps({**body, "prompt": rng.choice(ODD_TEXT) * 20}).encode()
    return _json_case(path, raw[: rng.randint(1, len(raw) - 1)])


def json_surrogate(rng: random.Random) -> dict[str, Any]:
    """A lone surrogate escape, in a value or a name: valid JSON, but no text."""
    path, body, _ = _surface(rng)
    escape = rng.choice(SURROGATES)
    if rng.random() < 0.2:
        raw = json.dumps({**body, "@@": 1}).replace('"@@"', f'"{escape}"')
    else:
        name = rng.choice(["prompt", "payload", "voice_id", "meta_data"])
        raw = json.dumps({**body, name: "@@"}).replace('"@@"', f'"x{escape}"')
    return _json_case(path, raw.encode())


def json_not_an_object(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    raw = rng.choice(
        [
            json.dumps([body]),
            json.dumps(list(body.items())),
            json.dumps(json.dumps(body)),
            "null",
            "true",
            "42",
            "NaN",
            '{"model": NaN}',
            '{"duration": Infinity, "model": "viduq2"}',
            "{} {}",
            '{"model": "viduq2"}}',
        ]
    )
    return _json_case(path, raw.encode())


def json_bad_bytes(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    raw = json.dumps(body).encode()
    at = rng.randint(1, len(raw) - 1)
    junk = rng.choice([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\x00", b"\x80\x80", b"\xf8\x88"])
    return _json_case(path, raw[:at] + junk + raw[at:])


def json_nested_junk(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    depth = rng.choice([2, 50, 500, 5000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    name = rng.choice(["model", "prompt", "duration", "images", "meta_data", "payload"])
    raw = json.dumps({**body, name: "@"}).replace('"@"', opener * depth + "1" + closer * depth)
    return _json_case(path, raw.encode())


def json_oversized_field(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    char = rng.choice(["a", "\u202e", "\U0001f600", "\u0301", "\u200b"])
    if rng.random() < 0.9:
        body["prompt"] = char * rng.randint(5001, 12000)
    else:
        body["payload"] = char * (1_048_576 + rng.randint(1, 10))
    return _json_case(path, json.dumps(body).encode())


def json_wrong_content_type(rng: random.Random) -> dict[str, Any]:
    path, body, _ = _surface(rng)
    content_type = rng.choice(WRONG_JSON_TYPES) + rng.choice(["", "; charset=utf-8"])
    return _json_case(path, json.dumps(body).encode(), content_type=content_type)


def vidu_cancel_junk(rng: random.Random) -> dict[str, Any]:
    path = f"/vidu/ent/v2/tasks/{MISSING_TASK}/cancel"
    raw = rng.choice(
        [
            json.dumps({"id": rng.choice([5, [], {}, True])}),
            json.dumps({"id": MISSING_TASK, _junk_name(rng): 1}),
            json.dumps({"id": f"video_{rng.randrange(10**9)}"}),
            _json_text([("id", MISSING_TASK), ("id", MISSING_TASK)]).decode(),
            json.dumps([MISSING_TASK]),
            '{"id": "' + MISSING_TASK,
            '{"id": "\\udfff"}',
        ]
    )
    return _json_case(path, raw.encode())


def _multipart(parts: list[tuple[list[str], bytes]], boundary: str) -> bytes:
    out = bytearray()
    for headers, data in parts:
        out += f"--{boundary}\r\n".encode()
        out += "".join(f"{h}\r\n" for h in headers).encode() + b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _field(name: str, value: str, filename: str | None = None) -> tuple[list[str], bytes]:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return [disposition], value.encode("utf-8", "surrogatepass")


def _form_base() -> list[tuple[list[str], bytes]]:
    return [_field(k, str(v)) for k, v in OPENAI_BASE.items()]


def _form_case(
    parts: list[tuple[list[str], bytes]],
    rng: random.Random,
    *,
    boundary: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    boundary = boundary or "".join(rng.choices(string.ascii_letters, k=rng.randint(1, 40)))
    body = body if body is not None else _multipart(parts, boundary)
    content_type = content_type or f"multipart/form-data; boundary={boundary}"
    return {"path": "/v1/videos", "headers": {"Content-Type": content_type}, "body": body}


def form_duplicate_part(rng: random.Random) -> dict[str, Any]:
    parts = _form_base()
    again = rng.choice(parts)
    parts.insert(rng.randint(0, len(parts)), again if rng.random() < 0.5 else _field("prompt", "x"))
    return _form_case(parts, rng)


def form_wrong_value(rng: random.Random) -> dict[str, Any]:
    name = rng.choice(sorted(FORM_WRONG))
    parts = [p for p in _form_base() if f'name="{name}"' not in p[0][0]]
    parts.append(_field(name, rng.choice(FORM_WRONG[name])))
    rng.shuffle(parts)
    return _form_case(parts, rng)


def form_odd_part(rng: random.Random) -> dict[str, Any]:
    parts = _form_base()
    choice = rng.randrange(5)
    if choice == 0:  # a text field sent as a file
        parts[rng.randrange(len(parts))] = _field(rng.choice(["model", "prompt"]), "x", "a.txt")
    elif choice == 1:  # a field no one knows, named oddly
        name = _junk_name(rng).translate({ord(c): None for c in '"\r\n'})
        parts.append(_field(name, "1"))
    elif choice == 2:  # more parts than any request needs
        parts += [_field(f"f{i}", "1") for i in range(rng.randint(65, 300))]
    elif choice == 3:  # an image that is no image
        junk = rng.choice([b"", b"GIF89a" + rng.randbytes(64), rng.randbytes(rng.randint(1, 2048))])
        parts.append((['Content-Disposition: form-data; name="images"; filename="x.png"'], junk))
        return {**_form_case(parts, rng), "expected": frozenset({400, 415})}
    else:  # a part with no name, and no model at all
        parts = [(["Content-Disposition: form-data"], b"viduq3-pro"), *parts[1:]]
    return _form_case(parts, rng)


def form_broken_framing(rng: random.Random) -> dict[str, Any]:
    # model last, and a value no prefix of which names a model: a cut loses or breaks it.
    parts = [*_form_base()[1:], _field("model", "viduq3-pro")]
    boundary = "".join(rng.choices(string.ascii_letters + "'()+_,-./:=?", k=rng.randint(1, 70)))
    whole = _multipart(parts, boundary)
    choice = rng.randrange(4)
    if choice == 0:  # cut inside the last part
        cut = whole.rindex(b"viduq3-pro")
        return _form_case(parts, rng, boundary=boundary, body=whole[: cut + rng.randint(0, 9)])
    if choice == 1:  # the header names another boundary than the body uses
        return _form_case(
            parts, rng, boundary=boundary, content_type=f"multipart/form-data; boundary={boundary}x"
        )
    if choice == 2:  # no boundary at all, or an empty one
        content_type = rng.choice(NO_BOUNDARY)
        return _form_case(parts, rng, boundary=boundary, content_type=content_type)
    # header lines without the blank line that ends them
    return _form_case(
        parts,
        rng,
        boundary=boundary,
        body=whole.replace(b"\r\n\r\n", b"\r\n", 1 + rng.randrange(3)),
    )


def list_query_junk(rng: random.Random) -> dict[str, Any]:
    # An extra parameter no route reads (and so ignores) makes each query its own.
    ignored = f"zz{rng.randrange(10**6)}=1"
    if rng.random() < 0.5:
        path = f"/v1/videos?{ignored}&{rng.choice(BAD_VIDEO_QUERIES)}"
    else:
        path = f"/vidu/ent/v2/tasks?{ignored}&{rng.choice(BAD_TASK_QUERIES)}"
    return {"method": "GET", "path": path, "headers": {}, "body": b""}


GENERATORS: list[Callable[[random.Random], dict[str, Any]]] = [
    json_wrong_type,
    json_unknown_field,
    json_duplicate_key,
    json_truncated,
    json_surrogate,
    json_not_an_object,
    json_bad_bytes,
    json_nested_junk,
    json_oversized_field,
    json_wrong_content_type,
    vidu_cancel_junk,
    form_duplicate_part,
    form_wrong_value,
    form_odd_part,
    form_broken_framing,
    list_query_junk,
    signed_link_junk,
]


def build(seed: int, number: int) -> Case:
    generate = GENERATORS[number % len(GENERATORS)]
    spec = generate(random.Random(f"{seed}:{number}"))
    expected = spec.get("expected")
    if expected is None:
        expected = frozenset({415} if generate is json_wrong_content_type else {400})
    method = spec.get("method", "POST")
    return Case(
        number, generate.__name__, method, spec["path"], spec["headers"], spec["body"], expected
    )


def corpus(seed: int, size: int) -> list[Case]:
    return [build(seed, number) for number in range(size)]
