"""index tasks by completed_at, for the purge of old finished rows

Revision ID: 9e4f2a7c1d3b
Revises: e52a780e4cb7
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9e4f2a7c1d3b"
down_revision: str | None = "e52a780e4cb7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_completed_at", "tasks", ["completed_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_completed_at", table_name="tasks")
