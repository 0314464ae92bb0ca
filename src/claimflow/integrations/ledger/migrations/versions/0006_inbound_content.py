"""Inbound files keep the SHA-256 of their content, so a second file carrying an interchange already
routed is a duplicate only when it is the same interchange; one that reuses the control number for
other content is parked for a person instead of being ignored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_files") as table:
        table.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_files") as table:
        table.drop_column("content_sha256")
