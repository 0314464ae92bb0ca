"""A CO-50 denial's appeal on the real worker: the demo's not-medically-necessary claims through the
embedded stack (`claimflow up`'s dev server, sandbox and worker process), without faults, each
appealed and waiting on the biller's review of its letter.

This is the path that once failed its workflow task with PydanticUserError on a real worker only
(AppealInput first validated inside the workflow sandbox, which could not complete the model), while
the time-skipping tests passed whenever an earlier test had built the model outside the sandbox.
A worker process of its own has no such earlier test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from claimflow.console.demo_batch import load_demo_batch
from tests.chaos.harness import run

pytestmark = pytest.mark.slow


def test_the_real_worker_appeals_a_co50_denial(tmp_path: Path) -> None:
    batch = [
        c.encounter
        for c in load_demo_batch(datetime.now(UTC).date())
        if c.trouble == "not_medically_necessary"
    ]
    assert batch, "the demo's mix has not-medically-necessary claims"
    result = run(tmp_path / "home", batch, faults=False, timeout=300)
    assert len(result.claims) == len(batch)
    for claim_id, (state, tasks) in result.claims.items():
        assert (state, tasks) == ("appealing", ("appeal:appeal_review",)), claim_id
    assert "PydanticUserError" not in (tmp_path / "home" / "logs" / "worker.log").read_text()
