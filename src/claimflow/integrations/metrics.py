"""claimflow's Prometheus metrics: the counters activities keep, request metrics for any ASGI
service, and the `/metrics` route that also carries the Temporal SDK's own metrics.

Labels name kinds, outcomes, activity and error types, routes and status codes: never an id, a name
or anything else about a patient. Claim and task counters come from workflow code through
`workflow.metric_meter()` (replay-safe, `claimflow.workflows.metrics`); they reach Prometheus through
the Temporal runtime's exporter, which `/metrics` fetches and appends.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

ACTIVITY_FAILURES = Counter(
    "claimflow_activity_failures",
    "Activity attempts that raised, by activity and error type (Temporal retries the retryable ones)",
    ["activity", "error_type"],
)
SUBMISSIONS = Counter(
    "claimflow_submissions",
    "837 submissions the clearinghouse answered: accepted (a new claim) or duplicate (a retried attempt "
    "answered with its first receipt)",
    ["outcome"],
)
REMITTANCE_POSTINGS = Counter(
    "claimflow_remittance_postings",
    "835 claim payments posted to the ledger: posted, or already_posted (a redelivery, nothing posted)",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "claimflow_http_requests",
    "HTTP requests answered, by service, method, route and status",
    ["service", "method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "claimflow_http_request_seconds", "Time to answer an HTTP request", ["service", "method", "route"]
)

ExtraMetrics = Callable[[], Awaitable[str]]
"""More metrics in Prometheus text format to serve with claimflow's (the Temporal SDK's)."""


def metrics_route(extra: ExtraMetrics | None = None) -> Route:
    """`GET /metrics`: claimflow's metrics, then `extra`'s."""

    async def metrics(request: Request) -> Response:
        text = generate_latest(REGISTRY).decode()
        if extra is not None:
            text += await extra()
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def sdk_runtime() -> tuple[Runtime, ExtraMetrics]:
    """A Temporal runtime exporting the SDK's metrics (and the workflows' metric meter) in Prometheus
    format on a loopback port of its own, and the function that reads them for `/metrics`."""
    address = f"127.0.0.1:{free_port()}"
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))

    async def read() -> str:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(f"http://{address}/metrics")
            answer.raise_for_status()
            return answer.text

    return runtime, read


class RequestMetrics:
    """ASGI middleware counting and timing every request by route template (never the raw path,
    which may carry an id), method and status, under `service`."""

    def __init__(self, app: ASGIApp, service: str, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.service = service
        self.routes = routes

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE and isinstance(route, Route):
                return route.path
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route, method = self._template(scope), scope["method"]
        status = "500"  # what the server answers when the app raises before starting a response

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, recording)
        finally:
            HTTP_SECONDS.labels(self.service, method, route).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(self.service, method, route, status).inc()
