"""Every ledger test runs on SQLite and, when the binaries are there, on a PostgreSQL 15 cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimflow.integrations.ledger import Ledger
from tests.pg import postgres_server, postgres_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    books = Ledger(database_url)
    try:
        yield books
    finally:
        books.close()
