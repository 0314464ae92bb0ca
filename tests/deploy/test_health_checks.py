"""docker-compose.yml asks each long-running claimflow service for its readiness where it serves it."""

from __future__ import annotations

import re
from typing import Any

import yaml

from claimflow.integrations.settings import Settings
from tests.deploy.test_compose import COMPOSE, environment_of

PROBE = re.compile(r"http://127\.0\.0\.1:(\d+)/readyz")


def services() -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def probed_port(service: dict[str, Any]) -> int:
    check = service.get("healthcheck") or {}
    found = PROBE.search(" ".join(check.get("test", [])))
    assert found, f"no /readyz probe in {check}"
    return int(found.group(1))


def test_the_worker_is_probed_on_its_metrics_port_and_exposes_it() -> None:
    worker = services()["worker"]
    port = environment_of(worker)["CLAIMFLOW_METRICS_PORT"]
    assert probed_port(worker) == int(port) == Settings().metrics_port
    assert port in [str(exposed) for exposed in worker.get("expose", [])]


def test_the_sandbox_is_probed_on_the_port_it_serves_and_the_worker_waits_for_it() -> None:
    everything = services()
    sandbox = everything["sandbox"]
    command = sandbox["command"]
    assert probed_port(sandbox) == int(command[command.index("--port") + 1])
    assert everything["worker"]["depends_on"]["sandbox"]["condition"] == "service_healthy"
