"""limits per key and per tenant (nullable: the settings' default applies), their counts of
unfinished videos, and spend per UTC day

Revision ID: 4d8b1f6a2c93
Revises: 3f8d2b6a9c41
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d8b1f6a2c93"
down_revision: str | None = "3f8d2b6a9c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIMIT_COLUMNS = (
    ("limit_requests_per_minute", sa.Integer),
    ("limit_creates_per_minute", sa.Integer),
    ("limit_active_videos", sa.Integer),
    ("limit_spend_per_day_micros", sa.BigInteger),
)
ACTIVE = "('queued', 'processing')"


def upgrade() -> None:
    for table in ("api_keys", "tenants"):
        with op.batch_alter_table(table) as batch:
            for name, type_ in LIMIT_COLUMNS:
                batch.add_column(sa.Column(name, type_(), nullable=True))
            batch.add_column(
                sa.Column("active_videos", sa.Integer(), nullable=False, server_default="0")
            )
    # The counts start from the tasks unfinished now, so their ends bring them back to 0.
    op.execute(
        "UPDATE api_keys SET active_videos = (SELECT count(*) FROM tasks "
        f"WHERE tasks.key_id = api_keys.id AND tasks.status IN {ACTIVE})"
    )
    op.execute(
        "UPDATE tenants SET active_videos = (SELECT count(*) FROM tasks JOIN api_keys "
        "ON api_keys.id = tasks.key_id WHERE api_keys.tenant_id = tenants.id "
        f"AND tasks.status IN {ACTIVE})"
    )
    op.create_table(
        "spend_days",
        sa.Column("scope", sa.String(length=48), primary_key=True),
        sa.Column("day", sa.String(length=10), primary_key=True),
        sa.Column("micros", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spend_days")
    for table in ("api_keys", "tenants"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("active_videos")
            for name, _type in reversed(LIMIT_COLUMNS):
                batch.drop_column(name)
