"""Keeping the embedded stack up: a child that dies is started again, with backoff, and why is said.

`supervise` watches the stack's children until `should_stop()` (or a Ctrl-C/SIGTERM, which the
caller turns into KeyboardInterrupt). A child that exits, whatever the reason (a crash, an OOM kill,
`kill -9`), is named with its exit code or signal and its last log lines, then restarted after a
backoff that doubles with each recent death (0.5 s, 1 s, 2 s, ...). One that keeps dying, `max_deaths`
times within `window_seconds` (5 a minute), is not restarted again: `supervise` returns its last
exit and the caller stops the whole stack, since retrying something broken forever hides it.

Restarting is safe because nothing of a claim lives in a process: the dev server restarts on its
SQLite file, the worker replays the claims' histories, the sandbox keeps its state in its database.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from claimflow.console.output import stderr
from claimflow.console.stack import Child, ChildExit, StackError


@dataclass(frozen=True)
class RestartPolicy:
    max_deaths: int = 5
    """deaths of one child within `window_seconds` after which it is given up on"""
    window_seconds: float = 60.0
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 15.0
    poll_seconds: float = 0.2

    def backoff(self, recent_deaths: int) -> float:
        """The wait before restarting a child that died `recent_deaths` times in the window."""
        return min(self.max_backoff_seconds, self.first_backoff_seconds * 2.0 ** max(0, recent_deaths - 1))


class Supervised(Protocol):
    """What `supervise` needs of a stack (`console.stack.Stack` is one)."""

    @property
    def children(self) -> Sequence[Child]: ...

    def exited_child(self) -> ChildExit | None: ...

    def restart(self, child: Child) -> None: ...


@dataclass(frozen=True)
class GaveUp(ChildExit):
    """A child's last exit, after it died `deaths` times within `window_seconds`: stop the stack."""

    deaths: int = 0
    window_seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"{super().describe()}\n{self.name} died {self.deaths} times within "
            f"{self.window_seconds:.0f} s, so it was not restarted again"
        )


def supervise(
    stack: Supervised,
    should_stop: Callable[[], bool],
    say: Callable[[str], None],
    policy: RestartPolicy | None = None,
) -> GaveUp | None:
    """Restart children that die until `should_stop()` (None) or one keeps dying (GaveUp)."""
    policy = policy or RestartPolicy()
    deaths: dict[str, deque[float]] = {}
    while not should_stop():
        died = stack.exited_child()
        if died is None:
            time.sleep(policy.poll_seconds)
            continue
        now = time.monotonic()
        recent = deaths.setdefault(died.name, deque())
        recent.append(now)
        while recent and recent[0] < now - policy.window_seconds:
            recent.popleft()
        if len(recent) >= policy.max_deaths:
            return GaveUp(
                died.name, died.code, died.log_path, died.log_tail, len(recent), policy.window_seconds
            )
        wait = policy.backoff(len(recent))
        say(
            f"{died.describe()}\nrestarting {died.name} in {wait:.1f} s "
            f"(death {len(recent)} of {policy.max_deaths} allowed within {policy.window_seconds:.0f} s)"
        )
        if _sleep_unless_stopped(wait, should_stop, policy.poll_seconds):
            return None
        child = next(child for child in stack.children if child.name == died.name)
        try:
            stack.restart(child)
        except StackError as error:
            say(f"{died.name} did not come back: {error}")
            continue  # it has exited again: the next round counts it
        say(f"{died.name} restarted: pid {child.pid}")
    return None


def keep_up(stack: Supervised, policy: RestartPolicy | None = None) -> GaveUp | None:
    """`claimflow up`'s watch: supervise until Ctrl-C or SIGTERM, telling on stderr what died and why."""

    def say(text: str) -> None:
        stderr().print(text, highlight=False, markup=False, soft_wrap=True)

    return supervise(stack, lambda: False, say, policy)


def _sleep_unless_stopped(seconds: float, should_stop: Callable[[], bool], step: float) -> bool:
    """Sleep `seconds`; True as soon as `should_stop()` says so."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if should_stop():
            return True
        time.sleep(min(step, max(0.0, deadline - time.monotonic())))
    return should_stop()
