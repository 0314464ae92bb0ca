"""The shipped migrations build exactly the schema the ORM expects, and rerunning them is harmless."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from claimflow.integrations.ledger import migrate
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.schema import Base

BOOKS = {
    "claims",
    "charges",
    "payments",
    "adjustments",
    "patient_responsibility",
    "patient_payments",
    "audit",
}


def test_migrations_match_the_models(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)  # already at head: a no-op
    engine = create_ledger_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert tables == set(Base.metadata.tables) | {"alembic_version"}
            assert tables >= BOOKS
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
