"""Fixtures: the sandbox payers with a test clock and no noise (as tests/sandbox), every file they
emit checked by pyx12 and 835 balancing when the test is done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.conftest import check_every_file
from tests.sandbox.helpers import FakeClock, quiet_config


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


@pytest.fixture
def factory() -> ClaimFactory:
    return ClaimFactory(31)
