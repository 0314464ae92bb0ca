"""Fixtures: a sandbox with a test clock and no noise, in a temporary SQLite file. When a test is
done, every 999, 277CA and 835 its sandbox emitted is checked: pyx12 accepts it, every 835 balances."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimflow.claims.x12 import read_835
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.helpers import FakeClock, assert_balanced, assert_valid_x12, quiet_config


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock) -> Iterator[Sandbox]:
    store = Store(tmp_path / "sandbox.db")
    sandbox = Sandbox(quiet_config(), store, clock=clock)
    yield sandbox
    check_every_file(store)
    store.close()


def check_every_file(store: Store) -> None:
    """All files ever put in the inbox, acknowledged or not, by kind: one pyx12 pass per kind."""
    rows = store.rows("SELECT kind, content FROM files WHERE kind IN ('999', '277CA', '835') ORDER BY seq")
    by_kind: dict[str, list[str]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["content"])
    for texts in by_kind.values():
        assert_valid_x12("".join(texts))
    for text in by_kind.get("835", []):
        for remittance in read_835(text):
            assert_balanced(remittance)


@pytest.fixture
def factory() -> ClaimFactory:
    return ClaimFactory(23)
