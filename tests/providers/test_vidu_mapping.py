"""The vidu provider's pure mapping: bodies out, states and errors in."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from vidugate.domain.models import Mode
from vidugate.domain.request import VideoFields, VideoRequest, build_request
from vidugate.domain.subjects import Subject
from vidugate.errors import (
    UpstreamAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from vidugate.providers.base import JobState
from vidugate.providers.vidu.failures import FAILURES, task_error
from vidugate.providers.vidu.mapping import (
    create_body,
    error_for,
    job_status,
    result_urls,
)
from vidugate.providers.vidu.pricing import estimate
from vidugate.settings import DEFAULT_VIDU_MODEL_MAP

DOCUMENTED_CODES = {
    "content_policy",
    "invalid_image",
    "image_unreachable",
    "upstream_invalid_request",
    "model_unavailable",
    "insufficient_credits",
    "upstream_cancelled",
    "generation_failed",
}


def request(mode: Mode, count: int = 0, **fields: Any) -> VideoRequest:
    values: dict[str, Any] = {"model": "viduq2-pro", "prompt": "p", **fields}
    return build_request(VideoFields(**values), mode=mode, image_count=count).with_seed()


@pytest.mark.parametrize("model", ["viduq3-pro", "viduq3-turbo"])
def test_fields_without_effect_are_not_sent(model: str) -> None:
    # Vidu refuses movement_amplitude on q3 models, where it changes nothing.
    req = request(Mode.IMAGE, 1, model=model, movement_amplitude="large", voice_id="v1", bgm=True)
    body = create_body(
        req, task_id="t", images=["x"], model_map=DEFAULT_VIDU_MODEL_MAP, callback_url=None
    )
    assert {"movement_amplitude", "voice_id", "bgm"}.isdisjoint(body)
    assert body["model"] == model


def test_every_field_goes_upstream() -> None:
    req = request(
        Mode.IMAGE,
        1,
        duration=4,
        resolution="1080p",
        audio=True,
        voice_id="v1",
        is_rec=True,
        seed=77,
        watermark=True,
        wm_position=1,
        wm_url="https://example.com/wm.png",
        meta_data='{"a": 1}',
        movement_amplitude="large",
        payload="the client's own",
    )
    body = create_body(
        req,
        task_id="video_X",
        images=["data:image/png;base64,AAAA"],
        model_map=DEFAULT_VIDU_MODEL_MAP,
        callback_url="https://gw.example/v1/upstream/vidu/callback",
    )
    assert body == {
        "model": "viduq2-pro",
        "prompt": "p",
        "images": ["data:image/png;base64,AAAA"],
        "duration": 4,
        "seed": 77,
        "resolution": "1080p",
        "bgm": False,
        "audio": True,
        "voice_id": "v1",
        "is_rec": True,
        "off_peak": False,
        "watermark": True,
        "wm_position": 1,
        "wm_url": "https://example.com/wm.png",
        "meta_data": '{"a": 1}',
        "movement_amplitude": "large",
        # Vidu's payload carries the gateway's marker; the client's payload stays here.
        "payload": "vidugate:video_X",
        "callback_url": "https://gw.example/v1/upstream/vidu/callback",
    }


@pytest.mark.parametrize(
    ("mode", "count", "model", "upstream", "ratio"),
    [
        (Mode.TEXT, 0, "viduq2-pro", "viduq2", True),
        (Mode.TEXT, 0, "viduq3-pro", "viduq3-pro", True),
        (Mode.IMAGE, 1, "viduq2-turbo", "viduq2-turbo", False),
        (Mode.START_END, 2, "viduq2-pro", "viduq2-pro", False),
        (Mode.REFERENCE, 3, "viduq2", "viduq2", True),
    ],
)
def test_model_map_and_aspect_ratio_per_endpoint(
    mode: Mode, count: int, model: str, upstream: str, ratio: bool
) -> None:
    req = request(mode, count, model=model, duration=4)
    body = create_body(
        req, task_id="t", images=["x"] * count, model_map=DEFAULT_VIDU_MODEL_MAP, callback_url=None
    )
    assert body["model"] == upstream
    assert ("aspect_ratio" in body) is ratio
    assert "callback_url" not in body
    assert ("images" in body) is (count > 0)


def test_states_and_progress() -> None:
    now = time.time()
    started = now - 30
    assert job_status({"state": "created"}, started, 60, now=now).state is JobState.QUEUED
    queued = job_status({"state": "queueing"}, started, 60, now=now)
    running = job_status({"state": "processing"}, started, 60, now=now)
    assert queued.progress < running.progress < 100
    late = job_status({"state": "processing"}, now - 10_000, 60, now=now)
    assert late.progress == 95  # never 100 before success
    assert job_status({"state": "success"}, started, 60, now=now).state is JobState.SUCCEEDED
    failed = job_status(
        {"state": "failed", "err_code": "TaskPromptPolicyViolation"}, started, 60, now=now
    )
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.code == "content_policy"
    with pytest.raises(UpstreamUnavailableError):
        job_status({"state": "sideways"}, started, 60, now=now)


@pytest.mark.parametrize(
    ("status", "reason", "kind", "code"),
    [
        (400, "FieldInvalid", UpstreamRejectedError, "upstream_invalid_request"),
        (400, "TaskPromptPolicyViolation", UpstreamRejectedError, "content_policy"),
        (400, "AuditSubmitIllegal", UpstreamRejectedError, "content_policy"),
        (400, "ImageFormatInvalid", UpstreamRejectedError, "invalid_image"),
        (400, "ModelUnavailable", UpstreamRejectedError, "model_unavailable"),
        (400, "OperationInProcess", UpstreamUnavailableError, "upstream_unavailable"),
        (400, "CreditInsufficient", UpstreamUnavailableError, "upstream_out_of_credits"),
        (402, "CreditInsufficient", UpstreamUnavailableError, "upstream_out_of_credits"),
        (401, "Unauthorized", UpstreamAuthError, "upstream_auth_error"),
        (404, "TaskNotFound", UpstreamRejectedError, "upstream_task_not_found"),
        (429, "QuotaExceeded", UpstreamUnavailableError, "upstream_throttled"),
        (429, "TooManyRequests", UpstreamUnavailableError, "upstream_throttled"),
        (429, "SystemThrottling", UpstreamUnavailableError, "upstream_throttled"),
        (500, "InternalServiceFailure", UpstreamUnavailableError, "upstream_unavailable"),
        (503, "", UpstreamUnavailableError, "upstream_unavailable"),
    ],
)
def test_every_error_reason_is_mapped(status: int, reason: str, kind: type, code: str) -> None:
    error = error_for(status, {"code": status, "reason": reason, "message": "m"}, retry_after=7)
    assert type(error) is kind
    assert error.code == code
    assert reason in error.message
    if code == "upstream_throttled":
        assert error.retry_after == 7


@pytest.mark.parametrize(
    ("err_code", "code", "words"),
    [
        ("TaskPromptPolicyViolation", "content_policy", "change them"),
        ("AuditSubmitIllegal", "content_policy", "change them"),
        ("CreationPolicyViolation", "content_policy", "rephrase the prompt"),
        ("ImageFormatInvalid", "invalid_image", "PNG, JPEG or WebP"),
        ("PageSizeOutOfRange", "invalid_image", "1:4 and 4:1"),
        ("ImageCheckFaceFailed", "invalid_image", "another image"),
        ("ImageDownloadFailure", "image_unreachable", "VIDUGATE_PUBLIC_BASE_URL"),
        ("AudioNotSupportedOffPeak", "upstream_invalid_request", "audio=false"),
        ("FieldInvalid", "upstream_invalid_request", "GET /v1/models"),
        ("ModelUnavailable", "model_unavailable", "another model"),
        ("CreditInsufficient", "insufficient_credits", "credits"),
        ("TaskCanceled", "upstream_cancelled", "create it again"),
        ("InternalServiceFailure", "generation_failed", "try again"),
        ("SystemThrottling", "generation_failed", "try again"),
        ("SomethingNew", "upstream_failed", "give the operator"),
    ],
)
def test_failed_task_errors_are_gateway_codes_saying_what_to_do(
    err_code: str, code: str, words: str
) -> None:
    error = task_error(err_code)
    assert error.code == code
    assert words in error.message
    # Vidu's own code stays visible, in the message only.
    assert error.message.endswith(f"(Vidu err_code: {err_code})")


def test_a_failure_without_or_with_a_strange_code() -> None:
    bare = task_error("")
    assert (bare.code, bare.message) == (
        "generation_failed",
        "Vidu reported the task failed without a reason; try again.",
    )
    hostile = task_error("Bad\nINJECTED" + "x" * 500)
    assert hostile.code == "upstream_failed"
    assert "\n" not in hostile.message
    assert len(hostile.message) < 300
    # Every documented gateway code comes from the table, never from Vidu's text.
    assert {failure.code for failure in FAILURES.values()} <= DOCUMENTED_CODES


def test_every_failure_code_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "providers" / "vidu.md").read_text()
    for code in DOCUMENTED_CODES | {"upstream_failed"}:
        assert f"`{code}`" in doc, code
    for err_code in FAILURES:
        assert f"`{err_code}`" in doc, err_code


def test_result_urls() -> None:
    doc = {"creations": [{"url": "u", "cover_url": "c", "watermarked_url": ""}]}
    assert result_urls(doc) == ("u", "c", None)
    with pytest.raises(UpstreamUnavailableError):
        result_urls({"creations": []})


def test_subjects_go_as_vidus_subject_form() -> None:
    subjects = (Subject("cat", 2, "v-cat"), Subject("dog", 1))
    req = request(Mode.REFERENCE, 3, model="viduq1", subjects=subjects, audio=True)
    body = create_body(
        req,
        task_id="t",
        images=["u1", "u2", "u3"],
        model_map=DEFAULT_VIDU_MODEL_MAP,
        callback_url=None,
    )
    assert body["subjects"] == [
        {"id": "cat", "images": ["u1", "u2"], "voice_id": "v-cat"},
        {"id": "dog", "images": ["u3"]},
    ]
    assert "images" not in body
    assert (body["model"], body["audio"], body["aspect_ratio"]) == ("viduq1", True, "16:9")


@pytest.mark.parametrize(
    ("model", "mode", "count", "fields"),
    [
        ("viduq2-pro-fast", Mode.IMAGE, 1, {"resolution": "1080p"}),
        ("viduq2-pro-fast", Mode.START_END, 2, {"duration": 8}),
        ("viduq1", Mode.TEXT, 0, {"style": "anime"}),
        ("viduq1-classic", Mode.START_END, 2, {}),
        ("vidu2.0", Mode.IMAGE, 1, {"duration": 8}),
        ("vidu2.0", Mode.REFERENCE, 2, {"resolution": "720p"}),
    ],
)
def test_new_models_keep_vidus_names_and_rules(
    model: str, mode: Mode, count: int, fields: dict[str, Any]
) -> None:
    req = request(mode, count, model=model, **fields)
    images = [f"u{index}" for index in range(count)]
    body = create_body(
        req, task_id="t", images=images, model_map=DEFAULT_VIDU_MODEL_MAP, callback_url=None
    )
    assert body["model"] == model
    assert {name: body[name] for name in fields} == fields
    assert (body["duration"], body["resolution"]) == (req.duration, req.resolution)
    assert ("aspect_ratio" in body) is (mode in (Mode.TEXT, Mode.REFERENCE))


def test_style_is_sent_only_where_it_has_an_effect() -> None:
    def sent(model: str) -> dict[str, Any]:
        req = request(Mode.TEXT, model=model, style="anime")
        return create_body(
            req, task_id="t", images=[], model_map=DEFAULT_VIDU_MODEL_MAP, callback_url=None
        )

    assert sent("viduq1")["style"] == "anime"
    assert "style" not in sent("viduq2")
    assert "style" not in sent("viduq3-pro")


def test_new_models_have_prices() -> None:
    def price(model: str, mode: Mode, count: int, **fields: Any) -> float | None:
        req = request(mode, count, model=model, **fields)
        return estimate(req, req.model)

    # vidu2.0 is priced per clip (estimates from a reseller's copy of Vidu's table).
    assert price("vidu2.0", Mode.IMAGE, 1) == 2.0
    assert price("vidu2.0", Mode.IMAGE, 1, resolution="1080p") == 10.0
    assert price("vidu2.0", Mode.START_END, 2, duration=8) == 10.0
    assert price("vidu2.0", Mode.REFERENCE, 1, resolution="720p") == 4.0
    assert price("viduq1-classic", Mode.IMAGE, 1) == price("viduq1", Mode.IMAGE, 1) == 8.0
    assert price("viduq2-pro-fast", Mode.IMAGE, 1, duration=5, resolution="1080p") == 10.0
