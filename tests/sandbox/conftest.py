"""Fixtures: a sandbox with a test clock and no noise, in a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.helpers import FakeClock, quiet_config


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: FakeClock) -> Iterator[Sandbox]:
    store = Store(tmp_path / "sandbox.db")
    yield Sandbox(quiet_config(), store, clock=clock)
    store.close()


@pytest.fixture
def factory() -> ClaimFactory:
    return ClaimFactory(23)
