"""Worker memory with many claims parked in long waits, and what 100,000 would cost.

    python bench/open_claims.py [--claims N] [--step S]

Starts the embedded stack with payers that acknowledge within a second but adjudicate in 30 days,
then parks clean claims of the demo batch, S at a time, until N wait for their 835. After each
step it reads the worker process's resident memory (VmRSS) and reports RSS, RSS per open claim
above the empty worker, and how many of them the worker keeps cached (at most its
max_cached_workflows; the rest are evicted and replayed from history when an event arrives). The
last line extrapolates to 100,000 open claims: a full cache at the cost per cached claim, and every
claim past it at the cost measured past the cache (what an evicted claim still holds). Goal: within
1.5 GB.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from claimflow.claims import ids
from claimflow.claims.lifecycle import ClaimState
from claimflow.console.claims_client import ClaimsClient
from claimflow.console.stack import Stack
from claimflow.integrations.temporal import connect
from claimflow.workers.worker import MAX_CACHED_WORKFLOWS
from stack import bench_payers, clean_encounters, run_on_stack, wait_for_states  # bench/: this folder

GOAL_BYTES = 1.5 * 1024**3
TARGET_CLAIMS = 100_000
PARKED = {ClaimState.ACCEPTED.value}
"""A claim the payer accepted waits for its 835: here, 30 days."""
PARK_TIMEOUT_SECONDS = 1_800


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"process {pid} reports no VmRSS")


async def measure(stack: Stack, total: int, step: int) -> None:
    client = await connect(stack.settings())
    claims = ClaimsClient(client, stack.config.task_queue)
    worker_pid = stack.pids()["worker"]
    await asyncio.sleep(2.0)  # the worker settles after start
    empty = resident_bytes(worker_pid)
    print(f"empty worker: {empty / 2**20:.0f} MiB; cache holds at most {MAX_CACHED_WORKFLOWS} workflows")
    wanted: set[str] = set()
    slope = 0.0
    full: tuple[int, int] | None = None
    """(open claims, RSS) at the first step past the cache: from there, each claim costs what an evicted
    claim keeps."""
    rss = empty
    for first in range(0, total, step):
        encounters = clean_encounters(first, min(step, total - first))
        await claims.intake_many(encounters)
        wanted |= {ids.claim_workflow_id(encounter.encounter_id) for encounter in encounters}
        await wait_for_states(client, wanted, PARKED, PARK_TIMEOUT_SECONDS)
        rss = resident_bytes(worker_pid)
        cached = min(len(wanted), MAX_CACHED_WORKFLOWS)
        if len(wanted) <= MAX_CACHED_WORKFLOWS:
            slope = (rss - empty) / cached
        elif full is None:  # the first step with the cache full and evicting
            full = (len(wanted), rss)
        print(
            f"{len(wanted):>6} open claims: worker RSS {rss / 2**20:.0f} MiB, "
            f"{slope / 1024:.0f} KiB per cached claim, {cached} cached"
        )
    print(projection(empty, slope, full, (len(wanted), rss)))


def projection(empty: int, slope: float, full: tuple[int, int] | None, last: tuple[int, int]) -> str:
    """RSS at 100,000 open claims: the empty worker, a full cache at the measured cost per cached claim,
    and every claim past the cache at the cost measured past it (unmeasured when no step went past)."""
    if full is None or last[0] <= full[0]:
        projected = empty + slope * min(TARGET_CLAIMS, MAX_CACHED_WORKFLOWS)
        evicted = "the cost of an evicted claim unmeasured (run past the cache to see it)"
    else:
        per_evicted = (last[1] - full[1]) / (last[0] - full[0])
        projected = last[1] + per_evicted * (TARGET_CLAIMS - last[0])
        evicted = f"{per_evicted / 1024:.1f} KiB per evicted claim measured past the cache"
    return (
        f"{TARGET_CLAIMS} open claims (cache {MAX_CACHED_WORKFLOWS}, the rest evicted; {evicted}): "
        f"about {projected / 2**20:.0f} MiB, {projected / GOAL_BYTES:.2f} of the 1.5 GB goal"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=1_000, help="claims to park")
    parser.add_argument("--step", type=int, default=250, help="claims parked between measurements")
    options = parser.parse_args()
    # The 835 comes in a month: the claims wait for it.
    run_on_stack(bench_payers("30d"), lambda stack: measure(stack, options.claims, options.step))


if __name__ == "__main__":
    main()
