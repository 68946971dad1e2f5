"""task_events: a task's history, one row per transition (GET /admin/v1/videos/{id}/timeline)

Tasks made before this revision have no events: their timeline shows their ledger rows and
webhook deliveries only.

Revision ID: 6c2d8e4a1f57
Revises: 5e1a7c3b9d62
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c2d8e4a1f57"
down_revision: str | None = "5e1a7c3b9d62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "task_events",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("status_before", sa.String(length=16), nullable=True),
        sa.Column("status_after", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_task_events_task", "task_events", ["task_id", "id"])


def downgrade() -> None:
    op.drop_table("task_events")
