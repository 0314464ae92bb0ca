"""`claimflow up` as a person runs it: a process of its own, stopped by a signal, leaving nothing behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ports import free_ports

READY_LINE = "Press Ctrl-C to stop."
START_TIMEOUT = 120.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_up(home: Path, ports: list[int]) -> subprocess.Popen[str]:
    temporal, ui, sandbox, metrics, codec, *more = ports
    console = more[0] if more else free_ports(1)[0]  # the web console's, when the test does not ask it
    return subprocess.Popen(
        [sys.executable, "-m", "claimflow.console.main", "up", "--home", str(home),
         "--port", str(temporal), "--ui-port", str(ui), "--sandbox-port", str(sandbox),
         "--metrics-port", str(metrics), "--codec-port", str(codec), "--console-port", str(console)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip


def until_ready(up: subprocess.Popen[str], banner: list[str] | None = None) -> dict[str, int]:
    """Read the start-up banner (into `banner`); return each child's pid."""
    assert up.stdout is not None
    banner = [] if banner is None else banner
    deadline = time.monotonic() + START_TIMEOUT
    for line in up.stdout:
        banner.append(line)
        if line.strip() == READY_LINE:
            break
        assert time.monotonic() < deadline, "claimflow up did not come up in time:\n" + "".join(banner)
    else:
        raise AssertionError(f"claimflow up ended before it was ready:\n{''.join(banner)}{up.stderr.read()}")  # type: ignore[union-attr]
    text = "".join(banner)
    processes = re.search(r"processes\s+(.*)", text)
    assert processes, text
    return {name.strip(): int(pid) for name, pid in re.findall(r"([\w -]+?) pid (\d+)", processes.group(1))}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "home"


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_stops_every_child_and_leaves_no_process(home: Path, stop_signal: signal.Signals) -> None:
    ports = free_ports(5)
    up = start_up(home, ports)
    try:
        pids = until_ready(up)
        assert set(pids) == {"Temporal dev server", "sandbox", "codec server", "worker", "web console"}
        assert all(alive(pid) for pid in pids.values())
        assert (home / "temporal.db").exists() and (home / "keys").exists()

        up.send_signal(stop_signal)
        out, err = up.communicate(timeout=60)
    finally:
        up.kill()
    assert up.returncode == 0, err
    assert "stopped" in out
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert [port for port in ports if not _port_free(port)] == []


def restarted(up: subprocess.Popen[str], name: str, said: list[str]) -> int:
    """Read `up`'s stderr until it says `name` was restarted; its new pid."""
    assert up.stderr is not None
    deadline = time.monotonic() + START_TIMEOUT
    for line in up.stderr:
        said.append(line)
        if found := re.match(rf"{name} restarted: pid (\d+)", line.strip()):
            return int(found.group(1))
        assert time.monotonic() < deadline, "".join(said)
    raise AssertionError(f"claimflow up ended instead of restarting {name}:\n{''.join(said)}")


@pytest.mark.slow
def test_a_child_killed_with_sigkill_is_restarted_and_the_stack_keeps_running(home: Path) -> None:
    ports = free_ports(5)
    up = start_up(home, ports)
    said: list[str] = []
    try:
        pids = until_ready(up)
        os.kill(pids["worker"], signal.SIGKILL)
        worker = restarted(up, "worker", said)
        # the dev server too, on the same SQLite file: the worker reconnects by itself
        os.kill(pids["Temporal dev server"], signal.SIGKILL)
        temporal = restarted(up, "Temporal dev server", said)
        os.kill(pids["sandbox"], signal.SIGKILL)
        sandbox = restarted(up, "sandbox", said)
        assert up.poll() is None and all(alive(pid) for pid in (worker, temporal, sandbox))
        assert {worker, temporal, sandbox}.isdisjoint(pids.values())
        readyz = httpx.get(f"http://127.0.0.1:{ports[3]}/readyz", timeout=30)
        assert readyz.status_code == 200, readyz.text
        # the dev server came back on the same SQLite file: the schedule the worker made at its start
        # (before the dev server was killed; nothing made it again) is still there
        schedule = subprocess.run(
            [shutil.which("temporal") or "temporal", "schedule", "describe",
             "--schedule-id", "claimflow-inbox", "--address", f"127.0.0.1:{ports[0]}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert schedule.returncode == 0, schedule.stderr
        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=60)
    finally:
        up.kill()
    text = "".join(said)
    for name in ("worker", "Temporal dev server", "sandbox"):
        assert f"{name} was killed by signal 9" in text and f"restarting {name} in 0.5 s" in text
    assert "temporal.log" in text  # where to look
    assert up.returncode == 0, err
    assert [pid for pid in (worker, temporal, sandbox, *pids.values()) if alive(pid)] == []


def test_port_in_use_is_refused_before_anything_starts(home: Path) -> None:
    temporal, ui, sandbox, metrics, codec = free_ports(5)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", sandbox))
        taken.listen()
        up = start_up(home, [temporal, ui, sandbox, metrics, codec])
        _, err = up.communicate(timeout=60)
    assert up.returncode == 2
    assert f"sandbox (--sandbox-port) {sandbox}" in err and "already in use" in err
    assert not (home / "logs").exists()  # nothing was started


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
