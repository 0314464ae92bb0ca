"""`/healthz` and `/readyz` for every claimflow service, as Starlette routes any ASGI app mounts,
and `serving()`, which runs such an app beside a process's own work (the worker's status port).

* `/healthz`: the process answers (liveness). Always 200 `{"status": "ok"}`.
* `/readyz`: every readiness check passed within its time (200 `{"status": "ready", "checks": {name:
  "ok"}}`), else 503 with `"not ready"` and what each failing check said. A check is an async
  callable that raises when its dependency cannot be used.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

ReadinessCheck = Callable[[], Awaitable[object]]
"""Raises (or times out) when what it checks is not usable; its value is ignored."""

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
CHECK_SECONDS = 2.0


def health_routes(checks: Mapping[str, ReadinessCheck] | None = None) -> list[Route]:
    """The two routes, `/readyz` running `checks` concurrently, each bounded by CHECK_SECONDS."""
    named = dict(checks or {})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        results = await asyncio.gather(*(_run(check) for check in named.values()))
        answers = dict(zip(named, results, strict=True))
        ready = all(answer == "ok" for answer in answers.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": answers},
            status_code=200 if ready else 503,
        )

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]


async def _run(check: ReadinessCheck) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:.0f} s"
    except Exception as exc:  # a readiness probe reports every failure rather than raising it
        return f"{type(exc).__name__}: {exc}"[:300]
    return "ok"


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the process that embeds it owns Ctrl-C and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, host: str, port: int) -> AsyncIterator[None]:
    """Serve `app` on host:port for the duration of the block. A port that cannot be bound raises
    OSError naming it before the block starts."""
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # uvicorn logged why; it exits with SystemExit when the port is taken
            raise OSError(f"cannot serve on {host}:{port}")
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task
