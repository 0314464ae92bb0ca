"""Alembic environment for the ledger, driven by `claimflow.integrations.ledger.migrate` (no alembic.ini).

`migrate` hands over an open connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from claimflow.integrations.ledger.schema import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the ledger migrations run through claimflow.integrations.ledger.migrate(database_url), "
        "not the alembic command line"
    )
run_migrations(connection)
