"""Signed, expiring links to a video's content that work without an API key."""

from __future__ import annotations

import hashlib
import hmac
import re

from vidugate.clock import Clock, SystemClock
from vidugate.errors import PermissionDeniedError

# What sign() writes: unix seconds in ASCII digits. str.isdigit() would also pass other
# scripts' digits and superscripts ("\u00b2"), which int() then refuses; 12 digits reach
# the year 33658, and a longer number is no time this signer made.
_EXPIRES = re.compile(r"[0-9]{1,12}")


class UrlSigner:
    def __init__(self, key: bytes, ttl: int, *, clock: Clock | None = None) -> None:
        self._key = key
        self.ttl = ttl
        self.clock = clock or SystemClock()
        # Expiry times are rounded up to a step so that one link stays the same for a
        # while (clients and caches see a stable URL) and still lives at least `ttl`.
        self._step = max(1, ttl // 4)

    def _mac(self, task_id: str, variant: str, expires: int) -> str:
        message = f"{task_id}\n{variant}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:43]

    def sign(self, task_id: str, variant: str, *, not_after: float | None = None) -> str:
        """Query string (without '?') for a link to task_id's variant."""
        now = int(self.clock.now())
        expires = (now // self._step + 1) * self._step + self.ttl
        if not_after is not None:
            expires = min(expires, int(not_after))
        return (
            f"variant={variant}&expires={expires}&signature={self._mac(task_id, variant, expires)}"
        )

    def verify(self, task_id: str, variant: str, expires: str, signature: str) -> None:
        # fullmatch: "$" would let a trailing newline through. Bytes: compare_digest
        # refuses (TypeError) a str with anything but ASCII in it.
        if _EXPIRES.fullmatch(expires) is None or not hmac.compare_digest(
            self._mac(task_id, variant, int(expires)).encode(),
            signature.encode("utf-8", "replace"),
        ):
            raise PermissionDeniedError(
                "This link's signature is not valid; request the video again for a fresh "
                "video_url, or use an API key.",
                param="signature",
            )
        if int(expires) < self.clock.now():
            raise PermissionDeniedError(
                "This link has expired; request the video again for a fresh video_url.",
                param="expires",
                code="signature_expired",
            )
