"""Nothing is lost: 300 claims from the demo's mix through the embedded stack while the worker is
SIGKILLed five times, the dev server and the sandbox once each, and the clearinghouse answers 30% of
calls with an error, a 429 or too late; compared with the same batch run without faults (beside it,
in a process of its own). Then the PHI audit of what that run stored, logged and exported."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from claimflow.claims.money import ZERO
from tests.chaos.harness import Kills, RunResult, chaos_batch, compare, phi_hits, run

pytestmark = pytest.mark.slow

CLAIMS = int(os.environ.get("CLAIMFLOW_CHAOS_CLAIMS", "300"))
ROOT = Path(__file__).resolve().parents[2]


def test_killed_processes_and_a_faulty_clearinghouse_lose_nothing(tmp_path: Path) -> None:
    baseline_out = tmp_path / "baseline.json"
    baseline = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.harness", str(tmp_path / "baseline"), "--claims", str(CLAIMS),
         "--out", str(baseline_out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        batch = chaos_batch(CLAIMS)
        chaos = run(tmp_path / "chaos", batch, faults=True, kills=Kills(worker=5, temporal=1, sandbox=1))
        _, err = baseline.communicate(timeout=900)
    finally:
        baseline.kill()
    assert baseline.returncode == 0, err[-3000:]
    without = RunResult.from_json(baseline_out.read_text())
    result = compare(without, chaos)
    print("\n" + result.report(without, chaos))
    print("supervisor:", *chaos.supervisor, sep="\n  ")

    assert chaos.killed == {"worker": 5, "temporal": 1, "sandbox": 1}, chaos.killed
    assert len(without.claims) == len(chaos.claims) == CLAIMS
    assert result.lost == [], result.lost
    assert result.diverged == [], "\n".join(result.diverged[:20])
    assert result.duplicate_submissions == 0
    assert chaos.received == without.received  # one accepted submission per claim and attempt
    assert result.ledger_difference == ZERO
    assert result.doubled_postings == 0 and chaos.ledger_payments == chaos.remit_claims
    assert chaos.remit_paid == without.remit_paid > ZERO
    assert chaos.ledger_adjustments == without.ledger_adjustments

    # the PHI audit: Temporal's stored histories, search attributes and memos, every log, the metrics
    home = Path(chaos.home)
    hits = phi_hits(home, batch, chaos.metrics) + phi_hits(Path(without.home), batch, without.metrics)
    print(f"PHI audit hits {len(hits)}")
    assert hits == []
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o600
