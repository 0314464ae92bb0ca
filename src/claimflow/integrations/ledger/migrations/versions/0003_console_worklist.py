"""The web console's work queue: who holds each task, and the notes billers write on tasks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_assignments",
        sa.Column("task_id", sa.String(length=120), nullable=False),
        sa.Column("assignee", sa.String(length=80), nullable=False),
        sa.Column("assigned_by", sa.String(length=80), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index("ix_task_assignments_assignee", "task_assignments", ["assignee"])
    op.create_table(
        "task_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=120), nullable=False),
        sa.Column("claim_id", sa.String(length=80), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_notes_task_id", "task_notes", ["task_id"])
    op.create_index("ix_task_notes_claim", "task_notes", ["claim_id", "written_at"])


def downgrade() -> None:
    op.drop_index("ix_task_notes_claim", table_name="task_notes")
    op.drop_index("ix_task_notes_task_id", table_name="task_notes")
    op.drop_table("task_notes")
    op.drop_index("ix_task_assignments_assignee", table_name="task_assignments")
    op.drop_table("task_assignments")
