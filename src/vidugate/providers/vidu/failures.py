"""Why a Vidu task failed, as a documented gateway error code and a message saying what
to change. Vidu's own code stays visible at the end of the message ("Vidu err_code: X")
and in the log line `upstream.task_failed`, never as the gateway's code, so clients
branch on a small, stable set (docs/providers/vidu.md, "Failure codes").

The err_codes are Vidu's "error-code" page (platform.vidu.com/docs/error-code), plus
`AudioNotSupportedOffPeak` and `TaskCanceled`, which failed tasks carry."""

from __future__ import annotations

from dataclasses import dataclass

from vidugate.domain.tasks import TaskError

CONTENT_POLICY = "content_policy"
INVALID_IMAGE = "invalid_image"
IMAGE_UNREACHABLE = "image_unreachable"
INVALID_REQUEST = "upstream_invalid_request"
MODEL_UNAVAILABLE = "model_unavailable"
INSUFFICIENT_CREDITS = "insufficient_credits"
UPSTREAM_CANCELLED = "upstream_cancelled"
GENERATION_FAILED = "generation_failed"
UNKNOWN_FAILURE = "upstream_failed"
# An err_code is quoted into a message; one from a misbehaving upstream stays short.
MAX_QUOTED = 64


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    message: str


_POLICY_INPUT = Failure(
    CONTENT_POLICY,
    "The prompt or an image was refused by Vidu's content policy; change them and try again.",
)
_RETRY = Failure(GENERATION_FAILED, "Vidu failed to make the video; try again.")
_CANCELLED = Failure(
    UPSTREAM_CANCELLED, "The task was cancelled at Vidu, outside this gateway; create it again."
)
_FIELDS = Failure(
    INVALID_REQUEST,
    "Vidu refused a field of the request; check the model's limits (GET /v1/models) and try again.",
)

FAILURES: dict[str, Failure] = {
    "TaskPromptPolicyViolation": _POLICY_INPUT,
    "AuditSubmitIllegal": _POLICY_INPUT,
    "CreationPolicyViolation": Failure(
        CONTENT_POLICY,
        "Vidu's content policy withheld the generated video; rephrase the prompt or change "
        "the images and try again.",
    ),
    "ImageFormatInvalid": Failure(
        INVALID_IMAGE, "Vidu could not read an input image; send a PNG, JPEG or WebP image."
    ),
    "PageSizeOutOfRange": Failure(
        INVALID_IMAGE,
        "Vidu refused an input image's size: keep each image under 50 MB with a width:height "
        "ratio between 1:4 and 4:1.",
    ),
    "ImageCheckBodyJointsFailed": Failure(
        INVALID_IMAGE, "Vidu found no usable person in an input image; send another image."
    ),
    "ImageCheckFaceFailed": Failure(
        INVALID_IMAGE, "Vidu found no usable face in an input image; send another image."
    ),
    "ImageObjectsUndetected": Failure(
        INVALID_IMAGE,
        "The person or face in an input image is covered too much for Vidu; send another image.",
    ),
    "ImageDownloadFailure": Failure(
        IMAGE_UNREACHABLE,
        "Vidu could not download an input image from the gateway; try again, and if it "
        "repeats, the operator should check that VIDUGATE_PUBLIC_BASE_URL is reachable "
        "from the internet.",
    ),
    "AudioNotSupportedOffPeak": Failure(
        INVALID_REQUEST,
        "Off-peak generation cannot make audio; set audio=false or off_peak=false.",
    ),
    "BadRequest": _FIELDS,
    "FieldLacking": _FIELDS,
    "FieldUnwanted": _FIELDS,
    "FieldItemCountOutOfRange": _FIELDS,
    "FieldInvalid": _FIELDS,
    "ModelUnavailable": Failure(
        MODEL_UNAVAILABLE, "Vidu cannot run this model just now; try another model or later."
    ),
    "CreditInsufficient": Failure(
        INSUFFICIENT_CREDITS,
        "The gateway's Vidu account ran out of credits for this task; try a shorter or "
        "lower-resolution video, or try again after the operator adds credits.",
    ),
    "TaskCanceled": _CANCELLED,
    "UserCancelled": _CANCELLED,
    "Canceled": _CANCELLED,
    "InternalServiceFailure": _RETRY,
    "OperationInProcess": _RETRY,
    "QuotaExceeded": _RETRY,
    "TooManyRequests": _RETRY,
    "SystemThrottling": _RETRY,
}


def quoted(err_code: str) -> str:
    """An upstream code as it may appear in a message or a log line: printable, short."""
    text = "".join(ch if ch.isprintable() else "?" for ch in err_code)
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "..."


def failure_of(err_code: str) -> Failure:
    """The gateway's code and advice for a Vidu err_code, known or not."""
    if not err_code:
        return Failure(
            GENERATION_FAILED, "Vidu reported the task failed without a reason; try again."
        )
    known = FAILURES.get(err_code)
    if known is not None:
        return known
    return Failure(
        UNKNOWN_FAILURE,
        "Vidu reported a failure this gateway does not know; try again, and if it repeats, "
        "give the operator the code below.",
    )


def task_error(err_code: str) -> TaskError:
    failure = failure_of(err_code)
    suffix = f" (Vidu err_code: {quoted(err_code)})" if err_code else ""
    return TaskError(failure.code, failure.message + suffix)
