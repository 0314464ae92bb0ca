"""X12 as segments: delimiters from the ISA, a tolerant tokenizer, and the envelope tree.

The reader takes files as they really arrive: a UTF-8 BOM, line breaks (or none) between segments,
several interchanges with their own delimiters in one file, segments it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from claimflow.claims.digits import is_digits
from claimflow.claims.x12.errors import X12SyntaxError, X12ValueError


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str = "^"

    @classmethod
    def from_isa(cls, text: str, position: int, start: int = 0) -> tuple[Delimiters, int]:
        """The delimiters of the ISA at `start` in `text`, and the ISA's length.

        The ISA is fixed-width by definition, but real files pad it wrongly: read it by its element
        separator instead, counting 16 elements; ISA16 is the component separator and the
        character after it ends the segment. (`start` spares copying the rest of a file that holds
        many interchanges.)"""
        element = text[start + 3 : start + 4]
        if not element or element.isalnum() or element.isspace():
            raise X12SyntaxError(
                "ISA is not followed by an element separator", segment_id="ISA", position=position
            )
        cursor = start
        for _ in range(16):
            cursor = text.find(element, cursor + 1)
            if cursor < 0:
                raise X12SyntaxError(
                    "ISA header has fewer than 16 elements: the file is truncated",
                    segment_id="ISA",
                    position=position,
                )
        component, segment = text[cursor + 1 : cursor + 2], text[cursor + 2 : cursor + 3]
        fields = text[start : cursor + 1].split(element)
        repetition = fields[11] if len(fields) > 11 and len(fields[11]) == 1 else ""
        if not component or not segment or len({element, component, segment}) != 3 or component.isalnum():
            raise X12SyntaxError(
                f"ISA delimiters are not distinct non-alphanumeric characters "
                f"(element {element!r}, component {component!r}, segment {segment!r})",
                segment_id="ISA",
                position=position,
            )
        if repetition.isalnum() or repetition in (element, component, segment):
            repetition = ""  # 4010 files carry "U" here: no repetition separator
        return cls(element, component, segment, repetition), cursor + 3 - start

    @classmethod
    def from_bare_set(cls, text: str) -> Delimiters:
        """Delimiters of a file that starts at ST with no envelope (seen in real 835 exports)."""
        match = re.match(r"ST([^A-Za-z0-9 ])\d{3}\1[A-Za-z0-9]+([^A-Za-z0-9 \r\n])", text)
        if not match:
            raise X12SyntaxError("no ISA segment: this is not an X12 interchange")
        element, segment = match.group(1), match.group(2)
        return cls(element, ":" if element != ":" else ">", segment, "^")


@dataclass(slots=True)
class Segment:
    """One segment: its id, its elements (1-based like the guides) and its position in the file.

    Read-only by convention: not a frozen dataclass because frozen construction is about four
    times slower, and a large 835 makes hundreds of thousands of segments."""

    id: str
    elements: tuple[str, ...]
    position: int
    delimiters: Delimiters = field(default=Delimiters(), compare=False, repr=False)

    def __getitem__(self, index: int) -> str:
        """Element by its guide number (NM103 is `seg[3]`); missing trailing elements are ''."""
        return self.elements[index - 1] if 0 < index <= len(self.elements) else ""

    def components(self, index: int) -> list[str]:
        value = self[index]
        return value.split(self.delimiters.component) if value else []

    def component(self, index: int, sub: int) -> str:
        parts = self.components(index)
        return parts[sub - 1] if 0 < sub <= len(parts) else ""

    def repeats(self, index: int) -> list[str]:
        """The repeated values of an element (ISA11 separates them). A file whose ISA11 is its
        component separator has no repetition separator of its own: there the components repeat."""
        value = self[index]
        if not value:
            return []
        separator = self.delimiters.repetition or self.delimiters.component
        return [part for part in value.split(separator) if part]

    def require(self, index: int, what: str) -> str:
        value = self[index]
        if not value:
            raise X12ValueError(
                f"{what} is missing", segment_id=self.id, position=self.position, element=index
            )
        return value

    def amount(self, index: int, what: str = "amount") -> Decimal | None:
        value = self[index]
        if not value:
            return None
        try:
            if not value.isascii():  # Decimal reads an Arabic-Indic or full-width digit as its value
                raise InvalidOperation
            return Decimal(value)
        except InvalidOperation as exc:
            raise X12ValueError(
                f"{what} {value!r} is not a number", segment_id=self.id, position=self.position, element=index
            ) from exc

    def date(self, index: int, what: str = "date") -> date | None:
        elements = self.elements
        value = elements[index - 1] if 0 < index <= len(elements) else ""
        if not value:
            return None
        return _calendar_day(value) or parse_date(value, self, index, what)  # parse_date says what is wrong


@lru_cache(maxsize=4096)
def _calendar_day(value: str) -> date | None:
    """CCYYMMDD (or YYMMDD) as a date, None if it is not one. Cached: a file repeats a few dates."""
    if not is_digits(value):  # int() reads non-ASCII digits, and a sign or spaces
        return None
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if len(value) == 6:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        pass
    return None


def parse_date(value: str, segment: Segment, index: int, what: str = "date") -> date:
    """CCYYMMDD (or YYMMDD in the ISA) to a date, with an error that names the place."""
    day = _calendar_day(value)
    if day is not None:
        return day
    raise X12ValueError(
        f"{what} {value!r} is not a date (CCYYMMDD)",
        segment_id=segment.id,
        position=segment.position,
        element=index,
    )


def parse_date_range(value: str, segment: Segment, index: int) -> tuple[date, date]:
    """RD8 CCYYMMDD-CCYYMMDD, or a single D8 date as a one-day range."""
    if "-" in value:
        start, end = value.split("-", 1)
        return parse_date(start, segment, index), parse_date(end, segment, index)
    day = parse_date(value, segment, index)
    return day, day


def decode(data: str | bytes) -> str:
    """Text of a file: UTF-8 (with or without BOM), UTF-16 when it says so or looks like it."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    # damaged bytes become U+FFFD, so the tokenizer reports the bad segment by its place
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if len(data) > 3 and data[1] == 0 and data[3] == 0:
        return data.decode("utf-16-le", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def tokenize(data: str | bytes) -> Iterator[Segment]:
    """Every segment of a file, across interchanges, each with its 1-based position."""
    for interchange in _interchange_segments(data):
        yield from interchange


def _interchange_segments(data: str | bytes) -> Iterator[list[Segment]]:
    """tokenize() one interchange at a time (a list each), which spares a generator step a segment."""
    text = decode(data)
    start = text.find("ISA")
    if start < 0 or text[:start].strip():
        stripped = text.lstrip()
        if start < 0 and stripped.startswith("ST"):
            yield _split(stripped, Delimiters.from_bare_set(stripped), 0)
            return
        found = text[: start if start >= 0 else 20].strip()[:20]
        raise X12SyntaxError(f"the file does not start with an ISA segment (found {found!r})")
    position = 0
    while start >= 0:
        delimiters, _ = Delimiters.from_isa(text, position + 1, start)
        end = text.find(f"{delimiters.segment}ISA{delimiters.element}", start)
        segments = _split(text[start : len(text) if end < 0 else end + 1], delimiters, position)
        if segments:
            position = segments[-1].position
        yield segments
        start = -1 if end < 0 else end + 1


def _split(chunk: str, delimiters: Delimiters, position: int) -> list[Segment]:
    """The segments of one interchange, numbered on from `position` (the hot loop of every reader)."""
    element = delimiters.element
    segments: list[Segment] = []
    append = segments.append
    for raw in chunk.split(delimiters.segment):
        raw = raw.strip()
        if not raw:
            continue
        position += 1
        elements = raw.split(element)
        segment_id = elements.pop(0)
        if not segment_id.isupper() or not segment_id.isalnum():  # indented or lower-case ids
            segment_id = segment_id.strip().upper()
        append(Segment(segment_id, tuple(elements), position, delimiters))
    return segments


@dataclass
class TransactionSet:
    """ST..SE with the envelopes it sits in."""

    header: Segment
    segments: list[Segment]
    trailer: Segment | None
    group: Segment
    interchange: Segment

    @property
    def id(self) -> str:
        return self.header[1]

    @property
    def control_number(self) -> str:
        return self.header[2]

    @property
    def version(self) -> str:
        return self.header[3] or self.group[8]

    @property
    def delimiters(self) -> Delimiters:
        return self.header.delimiters


@dataclass
class FunctionalGroup:
    header: Segment
    sets: list[TransactionSet] = field(default_factory=list)
    trailer: Segment | None = None


@dataclass
class Interchange:
    header: Segment
    groups: list[FunctionalGroup] = field(default_factory=list)
    trailer: Segment | None = None
    stray: list[Segment] = field(default_factory=list)
    """Segments outside any ST..SE or before a GS: kept for the structural check, never dropped."""

    @property
    def sets(self) -> Iterator[TransactionSet]:
        for group in self.groups:
            yield from group.sets


ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})


def read_interchanges(data: str | bytes) -> list[Interchange]:
    """The envelope tree of a file. Missing trailers are left as None for the check to report."""
    interchanges: list[Interchange] = []
    current: Interchange | None = None
    group: FunctionalGroup | None = None
    open_set: TransactionSet | None = None
    for segments in _interchange_segments(data):
        for segment in segments:
            if open_set is not None and segment.id not in ENVELOPE_IDS:
                open_set.segments.append(segment)  # the common case, tested first
            elif segment.id == "ISA":
                current = Interchange(segment)
                interchanges.append(current)
                group, open_set = None, None
            elif current is None:
                if segment.id != "ST":
                    continue
                # A bare transaction set with no envelope: read it under a synthetic ISA.
                current = Interchange(Segment("ISA", (), segment.position, segment.delimiters))
                interchanges.append(current)
                group = FunctionalGroup(Segment("GS", (), segment.position, segment.delimiters))
                current.groups.append(group)
                open_set = TransactionSet(segment, [], None, group.header, current.header)
                group.sets.append(open_set)
            elif segment.id == "GS":
                group = FunctionalGroup(segment)
                current.groups.append(group)
                open_set = None
            elif segment.id == "ST":
                if group is None:  # ST without GS: read it under a synthetic group so nothing is lost
                    group = FunctionalGroup(Segment("GS", (), segment.position, segment.delimiters))
                    current.groups.append(group)
                open_set = TransactionSet(segment, [], None, group.header, current.header)
                group.sets.append(open_set)
            elif segment.id == "SE" and open_set is not None:
                open_set.trailer = segment
                open_set = None
            elif segment.id == "GE" and group is not None:
                group.trailer = segment
                group, open_set = None, None
            elif segment.id == "IEA":
                current.trailer = segment
                current, group, open_set = None, None, None
            elif open_set is not None:
                open_set.segments.append(segment)
            else:
                current.stray.append(segment)
    return interchanges


def transaction_sets(data: str | bytes, set_id: str | None = None) -> list[TransactionSet]:
    """Every transaction set in a file, optionally only those of one id (e.g. '835')."""
    return [
        ts for interchange in read_interchanges(data) for ts in interchange.sets if set_id in (None, ts.id)
    ]


class SegmentCursor:
    """Walks a transaction set's segments in order: the loop readers are built on it."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self._segments = segments
        self._index = 0

    def peek(self) -> Segment | None:
        return self._segments[self._index] if self._index < len(self._segments) else None

    def peek_id(self) -> str | None:
        segment = self.peek()
        return segment.id if segment else None

    def next(self) -> Segment:
        segment = self._segments[self._index]
        self._index += 1
        return segment

    def take(self, segment_id: str, qualifier: str | None = None) -> Segment | None:
        """The next segment if it is `segment_id` (with element 1 == qualifier when given)."""
        segment = self.peek()
        if segment and segment.id == segment_id and (qualifier is None or segment[1] == qualifier):
            self._index += 1
            return segment
        return None

    def take_while(self, segment_id: str) -> list[Segment]:
        taken = []
        while (segment := self.take(segment_id)) is not None:
            taken.append(segment)
        return taken

    def skip_until(self, *segment_ids: str) -> list[Segment]:
        """Skip (and return) segments until one of `segment_ids` or the end."""
        skipped = []
        while (segment := self.peek()) is not None and segment.id not in segment_ids:
            skipped.append(self.next())
        return skipped

    def __bool__(self) -> bool:
        return self._index < len(self._segments)


def format_date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"  # strftime is several times slower


def format_time(moment: time | datetime) -> str:
    return moment.strftime("%H%M")
