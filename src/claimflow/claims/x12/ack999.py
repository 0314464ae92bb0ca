"""999 implementation acknowledgement (005010X231A1): written, read, and built for a received file."""

from __future__ import annotations

from collections.abc import Sequence

from claimflow.claims.digits import is_digits
from claimflow.claims.responses import AckCode, Acknowledgement, SegmentError, TransactionSetAck
from claimflow.claims.x12.check import Finding, check_set
from claimflow.claims.x12.errors import X12StructureError, X12ValueError
from claimflow.claims.x12.segments import (
    FunctionalGroup,
    Segment,
    TransactionSet,
    read_interchanges,
    transaction_sets,
)
from claimflow.claims.x12.writer import Envelope, SegmentWriter, TransactionBody, write_interchange

VERSION = "005010X231A1"
IK5_CODES = 5


# --------------------------------------------------------------------------------------------- writing


def write_999(acknowledgements: Sequence[Acknowledgement], envelope: Envelope) -> str:
    """One interchange holding one 999 per acknowledged functional group."""
    return write_interchange(envelope, [acknowledgement_body(ack) for ack in acknowledgements])


def acknowledgement_body(ack: Acknowledgement) -> TransactionBody:
    if not ack.version:
        raise X12StructureError(
            f"the acknowledged group {ack.group_control_number} needs its GS08 version (AK103)",
            segment_id="AK1",
            element=3,
        )
    out = SegmentWriter()
    out.add("AK1", ack.functional_id, ack.group_control_number, ack.version)
    for ts in ack.transaction_sets:
        out.add("AK2", ts.set_id, ts.control_number, ts.version)
        _write_errors(out, ts.errors)
        if len(ts.set_error_codes) > IK5_CODES:
            raise X12StructureError(f"IK5 holds at most {IK5_CODES} error codes", segment_id="IK5")
        out.add("IK5", ts.status.value, *ts.set_error_codes)
    if len(ack.group_error_codes) > IK5_CODES:
        raise X12StructureError(f"AK9 holds at most {IK5_CODES} error codes", segment_id="AK9")
    out.add(
        "AK9",
        ack.status.value,
        ack.sets_included,
        ack.sets_received,
        ack.sets_accepted,
        *ack.group_error_codes,
    )
    return TransactionBody("999", VERSION, out.segments)


def _write_errors(out: SegmentWriter, errors: Sequence[SegmentError]) -> None:
    """IK3 per faulty segment; its element faults follow as IK4s (one SegmentError per IK4)."""
    previous: tuple[str, int, str | None, str] | None = None
    for error in errors:
        key = (error.segment_id, error.position, error.loop, error.code)
        if key != previous:
            out.add("IK3", error.segment_id, error.position, error.loop, error.code or None)
            previous = key
        if error.element_position is not None:
            position = [str(error.element_position)]
            if error.component_position is not None:
                position.append(str(error.component_position))
            out.add("IK4", position, error.element_reference, error.element_code, error.bad_value)


# --------------------------------------------------------------------------------------------- reading


def read_999(data: str | bytes) -> list[Acknowledgement]:
    """Every 999 in a file, one Acknowledgement per AK1."""
    return [read_acknowledgement(ts) for ts in transaction_sets(data, "999")]


def read_acknowledgement(ts: TransactionSet) -> Acknowledgement:
    """One 999 transaction set."""
    return _read(ts.segments, ts.header)


def _code(value: str, segment: Segment, index: int) -> AckCode:
    try:
        return AckCode(value)
    except ValueError as exc:
        raise X12ValueError(
            f"acknowledgement code {value!r} is not A, E, M, P, R, W or X",
            segment_id=segment.id,
            position=segment.position,
            element=index,
        ) from exc


def _read(segments: Sequence[Segment], header: Segment) -> Acknowledgement:
    ak1: Segment | None = None
    ak9: Segment | None = None
    sets: list[TransactionSetAck] = []
    current: dict[str, object] | None = None
    errors: list[SegmentError] = []
    ik3: Segment | None = None
    for segment in segments:
        if segment.id == "AK1":
            ak1 = segment
        elif segment.id == "AK2":
            current = {"set_id": segment[1], "control_number": segment[2], "version": segment[3] or None}
            errors, ik3 = [], None
        elif segment.id == "IK3":
            ik3 = segment
            errors.append(_segment_error(segment))
        elif segment.id == "IK4" and ik3 is not None:
            element = _element_error(ik3, segment)
            if errors and errors[-1].element_position is None and errors[-1].position == _position(ik3):
                errors[-1] = element
            else:
                errors.append(element)
        elif segment.id == "IK5" and current is not None:
            codes = [segment[i] for i in range(2, 7) if segment[i]]
            sets.append(
                TransactionSetAck(
                    **current,
                    status=_code(segment[1], segment, 1),
                    errors=errors,
                    set_error_codes=codes,
                )
            )
            current = None
        elif segment.id == "AK9":
            ak9 = segment
    if ak1 is None or ak9 is None:
        missing = "AK1" if ak1 is None else "AK9"
        raise X12StructureError(
            f"the 999 has no {missing} segment", segment_id="ST", position=header.position
        )
    return Acknowledgement(
        group_control_number=ak1[2],
        functional_id=ak1[1],
        version=ak1[3] or None,
        status=_code(ak9[1], ak9, 1),
        sets_included=_count(ak9, 2),
        sets_received=_count(ak9, 3),
        sets_accepted=_count(ak9, 4),
        transaction_sets=sets,
        group_error_codes=[ak9[i] for i in range(5, 10) if ak9[i]],
    )


def _count(segment: Segment, index: int) -> int:
    value = segment[index]
    if not is_digits(value):
        raise X12ValueError(
            f"{value!r} is not a count", segment_id=segment.id, position=segment.position, element=index
        )
    return int(value)


def _position(ik3: Segment) -> int:
    return int(ik3[2]) if is_digits(ik3[2]) else 0


def _segment_error(ik3: Segment) -> SegmentError:
    return SegmentError(segment_id=ik3[1], position=_position(ik3), loop=ik3[3] or None, code=ik3[4])


def _element_error(ik3: Segment, ik4: Segment) -> SegmentError:
    position = ik4.components(1)
    return SegmentError(
        segment_id=ik3[1],
        position=_position(ik3),
        loop=ik3[3] or None,
        code=ik3[4],
        element_position=int(position[0]) if position and is_digits(position[0]) else None,
        component_position=int(position[1]) if len(position) > 1 and is_digits(position[1]) else None,
        element_reference=ik4[2] or None,
        element_code=ik4[3] or None,
        bad_value=ik4[4] or None,
    )


# --------------------------------------------------------------------------------------- acknowledging

# Which 999 code each structural finding becomes: IK5 set-level codes, or IK3/IK4 segment faults.
IK5_FOR_FINDING = {"SE_MISSING": "2", "SE02_MISMATCH": "3", "SE01_COUNT": "4"}
IK3_FOR_FINDING = {"SEGMENT_MISSING": "3"}
IK4_FOR_FINDING = {"INVALID_DATE": "8", "DATE_RANGE": "8", "INVALID_CODE": "7", "HL_PARENT": "7"}
# IK402: the X12 data element dictionary number of the elements those findings point at
ELEMENT_REFERENCES = {
    ("DTP", 3): "1251",
    ("DTM", 2): "373",
    ("SBR", 9): "1032",
    ("CLP", 2): "1029",
    ("CAS", 1): "1033",
    ("HL", 2): "734",
}


def acknowledge(data: str | bytes, envelope: Envelope) -> str:
    """The 999 a clearinghouse would return for a received file: one per functional group.

    Syntax and envelope faults (control numbers, counts, missing segments, dates and code values)
    reject the set; business edits (claim totals, NPI check digits, balancing) belong to the 277CA
    and do not appear here."""
    acks = [
        acknowledge_group(group) for interchange in read_interchanges(data) for group in interchange.groups
    ]
    if not acks:
        raise X12StructureError("the file holds no functional group to acknowledge")
    return write_999(acks, envelope)


def acknowledge_group(group: FunctionalGroup) -> Acknowledgement:
    """The Acknowledgement of one received functional group."""
    gs = group.header
    acks = []
    for ts in group.sets:
        findings = list(check_set(ts))
        set_codes = sorted({IK5_FOR_FINDING[f.code] for f in findings if f.code in IK5_FOR_FINDING})
        errors = [error for f in findings if (error := _as_segment_error(f)) is not None]
        if errors:
            set_codes = sorted({*set_codes, "5"})
        acks.append(
            TransactionSetAck(
                set_id=ts.id,
                control_number=ts.control_number,
                version=ts.header[3] or None,
                status=AckCode.REJECTED if set_codes else AckCode.ACCEPTED,
                errors=errors,
                set_error_codes=set_codes,
            )
        )
    accepted = sum(1 for ack in acks if ack.status is AckCode.ACCEPTED)
    group_codes = _group_codes(group)
    group_ok = not group_codes
    if accepted == len(acks) and group_ok:
        status = AckCode.ACCEPTED
    elif accepted and group_ok:
        status = AckCode.PARTIALLY_ACCEPTED
    else:
        status = AckCode.REJECTED
    return Acknowledgement(
        group_control_number=gs[6],
        functional_id=gs[1],
        version=gs[8] or None,
        status=status,
        sets_included=int(group.trailer[1]) if group.trailer and is_digits(group.trailer[1]) else len(acks),
        sets_received=len(acks),
        sets_accepted=accepted,
        transaction_sets=acks,
        group_error_codes=group_codes,
    )


def _group_codes(group: FunctionalGroup) -> list[str]:
    """AK905 codes: 3 trailer missing, 4 control numbers differ, 5 set count differs."""
    if group.trailer is None:
        return ["3"]
    codes = []
    if group.trailer[2] != group.header[6]:
        codes.append("4")
    if group.trailer[1] != str(len(group.sets)):
        codes.append("5")
    return codes


def _as_segment_error(finding: Finding) -> SegmentError | None:
    if finding.set_position is None or finding.segment_id is None:
        return None
    if finding.code in IK3_FOR_FINDING:
        return SegmentError(
            segment_id=finding.missing_segment or finding.segment_id,
            position=finding.set_position,
            code=IK3_FOR_FINDING[finding.code],
        )
    if finding.code in IK4_FOR_FINDING and finding.element is not None:
        return SegmentError(
            segment_id=finding.segment_id,
            position=finding.set_position,
            code="8",
            element_position=finding.element,
            component_position=finding.component,
            element_reference=ELEMENT_REFERENCES.get((finding.segment_id, finding.element)),
            element_code=IK4_FOR_FINDING[finding.code],
            bad_value=finding.value,
        )
    return None
