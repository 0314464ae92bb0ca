"""Fixtures: the sandbox payers with a test clock and no noise (as tests/sandbox), every file they
emit checked by pyx12 and 835 balancing when the test is done."""

from __future__ import annotations

import pytest

from tests.factories import ClaimFactory
from tests.sandbox.conftest import clock, sandbox  # noqa: F401 (the sandbox's fixtures, shared)


@pytest.fixture
def factory() -> ClaimFactory:
    return ClaimFactory(31)
