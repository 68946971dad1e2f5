"""the stored video's own frame size

Revision ID: e52a780e4cb7
Revises: 5b7e0d1c9a42
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e52a780e4cb7"
down_revision: str | None = "5b7e0d1c9a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("result_height", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("result_height")
        batch_op.drop_column("result_width")
