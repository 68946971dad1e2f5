"""Vidu's signed callbacks, verified: HMAC-SHA256 keyed by the account's API token over
method, path, query, "vidu", Date and the signed headers; stale Dates and replayed nonces
are refused (by the caller, against the store every process shares). The signature does
not cover the body, so it is checked from the request line and headers alone, before the
body is read, and the gateway takes a callback only as a cue to look at the task now (an
authenticated status call), never as the task's new state.

The string to sign follows Vidu's worked example (page "callback-signature"): the query is
the callback URL's query exactly as it stands (not decoded, not sorted), so the caller
passes the raw query string of the request, which is the one the gateway put into the URL
it gave Vidu; each header named in `X-HMAC-SIGNED-HEADERS` is written `Name:value` with the
name spelled as listed there (`Date:...` with its capital D), in that order, while its
value is looked up case-insensitively."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from vidugate.clock import Clock, SystemClock
from vidugate.errors import PermissionDeniedError
from vidugate.providers.base import SignedCallback
from vidugate.providers.vidu.client import Account

MAX_SKEW = 300.0
# Vidu signs two headers, and its nonce is a UUID: anything far longer is not Vidu's.
MAX_SIGNED_HEADERS = 16
MAX_NONCE = 128


def string_to_sign(
    method: str, path: str, query: str, date: str, signed: list[tuple[str, str]]
) -> str:
    """`signed`: (name as listed in X-HMAC-SIGNED-HEADERS, value) in the listed order."""
    lines = [method.upper(), path or "/", query, "vidu", date]
    return "\n".join(lines) + "\n" + "".join(f"{name}:{value}\n" for name, value in signed)


def _refuse(why: str) -> PermissionDeniedError:
    return PermissionDeniedError(f"Callback refused: {why}.", code="invalid_signature")


class CallbackVerifier:
    def __init__(self, accounts: list[Account], clock: Clock | None = None) -> None:
        self.accounts = accounts
        self.clock: Clock = clock or SystemClock()

    def verify(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> SignedCallback:
        """The account whose key signed this request; raises when none did. `path` and
        `query` are the request's raw ones (percent escapes and order as received)."""
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("x-hmac-algorithm", "").lower() != "hmac-sha256":
            raise _refuse("unsupported or missing X-HMAC-ALGORITHM")
        date = lower.get("date", "")
        try:
            sent = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise _refuse("missing or malformed Date") from None
        if abs(self.clock.now() - sent) > MAX_SKEW:
            raise _refuse("Date is too far from now")
        names = [n.strip() for n in lower.get("x-hmac-signed-headers", "").split(";") if n.strip()]
        if len(names) > MAX_SIGNED_HEADERS:
            raise _refuse(f"more than {MAX_SIGNED_HEADERS} signed headers")
        nonce = lower.get("x-request-nonce", "")
        if "x-request-nonce" not in (n.lower() for n in names) or not nonce:
            raise _refuse("the nonce is missing or not signed")
        if len(nonce) > MAX_NONCE or not nonce.isprintable():
            raise _refuse(f"the nonce is not printable or longer than {MAX_NONCE} characters")
        signed = [(name, lower.get(name.lower(), "")) for name in names]
        message = string_to_sign(method, path, query, date, signed).encode()
        # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        given = lower.get("x-hmac-signature", "").encode(errors="replace")
        for account in self.accounts:
            digest = hmac.new(account.api_key.encode(), message, hashlib.sha256).digest()
            if hmac.compare_digest(base64.b64encode(digest), given):
                # Past sent + MAX_SKEW the Date check refuses it anyway; keep it twice that.
                return SignedCallback(account.id, nonce, sent + 2 * MAX_SKEW)
        raise _refuse("the signature does not match any account")
