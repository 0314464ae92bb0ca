"""Envelope discipline: interchange control numbers per sender (with reservations), and the files
picked up from clearinghouse mailboxes (by name, and by the interchange they carried).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "control_number_counters",
        sa.Column("sender_id", sa.String(length=15), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id"),
    )
    op.create_table(
        "control_number_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=15), nullable=False),
        sa.Column("reservation_key", sa.String(length=120), nullable=False),
        sa.Column("control_number", sa.Integer(), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "reservation_key", name="uq_reservation_key"),
        sa.UniqueConstraint("sender_id", "control_number", name="uq_reservation_number"),
    )
    op.create_table(
        "inbound_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sender_id", sa.String(length=15), nullable=True),
        sa.Column("interchange_control_number", sa.String(length=9), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox", "name", name="uq_inbound_file"),
    )
    op.create_index(
        "ix_inbound_files_interchange", "inbound_files", ["sender_id", "interchange_control_number"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_files_interchange", table_name="inbound_files")
    op.drop_table("inbound_files")
    op.drop_table("control_number_reservations")
    op.drop_table("control_number_counters")
