"""Letters and statements heartbeat while they render, so an attempt whose worker was SIGKILLed is
retried after the heartbeat timeout instead of the 10-minute start-to-close (the chaos run saw a
timely-filing letter wait that long), while a slow honest render is never cut short."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from claimflow.activities import catalog, rendering
from claimflow.activities.rendering import render_off_loop
from claimflow.workflows.common import run_step
from tests.dev_server import start_dev_server

RENDERS = [
    catalog.WRITE_STATEMENT,
    catalog.RENDER_APPEAL_LETTER,
    catalog.WRITE_TIMELY_FILING_LETTER,
    catalog.WRITE_UNDERPAYMENT_LETTER,
]


def slow_render(seconds: float) -> str:
    time.sleep(seconds)
    return f"rendered in {seconds} s"


def test_every_rendering_activity_has_a_heartbeat_timeout_its_renders_keep() -> None:
    for ref in RENDERS:
        assert ref.heartbeat is not None and ref.heartbeat <= timedelta(minutes=1), ref.name
        assert ref.heartbeat.total_seconds() >= 3 * rendering.HEARTBEAT_EVERY, ref.name
        assert ref.timeout > ref.heartbeat, ref.name


async def test_a_render_heartbeats_while_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendering, "HEARTBEAT_EVERY", 0.05)
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)
    result = await env.run(render_off_loop, slow_render, 0.5)
    assert result == "rendered in 0.5 s"
    assert len(beats) >= 5


async def test_outside_an_activity_a_render_just_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendering, "HEARTBEAT_EVERY", 0.05)
    assert await render_off_loop(slow_render, 0.2) == "rendered in 0.2 s"


LETTER = catalog.ActivityRef[float, str](
    "test_letter", str, timeout=timedelta(minutes=10), heartbeat=timedelta(seconds=2)
)
"""Shaped like catalog.RENDERING's activities (10-minute start-to-close), with a short heartbeat."""


class Letters:
    def __init__(self) -> None:
        self.attempts: list[float] = []
        self.dead = asyncio.Event()

    @activity.defn(name=LETTER.name)
    async def render(self, seconds: float) -> str:
        self.attempts.append(time.monotonic())
        if len(self.attempts) == 1 and seconds < 0:
            await self.dead.wait()  # a worker that died mid-render: it never heartbeats again
        return await render_off_loop(slow_render, abs(seconds))


@workflow.defn(sandboxed=False)
class RenderOne:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await run_step(LETTER, seconds)


async def _render(seconds: float, letters: Letters) -> str:
    env: WorkflowEnvironment = await start_dev_server()
    try:
        async with Worker(
            env.client,
            task_queue="rendering-heartbeat",
            workflows=[RenderOne],
            activities=[letters.render],
            workflow_runner=UnsandboxedWorkflowRunner(),
            graceful_shutdown_timeout=timedelta(seconds=1),
        ):
            try:
                return await asyncio.wait_for(
                    env.client.execute_workflow(
                        RenderOne.run, seconds, id=f"render-{uuid.uuid4()}", task_queue="rendering-heartbeat"
                    ),
                    timeout=60,
                )
            finally:
                letters.dead.set()
    finally:
        await env.shutdown()


async def test_a_dead_attempt_is_retried_after_the_heartbeat_timeout_not_start_to_close() -> None:
    letters = Letters()
    assert await _render(-0.1, letters) == "rendered in 0.1 s"
    assert len(letters.attempts) == 2
    assert letters.attempts[1] - letters.attempts[0] < 15  # heartbeat 2 s (+ retry backoff), not 10 min


async def test_a_slow_render_that_heartbeats_outlives_the_heartbeat_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rendering, "HEARTBEAT_EVERY", 0.3)
    letters = Letters()
    assert await _render(5.0, letters) == "rendered in 5.0 s"
    assert len(letters.attempts) == 1  # five seconds of rendering against a 2-second heartbeat timeout
