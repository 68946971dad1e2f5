"""HMAC signatures: Vidu's callback signature, and the emulator's own result links.

Callback signature (vidu-upstream.md, "Callbacks"):

    string_to_sign = METHOD + "\\n" + path + "\\n" + canonical_query + "\\n" + "vidu\\n"
                     + Date + "\\n" + "".join(f"{name}:{value}\\n" for each signed header)
    X-HMAC-SIGNATURE = base64(HMAC-SHA256(key=<account API key>, msg=string_to_sign))

Where the doc is silent: `path` is the callback URL's path exactly as written (percent
escapes kept; "/" when empty); the canonical query is the URL's query parsed into (key,
value) pairs with escapes decoded and blanks kept, sorted by key then value, written `k=v`
and joined with `&` (empty string when there is no query); signed header names are written
lower-case, in the order listed in `X-HMAC-SIGNED-HEADERS` (the emulator signs just
`x-request-nonce`). `sign_callback` is public so the gateway's tests can sign requests
the same way; the gateway's verifier is written independently from the spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import parse_qsl, urlsplit

ACCESS_KEY = "vidu"
ALGORITHM = "hmac-sha256"
NONCE_HEADER = "x-request-nonce"


def canonical_query(query: str | Mapping[str, str]) -> str:
    pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else query.items()
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def string_to_sign(
    method: str,
    path: str,
    query: str | Mapping[str, str],
    date: str,
    signed_headers: Mapping[str, str],
) -> str:
    head = f"{method.upper()}\n{path}\n{canonical_query(query)}\n{ACCESS_KEY}\n{date}\n"
    return head + "".join(f"{name.lower()}:{value}\n" for name, value in signed_headers.items())


def sign_callback(
    method: str,
    path: str,
    query: str | Mapping[str, str],
    date: str,
    signed_headers: Mapping[str, str],
    key: str,
) -> str:
    """base64(HMAC-SHA256(key, string_to_sign)); `query` is a raw query string or a mapping."""
    message = string_to_sign(method, path, query, date, signed_headers).encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def callback_headers(url: str, key: str, now: float | None = None) -> dict[str, str]:
    """Fresh headers (new Date and nonce) for one POST of a callback to `url`."""
    parts = urlsplit(url)
    date = formatdate(now, usegmt=True)
    nonce = secrets.token_hex(16)
    signature = sign_callback(
        "POST", parts.path or "/", parts.query, date, {NONCE_HEADER: nonce}, key
    )
    return {
        "Content-Type": "application/json",
        "Date": date,
        NONCE_HEADER: nonce,
        "X-HMAC-SIGNED-HEADERS": NONCE_HEADER,
        "X-HMAC-ALGORITHM": ALGORITHM,
        "X-HMAC-ACCESS-KEY": ACCESS_KEY,
        "X-HMAC-SIGNATURE": signature,
    }


def link_signature(secret: bytes, path: str, expires: int, epoch: int) -> str:
    """Signature of a result link: binds its path, its expiry and the issuing epoch."""
    message = f"{path}\n{expires}\n{epoch}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
