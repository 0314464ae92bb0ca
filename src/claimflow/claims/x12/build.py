"""Turning values read from X12 into domain models, with errors that name the segment."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from claimflow.claims.x12.errors import X12ValueError
from claimflow.claims.x12.segments import Segment

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=StrEnum)


def build_model(model: type[M], segment: Segment | None, what: str, **fields: Any) -> M:
    """`model(**fields)`, turning a validation failure into an X12ValueError at `segment`."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        raise X12ValueError(
            f"{what} cannot be read ({problems})",
            segment_id=segment.id if segment else None,
            position=segment.position if segment else None,
        ) from exc


def code_of(enum: type[E], segment: Segment, index: int, what: str, component: int | None = None) -> E:
    """The enum member whose value is element `index` (or its component) of `segment`."""
    value = segment.component(index, component) if component else segment[index]
    try:
        return enum(value)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in enum)
        raise X12ValueError(
            f"{value!r} is not a {what} code ({allowed})",
            segment_id=segment.id,
            position=segment.position,
            element=index,
            component=component,
        ) from exc
