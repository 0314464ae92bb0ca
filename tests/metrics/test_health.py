"""/healthz and /readyz as any service mounts them, and the sandbox's health and request metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from claimflow.integrations.health import health_routes
from claimflow.integrations.sandbox.app import create_app
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.sandbox.helpers import FakeClock, quiet_config


async def answers() -> None:
    return None


async def refuses() -> None:
    raise ConnectionRefusedError("127.0.0.1:7233 refused the connection")


async def hangs() -> None:
    await asyncio.sleep(60)


def test_ready_when_every_check_passes() -> None:
    client = TestClient(Starlette(routes=health_routes({"temporal": answers, "ledger": answers})))
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"temporal": "ok", "ledger": "ok"}}


def test_not_ready_names_each_failing_check_and_a_hung_one_times_out() -> None:
    client = TestClient(Starlette(routes=health_routes({"a": answers, "b": refuses, "c": hangs})))
    assert client.get("/healthz").status_code == 200  # alive all the same
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["a"] == "ok"
    assert checks["b"] == "ConnectionRefusedError: 127.0.0.1:7233 refused the connection"
    assert checks["c"].startswith("no answer within")


@pytest.fixture
def sandbox_client(tmp_path: Path) -> TestClient:
    # every call the clearinghouse would fault is faulted: health and metrics must still answer
    sandbox = Sandbox(quiet_config(error_rate=1.0), Store(tmp_path / "s.db"), clock=FakeClock())
    return TestClient(create_app(sandbox))


def test_the_sandbox_is_healthy_ready_and_counts_requests_by_route(sandbox_client: TestClient) -> None:
    assert sandbox_client.get("/healthz").status_code == 200
    assert sandbox_client.get("/readyz").json() == {"status": "ready", "checks": {"state database": "ok"}}
    assert sandbox_client.post("/eligibility", content=b"ISA").status_code >= 500  # the injected fault
    sandbox_client.get("/inbox/7f3a-file")
    text = sandbox_client.get("/metrics").text
    samples = [
        sample
        for family in text_string_to_metric_families(text)
        if family.name == "claimflow_http_requests"
        for sample in family.samples
        if sample.name == "claimflow_http_requests_total" and sample.labels["service"] == "sandbox"
    ]
    routes = {sample.labels["route"] for sample in samples}
    assert {"/healthz", "/readyz", "/eligibility", "/inbox/{file_id}"} <= routes
    assert "7f3a-file" not in text  # the template, never the raw path
