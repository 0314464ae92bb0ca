"""Typed X12 errors that say where: segment position and id, element, and why."""

from __future__ import annotations


class X12Error(Exception):
    """Base of every X12 error: carries the place in the file and the reason."""

    def __init__(
        self,
        reason: str,
        *,
        segment_id: str | None = None,
        position: int | None = None,
        element: int | None = None,
        component: int | None = None,
    ) -> None:
        self.reason = reason
        self.segment_id = segment_id
        self.position = position
        self.element = element
        self.component = component
        super().__init__(self.describe())

    @property
    def place(self) -> str:
        parts = []
        if self.segment_id:
            where = self.segment_id
            if self.element is not None:
                where += f"{self.element:02d}"
                if self.component is not None:
                    where += f"-{self.component}"
            parts.append(where)
        if self.position is not None:
            parts.append(f"segment {self.position}")
        return ", ".join(parts)

    def describe(self) -> str:
        return f"{self.place}: {self.reason}" if self.place else self.reason


class X12SyntaxError(X12Error):
    """The bytes are not X12 that can be read: no ISA, a truncated header, unknown delimiters."""


class X12StructureError(X12Error):
    """The segments do not form the transaction the guide describes (a loop or segment missing)."""


class X12ValueError(X12Error):
    """An element's value is not what the guide allows (a date, an amount, a code)."""


class X12WriteError(X12Error):
    """A model cannot be written as X12 (a value would contain a delimiter, a field is too long)."""
