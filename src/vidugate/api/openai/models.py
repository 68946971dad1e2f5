"""/v1/models: what each model accepts, straight from the capability table, and what it
costs under the price table in force (read per request: an operator may change it at any
time; PriceBook keeps it in memory)."""

from __future__ import annotations

from fastapi import APIRouter

from vidugate.api.deps import ApiKeyDep, BillingDep
from vidugate.api.openai.schemas import (
    EndpointRules,
    ModelList,
    ModelObject,
    ModelPricing,
    ResolutionChoice,
)
from vidugate.api.responses import openai_errors
from vidugate.domain.models import IMAGE_FRAMED, MODELS, Mode, ModelSpec, supported_sizes
from vidugate.domain.prices import PriceTable
from vidugate.errors import NotFoundError, ServiceUnavailableError
from vidugate.services.billing import Billing

router = APIRouter(prefix="/v1", tags=["models"])

_CREATED = 1_735_689_600  # 2025-01-01: the table has no release dates of its own


def model_object(spec: ModelSpec, prices: PriceTable | None = None) -> ModelObject:
    rules = None if prices is None else prices.rules(spec.id)
    return ModelObject(
        id=spec.id,
        created=_CREATED,
        owned_by=spec.owned_by,
        description=spec.description,
        durations={
            "min": spec.min_duration,
            "max": spec.max_duration,
            "default": spec.default_duration,
        },
        resolutions=list(spec.resolutions),
        default_resolution=spec.default_resolution,
        aspect_ratios=list(spec.aspect_ratios),
        default_aspect_ratio=spec.default_aspect_ratio,
        sizes=supported_sizes(spec),
        audio_default=spec.audio_default,
        modes=sorted(mode.value for mode in spec.modes),
        ignored_fields=sorted(spec.ignored_fields),
        notes=list(spec.notes),
        max_prompt_chars=spec.max_prompt_chars,
        endpoints={mode.value: endpoint_rules(spec, mode) for mode in Mode if mode in spec.rules},
        pricing=None if rules is None else ModelPricing.model_validate(rules),
    )


async def prices_in_force(billing: Billing) -> PriceTable | None:
    """The table in force; None also when the stored one cannot be read (creates are
    refused then, with the reason; the models are still listed)."""
    try:
        return await billing.prices.current()
    except ServiceUnavailableError:
        return None


def endpoint_rules(spec: ModelSpec, mode: Mode) -> EndpointRules:
    rules = spec.rules[mode]
    fewest, most = spec.image_range(mode)
    return EndpointRules(
        durations=list(rules.durations),
        default_duration=rules.default_duration,
        resolutions=[
            ResolutionChoice(
                durations=list(durations), allowed=list(offered.allowed), default=offered.default
            )
            for durations, offered in rules.duration_groups()
        ],
        frame="image" if mode in IMAGE_FRAMED else "aspect_ratio",
        aspect_ratios=[] if mode in IMAGE_FRAMED else list(rules.aspect_ratios),
        default_aspect_ratio=rules.default_aspect_ratio,
        images={"min": fewest, "max": most},
        max_prompt_chars=rules.max_prompt_chars,
    )


@router.get(
    "/models", operation_id="list_models", response_model=ModelList, responses=openai_errors(401)
)
async def list_models(_key: ApiKeyDep, billing: BillingDep) -> ModelList:
    prices = await prices_in_force(billing)
    return ModelList(data=[model_object(spec, prices) for spec in MODELS.values()])


@router.get(
    "/models/{model_id}",
    operation_id="retrieve_model",
    response_model=ModelObject,
    responses=openai_errors(401, 404),
)
async def retrieve_model(model_id: str, _key: ApiKeyDep, billing: BillingDep) -> ModelObject:
    spec = MODELS.get(model_id)
    if spec is None:
        raise NotFoundError(f"No model {model_id!r}.", param="model_id")
    return model_object(spec, await prices_in_force(billing))
