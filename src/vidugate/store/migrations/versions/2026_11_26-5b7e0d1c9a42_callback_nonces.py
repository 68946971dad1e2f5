"""callback nonces shared by every process

Revision ID: 5b7e0d1c9a42
Revises: c40719176517
Create Date: 2026-11-26 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b7e0d1c9a42"
down_revision: str | None = "c40719176517"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_nonces",
        sa.Column("nonce", sa.String(length=200), nullable=False),
        sa.Column("keep_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_callback_nonces_keep_until", "callback_nonces", ["keep_until"])


def downgrade() -> None:
    op.drop_index("ix_callback_nonces_keep_until", table_name="callback_nonces")
    op.drop_table("callback_nonces")
