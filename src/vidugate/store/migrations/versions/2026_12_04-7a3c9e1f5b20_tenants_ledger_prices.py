"""tenants with balances, the ledger, price tables; keys belong to a tenant and may carry a
spend cap; tasks carry their price and charge state

Revision ID: 7a3c9e1f5b20
Revises: ff304044c983
Create Date: 2026-12-04 09:00:00.000000
"""

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a3c9e1f5b20"
down_revision: str | None = "ff304044c983"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TENANT = "tenant_default"
ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    tenants = op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("balance_micros", sa.BigInteger(), nullable=False),
        sa.Column("overdraft_micros", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    # Keys made before tenants existed belong to this one, migrated in place. Its balance
    # starts at 0: nothing is charged until the operator sets prices, and then it needs a
    # top-up like any other tenant.
    op.bulk_insert(
        tenants,
        [{"id": DEFAULT_TENANT, "name": "default", "balance_micros": 0, "created_at": time.time()}],
    )
    op.create_table(
        "ledger",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("task_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_micros", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("task_id", "kind", name="uq_ledger_task_kind"),
    )
    op.create_index("ix_ledger_tenant_id", "ledger", ["tenant_id", "id"])
    op.create_index("ix_ledger_created_at", "ledger", ["created_at"])
    op.create_table(
        "price_tables",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tenant_id", sa.String(length=40), nullable=False, server_default=DEFAULT_TENANT
            )
        )
        batch_op.add_column(
            sa.Column("role", sa.String(length=8), nullable=False, server_default="client")
        )
        batch_op.add_column(sa.Column("spend_cap_micros", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("spent_micros", sa.BigInteger(), nullable=False, server_default="0")
        )
    # Tasks made before: no tenant, no price (nothing was charged for them).
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("price_micros", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("charge_state", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("charged_micros", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("upstream_credits_micros", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_tasks_tenant_id", ["tenant_id", "id"])
    with op.batch_alter_table("upstream_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits_micros", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("credits_read_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upstream_accounts", schema=None) as batch_op:
        batch_op.drop_column("credits_read_at")
        batch_op.drop_column("credits_micros")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_tenant_id")
        for column in (
            "upstream_credits_micros",
            "charged_micros",
            "charge_state",
            "currency",
            "price_micros",
            "tenant_id",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        for column in ("spent_micros", "spend_cap_micros", "role", "tenant_id"):
            batch_op.drop_column(column)
    op.drop_table("price_tables")
    op.drop_index("ix_ledger_created_at", table_name="ledger")
    op.drop_index("ix_ledger_tenant_id", table_name="ledger")
    op.drop_table("ledger")
    op.drop_table("tenants")
