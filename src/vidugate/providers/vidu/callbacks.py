"""Vidu's signed callbacks, verified: HMAC-SHA256 keyed by the account's API token over
method, path, canonical query, "vidu", Date and the signed headers; stale Dates and
replayed nonces are refused (by the caller, against the store every process shares). The
signature does not cover the body, so the gateway takes a
callback only as a cue to look at the task now (an authenticated status call), never as
the task's new state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl

from vidugate.errors import PermissionDeniedError
from vidugate.providers.base import SignedCallback
from vidugate.providers.vidu.client import Account

MAX_SKEW = 300.0


def string_to_sign(
    method: str, path: str, query: str, date: str, signed: list[tuple[str, str]]
) -> str:
    canonical = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(query, keep_blank_values=True)))
    lines = [method.upper(), path, canonical, "vidu", date]
    return "\n".join(lines) + "\n" + "".join(f"{name}:{value}\n" for name, value in signed)


def _refuse(why: str) -> PermissionDeniedError:
    return PermissionDeniedError(f"Callback refused: {why}.", code="invalid_signature")


class CallbackVerifier:
    def __init__(self, accounts: list[Account]) -> None:
        self.accounts = accounts

    def verify(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> SignedCallback:
        """The account whose key signed this request; raises when none did."""
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("x-hmac-algorithm", "").lower() != "hmac-sha256":
            raise _refuse("unsupported or missing X-HMAC-ALGORITHM")
        date = lower.get("date", "")
        try:
            sent = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise _refuse("missing or malformed Date") from None
        if abs(time.time() - sent) > MAX_SKEW:
            raise _refuse("Date is too far from now")
        names = [
            n.strip().lower()
            for n in lower.get("x-hmac-signed-headers", "").split(";")
            if n.strip()
        ]
        if "x-request-nonce" not in names or not lower.get("x-request-nonce"):
            raise _refuse("the nonce is missing or not signed")
        signed = [(name, lower.get(name, "")) for name in names]
        message = string_to_sign(method, path, query, date, signed).encode()
        given = lower.get("x-hmac-signature", "")
        for account in self.accounts:
            digest = hmac.new(account.api_key.encode(), message, hashlib.sha256).digest()
            if hmac.compare_digest(base64.b64encode(digest).decode(), given):
                # Past sent + MAX_SKEW the Date check refuses it anyway; keep it twice that.
                return SignedCallback(account.id, lower["x-request-nonce"], sent + 2 * MAX_SKEW)
        raise _refuse("the signature does not match any account")
