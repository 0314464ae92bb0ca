"""What the demo tells a person at the end, offline: the same saved searches `stuck` prints, and how
to go on (`claimflow up` on the demo's home, which keeps its fast payers)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from claimflow.claims.money import ZERO
from claimflow.console.claims_client import saved_searches
from claimflow.console.demo_cli import STUCK_DAYS, print_summary
from claimflow.console.demo_summary import summarize
from claimflow.console.stack import Stack, StackConfig


def test_the_summary_prints_stucks_saved_searches_and_the_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    print_summary(summarize([], ZERO, datetime.now(UTC).date()), home, Stack(StackConfig(home=home)))
    out = " ".join(capsys.readouterr().out.split())
    for search in saved_searches(STUCK_DAYS, datetime.now(UTC)):
        assert search.name in out
        assert search.query.split(" < ")[0].split(" <= ")[0] in out  # the times are the moment's
    assert f"claimflow up --home {home}" in out and f"claimflow stuck --days {STUCK_DAYS}" in out
    assert "Ctrl-C" not in out
