"""each finished task's spritesheet (a JPEG grid of its frames), when one was made

Revision ID: ff304044c983
Revises: 650b30416211
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ff304044c983"
down_revision: str | None = "650b30416211"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tasks stored before it keep NULL: they have no spritesheet, and say so when asked.
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spritesheet_key", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("spritesheet_key")
