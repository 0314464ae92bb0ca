"""How the suite is split over processes (scripts/test runs pytest-xdist with --dist loadgroup).

Each test file runs whole in one process, as with --dist loadfile, so its fixtures start once.
The claim and appeal workflow tests go further: each of the two folders runs in one process,
because its test_replay.py replays the histories of every workflow the folder's other files
started in that process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REPLAYED_TOGETHER = {TESTS / "workflows", TESTS / "appeals"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.parent
        group = folder if folder in REPLAYED_TOGETHER else item.path
        item.add_marker(pytest.mark.xdist_group(str(group.relative_to(TESTS.parent))))
