"""The X12 the sandbox reads and writes, in one place: claimflow's own codec, plus the two envelope
facts the sandbox needs (who sent a file, and the 837's batch id)."""

from __future__ import annotations

from claimflow.claims.responses import AckCode
from claimflow.claims.x12 import (
    X12Error,
    acknowledge,
    read_277ca,
    read_835,
    read_837,
    read_999,
    write_277ca,
    write_835,
)
from claimflow.claims.x12.eligibility import read_270, read_271, write_271
from claimflow.claims.x12.segments import read_interchanges, transaction_sets
from claimflow.claims.x12.status import read_276, read_277, write_277

__all__ = [
    "X12Error",
    "accepted",
    "acknowledge",
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
