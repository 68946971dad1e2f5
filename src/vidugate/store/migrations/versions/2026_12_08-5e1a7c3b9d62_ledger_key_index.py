"""an index on the ledger's key_id: a key's usage report (GET /v1/usage) reads its rows

Revision ID: 5e1a7c3b9d62
Revises: 9b2e5c7d1a48
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e1a7c3b9d62"
down_revision: str | None = "9b2e5c7d1a48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_key_id", "ledger", ["key_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_key_id", table_name="ledger")
