"""Submissions: the claims each sent interchange carried, for routing 999 acknowledgements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_control_number", sa.String(length=9), nullable=False),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.Column("submission_id", sa.String(length=80), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_control_number", "patient_control_number", name="uq_submission"),
    )
    op.create_index("ix_submissions_group_control_number", "submissions", ["group_control_number"])


def downgrade() -> None:
    op.drop_index("ix_submissions_group_control_number", table_name="submissions")
    op.drop_table("submissions")
