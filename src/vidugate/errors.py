"""The one error tree of vidugate. Code below the API raises these; each API
surface renders them in its own envelope in exactly one place.

    VidugateError
     ├── InvalidRequestError        400 invalid_value / unknown_parameter / ...
     │    ├── PayloadTooLargeError  413 too_large
     │    ├── RequestTimeoutError   408 request_timeout: the body stalled or took too long
     │    └── UnsupportedMediaError 415 unsupported_media_type
     ├── AuthenticationError        401 invalid_api_key
     ├── PaymentRequiredError       402 insufficient_quota: the tenant's balance or the
     │                                  key's spend cap does not cover the price
     ├── PermissionDeniedError      403 invalid_signature
     ├── NotFoundError              404 not_found
     ├── ConflictError              409 conflict / video_not_ready
     ├── GoneError                  410 expired
     ├── RateLimitError             429 rate_limit_exceeded: a key's or tenant's limit;
     │                                  names the limit and its value (retry_after)
     ├── ServiceUnavailableError    503 unavailable (retry_after)
     │    └── DatabaseUnavailableError  503 database_unavailable: the database is away
     └── ProviderError              502 upstream_error
          ├── UpstreamRejectedError     the upstream refused the request
          ├── UpstreamAuthError         the upstream refused our credentials
          └── UpstreamUnavailableError  503, retriable after retry_after seconds
               └── UpstreamOutcomeUnknownError  a create may or may not have been accepted

Nothing here imports FastAPI: the HTTP mapping is data on each class.
"""

from __future__ import annotations


class VidugateError(Exception):
    status: int = 500
    type: str = "api_error"
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after = retry_after


class InvalidRequestError(VidugateError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_value"


class PayloadTooLargeError(InvalidRequestError):
    status = 413
    code = "too_large"


class RequestTimeoutError(InvalidRequestError):
    status = 408
    code = "request_timeout"


class UnsupportedMediaError(InvalidRequestError):
    status = 415
    code = "unsupported_media_type"


class AuthenticationError(VidugateError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class PaymentRequiredError(VidugateError):
    status = 402
    type = "insufficient_quota"
    code = "insufficient_quota"


class PermissionDeniedError(VidugateError):
    status = 403
    type = "invalid_request_error"
    code = "invalid_signature"


class NotFoundError(VidugateError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class ConflictError(VidugateError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


class GoneError(VidugateError):
    status = 410
    type = "invalid_request_error"
    code = "expired"


class RateLimitError(VidugateError):
    """Over a limit (domain/limits.py). `headers` are the x-ratelimit-* headers of the
    check that refused, sent with the 429 as with every answer; `limit` (the limit's kind)
    and `scope` (`key` or `tenant`) label the refusal in /metrics."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
        limit: str = "unknown",
        scope: str = "unknown",
    ) -> None:
        super().__init__(message, param=param, retry_after=retry_after)
        self.headers = headers or {}
        self.limit = limit
        self.scope = scope


class ServiceUnavailableError(VidugateError):
    status = 503
    type = "api_error"
    code = "unavailable"


class DatabaseUnavailableError(ServiceUnavailableError):
    code = "database_unavailable"

    def __init__(
        self,
        message: str = "The gateway's database cannot be reached just now. Try again shortly "
        "(a create repeated with the same Idempotency-Key is never run twice).",
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = 2,
    ) -> None:
        super().__init__(message, param=param, code=code, retry_after=retry_after)


class ProviderError(VidugateError):
    status = 502
    type = "upstream_error"
    code = "upstream_error"


class UpstreamRejectedError(ProviderError):
    pass


class UpstreamAuthError(ProviderError):
    code = "upstream_auth_error"


class UpstreamUnavailableError(ProviderError):
    status = 503
    code = "upstream_unavailable"


class UpstreamOutcomeUnknownError(UpstreamUnavailableError):
    """A create was sent and no answer came back (timeout, dropped connection, 5xx): the
    upstream may have made the task. Look it up before ever sending the create again."""
