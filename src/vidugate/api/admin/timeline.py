"""/admin/v1/videos/{id}/timeline: a task's history for the operator console, its changes,
ledger rows and webhook deliveries merged in time order (docs/console-api.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from vidugate.api.admin.console import TimelineObject, timeline_object
from vidugate.api.admin.schemas import ID_PATTERN
from vidugate.api.deps import TimelineDep, authenticate_admin
from vidugate.api.responses import openai_errors

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(authenticate_admin)])


@router.get(
    "/videos/{video_id}/timeline",
    operation_id="admin_retrieve_video_timeline",
    summary="A video's history: its changes, money and webhook deliveries, in time order",
    response_model=TimelineObject,
    responses=openai_errors(401, 404),
)
async def retrieve_video_timeline(
    video_id: Annotated[str, Path(pattern=ID_PATTERN, description="A video's id.")],
    timeline: TimelineDep,
) -> TimelineObject:
    return timeline_object(await timeline.of(video_id))
