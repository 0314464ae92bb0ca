"""Reading 837P and 837I claim files back into Claim models.

Reads our own output and real files as far as they carry what the models hold: loops and segments
the models have no place for (pay-to provider, notes) are skipped; other payers (2320/2330A/2330B)
and their line adjudication (2430) become the claim's other payers; data the models require but a
file lacks is a typed error that names the segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.digits import is_digits
from claimflow.claims.encounter import (
    ClaimFilingIndicator,
    Coverage,
    Encounter,
    Facility,
    InstitutionalInfo,
    Person,
    Provider,
    Relationship,
    ServiceLine,
)
from claimflow.claims.other_payers import (
    LineAdjudication,
    OtherPayer,
    PayerResponsibility,
    PriorAdjudication,
)
from claimflow.claims.remittance import Adjustment, AdjustmentGroup
from claimflow.claims.x12.build import build_model, code_of
from claimflow.claims.x12.errors import X12StructureError, X12ValueError
from claimflow.claims.x12.loops import (
    Loop,
    hl_blocks,
    named_loop,
    read_address,
    read_optional_provider,
    read_person,
    read_provider,
    split_at,
    split_loops,
)
from claimflow.claims.x12.segments import (
    Segment,
    TransactionSet,
    parse_date,
    parse_date_range,
    transaction_sets,
)

T = TypeVar("T")
ENCOUNTER_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

# An 837I carries no place of service: it is implied by the facility type (type of bill, first two
# digits). The common ones; anything else is an outpatient hospital.
PLACE_OF_SERVICE_BY_FACILITY_TYPE = {
    "11": "21",
    "12": "21",
    "18": "21",
    "13": "22",
    "14": "81",
    "85": "22",
    "21": "31",
    "22": "31",
    "23": "31",
    "32": "12",
    "33": "12",
    "34": "12",
    "71": "72",
    "72": "65",
    "73": "50",
    "77": "50",
    "81": "34",
    "82": "34",
    "83": "24",
}
DEFAULT_INSTITUTIONAL_PLACE = "22"

# The models keep four relationships; the guide's other codes (employee, unknown, organ donor..) are 'other'.
RELATIONSHIPS = {code.value: code for code in Relationship}


def place_of_service_for_bill_type(type_of_bill: str) -> str:
    """The place of service an 837I implies through its facility type code."""
    return PLACE_OF_SERVICE_BY_FACILITY_TYPE.get(type_of_bill[-3:-1], DEFAULT_INSTITUTIONAL_PLACE)


def read_837(data: str | bytes) -> list[Claim]:
    """Every claim of every 837 transaction set in a file, in file order."""
    claims: list[Claim] = []
    for transaction in transaction_sets(data, "837"):
        claims.extend(read_837_set(transaction))
    return claims


@dataclass
class _Subscriber:
    provider_hl: str
    coverage: Coverage
    insured: Person
    responsibility: PayerResponsibility


def read_837_set(transaction: TransactionSet) -> list[Claim]:
    """The claims of one 837 transaction set (837P or 837I), for readers that dispatch by set."""
    institutional_version = "X223" in transaction.version
    providers: dict[str, Provider] = {}
    subscribers: dict[str, _Subscriber] = {}
    claims: list[Claim] = []
    for hl, block in hl_blocks(transaction.segments):
        level, parent = hl[3], hl[2]
        first_claim = next((i for i, segment in enumerate(block) if segment.id == "CLM"), len(block))
        head = block[:first_claim]
        if level == "20":
            providers[hl[1]] = _billing_provider(hl, head)
            continue
        if level == "22":
            provider = _parent(providers, parent, hl, "billing provider (2000A)")
            subscriber = _subscriber(hl, head)
            subscribers[hl[1]] = subscriber
            patient, relationship = subscriber.insured, Relationship.SELF
            insured: Person | None = None
        elif level == "23":
            subscriber = _parent(subscribers, parent, hl, "subscriber (2000B)")
            provider = _parent(providers, subscriber.provider_hl, hl, "billing provider (2000A)")
            patient, relationship = _patient(hl, head)
            insured = subscriber.insured
        else:
            continue
        for claim_segments in split_at(block[first_claim:], "CLM"):
            claims.append(
                _claim(
                    claim_segments,
                    provider,
                    subscriber,
                    patient,
                    relationship,
                    insured,
                    institutional_version,
                )
            )
    return claims


_read_set = read_837_set  # the name claims/x12/__init__.py first imported


def _parent(known: dict[str, T], parent: str, hl: Segment, what: str) -> T:
    if parent not in known:
        raise X12StructureError(
            f"HL parent {parent or '(none)'} is not a {what} HL of this transaction set",
            segment_id="HL",
            position=hl.position,
            element=2,
        )
    return known[parent]


# 2000A / 2000B / 2000C -------------------------------------------------------------------------------


def _billing_provider(hl: Segment, segments: Sequence[Segment]) -> Provider:
    loops = split_loops(segments)
    loop = named_loop(loops, "85")
    if loop is None:
        raise X12StructureError(
            "billing provider loop 2010AA (NM1*85) is missing", segment_id="HL", position=hl.position
        )
    prv = loops[0].first("PRV", "BI") or loop.first("PRV")
    return read_provider(loop, "billing provider (2010AA)", taxonomy=prv[3] if prv else None)


def _subscriber(hl: Segment, segments: Sequence[Segment]) -> _Subscriber:
    loops = split_loops(segments)
    sbr = loops[0].first("SBR")
    if sbr is None:
        raise X12StructureError(
            "SBR is missing in the subscriber loop 2000B", segment_id="HL", position=hl.position
        )
    insured_loop = named_loop(loops, "IL")
    payer_loop = named_loop(loops, "PR")
    if insured_loop is None or insured_loop.name is None:
        raise X12StructureError(
            "subscriber loop 2010BA (NM1*IL) is missing", segment_id="HL", position=hl.position
        )
    if payer_loop is None or payer_loop.name is None:
        raise X12StructureError(
            "payer loop 2010BB (NM1*PR) is missing", segment_id="HL", position=hl.position
        )
    sbr.require(9, "claim filing indicator (SBR09)")
    filing = code_of(ClaimFilingIndicator, sbr, 9, "claim filing indicator")
    payer = payer_loop.name
    coverage = build_model(
        Coverage,
        payer,
        "coverage (SBR, NM1*IL, NM1*PR)",
        payer_id=payer.require(9, "payer id (NM109)"),
        payer_name=payer.require(3, "payer name (NM103)"),
        member_id=insured_loop.name.require(9, "member id (NM109)"),
        group_number=sbr[3] or None,
        group_name=sbr[4] or None,
        filing_indicator=filing,
        payer_address=read_address(payer_loop),
    )
    responsibility = code_of(PayerResponsibility, sbr, 1, "payer responsibility (SBR01)")
    return _Subscriber(hl[2], coverage, read_person(insured_loop, "subscriber (2010BA)"), responsibility)


def _patient(hl: Segment, segments: Sequence[Segment]) -> tuple[Person, Relationship]:
    loops = split_loops(segments)
    pat = loops[0].first("PAT")
    patient_loop = named_loop(loops, "QC")
    if pat is None or patient_loop is None:
        raise X12StructureError(
            "patient loop 2000C needs PAT and NM1*QC", segment_id="HL", position=hl.position
        )
    code = pat.require(1, "relationship to the subscriber (PAT01)")
    return read_person(patient_loop, "patient (2010CA)"), RELATIONSHIPS.get(code, Relationship.OTHER)


# 2300 claim and 2400 lines -----------------------------------------------------------------------


def _claim(
    segments: Sequence[Segment],
    billing: Provider,
    subscriber_loop: _Subscriber,
    patient: Person,
    relationship: Relationship,
    subscriber: Person | None,
    institutional_version: bool,
) -> Claim:
    clm = segments[0]
    pcn = clm.require(1, "patient control number (CLM01)")
    first_line = next((i for i, segment in enumerate(segments) if segment.id == "LX"), len(segments))
    header = list(segments[1:first_line])
    other_subscribers = next((i for i, segment in enumerate(header) if segment.id == "SBR"), len(header))
    others = [_other_payer(group) for group in split_at(header[other_subscribers:], "SBR")]
    header = header[:other_subscribers]
    loops = split_loops(header)
    claim_level = loops[0]
    institutional = (
        institutional_version
        or claim_level.first("CL1") is not None
        or any(segment.id == "SV2" for segment in segments[first_line:])
    )
    line_groups = split_at(segments[first_line:], "LX") if first_line < len(segments) else []
    if not line_groups:
        raise X12StructureError(
            f"claim {pcn} has no service line (2400 LX)", segment_id="CLM", position=clm.position
        )
    if len(clm.components(5)) != 3:
        separator = clm.delimiters.component
        raise X12ValueError(
            f"CLM05 {clm[5]!r} is not place or facility type, qualifier and frequency separated by "
            f"the component separator {separator!r} that ISA16 declares",
            segment_id="CLM",
            position=clm.position,
            element=5,
        )
    place_or_type = clm.component(5, 1)
    frequency = code_of(FrequencyCode, clm, 5, "claim frequency", 3)
    info: InstitutionalInfo | None = None
    statement_from: date | None = None
    if institutional:
        info = _institutional(clm, place_or_type, frequency.value, loops)
        statement_from = info.statement_from
        place = place_of_service_for_bill_type(info.type_of_bill)
    else:
        place = place_or_type
    lines = [_line(group, institutional, statement_from) for group in line_groups]
    other_payers = _with_line_adjudications(others, line_groups)
    ea = claim_level.first("REF", "EA")
    encounter_id = (
        ea[2] if ea and ea[2] and set(ea[2]) <= ENCOUNTER_ID_CHARACTERS and len(ea[2]) <= 38 else pcn
    )
    prior_authorization = claim_level.first("REF", "G1")
    original = claim_level.first("REF", "F8")
    rendering = named_loop(loops, "82")
    encounter = build_model(
        Encounter,
        clm,
        f"claim {pcn}",
        encounter_id=encounter_id,
        patient=patient,
        relationship=relationship,
        subscriber=subscriber,
        coverage=subscriber_loop.coverage,
        billing_provider=billing,
        rendering_provider=read_optional_provider(rendering, "rendering provider (NM1*82)"),
        referring_provider=read_optional_provider(named_loop(loops, "DN"), "referring provider (NM1*DN)"),
        facility=_facility(named_loop(loops, "77")),
        place_of_service=place,
        service_date=min(line.service_date for line in lines),
        diagnoses=_diagnoses(claim_level.segments),
        service_lines=lines,
        prior_authorization=prior_authorization[2] if prior_authorization else None,
        institutional=info,
        reported_total_charge=_stated_total(clm, lines),
    )
    return build_model(
        Claim,
        clm,
        f"claim {pcn}",
        encounter=encounter,
        patient_control_number=pcn,
        frequency=frequency,
        original_claim_number=original[2] if original else None,
        responsibility=subscriber_loop.responsibility,
        other_payers=other_payers,
    )


def _stated_total(clm: Segment, lines: Sequence[ServiceLine]) -> Decimal | None:
    """CLM02 when it is not the sum of the lines: kept so the scrubber can report the difference."""
    stated = clm.amount(2, "total claim charge")
    return stated if stated is not None and stated != sum(line.charge for line in lines) else None


def _institutional(
    clm: Segment, facility_type: str, frequency: str, loops: Sequence[Loop]
) -> InstitutionalInfo:
    claim_level = loops[0]
    statement = claim_level.first("DTP", "434")
    if statement is None:
        raise X12StructureError(
            "the statement dates (DTP*434) are missing from the 837I claim",
            segment_id="CLM",
            position=clm.position,
        )
    statement_from, statement_to = parse_date_range(statement.require(3, "statement dates"), statement, 3)
    admission = claim_level.first("DTP", "435")
    admission_date, admission_hour = None, None
    if admission is not None:
        value = admission.require(3, "admission date")
        admission_date = parse_date(value[:8], admission, 3, "admission date")
        if admission[2] == "DT" and len(value) >= 10:
            admission_hour = value[8:10]
    cl1 = claim_level.first("CL1")
    attending = named_loop(loops, "71")
    return build_model(
        InstitutionalInfo,
        clm,
        "institutional claim (CLM05, DTP, CL1)",
        type_of_bill=f"0{facility_type}{frequency}",
        admission_date=admission_date,
        admission_hour=admission_hour,
        admission_type=(cl1[1] or None) if cl1 else None,
        admission_source=(cl1[2] or None) if cl1 else None,
        patient_status=(cl1[3] if cl1 and cl1[3] else "01"),
        statement_from=statement_from,
        statement_to=statement_to,
        attending_provider=read_optional_provider(attending, "attending provider (NM1*71)"),
    )


def _diagnoses(segments: Sequence[Segment]) -> list[str]:
    """ABK principal then ABF others, in file order; other HI qualifiers (admitting, reason for
    visit, condition and value codes) are not diagnoses the models keep."""
    principal: list[str] = []
    others: list[str] = []
    for segment in segments:
        if segment.id != "HI":
            continue
        for index in range(1, len(segment.elements) + 1):
            qualifier, code = segment.component(index, 1), segment.component(index, 2)
            if qualifier in ("BK", "BF"):
                raise X12ValueError(
                    f"diagnosis {qualifier} is ICD-9-CM: claimflow bills ICD-10-CM (ABK/ABF) only",
                    segment_id="HI",
                    position=segment.position,
                    element=index,
                    component=1,
                )
            if qualifier == "ABK":
                principal.append(code)
            elif qualifier == "ABF":
                others.append(code)
    return principal + others


def _facility(loop: Loop | None) -> Facility | None:
    if loop is None or loop.name is None:
        return None
    name = loop.name
    address = read_address(loop)
    if address is None:
        raise X12StructureError(
            "the service facility (NM1*77) has no address (N3/N4)", segment_id="NM1", position=name.position
        )
    return build_model(
        Facility,
        name,
        "service facility (NM1*77)",
        name=name.require(3, "service facility name (NM103)"),
        npi=name[9] if name[8] == "XX" and name[9] else None,
        address=address,
    )


def _line(segments: Sequence[Segment], institutional: bool, statement_from: date | None) -> ServiceLine:
    lx = segments[0]
    # the line's own segments end where the 2420 providers or 2430 adjudication loops begin
    end = next((i for i, s in enumerate(segments) if s.id in ("NM1", "SVD")), len(segments))
    own = Loop(None, list(segments[1:end]))
    service = own.first("SV2" if institutional else "SV1")
    if service is None:
        raise X12StructureError(
            f"service line {lx[1]} has no {'SV2' if institutional else 'SV1'}",
            segment_id="LX",
            position=lx.position,
        )
    procedure_element = 2 if institutional else 1
    qualifier = service.component(procedure_element, 1)
    code = service.component(procedure_element, 2)
    if qualifier not in ("HC", "HP", "ER", "WK") or not code:
        raise X12ValueError(
            "the line has no HCPCS/CPT procedure code: claimflow service lines carry one",
            segment_id=service.id,
            position=service.position,
            element=procedure_element,
        )
    modifiers = [m for m in service.components(procedure_element)[2:6] if m]
    charge = service.amount(3 if institutional else 2, "line charge")
    units = service.amount(5 if institutional else 4, "units")
    dtp = own.first("DTP", "472")
    if dtp is not None:
        start, end_date = parse_date_range(dtp.require(3, "service date"), dtp, 3)
    elif statement_from is not None:  # an inpatient 837I line may leave its date to the statement
        start, end_date = statement_from, statement_from
    else:
        raise X12StructureError(
            f"service line {lx[1]} has no service date (DTP*472)", segment_id="LX", position=lx.position
        )
    lin = own.first("LIN")
    pointers = [] if institutional else [p for p in service.components(7) if p]
    if not all(is_digits(p) for p in pointers):
        raise X12ValueError(
            "a diagnosis pointer is not a number", segment_id="SV1", position=service.position, element=7
        )
    pointer_numbers = [int(p) for p in pointers]
    return build_model(
        ServiceLine,
        service,
        f"service line {lx[1]}",
        procedure_code=code,
        modifiers=modifiers,
        units=units if units is not None else 1,
        charge=charge if charge is not None else "",
        diagnosis_pointers=pointer_numbers,
        service_date=start,
        service_date_end=end_date if end_date != start else None,
        place_of_service=(service[5] or None) if not institutional else None,
        revenue_code=service[1] if institutional else None,
        ndc=lin[3] if lin is not None and lin[2] == "N4" else None,
    )


# 2320 / 2330A / 2330B other payers, 2430 line adjudication ----------------------------------------


@dataclass
class _OtherPayerRead:
    """A 2320 loop as read, before the 2430 lines of its payer are known."""

    sbr: Segment
    coverage: Coverage
    responsibility: PayerResponsibility
    paid: Decimal | None
    adjustments: list[Adjustment]
    decided_on: date | None
    payer_claim_number: str | None
    lines: list[LineAdjudication]


def _other_payer(segments: Sequence[Segment]) -> _OtherPayerRead:
    sbr = segments[0]
    loops = split_loops(segments)
    head = loops[0]
    subscriber_loop = named_loop(loops, "IL")
    payer_loop = named_loop(loops, "PR")
    if subscriber_loop is None or subscriber_loop.name is None:
        raise X12StructureError(
            "the other subscriber (2330A NM1*IL) is missing from loop 2320",
            segment_id="SBR",
            position=sbr.position,
        )
    if payer_loop is None or payer_loop.name is None:
        raise X12StructureError(
            "the other payer (2330B NM1*PR) is missing from loop 2320",
            segment_id="SBR",
            position=sbr.position,
        )
    payer = payer_loop.name
    sbr.require(9, "other payer's claim filing indicator (SBR09)")
    coverage = build_model(
        Coverage,
        payer,
        "other payer (2320 SBR, 2330A, 2330B)",
        payer_id=payer.require(9, "other payer id (NM109)"),
        payer_name=payer.require(3, "other payer name (NM103)"),
        member_id=subscriber_loop.name.require(9, "other subscriber's member id (NM109)"),
        group_number=sbr[3] or None,
        group_name=sbr[4] or None,
        filing_indicator=code_of(ClaimFilingIndicator, sbr, 9, "claim filing indicator"),
        payer_address=read_address(payer_loop),
    )
    paid = head.first("AMT", "D")
    decided = payer_loop.first("DTP", "573")
    claim_number = payer_loop.first("REF", "F8")
    return _OtherPayerRead(
        sbr=sbr,
        coverage=coverage,
        responsibility=code_of(PayerResponsibility, sbr, 1, "other payer responsibility (SBR01)"),
        paid=paid.amount(2, "other payer paid amount (AMT*D)") if paid else None,
        adjustments=[a for s in head.segments if s.id == "CAS" for a in _cas(s)],
        decided_on=parse_date(decided.require(3, "adjudication date"), decided, 3, "adjudication date")
        if decided
        else None,
        payer_claim_number=claim_number[2] if claim_number else None,
        lines=[],
    )


def _cas(segment: Segment) -> list[Adjustment]:
    """The reason/amount/quantity triples of a CAS segment (CAS02-04 .. CAS17-19)."""
    group = code_of(AdjustmentGroup, segment, 1, "adjustment group (CAS01)")
    found: list[Adjustment] = []
    for first in range(2, 20, 3):
        if not segment[first]:
            continue
        amount = segment.amount(first + 1, "adjustment amount")
        found.append(
            build_model(
                Adjustment,
                segment,
                "adjustment (CAS)",
                group=group,
                reason=segment[first],
                amount=amount if amount is not None else "",
                quantity=segment.amount(first + 2, "adjustment quantity"),
            )
        )
    return found


def _with_line_adjudications(
    others: list[_OtherPayerRead], line_groups: Sequence[Sequence[Segment]]
) -> list[OtherPayer]:
    """Each 2430 (SVD, CAS, DTP*573) given to the other payer SVD01 names, then the other payers built."""
    by_payer = {other.coverage.payer_id: other for other in others}
    for number, group in enumerate(line_groups, start=1):
        for adjudication in split_at([s for s in _from_first(group, "SVD") if s.id != "LQ"], "SVD"):
            svd = adjudication[0]
            if svd.id != "SVD":
                continue
            payer_id = svd.require(1, "other payer id (SVD01)")
            other = by_payer.get(payer_id)
            if other is None:
                raise X12ValueError(
                    f"line {number} is adjudicated by payer {payer_id!r}, which no 2330B loop names: "
                    "SVD01 must repeat an other payer's NM109",
                    segment_id="SVD",
                    position=svd.position,
                    element=1,
                )
            other.lines.append(_line_adjudication(number, adjudication))
    return [_built_other_payer(other) for other in others]


def _from_first(segments: Sequence[Segment], segment_id: str) -> list[Segment]:
    start = next((i for i, s in enumerate(segments) if s.id == segment_id), len(segments))
    return list(segments[start:])


def _line_adjudication(number: int, segments: Sequence[Segment]) -> LineAdjudication:
    svd = segments[0]
    dtp = next((s for s in segments if s.id == "DTP" and s[1] == "573"), None)
    if dtp is None:
        raise X12StructureError(
            f"line {number}'s adjudication (2430) has no adjudication date (DTP*573)",
            segment_id="SVD",
            position=svd.position,
        )
    paid = svd.amount(2, "other payer line paid amount (SVD02)")
    units = svd.amount(5, "paid units (SVD05)")
    procedure = svd.components(3)
    return build_model(
        LineAdjudication,
        svd,
        f"line {number} adjudication (2430 SVD)",
        line_number=number,
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        modifiers=[m for m in procedure[2:6] if m],
        revenue_code=svd[4] or None,
        paid=paid if paid is not None else "",
        paid_units=units if units is not None else 1,
        adjustments=[a for s in segments if s.id == "CAS" for a in _cas(s)],
        adjudicated_on=parse_date(dtp.require(3, "adjudication date"), dtp, 3, "adjudication date"),
    )


def _built_other_payer(other: _OtherPayerRead) -> OtherPayer:
    decided = other.decided_on or max((line.adjudicated_on for line in other.lines), default=None)
    adjudication: PriorAdjudication | None = None
    if other.paid is not None:
        if decided is None:
            raise X12StructureError(
                f"other payer {other.coverage.payer_id} has a paid amount (AMT*D) but no adjudication "
                "date: 2330B DTP*573 or the lines' 2430 DTP*573 is required",
                segment_id="SBR",
                position=other.sbr.position,
            )
        adjudication = build_model(
            PriorAdjudication,
            other.sbr,
            f"other payer {other.coverage.payer_id} adjudication",
            paid=other.paid,
            adjustments=other.adjustments,
            adjudicated_on=decided,
            payer_claim_number=other.payer_claim_number,
            lines=other.lines,
        )
    return OtherPayer(coverage=other.coverage, responsibility=other.responsibility, adjudication=adjudication)
