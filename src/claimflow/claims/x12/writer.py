"""Writing X12: segments with checked values, and the ISA/GS/ST envelopes with exact counts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from pydantic import BaseModel, ConfigDict, Field

from claimflow.claims.x12.errors import X12WriteError
from claimflow.claims.x12.segments import Delimiters, format_date, format_time


class Repeat(tuple[str, ...]):
    """An element whose values repeat with the repetition separator (ISA11), e.g. EB03 service types."""

    __slots__ = ()


Element = str | Sequence[str] | Decimal | int | None
"""An element value: text, a composite (a sequence of components), a Repeat, an amount, or absent."""

FUNCTIONAL_IDS = {
    "837": "HC",
    "835": "HP",
    "270": "HS",
    "271": "HB",
    "276": "HR",
    "277": "HN",
    "999": "FA",
}

SETS_WITHOUT_ST03 = frozenset({"835"})
"""X221A1 marks ST03 'not used': the 835 names its guide in GS08 only."""


def format_amount(amount: Decimal) -> str:
    """X12 R type: no superfluous zeros or plus sign ('100', '100.5', '-12.25')."""
    text = format(amount.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass
class SegmentWriter:
    """Collects the segments of one transaction set body, refusing values that break the syntax."""

    delimiters: Delimiters = field(default_factory=Delimiters)
    segments: list[str] = field(default_factory=list)
    _reserved: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        d = self.delimiters
        reserved = d.element + d.component + d.segment + d.repetition
        self._reserved = re.compile(f"[{re.escape(reserved)}]")

    def add(self, segment_id: str, *elements: Element) -> None:
        texts = []
        for index, value in enumerate(elements, start=1):
            if value is None:
                texts.append("")
            elif type(value) is str:  # the common case, inlined: writers add tens of thousands a second
                value = value.strip()
                if self._reserved.search(value):
                    self._refuse(segment_id, index, None, value)
                texts.append(value)
            else:
                texts.append(self._element(segment_id, index, value))
        while texts and texts[-1] == "":
            texts.pop()  # trailing empty elements are never written
        self.segments.append(self.delimiters.element.join([segment_id, *texts]))

    def _element(self, segment_id: str, index: int, value: Element) -> str:
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return format_amount(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str):
            return self._text(segment_id, index, None, value)
        if isinstance(value, Repeat):
            if not self.delimiters.repetition:
                raise X12WriteError("no repetition separator to repeat a value with", segment_id=segment_id)
            texts = [self._text(segment_id, index, None, part) for part in value]
            return self.delimiters.repetition.join(text for text in texts if text)
        components = [self._text(segment_id, index, sub, part) for sub, part in enumerate(value, start=1)]
        while components and components[-1] == "":
            components.pop()
        return self.delimiters.component.join(components)

    def _text(self, segment_id: str, index: int, sub: int | None, value: str) -> str:
        value = value.strip()
        if self._reserved.search(value):
            self._refuse(segment_id, index, sub, value)
        # Case is kept: 5010's extended character set has lower case, and identifiers such as the
        # patient control number must come back from the payer exactly as we sent them.
        return value

    def _refuse(self, segment_id: str, index: int, sub: int | None, value: str) -> NoReturn:
        found = self._reserved.search(value)
        delimiter = found.group() if found else ""
        raise X12WriteError(
            # the value itself is not shown: it may be a patient's name (PHI)
            f"the value contains the delimiter {delimiter!r}; remove it from the source data",
            segment_id=segment_id,
            element=index,
            component=sub,
        )


class Envelope(BaseModel):
    """Who sends to whom, with which control numbers and at what moment (time is an argument)."""

    model_config = ConfigDict(frozen=True)

    sender_qualifier: str = "ZZ"
    sender_id: str = Field(min_length=1, max_length=15)
    receiver_qualifier: str = "ZZ"
    receiver_id: str = Field(min_length=1, max_length=15)
    application_sender: str | None = Field(default=None, description="GS02, the sender id when absent")
    application_receiver: str | None = Field(default=None, description="GS03, the receiver id when absent")
    interchange_control_number: int = Field(ge=1, le=999_999_999)
    group_control_number: int = Field(default=1, ge=1, le=999_999_999)
    created: datetime
    usage: str = Field(default="P", pattern=r"^[PT]$", description="ISA15: P production, T test")
    acknowledgement_requested: bool = False
    submitter_name: str = "CLAIMFLOW"
    submitter_contact: str = "BILLING OFFICE"
    submitter_phone: str = "8005550100"
    receiver_name: str = "CLEARINGHOUSE"


@dataclass
class TransactionBody:
    """The segments between ST and SE of one set, written by a transaction writer."""

    set_id: str
    version: str
    segments: list[str]


def isa_elements(envelope: Envelope, d: Delimiters) -> list[str]:
    """The ISA segment's elements for this envelope (fixed width, as the TR3 requires)."""
    return [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        envelope.sender_id.ljust(15),
        envelope.receiver_qualifier,
        envelope.receiver_id.ljust(15),
        envelope.created.strftime("%y%m%d"),
        format_time(envelope.created),
        d.repetition or "U",
        "00501",
        f"{envelope.interchange_control_number:09d}",
        "1" if envelope.acknowledgement_requested else "0",
        envelope.usage,
        d.component,
    ]


def write_interchange(
    envelope: Envelope, bodies: Iterable[TransactionBody], delimiters: Delimiters | None = None
) -> str:
    """Wrap transaction set bodies in ST/SE, GS/GE (one group per functional id) and ISA/IEA."""
    d = delimiters or Delimiters()
    groups: dict[tuple[str, str], list[TransactionBody]] = {}
    for body in bodies:
        groups.setdefault((FUNCTIONAL_IDS[body.set_id], body.version), []).append(body)
    if not groups:
        raise X12WriteError("an interchange needs at least one transaction set")
    e = d.element
    created = envelope.created
    lines = [e.join(isa_elements(envelope, d))]
    set_number = 0
    for group_offset, ((functional_id, version), members) in enumerate(groups.items()):
        group_number = envelope.group_control_number + group_offset
        lines.append(
            e.join(
                [
                    "GS",
                    functional_id,
                    envelope.application_sender or envelope.sender_id,
                    envelope.application_receiver or envelope.receiver_id,
                    format_date(created.date()),
                    format_time(created),
                    str(group_number),
                    "X",
                    version,
                ]
            )
        )
        for body in members:
            set_number += 1
            control = f"{set_number:04d}"
            header = ["ST", body.set_id, control]
            lines.append(e.join(header if body.set_id in SETS_WITHOUT_ST03 else [*header, version]))
            lines.extend(body.segments)
            lines.append(e.join(["SE", str(len(body.segments) + 2), control]))
        lines.append(e.join(["GE", str(len(members)), str(group_number)]))
    lines.append(e.join(["IEA", str(len(groups)), f"{envelope.interchange_control_number:09d}"]))
    return "".join(line + d.segment + "\n" for line in lines)
