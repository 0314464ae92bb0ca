"""The web console as `claimflow web` serves it: /healthz, /readyz, and /metrics counting its requests
by route template (never the raw path, which holds a claim's id), read by Prometheus's own parser."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from claimflow.console.web.server import console_app
from claimflow.integrations.settings import Settings
from tests.e2e.conftest import dev_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


async def test_the_console_is_healthy_ready_and_counts_its_requests(
    dev_server: WorkflowEnvironment,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = Settings(temporal_address=dev_server.client.service_client.config.target_host, home=tmp_path)
    async with console_app(settings) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"temporal": "ok", "ledger": "ok"}
            for _ in range(3):  # not signed in: sent to the login page
                assert (await http.get("/claims/CLAIM-7Q2X")).status_code in (302, 303, 307)
            text = (await http.get("/metrics")).text

    requests = {
        (sample.labels["route"], sample.labels["method"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "claimflow_http_requests"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["service"] == "console"
    }
    assert requests[("/claims/{claim_id}", "GET")] >= 3
    assert requests[("/healthz", "GET")] >= 1 and requests[("/readyz", "GET")] >= 1
    assert "CLAIM-7Q2X" not in text
    names = {family.name for family in text_string_to_metric_families(text)}
    assert "claimflow_http_request_seconds" in names
