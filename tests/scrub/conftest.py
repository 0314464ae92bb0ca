"""Session fixtures: the shipped code sets and payer directory."""

from __future__ import annotations

import pytest

from claimflow.claims.codesets import CodeSets, default_codesets
from claimflow.claims.payers import PayerDirectory, PayerProfile, default_directory


@pytest.fixture(scope="session")
def codesets() -> CodeSets:
    return default_codesets()


@pytest.fixture(scope="session")
def directory() -> PayerDirectory:
    return default_directory()


@pytest.fixture(scope="session")
def commercial(directory: PayerDirectory) -> PayerProfile:
    profile = directory.get("SMPBCX")
    assert profile is not None
    return profile
