"""X12 speed against pyx12 4.0.0, measured in one run on the same files.

    python bench/x12.py [--claims N] [--rounds R]

Prints our 835 parse rate and our 837 write rate (claims/s and MB/s) next to pyx12's validating
parse of the same files, and the ratios. The target is 20 times pyx12. Times are CPU seconds of
this process (wall time on a shared machine measures the neighbours); rates are the best seen, and
the ratio is the median over rounds that time both sides back to back.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the generated corpora live with the tests

from tests.factories import varied_claims  # noqa: E402
from tests.x12.oracle import pyx12_errors  # noqa: E402
from tests.x12.remittance_corpus import envelope, remittances  # noqa: E402

from claimflow.claims.x12 import read_835, write_835, write_837  # noqa: E402

TARGET = 20.0
REAL_835 = ROOT / "tests" / "data" / "x12-samples" / "835" / "tasty__profee-multiple.edi"


@dataclass
class Rate:
    label: str
    claims: int
    megabytes: float
    seconds: float

    @property
    def claims_per_second(self) -> float:
        return self.claims / self.seconds

    @property
    def megabytes_per_second(self) -> float:
        return self.megabytes / self.seconds


def seconds(work: Callable[[], object]) -> float:
    """CPU seconds of this process: other jobs on a shared machine do not count against either side."""
    start = time.process_time()
    work()
    return time.process_time() - start


def compare(
    rounds: int, ours: Callable[[], object], theirs: Callable[[], object]
) -> tuple[float, float, list[float]]:
    """Best times of ours and pyx12, and the ratio of each round.

    Each round times ours (best of three, back to back) right before pyx12, so both see the same
    load on a shared machine; the median of the round ratios is the figure to quote."""
    best_ours, best_theirs, ratios = float("inf"), float("inf"), []
    for _ in range(rounds):
        mine = min(seconds(ours) for _ in range(3))
        other = seconds(theirs)
        ratios.append(other / mine)
        best_ours, best_theirs = min(best_ours, mine), min(best_theirs, other)
    return best_ours, best_theirs, ratios


def _megabytes(texts: list[str]) -> float:
    return sum(len(text.encode()) for text in texts) / 1e6


def _pyx12(texts: list[str]) -> None:
    for text in texts:
        pyx12_errors(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=400, help="generated claims per corpus (default 400)")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, ours then pyx12 (default 3)")
    args = parser.parse_args()

    # 835: generated remittances (1 to 12 lines a claim, CAS at both levels, PLB) and a real file.
    generated = write_835(remittances(seed=1, total_claims=args.claims, per_remittance=50), envelope())
    real = REAL_835.read_text()
    files_835 = [generated, real]
    claims_835 = sum(len(r.claims) for text in files_835 for r in read_835(text))
    size_835 = _megabytes(files_835)

    # 837P: the claims a practice sends, in batches of 100 as a clearinghouse upload would be.
    claims = varied_claims(args.claims, seed=1)
    batches = [claims[start : start + 100] for start in range(0, len(claims), 100)]
    files_837 = [write_837(batch, envelope(number + 1)) for number, batch in enumerate(batches)]
    size_837 = _megabytes(files_837)

    results = []
    for label, what, claim_count, size, ours, theirs in (
        ("835 parse", "claimflow 835 parse", claims_835, size_835,
         lambda: [read_835(text) for text in files_835], lambda: _pyx12(files_835)),
        ("837P write", "claimflow 837P write", len(claims), size_837,
         lambda: [write_837(b, envelope(n + 1)) for n, b in enumerate(batches)], lambda: _pyx12(files_837)),
    ):  # fmt: skip
        mine, other, ratios = compare(args.rounds, ours, theirs)
        results.append(
            (
                label,
                Rate(what, claim_count, size, mine),
                Rate("pyx12 validating parse", claim_count, size, other),
                ratios,
            )
        )

    print(f"{'':32} {'claims/s':>10} {'MB/s':>8} {'claims':>7} {'MB':>6}")
    for _, mine_rate, other_rate, _ in results:
        for rate in (mine_rate, other_rate):
            print(
                f"{rate.label:32} {rate.claims_per_second:10.0f} {rate.megabytes_per_second:8.3f} "
                f"{rate.claims:7d} {rate.megabytes:6.2f}"
            )
    for label, _, _, ratios in results:
        ratio = statistics.median(ratios)
        verdict = "meets" if ratio >= TARGET else "MISSES"
        rounds = ", ".join(f"{r:.1f}" for r in ratios)
        print(f"{label}: {ratio:.1f}x pyx12, median of rounds ({rounds}); {verdict} the {TARGET:.0f}x target")


if __name__ == "__main__":
    main()
