"""Hostile signed links for the fuzz corpus (fuzzlib.py): the content route of every variant
and the input-image route, with an expiry or signature no signer wrote. Every one must be
refused (403, or 400 for a parameter past its documented length), never served, never a 500."""

from __future__ import annotations

import random
import string
from typing import Any
from urllib.parse import quote

MISSING_TASK = "video_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
# Characters str.isdigit() (or isdecimal()) takes for digits that are not ASCII ones:
# superscripts, other scripts' digits, circled and fullwidth digits, a mathematical one.
ODD_DIGITS = ["\u00b2", "\u0663", "\u0967", "\u2468", "\uff11", "\U0001d7d9", "\u00bd"]
ODD_TEXT = ["\u202e", "\u200b", "\ufeff", "\x00", "\r\n", "%", "&", "=", "#", "\U0001f600"]
VARIANTS = ["video", "thumbnail", "original", "spritesheet"]


def _odd_expires(rng: random.Random) -> tuple[str, int]:
    """An expires no signer wrote, and the status it must get: 403 like any bad signature,
    400 past the parameter's documented length (32)."""
    choice = rng.randrange(5)
    if choice == 0:  # digits, one or more of them not ASCII
        digits = [rng.choice(string.digits) for _ in range(rng.randint(0, 11))]
        digits.insert(rng.randint(0, len(digits)), rng.choice(ODD_DIGITS))
        return "".join(digits), 403
    if choice == 1:  # a number too long to be a time (13-32 digits), or past the cap
        length = rng.choice([rng.randint(13, 32), rng.randint(33, 80)])
        return "".join(rng.choices(string.digits, k=length)), 403 if length <= 32 else 400
    if choice == 2:
        return "", 403
    if choice == 3:  # signs, spaces, fractions and exponents around a number
        return rng.choice(["-1", "+5", " 7", "7 ", "1.5", "1e9", "0x10", "1_000", "\n1"]), 403
    return rng.choice(ODD_TEXT), 403


def _task_id(rng: random.Random) -> str:
    return "video_01" + "".join(rng.choices("0123456789ABCDEFGHJKMNPQRSTVWXYZ", k=24))


def signed_link_junk(rng: random.Random) -> dict[str, Any]:
    """A signed-link route (the content of every variant, an input image) with a signature
    or expiry that cannot be valid, maybe given twice: never a 500, never the file."""
    expires, status = _odd_expires(rng)
    signature = rng.choice(
        [
            "".join(rng.choices("0123456789abcdef", k=43)),
            "",
            rng.choice(ODD_DIGITS) * rng.randint(1, 43),
            rng.choice(ODD_TEXT),
        ]
    )
    params = [("expires", expires), ("signature", signature)]
    if rng.random() < 0.3:  # a parameter repeated, the other copy as bad
        params.append(rng.choice(params))
    if rng.random() < 0.3 and status == 403:  # (a later copy is the one read)
        params.append(("expires", str(rng.randrange(10**11))))
    if rng.random() < 0.5:
        path = f"/v1/videos/{rng.choice([MISSING_TASK, _task_id(rng)])}/content"
        params.insert(0, ("variant", rng.choice(VARIANTS)))
    else:
        index: str = str(rng.randrange(8))
        if rng.random() < 0.2:  # an index in other digits: refused as no number, or read
            index, status = rng.choice(ODD_DIGITS), status if status == 400 else 0
        path = f"/v1/inputs/{rng.choice([MISSING_TASK, _task_id(rng)])}/{index}"
        path = quote(path)
    rng.shuffle(params)
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    expected = frozenset({400, 403}) if status == 0 else frozenset({status})
    return {
        "method": "GET",
        "path": f"{path}?{query}",
        "headers": {},
        "body": b"",
        "expected": expected,
    }
