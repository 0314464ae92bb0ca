"""The sandbox over HTTP: a small REST surface that speaks X12 (Starlette, served by uvicorn).

    POST /eligibility          270 in, 271 out
    POST /claim-status         276 in, 277 out
    POST /claims               837P/837I batch in (Idempotency-Key header), a JSON receipt out
    GET  /inbox                files not yet acknowledged: {"files": [{id, kind, created_at, ...}]}
    GET  /inbox/{id}           a file's content (X12, or JSON for an appeal decision)
    POST /inbox/{id}/ack       acknowledge: the file leaves the inbox
    POST /appeals              {"letter", "payer_claim_number" | "patient_control_number"}
    GET  /admin/stats          counters, claims received per patient control number
    POST /admin/advance        {"seconds": n} or {"days": n}: move the sandbox clock forward
    GET  /admin/clock          the sandbox's time and how far it was moved
    GET|POST /admin/faults     read or change fault injection (fields of [faults] in the payer file)
    GET  /health               {"status": "ok", "now": ...}
    GET  /healthz, /readyz     liveness; readiness (the state database answers)
    GET  /metrics              Prometheus: requests by route and status

Answers to a refused request are JSON {"error": "..."} with a 4xx status.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claimflow.claims.x12.segments import decode
from claimflow.integrations.health import HEALTH_PATHS, health_routes
from claimflow.integrations.metrics import RequestMetrics, metrics_route
from claimflow.integrations.sandbox.engine import X12, Sandbox, SandboxRequestError

Handler = Callable[[Request], Awaitable[Response]]
UNFAULTED_PATHS = HEALTH_PATHS | {"/health", "/metrics"}


def create_app(sandbox: Sandbox) -> ASGIApp:
    """The ASGI application, fault injection included."""
    counters = {"faults_injected": 0}

    def refusals(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except SandboxRequestError as exc:
                return JSONResponse({"error": str(exc)}, status_code=exc.status)

        return wrapped

    async def x12_body(request: Request) -> str:
        raw = await request.body()
        if not raw.strip():
            raise SandboxRequestError(400, "the request body is empty: send the X12 interchange as the body")
        try:
            return decode(raw)
        except ValueError as exc:
            raise SandboxRequestError(400, f"the body cannot be read as text: {exc}") from None

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise SandboxRequestError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise SandboxRequestError(400, "the body must be a JSON object")
        return body

    async def eligibility(request: Request) -> Response:
        text = await x12_body(request)
        return PlainTextResponse(await run_in_threadpool(sandbox.eligibility, text), media_type=X12)

    async def claim_status(request: Request) -> Response:
        text = await x12_body(request)
        return PlainTextResponse(await run_in_threadpool(sandbox.claim_status, text), media_type=X12)

    async def claims(request: Request) -> Response:
        text = await x12_body(request)
        key = request.headers.get("Idempotency-Key")
        receipt = await run_in_threadpool(sandbox.submit, text, key)
        headers = {"Idempotent-Replayed": "true"} if receipt["duplicate"] else {}
        return JSONResponse(receipt, status_code=200 if receipt["duplicate"] else 202, headers=headers)

    async def inbox(request: Request) -> Response:
        await run_in_threadpool(sandbox.catch_up)
        entries = sandbox.store.inbox(sandbox.now().timestamp())
        files = [
            {
                "id": e.id,
                "kind": e.kind,
                "created_at": datetime.fromtimestamp(e.created_at, UTC).isoformat(),
                "media_type": e.media_type,
                "size": e.size,
            }
            for e in entries
        ]
        return JSONResponse({"files": files})

    async def fetch(request: Request) -> Response:
        file_id = request.path_params["file_id"]
        row = sandbox.store.file(file_id, sandbox.now().timestamp())
        if row is None:
            raise SandboxRequestError(404, f"no inbox file {file_id}; list GET /inbox for the ids")
        return PlainTextResponse(row["content"], media_type=row["media_type"])

    async def acknowledge(request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if not await run_in_threadpool(sandbox.store.acknowledge, file_id, sandbox.now().timestamp()):
            raise SandboxRequestError(404, f"no inbox file {file_id}; list GET /inbox for the ids")
        return JSONResponse({"id": file_id, "acknowledged": True})

    async def appeal(request: Request) -> Response:
        body = await json_body(request)
        receipt = await run_in_threadpool(
            sandbox.appeal,
            _text_field(body, "letter") or "",
            _text_field(body, "payer_claim_number"),
            _text_field(body, "patient_control_number"),
            request.headers.get("Idempotency-Key"),
        )
        return JSONResponse(receipt, status_code=200 if receipt["duplicate"] else 202)

    async def stats(request: Request) -> Response:
        await run_in_threadpool(sandbox.catch_up)
        return JSONResponse({**await run_in_threadpool(sandbox.stats), **counters})

    async def clock(request: Request) -> Response:
        return JSONResponse({"now": sandbox.now().isoformat(), "offset_seconds": sandbox.clock_offset()})

    async def advance(request: Request) -> Response:
        body = await json_body(request)
        try:
            seconds = float(body.get("seconds", 0)) + float(body.get("days", 0)) * 86400
        except (TypeError, ValueError):
            raise SandboxRequestError(422, "give 'seconds' or 'days' as numbers") from None
        moment = await run_in_threadpool(sandbox.advance, seconds)
        return JSONResponse({"now": moment.isoformat()})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                changed = await run_in_threadpool(sandbox.set_faults, await json_body(request))
            except ValueError as exc:
                raise SandboxRequestError(422, f"invalid fault settings: {exc}") from None
            return JSONResponse(changed.model_dump())
        return JSONResponse(sandbox.faults().model_dump())

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "now": sandbox.now().isoformat()})

    routes = [
        Route("/eligibility", refusals(eligibility), methods=["POST"]),
        Route("/claim-status", refusals(claim_status), methods=["POST"]),
        Route("/claims", refusals(claims), methods=["POST"]),
        Route("/inbox", refusals(inbox), methods=["GET"]),
        Route("/inbox/{file_id}", refusals(fetch), methods=["GET"]),
        Route("/inbox/{file_id}/ack", refusals(acknowledge), methods=["POST"]),
        Route("/appeals", refusals(appeal), methods=["POST"]),
        Route("/admin/stats", refusals(stats), methods=["GET"]),
        Route("/admin/advance", refusals(advance), methods=["POST"]),
        Route("/admin/clock", clock, methods=["GET"]),
        Route("/admin/faults", refusals(faults), methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        *health_routes({"state database": lambda: run_in_threadpool(sandbox.store.rows, "SELECT 1")}),
        metrics_route(),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _routing_refusal})
    # outermost, so the metrics count what clients saw, injected faults included
    return RequestMetrics(FaultInjection(app, sandbox, counters), "sandbox", routes)


def _text_field(body: dict[str, Any], name: str) -> str | None:
    """A field of a JSON body that must be text when given."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise SandboxRequestError(422, f"'{name}' must be a string, not {type(value).__name__}")
    return value


async def _routing_refusal(request: Request, exc: Exception) -> Response:
    """An unknown path or method is refused in JSON like every other refusal."""
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": f"{request.method} {request.url.path}: {exc.detail}; the sandbox README lists the routes"},
        status_code=exc.status_code,
        headers=exc.headers,
    )


class FaultInjection:
    """ASGI middleware: answers a share of requests (never /admin, health or metrics) with a 5xx, a 429
    with Retry-After, or slowly. Half the 5xx come after the request was processed, as when a
    real answer is lost on the way back: only an idempotency key makes a retry safe then."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox, counters: dict[str, int]) -> None:
        self.app = app
        self.sandbox = sandbox
        self.rng = random.Random(sandbox.config.seed)
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/admin") or path in UNFAULTED_PATHS:
            await self.app(scope, receive, send)
            return
        faults = self.sandbox.faults()
        draw = self.rng.random()
        if draw < faults.throttle_rate:
            self.counters["faults_injected"] += 1
            headers = {"Retry-After": str(faults.retry_after_seconds)}
            await JSONResponse({"error": "too many requests (injected fault)"}, 429, headers)(
                scope, receive, send
            )
            return
        if draw < faults.throttle_rate + faults.error_rate:
            self.counters["faults_injected"] += 1
            status = self.rng.choice([500, 502, 503])
            if self.rng.random() < 0.5:
                await self.app(scope, receive, _discard)
            await JSONResponse({"error": f"injected fault {status}"}, status)(scope, receive, send)
            return
        if self.rng.random() < faults.slow_rate:
            await asyncio.sleep(faults.slow_seconds)
        await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    """A send that drops the answer: the work was done, the client never hears of it."""
