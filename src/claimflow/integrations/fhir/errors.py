"""Intake errors that say which resource was wrong, where, and what to do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claimflow.claims.scrub import Finding


class IntakeError(ValueError):
    """The input cannot become an encounter. `problems` lists each one with its path; `findings` the
    same as located findings when the input was a Bundle (empty when it was no Bundle at all)."""

    def __init__(self, source: str, problems: list[str], findings: Sequence[Finding] = ()) -> None:
        self.source = source
        self.problems = problems
        self.findings = tuple(findings)
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source}: cannot read an encounter ({len(problems)} problem(s)):\n{listed}")
