"""The chaos test, bigger: N claims from the demo's mix with workers, the dev server and the sandbox
SIGKILLed and a faulty clearinghouse, against the same batch without faults run beside it.

    python bench/chaos.py [--claims 1000] [--worker-kills 10] [--every 15] [--keep DIR]

Prints claims lost, claims diverged, duplicate submissions, ledger difference and doubled postings
(each should be 0), then the PHI audit's hits, the runs' durations and their ratio (the last line).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chaos.harness import Kills, RunResult, chaos_batch, compare, phi_hits, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--worker-kills", type=int, default=10)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between kills")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--keep", type=Path, help="keep both runs' homes here (default: a temporary folder)")
    arguments = parser.parse_args()
    folder = arguments.keep or Path(tempfile.mkdtemp(prefix="claimflow-chaos-"))
    out = folder / "baseline.json"
    baseline = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.harness", str(folder / "baseline"),
         "--claims", str(arguments.claims), "--out", str(out), "--timeout", str(arguments.timeout)],
        cwd=ROOT,
    )  # fmt: skip
    try:
        batch = chaos_batch(arguments.claims)
        kills = Kills(worker=arguments.worker_kills, temporal=1, sandbox=1, every_seconds=arguments.every)
        chaos = run(folder / "chaos", batch, faults=True, kills=kills, timeout=arguments.timeout)
        if baseline.wait() != 0:
            print(f"the baseline run failed (exit {baseline.returncode})", file=sys.stderr)
            return 1
    finally:
        baseline.kill()
    without = RunResult.from_json(out.read_text())
    result = compare(without, chaos)
    print(result.report(without, chaos))
    for line in result.diverged[:20]:
        print("  diverged:", line)
    hits = phi_hits(Path(chaos.home), batch, chaos.metrics)
    print(f"PHI audit hits {len(hits)}", *hits[:10], sep="\n  ")
    print(f"homes in {folder}")
    print(f"chaos/baseline time ratio {chaos.seconds / without.seconds:.2f}")
    clean = not (result.lost or result.diverged or result.duplicate_submissions or hits)
    return 0 if clean and not result.ledger_difference and not result.doubled_postings else 1


if __name__ == "__main__":
    raise SystemExit(main())
