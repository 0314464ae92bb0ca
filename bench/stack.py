"""What the benches share: the embedded stack on free ports, quiet payers, clean claims, their states.

Not a bench itself: `lifecycle.py`, `open_claims.py` and `console.py` import it from their folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client

from claimflow.claims import ids
from claimflow.claims.encounter import Encounter
from claimflow.console.demo_batch import load_demo_batch, shift_dates
from claimflow.console.demo_cli import fast_payers
from claimflow.console.stack import Stack, StackConfig
from claimflow.workflows import search_attributes as sa

POLL_SECONDS = 0.5


def bench_payers(adjudication_delay: str = "1s", acknowledgement_delay: str = "1s") -> str:
    """The demo's payers answering 270s and 999s at once, 277CAs after `acknowledgement_delay`, 835s
    after `adjudication_delay`, with no noise (no front-end rejections, no partial payments)."""
    text = re.sub(
        r'acknowledgement_delay = "[^"]*"',
        f'acknowledgement_delay = "{acknowledgement_delay}"',
        fast_payers(),
    )
    text = re.sub(r'adjudication_delay = "[^"]*"', f'adjudication_delay = "{adjudication_delay}"', text)
    return re.sub(r"(\w+_rate) = [0-9.]+", r"\1 = 0.0", text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_on_stack(payers: str, measure: Callable[[Stack], Coroutine[Any, Any, None]]) -> None:
    """Start the embedded stack in a fresh home, on free ports for every port it has, with the
    given payers file; run `measure` on it; stop it."""
    with tempfile.TemporaryDirectory(prefix="claimflow-bench-") as folder:
        home = Path(folder)
        (home / "payers.toml").write_text(payers)
        ports = [field.name for field in dataclasses.fields(StackConfig) if field.name.endswith("_port")]
        config = StackConfig(
            home=home, sandbox_config=home / "payers.toml", **{port: free_port() for port in ports}
        )
        with Stack(config) as stack:
            asyncio.run(measure(stack))


DAYS_BACK = 40
"""Services go back at most this many days, well inside every payer's timely-filing limit."""


def clean_encounters(first: int, count: int) -> list[Encounter]:
    """Clean encounters `first` .. `first + count - 1`: the demo batch's clean ones in turn, each pass
    a day earlier, so that no two are the same services on the same day (a duplicate claim). Past
    DAYS_BACK passes the patients are born a day earlier instead (other patients to the scrubber's
    duplicate check), so that no claim ages toward its timely-filing limit however many are asked."""
    batch = load_demo_batch(datetime.now(UTC).date())
    clean = [claim.encounter for claim in batch if claim.trouble == "clean"]
    return [_variant(clean[n % len(clean)], n // len(clean), n) for n in range(first, first + count)]


def _variant(encounter: Encounter, round_: int, number: int) -> Encounter:
    generation, days_back = divmod(round_, DAYS_BACK)
    shifted = shift_dates(encounter, -days_back)
    patient = shifted.patient
    if generation and patient.birth_date is not None:
        patient = patient.model_copy(update={"birth_date": patient.birth_date - timedelta(days=generation)})
    return shifted.model_copy(update={"encounter_id": f"BENCH-{number:06d}", "patient": patient})


async def claim_states(client: Client, wanted: set[str]) -> Counter[str]:
    """How many of the wanted claims are in each state, from visibility (one listing)."""
    states: Counter[str] = Counter()
    async for execution in client.list_workflows(f"WorkflowType = '{ids.WorkflowType.CLAIM}'"):
        if execution.id in wanted:
            states[execution.typed_search_attributes.get(sa.CLAIM_STATE) or "starting"] += 1
    return states


async def wait_for_states(client: Client, wanted: set[str], states: set[str], timeout: float) -> None:
    """Wait until every wanted claim is in one of `states`; past `timeout` seconds, stop the bench
    saying where the claims are."""
    deadline = time.monotonic() + timeout
    while True:
        now = await claim_states(client, wanted)
        if sum(now[state] for state in states) == len(wanted):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"claims did not all reach {sorted(states)} in {timeout:.0f} s: {dict(now)}")
        await asyncio.sleep(POLL_SECONDS)
