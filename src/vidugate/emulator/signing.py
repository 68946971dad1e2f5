"""HMAC signatures: Vidu's callback signature, and the emulator's own result links.

Callback signature (vidu-upstream.md, "Callbacks"; Vidu's page "callback-signature"):

    string_to_sign = METHOD + "\\n" + path + "\\n" + query + "\\n" + "vidu\\n"
                     + Date + "\\n" + "".join(f"{name}:{value}\\n" for each signed header)
    X-HMAC-SIGNATURE = base64(HMAC-SHA256(key=<account API key>, msg=string_to_sign))

As Vidu's worked example does it: `path` is the callback URL's path as written ("/" when
empty); `query` is the URL's query string exactly as it stands in the URL (not decoded,
not sorted: the example keeps `name=james&age=36`; empty when there is none); each signed
header is written with its name spelled as listed in `X-HMAC-SIGNED-HEADERS`, in that
order. The emulator signs `Date;x-request-nonce`, as the example does, so the `Date` line
carries a capital D. `sign_callback` is public so the gateway's tests can sign requests the
same way; the gateway's verifier is written independently from the spec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import urlsplit

ACCESS_KEY = "vidu"
ALGORITHM = "hmac-sha256"
NONCE_HEADER = "x-request-nonce"
SIGNED_HEADERS = ("Date", NONCE_HEADER)  # as in Vidu's worked example, spelled as listed


def string_to_sign(
    method: str, path: str, query: str, date: str, signed_headers: Mapping[str, str]
) -> str:
    """`signed_headers`: name (spelled as listed in X-HMAC-SIGNED-HEADERS) -> value, in order."""
    head = f"{method.upper()}\n{path or '/'}\n{query}\n{ACCESS_KEY}\n{date}\n"
    return head + "".join(f"{name}:{value}\n" for name, value in signed_headers.items())


def sign_callback(
    method: str,
    path: str,
    query: str,
    date: str,
    signed_headers: Mapping[str, str],
    key: str,
) -> str:
    """base64(HMAC-SHA256(key, string_to_sign)); `query` as it stands in the callback URL."""
    message = string_to_sign(method, path, query, date, signed_headers).encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def callback_headers(url: str, key: str, now: float) -> dict[str, str]:
    """Fresh headers (new Date and nonce) for one POST of a callback to `url` at `now`."""
    parts = urlsplit(url)
    date = formatdate(now, usegmt=True)
    nonce = str(uuid.uuid4())  # Vidu's example nonce is a UUID
    values = {"Date": date, NONCE_HEADER: nonce}
    signed = {name: values[name] for name in SIGNED_HEADERS}
    signature = sign_callback("POST", parts.path, parts.query, date, signed, key)
    return {
        "Content-Type": "application/json",
        "Date": date,
        NONCE_HEADER: nonce,
        "X-HMAC-SIGNED-HEADERS": ";".join(SIGNED_HEADERS),
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
