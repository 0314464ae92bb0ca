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
from typing import TypeVar

Rendered = TypeVar("Rendered")

_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="render")


async def render_off_loop(render: Callable[..., Rendered], *args: object) -> Rendered:
    """Run `render(*args)` on the rendering pool and wait for it without blocking the loop."""
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(render, *args))
