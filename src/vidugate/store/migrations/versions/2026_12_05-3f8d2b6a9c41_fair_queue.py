"""fair queue: tenants.weight, tasks.slot and tasks.priority, the admission's index

Revision ID: 3f8d2b6a9c41
Revises: 7a3c9e1f5b20
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f8d2b6a9c41"
down_revision: str | None = "7a3c9e1f5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("slot", sa.String(length=160), nullable=True))
        batch.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_tasks_admission", "tasks", ["status", "slot", "tenant_id", "priority", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_admission", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("priority")
        batch.drop_column("slot")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("weight")
