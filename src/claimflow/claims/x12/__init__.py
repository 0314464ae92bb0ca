"""X12 005010: read and write 837P/837I, 835, 999, 277CA, 270/271 and 276/277, and check files.

`parse(text)` reads any file we meet, dispatching each transaction set by ST01 and its guide
(GS08/ST03): 837P vs 837I by X222 vs X223, 277CA vs 277 by X214 vs X212.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from claimflow.claims.x12.ack999 import acknowledge, read_999, read_acknowledgement, write_999
from claimflow.claims.x12.balancing import balancing_findings, with_findings
from claimflow.claims.x12.check import Finding, Severity, check, has_errors
from claimflow.claims.x12.claim837 import read_837, write_837
from claimflow.claims.x12.claim837_read import _read_set as _read_837_set
from claimflow.claims.x12.claimack277ca import read_277ca, read_claim_acknowledgement, write_277ca
from claimflow.claims.x12.eligibility import read_270, read_271, write_270, write_271
from claimflow.claims.x12.errors import (
    X12Error,
    X12StructureError,
    X12SyntaxError,
    X12ValueError,
    X12WriteError,
)
from claimflow.claims.x12.remittance835 import (
    cyclic_gc_paused,
    filing_indicator_for_835,
    read_835,
    read_remittance,
    write_835,
)
from claimflow.claims.x12.segments import TransactionSet, transaction_sets
from claimflow.claims.x12.status import read_276, read_277, write_276, write_277
from claimflow.claims.x12.writer import Envelope

ParsedModel = BaseModel | Sequence[BaseModel]
"""A set's reading: one model (835, 999, 277CA) or the list a set holds (837 claims, 27x answers)."""


@dataclass(frozen=True)
class ParsedSet:
    """One transaction set of a file and what it says."""

    kind: str
    """837P, 837I, 835, 999, 277CA, 277, 270, 271 or 276."""
    control_number: str
    version: str
    result: ParsedModel


def set_kind(ts: TransactionSet) -> str:
    """What a transaction set is, from ST01 and the guide its GS08 (or ST03) names."""
    if ts.id == "837":
        return "837I" if "X223" in ts.version else "837P"
    if ts.id == "277":
        return "277" if "X212" in ts.version else "277CA"
    return ts.id


def _alone(ts: TransactionSet) -> str:
    """The set as a file of its own, in its own delimiters, for the readers that take a whole file.

    Its ISA and GS come along when the file had them (delimiters, repetition separator, guide)."""
    d = ts.delimiters
    enveloped = [segment for segment in (ts.interchange, ts.group) if segment.elements]
    segments = [*enveloped, ts.header, *ts.segments, *([ts.trailer] if ts.trailer else [])]
    return "".join(d.element.join([segment.id, *segment.elements]) + d.segment for segment in segments)


def _whole_file_reader(read: Callable[[str], Sequence[BaseModel]]) -> Callable[[TransactionSet], ParsedModel]:
    return lambda ts: read(_alone(ts))


READERS: dict[str, Callable[[TransactionSet], ParsedModel]] = {
    "837P": _read_837_set,
    "837I": _read_837_set,
    "835": read_remittance,
    "999": read_acknowledgement,
    "277CA": read_claim_acknowledgement,
    "270": _whole_file_reader(read_270),
    "271": _whole_file_reader(read_271),
    "276": _whole_file_reader(read_276),
    "277": _whole_file_reader(read_277),
}


def parse(data: str | bytes) -> list[ParsedSet]:
    """Every transaction set of a file, read by the reader of its kind.

    Raises an X12Error naming the place when a set cannot be read, and X12StructureError for a
    transaction set claimflow has no reader for."""
    with cyclic_gc_paused():
        return [_parse_set(ts) for ts in transaction_sets(data)]


def _parse_set(ts: TransactionSet) -> ParsedSet:
    kind = set_kind(ts)
    reader = READERS.get(kind)
    if reader is None:
        raise X12StructureError(
            f"transaction set {ts.id} ({ts.version or 'no version'}) is not one claimflow reads "
            f"({', '.join(READERS)})",
            segment_id="ST",
            position=ts.header.position,
            element=1,
        )
    return ParsedSet(kind, ts.control_number, ts.version, reader(ts))


__all__ = [
    "Envelope",
    "Finding",
    "ParsedSet",
    "Severity",
    "X12Error",
    "X12StructureError",
    "X12SyntaxError",
    "X12ValueError",
    "X12WriteError",
    "acknowledge",
    "balancing_findings",
    "check",
    "filing_indicator_for_835",
    "has_errors",
    "parse",
    "read_270",
    "read_271",
    "read_276",
    "read_277",
    "read_277ca",
    "read_835",
    "read_837",
    "read_999",
    "set_kind",
    "with_findings",
    "write_270",
    "write_271",
    "write_276",
    "write_277",
    "write_277ca",
    "write_835",
    "write_837",
    "write_999",
]
