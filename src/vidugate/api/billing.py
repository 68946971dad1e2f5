"""A client key's money: its tenant's balance and its own spend (GET /v1/balance), its own
usage (GET /v1/usage, from the ledger rows of its videos only) and what a video would cost
(POST /v1/videos/quote: the create's body, checked as the create checks it, priced, and
nothing created). Mounted ahead of /v1/videos/{video_id}/..., so "quote" is no video id."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from vidugate.api.admin.export import (
    PERIOD_DOC,
    Format,
    parse_period,
    report_responses,
    usage_response,
)
from vidugate.api.admin.schemas import UsageReportObject
from vidugate.api.deps import ApiKeyDep, BillingDep, SettingsDep, VideoServiceDep
from vidugate.api.openai.body import read_new_video
from vidugate.api.openai.models import prices_in_force
from vidugate.api.openai.schemas import CREATE_CONTENT
from vidugate.api.responses import openai_errors
from vidugate.domain.models import MODELS, Mode
from vidugate.domain.money import amount_text
from vidugate.domain.usage import UsageGroup
from vidugate.errors import InvalidRequestError
from vidugate.services.videos import NewVideo

router = APIRouter(prefix="/v1", tags=["billing"])


class Balance(BaseModel):
    object: Literal["balance"] = "balance"
    tenant_id: str
    balance: str = Field(description="The tenant's balance, shared by its keys.")
    overdraft: str = Field(description="How far below 0 a video may take the balance.")
    currency: str | None = Field(description="The price table's; null: no prices, free.")
    spend_cap: str | None = Field(description="This key's own cap, net of refunds (null: none).")
    spent: str = Field(description="What this key has spent, net of refunds.")


class QuoteLine(BaseModel):
    label: str
    amount: str


class QuotePrice(BaseModel):
    amount: str = Field(description="What the create would reserve (and charge on success).")
    currency: str
    lines: list[QuoteLine] = Field(description="How it adds up; the lines sum to amount.")


class VideoQuote(BaseModel):
    object: Literal["video.quote"] = "video.quote"
    model: str
    mode: str = Field(description="text2video, img2video, ...: the endpoint it would use.")
    duration: int
    resolution: str
    price: QuotePrice | None = Field(description="null: no price table is set (it is free).")


@router.get(
    "/balance",
    operation_id="retrieve_balance",
    summary="This key's tenant's balance, and this key's cap and spend",
    response_model=Balance,
    responses=openai_errors(401),
)
async def retrieve_balance(key: ApiKeyDep, billing: BillingDep) -> Balance:
    found = await billing.balance(key)
    return Balance(
        tenant_id=found.tenant.id,
        balance=amount_text(found.tenant.balance),
        overdraft=amount_text(found.tenant.overdraft),
        currency=found.currency,
        spend_cap=None if found.spend_cap is None else amount_text(found.spend_cap),
        spent=amount_text(found.spent),
    )


@router.get(
    "/usage",
    operation_id="retrieve_usage",
    summary="This key's usage per model or day, from the ledger (JSON or CSV)",
    response_model=UsageReportObject,
    responses={**openai_errors(401), **report_responses()},
)
async def retrieve_usage(
    key: ApiKeyDep,
    billing: BillingDep,
    group_by: Annotated[
        Literal["model", "day"], Query(description="What a line is per.")
    ] = "model",
    since: Annotated[str | None, Query(max_length=40, description=PERIOD_DOC)] = None,
    until: Annotated[str | None, Query(max_length=40, description=PERIOD_DOC)] = None,
    format: Annotated[Format, Query(description="json (default) or csv.")] = "json",
) -> Response:
    period = parse_period(since, until)
    report = await billing.usage(UsageGroup(group_by), period, key_id=key.id)
    prices = await prices_in_force(billing)
    return usage_response(report, period, prices.currency if prices else None, format)


def with_mode(new: NewVideo, mode: Mode, image_count: int | None) -> NewVideo:
    """The create as Vidu's route of `mode` would take it: the count of images is all the
    price and the checks need (stand-ins; none is read)."""
    if new.images:
        raise InvalidRequestError(
            f"With mode={mode}, give image_count, not images: the quote reads no image.",
            param="images",
        )
    spec = MODELS.get(new.fields.model or "")
    count = image_count
    if count is None:
        count = spec.image_range(mode)[0] if spec is not None and mode in spec.rules else 0
    return replace(new, mode=mode, images=[QUOTE_IMAGE] * count)


QUOTE_IMAGE = "https://quote.invalid/image.png"  # never fetched: the quote reads no image


_QUOTE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": CREATE_CONTENT}}


@router.post(
    "/videos/quote",
    operation_id="quote_video",
    summary="What a video would cost: POST /v1/videos' body, checked and priced, not created",
    response_model=VideoQuote,
    responses=openai_errors(401, 408, 413, 415),
    openapi_extra=_QUOTE_BODY,
)
async def quote_video(
    request: Request,
    _key: ApiKeyDep,
    videos: VideoServiceDep,
    settings: SettingsDep,
    mode: Annotated[
        Literal["start-end2video", "reference2video"] | None,
        Query(
            description="Price the body as a create on Vidu's route of this mode (the "
            "two-to-seven-image videos /v1/videos does not make), with `image_count` images."
        ),
    ] = None,
    image_count: Annotated[
        int | None,
        Query(ge=0, le=64, description="With `mode`: how many images (default: its fewest)."),
    ] = None,
) -> Response:
    """Every check of the create that needs no image; images are not fetched or decoded
    (an image the create would refuse is not found out here)."""
    async with read_new_video(
        request, max_image_bytes=settings.max_image_bytes, idempotency_key=None
    ) as new:
        if mode is not None:
            new = with_mode(new, Mode(mode), image_count)
        elif image_count is not None:
            raise InvalidRequestError("image_count goes with mode.", param="image_count")
        video, quote = await videos.quote(new)
    return JSONResponse(
        {
            "object": "video.quote",
            "model": video.model,
            "mode": video.mode.value,
            "duration": video.duration,
            "resolution": video.resolution,
            "price": None if quote is None else quote.as_json(),
        }
    )
