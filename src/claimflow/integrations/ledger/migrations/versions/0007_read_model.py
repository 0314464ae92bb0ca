"""The read model: one row per open task and one per claim, kept current by the projector from the
workflows, so the work queue, `claimflow tasks` and A/R aging are one indexed query each instead of a
query to every workflow. `readmodel_sources` is what the projector last saw of each workflow and
`readmodel_cursor` when its last pass started.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    op.create_table(
        "readmodel_tasks",
        sa.Column("task_id", sa.String(length=120), nullable=False),
        sa.Column("workflow_id", sa.String(length=120), nullable=False),
        sa.Column("claim_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(length=80), nullable=True),
        sa.Column("patient", sa.String(length=200), nullable=True),
        sa.Column("date_of_service", sa.Date(), nullable=True),
        sa.Column("payer_id", sa.String(length=80), nullable=True),
        sa.Column("amount_at_stake", MONEY, nullable=True),
        sa.Column("claim_state", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("task_id"),
    )
    for name, columns in TASK_INDEXES.items():
        op.create_index(name, "readmodel_tasks", columns)
    op.create_table(
        "readmodel_claims",
        sa.Column("claim_id", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("billed", MONEY, nullable=False),
        sa.Column("balance", MONEY, nullable=False),
        sa.Column("amount_at_stake", MONEY, nullable=False),
        sa.Column("patient", sa.String(length=200), nullable=True),
        sa.Column("date_of_service", sa.Date(), nullable=True),
        sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timely_filing_deadline", sa.Date(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    for name, columns in CLAIM_INDEXES.items():
        op.create_index(name, "readmodel_claims", columns)
    op.create_table(
        "readmodel_sources",
        sa.Column("workflow_id", sa.String(length=120), nullable=False),
        sa.Column("workflow_type", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("workflow_id"),
    )
    op.create_table(
        "readmodel_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


TASK_INDEXES = {
    "ix_readmodel_tasks_due": ["due_at", "task_id"],
    "ix_readmodel_tasks_priority_due": ["priority", "due_at"],
    "ix_readmodel_tasks_kind_due": ["kind", "due_at"],
    "ix_readmodel_tasks_payer_due": ["payer_id", "due_at"],
    "ix_readmodel_tasks_assignee": ["assignee"],
    "ix_readmodel_tasks_amount": ["amount_at_stake"],
    "ix_readmodel_tasks_dos": ["date_of_service"],
    "ix_readmodel_tasks_patient": ["patient"],
    "ix_readmodel_tasks_workflow": ["workflow_id"],
    "ix_readmodel_tasks_claim": ["claim_id"],
}
CLAIM_INDEXES = {
    "ix_readmodel_claims_ar": ["balance", "date_of_service"],
    "ix_readmodel_claims_state": ["state"],
    "ix_readmodel_claims_payer": ["payer_id"],
    "ix_readmodel_claims_progress": ["last_progress_at"],
    "ix_readmodel_claims_deadline": ["timely_filing_deadline"],
}


def downgrade() -> None:
    op.drop_table("readmodel_cursor")
    op.drop_table("readmodel_sources")
    for name in CLAIM_INDEXES:
        op.drop_index(name, table_name="readmodel_claims")
    op.drop_table("readmodel_claims")
    for name in TASK_INDEXES:
        op.drop_index(name, table_name="readmodel_tasks")
    op.drop_table("readmodel_tasks")
