"""What every fuzz test shares: the Hypothesis profiles, a time bound per input, and a counter
that proves how many inputs a run really tried.

CI runs the `ci` profile (at least 2,000 examples per target, derandomized so a red run can be
replayed); `CLAIMFLOW_FUZZ_PROFILE=deep` runs ten times more with fresh randomness."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from hypothesis import HealthCheck, settings

EXAMPLES_PER_TARGET = 2_000
SECONDS_PER_INPUT = 5.0
"""Generous on a loaded 2-core machine; a reader that hangs never finishes at all."""

settings.register_profile(
    "ci",
    max_examples=EXAMPLES_PER_TARGET,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    parent=settings.get_profile("ci"),
    max_examples=10 * EXAMPLES_PER_TARGET,
    derandomize=False,
)


def fuzz_settings() -> settings:
    """The profile named by CLAIMFLOW_FUZZ_PROFILE (default `ci`), applied per test so the rest of
    the suite keeps Hypothesis's defaults."""
    return settings(settings.get_profile(os.environ.get("CLAIMFLOW_FUZZ_PROFILE", "ci")))


class InputHung(Exception):
    """An input took longer than SECONDS_PER_INPUT."""


@contextmanager
def time_bound(seconds: float = SECONDS_PER_INPUT) -> Iterator[None]:
    """Raise InputHung in the main thread when the body runs longer than `seconds`."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise InputHung(f"no answer within {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Tally:
    """Inputs tried and how they ended, printed at the end of a test and checked for the count."""

    target: str
    outcomes: dict[str, int] = field(default_factory=dict)
    slowest: float = 0.0

    def run(self, body: Callable[[], str]) -> None:
        """Run one input under the time bound; `body` returns its outcome's name."""
        started = time.perf_counter()
        with time_bound():
            outcome = body()
        self.slowest = max(self.slowest, time.perf_counter() - started)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def examples(self) -> int:
        return sum(self.outcomes.values())

    def report(self) -> str:
        ends = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        return f"fuzz {self.target}: {self.examples} examples ({ends}); slowest {self.slowest:.2f} s"

    def check_count(self) -> None:
        print(self.report())
        assert self.examples >= fuzz_settings().max_examples, self.report()
