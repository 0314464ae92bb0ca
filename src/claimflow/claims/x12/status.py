"""276 claim status inquiry and 277 claim status response (005010X212).

The HL tree is payer (20) > information receiver, the submitter (21) > service provider (19) >
subscriber (22) > dependent (23); each claim asked or answered about is a 2200 loop (TRN, STC,
REF, AMT, DTP) under the subscriber, or under the dependent when the patient is not the subscriber.

What a 276 does not carry, a 276 read back does not have: addresses, the provider's taxonomy and tax
id, a dependent subscriber's birth date, and the patient's exact relationship (a dependent reads
back as 'other', since the guide has no relationship code).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from claimflow.claims.claim import ClaimStatusInquiry
from claimflow.claims.encounter import EntityType, Person, Provider, Relationship
from claimflow.claims.responses import ClaimStatus, ClaimStatusDetail, StatusInfo
from claimflow.claims.x12.build import build_model
from claimflow.claims.x12.errors import X12StructureError
from claimflow.claims.x12.loops import (
    HLNode,
    Loop,
    hl_loop,
    hl_name,
    hl_tree,
    read_person,
    read_provider,
    split_at,
)
from claimflow.claims.x12.names import write_demographics, write_person_name, write_provider_name
from claimflow.claims.x12.segments import Segment, format_date, parse_date_range, transaction_sets
from claimflow.claims.x12.writer import Envelope, SegmentWriter, TransactionBody, write_interchange

VERSION = "005010X212"


# writing ----------------------------------------------------------------------------------------


def write_276(inquiry: ClaimStatusInquiry, envelope: Envelope) -> str:
    out = SegmentWriter()
    out.add(
        "BHT",
        "0010",
        "13",
        inquiry.trace_number,
        format_date(envelope.created.date()),
        envelope.created.strftime("%H%M"),
    )
    out.add("HL", 1, None, "20", "1")
    out.add("NM1", "PR", "2", inquiry.payer_name, None, None, None, None, "PI", inquiry.payer_id)
    out.add("HL", 2, 1, "21", "1")
    out.add("NM1", "41", "2", envelope.submitter_name, None, None, None, None, "46", envelope.sender_id)
    out.add("HL", 3, 2, "19", "1")
    write_provider_name(out, "1P", inquiry.provider)
    dependent = _dependent(inquiry)
    out.add("HL", 4, 3, "22", "1" if dependent else "0")
    if not dependent:
        write_demographics(out, inquiry.subscriber)
    write_person_name(out, "IL", inquiry.subscriber, "MI", inquiry.member_id)
    if dependent:
        assert inquiry.patient is not None
        out.add("HL", 5, 4, "23")
        write_demographics(out, inquiry.patient)
        write_person_name(out, "QC", inquiry.patient)
    out.add("TRN", "1", inquiry.trace_number)
    if inquiry.payer_claim_number:
        out.add("REF", "1K", inquiry.payer_claim_number)
    out.add("REF", "EJ", inquiry.patient_control_number)
    out.add("AMT", "T3", inquiry.total_charge)
    _service_dates(out, inquiry.service_date, inquiry.service_date_end)
    return write_interchange(envelope, [TransactionBody("276", VERSION, out.segments)])


def write_277(status: ClaimStatus, inquiry: ClaimStatusInquiry | None, envelope: Envelope) -> str:
    """The payer's answer. Each claim's provider, member and patient come from its own fields, else
    from the inquiry; a claim that names none (an unsolicited 277 without them) is written under the
    interchange's receiver as provider and a subscriber named UNKNOWN, since the guide requires a name.
    Consecutive claims of the same provider and patient share their HL loops."""
    out = SegmentWriter()
    trace = status.trace_number or (inquiry.trace_number if inquiry else None)
    out.add(
        "BHT",
        "0010",
        "08",
        trace or str(envelope.interchange_control_number),
        format_date(envelope.created.date()),
        envelope.created.strftime("%H%M"),
        "DG",
    )
    out.add("HL", 1, None, "20", "1")
    payer_id = status.payer_id or (inquiry.payer_id if inquiry else None)
    payer_name = status.payer_name or (inquiry.payer_name if inquiry else None)
    out.add("NM1", "PR", "2", payer_name or payer_id or "PAYER", None, None, None, None, "PI", payer_id)
    out.add("HL", 2, 1, "21", "1")
    out.add("NM1", "41", "2", envelope.receiver_name, None, None, None, None, "46", envelope.receiver_id)
    hl, previous = 2, None
    for claim in status.claims:
        who = _who(claim, inquiry, envelope)
        if who != previous:
            provider, subscriber, patient = who
            hl += 1
            out.add("HL", hl, 2, "19", "1")
            out.add("NM1", "1P", *provider)
            hl += 1
            out.add("HL", hl, hl - 1, "22", "1" if patient else "0")
            out.add("NM1", "IL", "1", *subscriber)
            if patient:
                hl += 1
                out.add("HL", hl, hl - 1, "23")
                out.add("NM1", "QC", "1", *patient)
            previous = who
        _claim_status(out, claim, trace or claim.patient_control_number)
    return write_interchange(envelope, [TransactionBody("277", VERSION, out.segments)])


Names = tuple[str | None, ...]


def _who(
    claim: ClaimStatusDetail, inquiry: ClaimStatusInquiry | None, envelope: Envelope
) -> tuple[Names, Names, Names | None]:
    """NM1 elements (from NM102 or NM103 on) of the claim's provider, subscriber and dependent patient."""
    if claim.provider_npi:
        provider: Names = (
            "2",
            claim.provider_name or "PROVIDER",
            None,
            None,
            None,
            None,
            "XX",
            claim.provider_npi,
        )
    elif inquiry is not None:
        p = inquiry.provider
        first = p.first_name if p.entity_type is EntityType.PERSON else None
        provider = (p.entity_type.value, p.name, first, None, None, None, "XX", p.npi)
    else:
        provider = ("2", envelope.receiver_name, None, None, None, None, "SV", envelope.receiver_id)
    own_name: Names | None = None
    if claim.patient_last_name:
        own_name = (claim.patient_last_name, claim.patient_first_name, None)
    if inquiry is not None and _dependent(inquiry):
        assert inquiry.patient is not None
        subscriber = inquiry.subscriber
        patient = inquiry.patient
        return (
            provider,
            (
                subscriber.last_name,
                subscriber.first_name,
                subscriber.middle_name,
                None,
                None,
                "MI",
                claim.member_id or inquiry.member_id,
            ),
            own_name or (patient.last_name, patient.first_name, patient.middle_name),
        )
    if own_name is None and inquiry is not None:
        own_name = (
            inquiry.subscriber.last_name,
            inquiry.subscriber.first_name,
            inquiry.subscriber.middle_name,
        )
    member = claim.member_id or (inquiry.member_id if inquiry else None)
    return (
        provider,
        (*(own_name or ("UNKNOWN", None, None)), None, None, "MI" if member else None, member),
        None,
    )


def _claim_status(out: SegmentWriter, claim: ClaimStatusDetail, trace: str) -> None:
    out.add("TRN", "2", trace)
    # three statuses fit one STC (STC01, STC10, STC11); more take further STCs of the same date
    for start in range(0, len(claim.statuses), 3):
        group = [_status(info) for info in claim.statuses[start : start + 3]]
        head = start == 0
        out.add(
            "STC",
            group[0],
            _date(claim.status_date),
            None,
            claim.total_charge if head else None,
            claim.paid_amount if head else None,
            _date(claim.adjudication_date) if head else None,
            None,
            None,
            claim.check_number if head else None,
            *group[1:],
        )
    if claim.payer_claim_number:
        out.add("REF", "1K", claim.payer_claim_number)
    if claim.bill_type:
        out.add("REF", "BLT", claim.bill_type)
    out.add("REF", "EJ", claim.patient_control_number)
    if claim.service_date:
        _service_dates(out, claim.service_date, claim.service_date_end)


def _status(info: StatusInfo) -> tuple[str, ...]:
    return (info.category, info.code, info.entity) if info.entity else (info.category, info.code)


def _date(day: date | None) -> str | None:
    return format_date(day) if day else None


def _service_dates(out: SegmentWriter, start: date, end: date | None) -> None:
    if end and end != start:
        out.add("DTP", "472", "RD8", f"{format_date(start)}-{format_date(end)}")
    else:
        out.add("DTP", "472", "D8", format_date(start))


def _dependent(inquiry: ClaimStatusInquiry) -> bool:
    return inquiry.patient is not None and inquiry.relationship is not Relationship.SELF


# reading ----------------------------------------------------------------------------------------


def read_276(data: str | bytes) -> list[ClaimStatusInquiry]:
    """One inquiry per claim asked about (2200D or 2200E loop), in file order."""
    inquiries = []
    for transaction in transaction_sets(data, "276"):
        for node in hl_tree(transaction.segments):
            if node.level in ("22", "23"):
                inquiries.extend(_inquiries(node))
    return inquiries


def read_277(data: str | bytes) -> list[ClaimStatus]:
    """One ClaimStatus per answered trace number and payer, holding the claims answered under it."""
    statuses: list[ClaimStatus] = []
    for transaction in transaction_sets(data, "277"):
        for node in hl_tree(transaction.segments):
            if node.level not in ("22", "23"):
                continue
            payer = hl_name(node.ancestor("20"), "PR")
            who = _who_read(node)
            for claim_segments in _claim_loops(node):
                trn = claim_segments[0]
                detail = _claim_detail(claim_segments, who)
                payer_id = (payer[9] or None) if payer else None
                payer_name = (payer[3] or None) if payer else None
                last = statuses[-1] if statuses else None
                if last and (last.trace_number, last.payer_id, last.payer_name) == (
                    trn[2],
                    payer_id,
                    payer_name,
                ):
                    statuses[-1] = last.model_copy(update={"claims": [*last.claims, detail]})
                else:
                    statuses.append(
                        build_model(
                            ClaimStatus,
                            trn,
                            "claim status",
                            trace_number=trn[2] or None,
                            payer_id=payer_id,
                            payer_name=payer_name,
                            claims=[detail],
                        )
                    )
    return statuses


def _claim_loops(node: HLNode) -> list[list[Segment]]:
    """The 2200 loops of an HL: each starts at its TRN."""
    first = next((i for i, segment in enumerate(node.segments) if segment.id == "TRN"), None)
    return [] if first is None else split_at(node.segments[first:], "TRN")


def _who_read(node: HLNode) -> dict[str, str | None]:
    """The provider, member and patient a claim status is given for, as ClaimStatusDetail fields."""
    provider = hl_name(node.ancestor("19"), "1P")
    subscriber = hl_name(node.ancestor("22"), "IL")
    patient = hl_name(node, "QC") if node.level == "23" else subscriber
    return {
        "provider_name": (provider[3] or None) if provider else None,
        "provider_npi": (provider[9] or None) if provider and provider[8] == "XX" else None,
        "member_id": (subscriber[9] or None) if subscriber else None,
        "patient_last_name": (patient[3] or None) if patient else None,
        "patient_first_name": (patient[4] or None) if patient else None,
    }


def _claim_detail(segments: Sequence[Segment], who: dict[str, str | None]) -> ClaimStatusDetail:
    trn = segments[0]
    # claim-level segments end where the 2220 service lines (SVC) begin
    end = next((i for i, segment in enumerate(segments) if segment.id == "SVC"), len(segments))
    claim_level = Loop(None, list(segments[1:end]))
    stcs = [segment for segment in claim_level.segments if segment.id == "STC"]
    if not stcs:
        raise X12StructureError("the claim status has no STC", segment_id="TRN", position=trn.position)
    first = stcs[0]
    statuses = [_status_info(stc, index) for stc in stcs for index in (1, 10, 11) if stc.component(index, 1)]
    ej, ik = claim_level.first("REF", "EJ"), claim_level.first("REF", "1K")
    blt, dtp = claim_level.first("REF", "BLT"), claim_level.first("DTP", "472")
    service_date, service_date_end = parse_date_range(dtp[3], dtp, 3) if dtp and dtp[3] else (None, None)
    return build_model(
        ClaimStatusDetail,
        first,
        "claim status (2200)",
        patient_control_number=ej[2] if ej and ej[2] else trn.require(2, "trace number (TRN02)"),
        payer_claim_number=ik[2] if ik and ik[2] else None,
        statuses=statuses,
        status_date=first.date(2, "status date"),
        total_charge=first.amount(4, "total claim charge"),
        paid_amount=first.amount(5, "claim payment amount"),
        adjudication_date=first.date(6, "adjudication date"),
        check_number=first[9] or None,
        service_date=service_date,
        service_date_end=service_date_end if service_date_end != service_date else None,
        bill_type=blt[2] if blt and blt[2] else None,
        **who,
    )


def _status_info(stc: Segment, index: int) -> StatusInfo:
    return build_model(
        StatusInfo,
        stc,
        "status (STC)",
        category=stc.component(index, 1),
        code=stc.component(index, 2),
        entity=stc.component(index, 3) or None,
    )


def _inquiries(node: HLNode) -> list[ClaimStatusInquiry]:
    claims = _claim_loops(node)
    if not claims:
        return []
    payer = hl_name(node.ancestor("20"), "PR")
    provider_node = node.ancestor("19")
    subscriber_node = node.ancestor("22")
    if payer is None or provider_node is None or subscriber_node is None:
        raise X12StructureError(
            "the inquiry is not under a payer (20), provider (19) and subscriber (22) HL",
            segment_id="HL",
            position=node.hl.position,
        )
    provider_loop = hl_loop(provider_node, "1P", "service provider (2100C)")
    subscriber_loop = hl_loop(subscriber_node, "IL", "subscriber (2100D)")
    assert subscriber_loop.name is not None
    patient: Person | None = None
    relationship = Relationship.SELF
    if node.level == "23":
        patient = read_person(hl_loop(node, "QC", "patient (2100E)"), "patient (2100E)")
        relationship = Relationship.OTHER  # a 276 has no relationship code
    subscriber = read_person(subscriber_loop, "subscriber (2100D)")
    provider = read_provider(provider_loop, "service provider (2100C)")
    return [
        _inquiry(segments, payer, provider, subscriber, subscriber_loop.name, relationship, patient)
        for segments in claims
    ]


def _inquiry(
    segments: Sequence[Segment],
    payer: Segment,
    provider: Provider,
    subscriber: Person,
    subscriber_name: Segment,
    relationship: Relationship,
    patient: Person | None,
) -> ClaimStatusInquiry:
    trn = segments[0]
    end = next((i for i, segment in enumerate(segments) if segment.id == "SVC"), len(segments))
    claim_level = Loop(None, list(segments[1:end]))
    ej, ik = claim_level.first("REF", "EJ"), claim_level.first("REF", "1K")
    amt, dtp = claim_level.first("AMT", "T3"), claim_level.first("DTP", "472")
    if ej is None or amt is None or dtp is None:
        missing = [name for name, seg in (("REF*EJ", ej), ("AMT*T3", amt), ("DTP*472", dtp)) if seg is None]
        raise X12StructureError(
            f"the claim inquiry lacks {', '.join(missing)}: claimflow asks by patient control number, "
            "charge and date of service",
            segment_id="TRN",
            position=trn.position,
        )
    start, end_date = parse_date_range(dtp.require(3, "service date"), dtp, 3)
    return build_model(
        ClaimStatusInquiry,
        trn,
        "claim status inquiry",
        trace_number=trn.require(2, "trace number (TRN02)"),
        payer_id=payer.require(9, "payer id (NM109)"),
        payer_name=payer.require(3, "payer name (NM103)"),
        provider=provider,
        subscriber=subscriber,
        member_id=subscriber_name.require(9, "member id (NM109)"),
        relationship=relationship,
        patient=patient,
        patient_control_number=ej.require(2, "patient control number (REF02)"),
        payer_claim_number=ik[2] if ik and ik[2] else None,
        total_charge=amt.amount(2, "total claim charge"),
        service_date=start,
        service_date_end=end_date if end_date != start else None,
    )
