"""The X12 the sandbox reads and writes, in one place: claimflow's own codec, plus the two envelope
facts the sandbox needs (who sent a file, and the 837's batch id)."""

from __future__ import annotations

from claimflow.claims.responses import AckCode, SegmentError
from claimflow.claims.x12 import (
    X12Error,
    acknowledge,
    balancing_findings,
    read_277ca,
    read_835,
    read_837,
    read_999,
    write_277ca,
    write_835,
    write_999,
)
from claimflow.claims.x12.eligibility import read_270, read_271, write_271
from claimflow.claims.x12.segments import read_interchanges, transaction_sets
from claimflow.claims.x12.status import read_276, read_277, write_277
from claimflow.claims.x12.writer import Envelope

__all__ = [
    "X12Error",
    "accepted",
    "acknowledge",
    "balancing_findings",
    "batch_id",
    "interchange_sender",
    "read_270",
    "read_271",
    "read_276",
    "read_277",
    "read_277ca",
    "read_835",
    "read_837",
    "read_999",
    "reject_999",
    "write_271",
    "write_277",
    "write_277ca",
    "write_835",
]


def accepted(ack_999: str) -> bool:
    """Every transaction set the 999 acknowledges was accepted (perhaps with errors)."""
    acknowledgements = read_999(ack_999)
    sets = [ts for ack in acknowledgements for ts in ack.transaction_sets]
    return bool(sets) and all(ts.status in (AckCode.ACCEPTED, AckCode.ACCEPTED_WITH_ERRORS) for ts in sets)


def interchange_sender(text: str) -> str | None:
    """ISA06 of the first interchange, trimmed; None when the text has no readable ISA."""
    try:
        interchanges = read_interchanges(text)
    except X12Error:
        return None
    return interchanges[0].header[6].strip() or None if interchanges else None


def batch_id(text: str) -> str | None:
    """BHT03 of the first 837: the submitter's batch reference, echoed in the 277CA."""
    try:
        sets = transaction_sets(text, "837")
    except X12Error:
        return None
    for ts in sets[:1]:
        for segment in ts.segments:
            if segment.id == "BHT":
                return segment[3] or None
    return None


def reject_999(ack_999: str, text: str, error: X12Error, envelope: Envelope) -> str:
    """The 999 for a file whose syntax passed but whose claims cannot be read (a value the claim
    model refuses): the set holding the fault is rejected with an IK3/IK4 pointing at it, the
    others are rejected too since the sandbox reads a batch whole."""
    where = _set_position(text, error.position)
    acknowledgements = []
    for ack in read_999(ack_999):
        sets = []
        for ts in ack.transaction_sets:
            errors = list(ts.errors)
            if where and where[0] == ts.control_number:
                errors.append(
                    SegmentError(
                        segment_id=error.segment_id or "ST",
                        position=where[1],
                        code="8",
                        element_position=error.element or 1,
                        component_position=error.component,
                        element_code="7",
                    )
                )
            sets.append(
                ts.model_copy(
                    update={
                        "status": AckCode.REJECTED,
                        "errors": errors,
                        "set_error_codes": sorted({*ts.set_error_codes, "5"}),
                    }
                )
            )
        acknowledgements.append(
            ack.model_copy(update={"status": AckCode.REJECTED, "sets_accepted": 0, "transaction_sets": sets})
        )
    return write_999(acknowledgements, envelope)


def _set_position(text: str, position: int | None) -> tuple[str, int] | None:
    """(ST02, position within the set counting ST as 1) of the segment at file position `position`."""
    if position is None:
        return None
    for ts in transaction_sets(text):
        last = ts.trailer.position if ts.trailer else (ts.segments[-1].position if ts.segments else 0)
        if ts.header.position <= position <= last:
            return ts.control_number, position - ts.header.position + 1
    return None
