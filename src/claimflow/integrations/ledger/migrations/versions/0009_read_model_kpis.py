"""The read model carries what the dashboard's KPIs and the console's search need, so neither asks
every workflow: each claim's KPI facts (claims.kpi.ClaimFacts: clean, first-pass, denied first,
its denial categories, amounts paid and adjusted, its A/R balance) and the date of its first 835,
its patient control number, payer claim number and a case-folded search text; and one row per
underpaid line (readmodel_underpayments).

The rows already projected hold none of it, so the projector's cursor is cleared: its next pass
rebuilds the read model from the workflows (`claimflow readmodel rebuild` does it at once), and
until then the console reads the workflows as it does for a read model never built.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)
FLAGS = ("facts_known", "submitted", "clean", "first_pass_resolved", "remitted", "initially_denied")
AMOUNTS = ("payer_paid", "patient_paid", "contractual_adjustment", "ar_balance")
COLUMNS = (
    *FLAGS,
    "denial_categories",
    *AMOUNTS,
    "first_remittance_on",
    "patient_control_number",
    "payer_claim_number",
    "open_tasks",
    "search_text",
)
CLAIM_INDEXES = {
    "ix_readmodel_claims_dos": ["date_of_service"],
    "ix_readmodel_claims_first_remittance": ["first_remittance_on"],
    "ix_readmodel_claims_pcn": ["patient_control_number"],
    "ix_readmodel_claims_denials": ["denial_categories"],
}


def upgrade() -> None:
    with op.batch_alter_table("readmodel_claims") as table:
        for flag in FLAGS:
            table.add_column(sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(
            sa.Column("denial_categories", sa.String(length=200), nullable=False, server_default="")
        )
        for amount in AMOUNTS:
            table.add_column(sa.Column(amount, MONEY, nullable=False, server_default="0"))
        table.add_column(sa.Column("first_remittance_on", sa.Date(), nullable=True))
        table.add_column(sa.Column("patient_control_number", sa.String(length=38), nullable=True))
        table.add_column(sa.Column("payer_claim_number", sa.String(length=50), nullable=True))
        table.add_column(sa.Column("open_tasks", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    for name, columns in CLAIM_INDEXES.items():
        op.create_index(name, "readmodel_claims", columns)
    op.create_table(
        "readmodel_underpayments",
        sa.Column("claim_id", sa.String(length=120), nullable=False),
        sa.Column("task_id", sa.String(length=120), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shortfall", MONEY, nullable=False),
        sa.Column("recovered", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("claim_id", "task_id"),
    )
    op.create_index("ix_readmodel_underpayments_payer", "readmodel_underpayments", ["payer_id", "status"])
    # the rows projected so far lack the new facts: the projector's next pass rebuilds them all
    op.execute("DELETE FROM readmodel_cursor")


def downgrade() -> None:
    op.drop_index("ix_readmodel_underpayments_payer", table_name="readmodel_underpayments")
    op.drop_table("readmodel_underpayments")
    for name in CLAIM_INDEXES:
        op.drop_index(name, table_name="readmodel_claims")
    with op.batch_alter_table("readmodel_claims") as table:
        for column in COLUMNS:
            table.drop_column(column)
