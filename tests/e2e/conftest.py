"""The real pieces, started offline: the Temporal dev server, the payer sandbox as its own process
(on fast timers and without noise unless a test asks), and a PostgreSQL ledger (tests.pg)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.dev_server import start_dev_server
from tests.pg import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.ports import free_port


def fast_payers(noise: bool = False) -> str:
    """The shipped payers with delays of seconds instead of days, and the noise off unless asked."""
    text = files("claimflow.integrations.sandbox").joinpath("payers.toml").read_text()
    text = re.sub(r'(acknowledgement_delay|adjudication_delay) = "[^"]*"', r'\1 = "2s"', text)
    text = re.sub(r'appeal_decision_delay = "[^"]*"', 'appeal_decision_delay = "5s"', text)
    if not noise:
        text = re.sub(r"(_rate) = [0-9.]+", r"\1 = 0.0", text)
    return text


@dataclass
class SandboxProcess:
    url: str
    db: Path
    process: subprocess.Popen[bytes]

    def files_of_kind(self, kind: str) -> list[str]:
        with sqlite3.connect(self.db) as db:
            return [row[0] for row in db.execute("SELECT content FROM files WHERE kind = ?", (kind,))]

    def stats(self) -> dict[str, object]:
        answer: dict[str, object] = httpx.get(f"{self.url}/admin/stats", timeout=10).json()
        return answer


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    folder = tmp_path_factory.mktemp("sandbox")
    config = folder / "payers.toml"
    config.write_text(fast_payers())
    port = free_port()
    claimflow = Path(sys.executable).with_name("claimflow")
    process = subprocess.Popen(
        [
            str(claimflow),
            "sandbox",
            "--port",
            str(port),
            "--config",
            str(config),
            "--db",
            str(folder / "s.db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"the sandbox did not start: {process.stderr.read().decode()[-2000:]}"
                ) from None
            time.sleep(0.2)
    yield SandboxProcess(url, folder / "s.db", process)
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()
