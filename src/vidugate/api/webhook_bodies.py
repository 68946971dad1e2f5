"""What a webhook carries: the video object of the surface the task was made on, as a
status query there would answer it at the moment of the change, in the Standard Webhooks
envelope `{"type", "timestamp", "data"}`; and for Vidu's `callback_url` the bare task
document, as Vidu calls back. Links in it are signed for the usual time (they work without
a key) and built on VIDUGATE_PUBLIC_BASE_URL (else the address `serve` binds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from vidugate.api.openai.render import video_object
from vidugate.api.unified.render import query_answer
from vidugate.api.vidu.render import status_document
from vidugate.domain.keys import StatusDialect
from vidugate.domain.tasks import Surface, VideoTask
from vidugate.domain.webhooks import Bodies, EventType, RenderBodies
from vidugate.services.signing import UrlSigner
from vidugate.settings import Settings


def webhook_base(settings: Settings) -> str:
    return settings.public_base_url or f"http://{settings.host}:{settings.port}"


def webhook_bodies(settings: Settings, signer: UrlSigner) -> RenderBodies:
    base = webhook_base(settings)
    # /v1/videos answers in OpenAI's words when the process is set to; a webhook has no
    # request to tell its client by, so auto means the seed platform's words.
    openai_words = settings.status_dialect is StatusDialect.OPENAI

    def render(task: VideoTask, event: EventType, now: float) -> Bodies:
        vidu = status_document(task, signer, base)
        data: dict[str, Any]
        if task.surface is Surface.VIDU:
            data = vidu
        elif task.surface is Surface.UNIFIED:
            data = query_answer(task, signer, base)
        else:
            data = video_object(task, openai_words=openai_words, signer=signer, base=base)
        stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
        envelope = {"type": event.value, "timestamp": stamp.replace("+00:00", "Z"), "data": data}
        return Bodies(envelope=_dumps(envelope), callback=_dumps(vidu))

    return render


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
