"""Signed, expiring result links, in the style of an object store's presigned URLs.

A link is `{base}/results/{task_id}/{file}?Expires=<unix seconds>&Signature=<hex>`, where
`file` is `video.mp4`, `cover.jpg` or `watermarked.mp4`. The signature (HMAC-SHA256 with a
per-process random secret) binds the path, the expiry and an *epoch*. Links are issued with
`Expires = ceil(task end + result_ttl)`, so they stay the same from poll to poll (which lets
the status document be cached) and die `result_ttl` after the task succeeded.

`expire_all()` (POST /_emulator/expire-results) bumps the epoch: every link issued so far
then answers 403 "expired", and later polls hand out links of the new epoch. A link whose
signature matches no epoch is answered 403 SignatureDoesNotMatch instead.
"""

from __future__ import annotations

import math
import os
from enum import Enum

from vidugate.emulator.config import EmulatorConfig
from vidugate.emulator.signing import link_signature, same
from vidugate.emulator.tasks import Task

VIDEO, COVER, WATERMARKED = "video.mp4", "cover.jpg", "watermarked.mp4"
FILES = (VIDEO, COVER, WATERMARKED)


class Verdict(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad_signature"


class ResultLinks:
    def __init__(self, config: EmulatorConfig, secret: bytes | None = None) -> None:
        self._config = config
        self._secret = secret or os.urandom(32)
        self.epoch = 0

    def expire_all(self) -> None:
        self.epoch += 1

    def expires_at(self, task: Task) -> int:
        assert task.end_at is not None
        return math.ceil(task.end_at + self._config.result_ttl)

    def url(self, base_url: str, task: Task, name: str) -> str:
        path = f"/results/{task.id}/{name}"
        expires = self.expires_at(task)
        signature = link_signature(self._secret, path, expires, self.epoch)
        return f"{base_url}{path}?Expires={expires}&Signature={signature}"

    def creations(self, task: Task, base_url: str) -> list[dict[str, str]]:
        """The `creations` array of a successful task."""
        watermarked = self.url(base_url, task, WATERMARKED) if task.request.watermark else ""
        return [
            {
                "id": f"{task.id}01",
                "url": self.url(base_url, task, VIDEO),
                "cover_url": self.url(base_url, task, COVER),
                "watermarked_url": watermarked,
            }
        ]

    def check(self, path: str, expires: str, signature: str, now: float) -> Verdict:
        if not expires.isdigit() or not signature:
            return Verdict.BAD_SIGNATURE
        when = int(expires)
        if not same(signature, link_signature(self._secret, path, when, self.epoch)):
            for epoch in range(self.epoch):
                if same(signature, link_signature(self._secret, path, when, epoch)):
                    return Verdict.EXPIRED  # revoked by expire_all()
            return Verdict.BAD_SIGNATURE
        return Verdict.EXPIRED if now >= when else Verdict.VALID
