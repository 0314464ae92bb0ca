"""What encrypting payloads costs a claim, against pydantic's plain conversion in the same run.

    python bench/codec.py [--rounds R]

Converts the demo batch's claim inputs (what every claim workflow starts with, and carries on
continue-as-new) to Temporal payloads twice: with the plain pydantic converter, and with claimflow's
(the same, then sealed by the AES-GCM codec), and back. Prints bytes per claim each way and the
time per payload; the encryption overhead as a ratio to the plain conversion is the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from claimflow.claims.lifecycle import ClaimInput
from claimflow.console.demo_batch import load_demo_batch
from claimflow.integrations.crypto import KeyRing, parse_keys
from claimflow.integrations.temporal import data_converter

BENCH_KEY = "bench:" + "A" * 43 + "="


async def round_trip(converter: DataConverter, inputs: list[ClaimInput]) -> list[Payload]:
    payloads = await converter.encode(inputs)
    await converter.decode(payloads, [ClaimInput] * len(payloads))
    return payloads


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    start = time.process_time()
    await work()
    return time.process_time() - start


async def measure(rounds: int) -> None:
    keys: KeyRing = parse_keys(BENCH_KEY)
    sealed = data_converter(keys)
    inputs = [ClaimInput(encounter=claim.encounter) for claim in load_demo_batch(datetime.now(UTC).date())]
    plain_payloads = await round_trip(pydantic_data_converter, inputs)
    sealed_payloads = await round_trip(sealed, inputs)
    plain_bytes = statistics.mean(payload.ByteSize() for payload in plain_payloads)
    sealed_bytes = statistics.mean(payload.ByteSize() for payload in sealed_payloads)
    print(f"claim input: {plain_bytes:.0f} bytes plain, {sealed_bytes:.0f} bytes sealed")
    ratios = []
    for _ in range(rounds):
        plain = await timed(lambda: round_trip(pydantic_data_converter, inputs))
        encrypted = await timed(lambda: round_trip(sealed, inputs))
        ratios.append(encrypted / plain)
    per_payload = encrypted / len(inputs) * 1e6
    print(f"sealed encode+decode: {per_payload:.0f} us per claim input (last round)")
    print(f"encrypted/plain conversion time {statistics.median(ratios):.2f} (median of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(measure(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
