"""The supervisor on real processes: a child that dies is restarted with doubling backoff and named
with why it died; one that keeps dying is given up on; deaths older than the window are forgotten."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from claimflow.console.stack import Child, ChildExit
from claimflow.console.supervisor import GaveUp, RestartPolicy, supervise

FAST = RestartPolicy(max_deaths=5, window_seconds=60, first_backoff_seconds=0.05, poll_seconds=0.02)


class Processes:
    """Real child processes behind the supervisor's protocol (what `Stack` does, without readiness)."""

    def __init__(self, children: Sequence[Child]) -> None:
        self.children = tuple(children)
        self.restarts: list[tuple[str, float]] = []
        for child in self.children:
            child.start(os.environ)

    def exited_child(self) -> ChildExit | None:
        for child in self.children:
            code = child.exit_code()
            if code is not None:
                return ChildExit(child.name, code, child.log_path, child.log_tail())
        return None

    def restart(self, child: Child) -> None:
        self.restarts.append((child.name, time.monotonic()))
        child.start(os.environ)

    def stop(self) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            child.wait_or_kill(time.monotonic() + 5)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[Processes]]:
    made: list[Processes] = []
    yield made
    for group in made:
        group.stop()


def test_a_child_that_keeps_dying_is_given_up_on_and_the_others_are_left_alone(
    tmp_path: Path, said: list[str], processes: list[Processes]
) -> None:
    steady = Child("steady", python("import time; time.sleep(60)"), tmp_path / "steady.log")
    crasher = Child(
        "crasher", python("import sys; print('no config', flush=True); sys.exit(3)"), tmp_path / "crasher.log"
    )
    group = Processes([steady, crasher])
    processes.append(group)
    steady_pid = steady.pid
    gave_up = supervise(group, lambda: False, said.append, FAST)

    assert isinstance(gave_up, GaveUp)
    assert (gave_up.name, gave_up.code, gave_up.deaths) == ("crasher", 3, 5)
    assert "crasher exited with code 3" in gave_up.describe() and "no config" in gave_up.describe()
    assert "died 5 times within 60 s" in gave_up.describe()
    assert [name for name, _ in group.restarts] == ["crasher"] * 4  # the fifth death is not restarted
    assert steady.pid == steady_pid and steady.exit_code() is None
    waits = [line.split("restarting crasher in ")[1].split(" s")[0] for line in said if "restarting" in line]
    assert waits == ["0.1", "0.1", "0.2", "0.4"]  # 0.05, 0.1, 0.2, 0.4 s, doubling
    assert "death 1 of 5 allowed within 60 s" in said[0]
    gaps = [b - a for (_, a), (_, b) in zip(group.restarts, group.restarts[1:], strict=False)]
    assert gaps[-1] > gaps[0] and gaps[-1] >= 0.4


def test_a_killed_child_comes_back_and_stopping_ends_the_watch(
    tmp_path: Path, said: list[str], processes: list[Processes]
) -> None:
    worker = Child("worker", python("import time; time.sleep(60)"), tmp_path / "worker.log")
    group = Processes([worker])
    processes.append(group)
    stop = threading.Event()
    outcome: list[GaveUp | None] = []
    watch = threading.Thread(target=lambda: outcome.append(supervise(group, stop.is_set, said.append, FAST)))
    watch.start()
    pids = [worker.pid]
    for _ in range(3):
        assert pids[-1] is not None
        os.kill(pids[-1], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while worker.pid == pids[-1] or worker.exit_code() is not None:
            assert time.monotonic() < deadline, said
            time.sleep(0.02)
        pids.append(worker.pid)
    stop.set()
    watch.join(timeout=10)
    assert outcome == [None]
    assert len(set(pids)) == 4 and worker.exit_code() is None
    assert sum("worker was killed by signal 9" in line for line in said) == 3
    assert f"worker restarted: pid {pids[-1]}" in said


def test_deaths_older_than_the_window_are_forgotten(
    tmp_path: Path, said: list[str], processes: list[Processes]
) -> None:
    flaky = Child("flaky", python("import time; time.sleep(0.3)"), tmp_path / "flaky.log")
    group = Processes([flaky])
    processes.append(group)
    policy = RestartPolicy(max_deaths=3, window_seconds=0.5, first_backoff_seconds=0.05, poll_seconds=0.02)
    stop_at = time.monotonic() + 3
    # it dies every 0.3 s or so: never three times within half a second, so it is never given up on
    assert supervise(group, lambda: time.monotonic() > stop_at, said.append, policy) is None
    assert len(group.restarts) >= 5
    assert not any("death 3 of" in line for line in said)
