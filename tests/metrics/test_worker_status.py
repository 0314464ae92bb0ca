"""The worker process's status port, as `python -m claimflow.workers` runs it: /healthz, /readyz and
/metrics with claimflow's counters and the Temporal SDK's, read by Prometheus's own parser."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from claimflow.console.claims_client import ClaimsClient
from claimflow.console.demo_batch import load_demo_batch
from claimflow.integrations.metrics import free_port
from claimflow.integrations.settings import Settings
from claimflow.integrations.temporal import connect
from claimflow.workers.worker import run
from tests.e2e.conftest import SandboxProcess, dev_server, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

SDK_METRICS = {"temporal_workflow_task_execution_latency", "temporal_activity_execution_latency"}


def sample_values(text: str, family_name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == family_name
        for sample in family.samples
        if sample.name.endswith("_total") or sample.name == family_name
    }


def counter(text: str, family_name: str, **labels: str) -> float:
    """The sum of a counter's samples carrying `labels` (the runtime adds namespace and task queue)."""
    return sum(
        value
        for key, value in sample_values(text, family_name).items()
        if labels.items() <= dict(key).items()
    )


async def test_the_worker_is_healthy_ready_and_counts_what_it_does(
    dev_server: WorkflowEnvironment,  # noqa: F811
    sandbox: SandboxProcess,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = Settings(
        temporal_address=dev_server.client.service_client.config.target_host,
        temporal_task_queue=f"status-{uuid.uuid4().hex[:8]}",
        home=tmp_path,
        clearinghouse_url=sandbox.url,
        metrics_port=free_port(),
    )
    status = f"http://127.0.0.1:{settings.metrics_port}"
    worker = asyncio.create_task(run(settings, inbox_every=timedelta(seconds=1)))
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get(f"{status}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert not worker.done(), worker
                assert time.monotonic() < deadline, "the worker never became ready"
                await asyncio.sleep(0.3)
            assert (await http.get(f"{status}/healthz")).json() == {"status": "ok"}
            ready = (await http.get(f"{status}/readyz")).json()
            assert ready == {"status": "ready", "checks": {"temporal": "ok", "worker": "ok"}}

            # prometheus_client's counters are the process's: earlier tests' workers counted into
            # them too, so count from here, and wait for this worker's own SDK metrics as well
            accepted = (("outcome", "accepted"),)
            text = (await http.get(f"{status}/metrics")).text
            before = sample_values(text, "claimflow_submissions").get(accepted, 0)
            batch = load_demo_batch(datetime.now(UTC).date())
            clean = next(c for c in batch if c.trouble == "clean")
            held = next(c for c in batch if c.trouble == "coding_hold")  # opens a coding task at once
            client = await connect(settings)
            await ClaimsClient(client, settings.temporal_task_queue).intake_many(
                [clean.encounter, held.encounter]
            )
            while True:
                text = (await http.get(f"{status}/metrics")).text
                names = {family.name for family in text_string_to_metric_families(text)}
                counted = sample_values(text, "claimflow_submissions").get(accepted, 0) - before
                coding = counter(text, "claimflow_tasks_opened", kind="coding")
                if counted >= 1 and names >= SDK_METRICS and coding >= 1:
                    break
                assert time.monotonic() < deadline + 90, (counted, sorted(SDK_METRICS - names))
                await asyncio.sleep(0.5)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)

    assert {"claimflow_submissions", "claimflow_activity_failures", "claimflow_remittance_postings"} <= names
    # the Temporal SDK's own, from the runtime's exporter, and the workflows' through its meter
    assert names >= SDK_METRICS, sorted(names)
    assert counter(text, "claimflow_claims_started") >= 2
    assert counter(text, "claimflow_claim_states_entered", state="eligibility") >= 2
    patient = clean.encounter.patient
    for phi in (patient.last_name, patient.first_name, clean.encounter.coverage.member_id):
        assert phi not in text
