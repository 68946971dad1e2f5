"""LiteLLM's video calls against a gateway, as its docs use them (docs.litellm.ai/docs/videos):
run by test_python_clients.py in a process of its own, so that importing litellm (its
globals, its logging, its ~4 s import) touches no other test. Reads LITELLM_API_BASE (the
gateway's .../v1), LITELLM_API_KEY, IMAGE (a png) and OUT (a directory); the caller sets
LITELLM_LOCAL_MODEL_COST_MAP=True so that the import reads the cost map from the package
instead of the network. Writes one JSON line: what each call answered."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from litellm import video_content, video_generation, video_status

BASE = os.environ["LITELLM_API_BASE"]
KEY = os.environ["LITELLM_API_KEY"]
OUT = Path(os.environ["OUT"])


def wait_until_done(video_id: str, give_up_after: float = 300) -> tuple[Any, list[str]]:
    """The documented loop: stop on completed or failed, otherwise wait and look again.
    Giving up only bounds a broken run (the caller then sees the last word, not completed)."""
    give_up = time.monotonic() + give_up_after
    seen = []
    while True:
        status = video_status(video_id=video_id, api_base=BASE, api_key=KEY)
        seen.append(status.status)
        if status.status == "completed" or status.status == "failed":
            break
        if time.monotonic() > give_up:
            break
        time.sleep(0.2)
    return status, seen


def generate(name: str, **kwargs: Any) -> dict[str, Any]:
    video = video_generation(
        model="openai/viduq2-turbo",
        prompt=f"A paper boat on a river ({name})",
        seconds="1",
        size="960x540",
        api_base=BASE,
        api_key=KEY,
        **kwargs,
    )
    final, seen = wait_until_done(video.id)
    content = video_content(video_id=video.id, api_base=BASE, api_key=KEY)
    path = OUT / f"{name}.mp4"
    path.write_bytes(content)
    return {
        "id": video.id,
        "created": video.status,
        "seen": seen,
        "status": final.status,
        "size": final.size,
        "seconds": final.seconds,
        "file": str(path),
    }


def main() -> None:
    text = generate("text")
    with Path(os.environ["IMAGE"]).open("rb") as image:
        from_image = generate("image", input_reference=image)
    # A video cancelled elsewhere (LiteLLM has no cancel): the documented loop must end.
    cancelled, seen = wait_until_done(os.environ["CANCELLED_ID"], give_up_after=5)
    error = cancelled.error if isinstance(cancelled.error, dict) else None
    result = {
        "text": text,
        "image": from_image,
        "cancelled": {"status": cancelled.status, "seen": seen, "error": error},
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
