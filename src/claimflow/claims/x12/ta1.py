"""TA1 interchange acknowledgements, and the identity of an interchange (ISA06 sender, ISA13 number).

A clearinghouse answers an interchange it cannot open (a bad envelope, a duplicate control
number) with a TA1 right after its own ISA, with no functional group: TA101 is the ISA13 it
acknowledges, TA104 A (accepted), E (accepted with errors) or R (rejected), TA105 the note code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.segments import Delimiters, read_interchanges
from claimflow.claims.x12.writer import Envelope, isa_elements

DUPLICATE_INTERCHANGE = "025"
"""TA105 'duplicate interchange control number': the clearinghouse has this interchange already."""

NOTE_CODES = {
    "000": "no error",
    "001": "the interchange control numbers in the ISA and IEA do not match",
    "005": "invalid interchange sender id qualifier",
    "006": "invalid interchange sender id",
    "008": "invalid interchange receiver id",
    "014": "invalid interchange date",
    "015": "invalid interchange time",
    "018": "invalid interchange control number",
    "021": "invalid number of included groups",
    "022": "invalid control structure",
    "023": "improper (premature) end of file",
    "024": "invalid interchange content",
    DUPLICATE_INTERCHANGE: "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
}


@dataclass(frozen=True)
class InterchangeIdentity:
    """Who sent an interchange (ISA06, trimmed) and its control number (ISA13, as sent)."""

    sender_id: str
    control_number: str


@dataclass(frozen=True)
class InterchangeAck:
    """One TA1: the interchange it acknowledges and what became of it."""

    control_number: str
    status: str
    note_code: str

    @property
    def rejected(self) -> bool:
        return self.status == "R"

    @property
    def duplicate(self) -> bool:
        return self.note_code == DUPLICATE_INTERCHANGE

    def describe(self) -> str:
        meaning = NOTE_CODES.get(self.note_code, "an unlisted note code")
        verdicts = {"A": "accepted", "E": "accepted with errors", "R": "rejected"}
        verdict = verdicts.get(self.status, self.status)
        return f"interchange {self.control_number} {verdict} (TA1 note {self.note_code}: {meaning})"


def interchange_identity(text: str) -> InterchangeIdentity | None:
    """The first interchange's sender and control number; None when the text has no readable ISA."""
    try:
        interchanges = read_interchanges(text)
    except X12Error:
        return None
    if not interchanges or not interchanges[0].header.elements:
        return None
    header = interchanges[0].header
    number = header[13].strip()
    return InterchangeIdentity(header[6].strip(), number) if number else None


def read_ta1(text: str) -> list[InterchangeAck]:
    """Every TA1 in a file (empty when it holds none)."""
    return [
        InterchangeAck(segment[1].strip(), segment[4].strip(), segment[5].strip())
        for interchange in read_interchanges(text)
        for segment in interchange.stray
        if segment.id == "TA1"
    ]


def write_ta1(envelope: Envelope, acknowledged: str, received: datetime, status: str, note_code: str) -> str:
    """An interchange holding one TA1 for the interchange numbered `acknowledged`."""
    if status not in ("A", "E", "R"):
        raise ValueError(f"TA104 is A, E or R, not {status!r}")
    d = Delimiters()
    e = d.element
    number = f"{envelope.interchange_control_number:09d}"
    isa = isa_elements(envelope, d)
    ta1 = ["TA1", acknowledged, received.strftime("%y%m%d"), received.strftime("%H%M"), status, note_code]
    return "".join(f"{e.join(line)}{d.segment}\n" for line in (isa, ta1, ["IEA", "0", number]))
