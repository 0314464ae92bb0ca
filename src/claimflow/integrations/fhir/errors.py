"""Intake errors that say which resource was wrong, where, and what to do."""

from __future__ import annotations


class IntakeError(ValueError):
    """The input cannot become an encounter. `problems` lists each one with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source}: cannot read an encounter ({len(problems)} problem(s)):\n{listed}")
