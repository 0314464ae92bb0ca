"""The X12 each claim exchanged: the 837 sent and each file received, sealed with the claim keys
(the text is PHI), kept once and linked to the claims it concerns, so the console's claim page
shows them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "x12_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("direction", "name", name="uq_x12_file"),
    )
    op.create_table(
        "x12_file_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["x12_files.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_id", "patient_control_number", name="uq_x12_file_claim"),
    )
    op.create_index(
        "ix_x12_file_claims_patient_control_number", "x12_file_claims", ["patient_control_number"]
    )


def downgrade() -> None:
    op.drop_index("ix_x12_file_claims_patient_control_number", table_name="x12_file_claims")
    op.drop_table("x12_file_claims")
    op.drop_table("x12_files")
