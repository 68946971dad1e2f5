"""each key's status dialect (auto, seed or openai), chosen when it is made

Revision ID: 650b30416211
Revises: 9e4f2a7c1d3b
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "650b30416211"
down_revision: str | None = "9e4f2a7c1d3b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Keys made before it get auto: what every key had until then.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_dialect", sa.String(length=16), nullable=False, server_default="auto")
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("status_dialect")
