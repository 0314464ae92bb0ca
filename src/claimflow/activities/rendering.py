"""Letters and statements to PDF without starving the worker.

A PDF costs about a second of CPU. A worker runs many activities at once, so a batch of claims
reaching patient billing together would otherwise render dozens of PDFs in parallel on two cores,
each slower than its activity timeout allows, and crowd out the ledger's threads. Renders queue
on their own pool instead, one thread per CPU."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from temporalio import activity

from claimflow.integrations.private_files import write_private
from claimflow.letters.render import RenderedLetter

Rendered = TypeVar("Rendered")

_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="render")


HEARTBEAT_EVERY = 5.0
"""Seconds between heartbeats while a render waits for the pool or runs (catalog.RENDERING_HEARTBEAT
is the timeout they keep from expiring)."""


async def render_off_loop(render: Callable[..., Rendered], *args: object) -> Rendered:
    """Run `render(*args)` on the rendering pool and wait for it without blocking the loop, heartbeating
    while it waits (inside an activity), so Temporal tells a slow render from a dead worker."""
    rendering = asyncio.get_running_loop().run_in_executor(_pool, functools.partial(render, *args))
    while True:
        done, _ = await asyncio.wait({rendering}, timeout=HEARTBEAT_EVERY)
        if done:
            return rendering.result()
        if activity.in_activity():
            activity.heartbeat()


async def save_letter(letter: RenderedLetter, pdf_path: Path) -> Path:
    """Write the PDF and, beside it, the HTML it came from (the same path ending .html), off the
    event loop, readable by claimflow's user only; writing the same letter again gives the same
    files, so a retry is safe."""

    def write() -> None:
        write_private(pdf_path.with_suffix(".html"), letter.html.encode("utf-8"))
        write_private(pdf_path, letter.pdf)

    await asyncio.to_thread(write)
    return pdf_path
