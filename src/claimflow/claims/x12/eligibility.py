"""270 eligibility inquiry and 271 response (005010X279A1).

The HL tree is payer (20) > information receiver, our provider (21) > subscriber (22) > dependent
(23). The inquiry and the answer sit at the subscriber, or at the dependent when the patient is not
the subscriber. The 271's EB segments are read as `benefits`; the summary fields of
EligibilityResult (active, copay, deductible, remaining deductible, coinsurance, plan name) are
derived from them by `summarize_benefits`, the same way the payer sandbox fills them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from claimflow.claims.claim import EligibilityInquiry
from claimflow.claims.encounter import Provider, Relationship
from claimflow.claims.responses import Benefit, EligibilityRejection, EligibilityResult
from claimflow.claims.x12.build import build_model
from claimflow.claims.x12.errors import X12StructureError, X12WriteError
from claimflow.claims.x12.loops import (
    HLNode,
    Loop,
    hl_loop,
    hl_name,
    hl_tree,
    read_person,
    read_provider,
)
from claimflow.claims.x12.names import (
    write_address,
    write_demographics,
    write_person_name,
    write_provider_name,
)
from claimflow.claims.x12.segments import Segment, format_date, parse_date, parse_date_range, transaction_sets
from claimflow.claims.x12.writer import Envelope, Repeat, SegmentWriter, TransactionBody, write_interchange

VERSION = "005010X279A1"
ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
"""EB01 codes that say coverage is in force (1 active; 2-5 active with limits or conditions)."""
REMAINING = "29"
"""EB06 time period 'remaining': an EB*C with it is the deductible still to meet."""

# INS02 of a dependent: 01 spouse, 19 child, 34 other adult; the models' 'other' is 34 here.
INS_RELATIONSHIP = {Relationship.SPOUSE: "01", Relationship.CHILD: "19", Relationship.OTHER: "34"}
RELATIONSHIP_OF_INS = {"01": Relationship.SPOUSE, "19": Relationship.CHILD}
REJECTION_LOOPS = ("2000A", "2100A", "2000B", "2100B", "2100C", "2100D")
"""Where write_271 can place an AAA (the reader also names 2110C/2110D, after an EB)."""


# writing ----------------------------------------------------------------------------------------


def write_270(inquiry: EligibilityInquiry, envelope: Envelope) -> str:
    out = SegmentWriter()
    out.add(
        "BHT",
        "0022",
        "13",
        inquiry.trace_number,
        format_date(envelope.created.date()),
        envelope.created.strftime("%H%M"),
    )
    _payer_and_receiver(out, inquiry, inquiry.payer_id, inquiry.payer_name, {})
    dependent = inquiry.patient is not None and inquiry.relationship is not Relationship.SELF
    out.add("HL", 3, 2, "22", "1" if dependent else "0")
    if not dependent:
        out.add("TRN", "1", inquiry.trace_number, _originator(inquiry.provider))
    write_person_name(out, "IL", inquiry.subscriber, "MI", inquiry.member_id)
    write_address(out, inquiry.subscriber.address)
    write_demographics(out, inquiry.subscriber)
    if dependent:
        assert inquiry.patient is not None
        out.add("HL", 4, 3, "23", "0")
        out.add("TRN", "1", inquiry.trace_number, _originator(inquiry.provider))
        write_person_name(out, "03", inquiry.patient)
        write_address(out, inquiry.patient.address)
        write_demographics(out, inquiry.patient)
        out.add("INS", "N", INS_RELATIONSHIP[inquiry.relationship])
    out.add("DTP", "291", "D8", format_date(inquiry.service_date))
    for code in inquiry.service_type_codes:
        out.add("EQ", code)
    return write_interchange(envelope, [TransactionBody("270", VERSION, out.segments)])


def write_271(result: EligibilityResult, inquiry: EligibilityInquiry, envelope: Envelope) -> str:
    """The payer's answer to `inquiry`; the subscriber and dependent loops echo the inquiry."""
    rejections: dict[str, list[EligibilityRejection]] = {}
    for rejection in result.rejections:
        if rejection.loop not in REJECTION_LOOPS:
            raise X12WriteError(
                f"a 271 rejection cannot sit in loop {rejection.loop!r}: "
                f"use one of {', '.join(REJECTION_LOOPS)}"
            )
        rejections.setdefault(rejection.loop, []).append(rejection)
    out = SegmentWriter()
    out.add(
        "BHT",
        "0022",
        "11",
        result.trace_number or inquiry.trace_number,
        format_date(envelope.created.date()),
        envelope.created.strftime("%H%M"),
    )
    payer_id = result.payer_id or inquiry.payer_id
    _payer_and_receiver(out, inquiry, payer_id, result.payer_name or inquiry.payer_name, rejections)
    dependent = inquiry.patient is not None and inquiry.relationship is not Relationship.SELF
    trace = result.trace_number or inquiry.trace_number
    out.add("HL", 3, 2, "22", "1" if dependent else "0")
    if not dependent:
        out.add("TRN", "2", trace, _originator(inquiry.provider))
    write_person_name(out, "IL", inquiry.subscriber, "MI", result.member_id or inquiry.member_id)
    if result.group_number:
        out.add("REF", "6P", result.group_number, result.plan_name)
    write_address(out, inquiry.subscriber.address)
    _rejections(out, rejections.get("2100C", []))
    write_demographics(out, inquiry.subscriber)
    if dependent:
        assert inquiry.patient is not None
        out.add("HL", 4, 3, "23", "0")
        out.add("TRN", "2", trace, _originator(inquiry.provider))
        write_person_name(out, "03", inquiry.patient)
        write_address(out, inquiry.patient.address)
        _rejections(out, rejections.pop("2100D", []))
        write_demographics(out, inquiry.patient)
        out.add("INS", "N", INS_RELATIONSHIP[inquiry.relationship])
    if result.coverage_start:
        out.add("DTP", "346", "D8", format_date(result.coverage_start))
    if result.coverage_end:
        out.add("DTP", "347", "D8", format_date(result.coverage_end))
    if rejections.get("2100D"):
        raise X12WriteError("a 2100D rejection needs a dependent: the inquiry's patient is the subscriber")
    for benefit in result.benefits or benefits_of_summary(result):
        _benefit(out, benefit)
    return write_interchange(envelope, [TransactionBody("271", VERSION, out.segments)])


def _payer_and_receiver(
    out: SegmentWriter,
    inquiry: EligibilityInquiry,
    payer_id: str,
    payer_name: str,
    rejections: dict[str, list[EligibilityRejection]],
) -> None:
    out.add("HL", 1, None, "20", "1")
    _rejections(out, rejections.get("2000A", []))
    out.add("NM1", "PR", "2", payer_name, None, None, None, None, "PI", payer_id)
    _rejections(out, rejections.get("2100A", []))
    out.add("HL", 2, 1, "21", "1")
    _rejections(out, rejections.get("2000B", []))
    provider = inquiry.provider
    write_provider_name(out, "1P", provider)
    if provider.tax_id:
        out.add("REF", "TJ", provider.tax_id)
    write_address(out, provider.address)
    _rejections(out, rejections.get("2100B", []))
    if provider.taxonomy:
        out.add("PRV", "PE", "PXC", provider.taxonomy)


def _originator(provider: Provider) -> str:
    """TRN03: '1' and the provider's EIN, or '9' and a 9-character id of its own (the NPI's first 9)."""
    return f"1{provider.tax_id}" if provider.tax_id else f"9{provider.npi[:9]}"


def _rejections(out: SegmentWriter, rejections: Sequence[EligibilityRejection]) -> None:
    for rejection in rejections:
        # AAA01 Y: the request was valid, the payer cannot answer it for the reason in AAA03
        out.add("AAA", "Y", None, rejection.code, rejection.follow_up)


def _benefit(out: SegmentWriter, benefit: Benefit) -> None:
    out.add(
        "EB",
        benefit.code,
        benefit.coverage_level,
        Repeat(benefit.service_types),
        benefit.insurance_type,
        benefit.plan_description,
        benefit.time_period,
        benefit.amount,
        benefit.percent,
        None,
        None,
        None,
        benefit.in_network,
    )


def benefits_of_summary(result: EligibilityResult) -> list[Benefit]:
    """EB segments that state a result's summary, for a result given without benefits. A result
    that only rejects (AAA) states no benefit."""
    if result.rejections and not result.active:
        return []
    benefits = [
        Benefit(
            code="1" if result.active else "6",
            coverage_level="IND",
            service_types=["30"],
            plan_description=None if result.group_number else result.plan_name,
        )
    ]
    if result.copay is not None:
        benefits.append(Benefit(code="B", service_types=["30"], time_period="27", amount=result.copay))
    if result.deductible is not None:
        benefits.append(Benefit(code="C", service_types=["30"], time_period="23", amount=result.deductible))
    if result.deductible_remaining is not None:
        benefits.append(
            Benefit(code="C", service_types=["30"], time_period=REMAINING, amount=result.deductible_remaining)
        )
    if result.coinsurance_percent is not None:
        benefits.append(Benefit(code="A", service_types=["30"], percent=result.coinsurance_percent))
    return benefits


def summarize_benefits(benefits: Sequence[Benefit]) -> dict[str, Any]:
    """The EligibilityResult summary fields the EB segments state: the first of each kind counts."""

    def first(code: str, *, remaining: bool | None = None) -> Benefit | None:
        for benefit in benefits:
            if benefit.code != code:
                continue
            if remaining is not None and (benefit.time_period == REMAINING) != remaining:
                continue
            return benefit
        return None

    copay, deductible = first("B"), first("C", remaining=False)
    remaining, coinsurance = first("C", remaining=True), first("A")
    return {
        "active": any(benefit.code in ACTIVE_CODES for benefit in benefits),
        "plan_name": next((b.plan_description for b in benefits if b.plan_description), None),
        "copay": copay.amount if copay else None,
        "deductible": deductible.amount if deductible else None,
        "deductible_remaining": remaining.amount if remaining else None,
        "coinsurance_percent": coinsurance.percent if coinsurance else None,
    }


# reading ----------------------------------------------------------------------------------------


def read_270(data: str | bytes) -> list[EligibilityInquiry]:
    """One inquiry per subscriber or dependent asked about, in file order."""
    inquiries = []
    for transaction in transaction_sets(data, "270"):
        for node in _asked_about(hl_tree(transaction.segments)):
            inquiries.append(_inquiry(node))
    return inquiries


def read_271(data: str | bytes) -> list[EligibilityResult]:
    """One result per subscriber or dependent answered (or per receiver or payer that rejects)."""
    results = []
    for transaction in transaction_sets(data, "271"):
        for node in hl_tree(transaction.segments):
            if not node.children:
                results.append(_result(node))
    return results


def _asked_about(nodes: Sequence[HLNode]) -> list[HLNode]:
    return [node for node in nodes if node.level in ("22", "23") and not node.children]


def _inquiry(node: HLNode) -> EligibilityInquiry:
    payer, receiver, subscriber_node = node.ancestor("20"), node.ancestor("21"), node.ancestor("22")
    if payer is None or receiver is None or subscriber_node is None:
        raise X12StructureError(
            "the inquiry is not under a payer (20), receiver (21) and subscriber (22) HL",
            segment_id="HL",
            position=node.hl.position,
        )
    payer_name = _required_name(payer, "PR", "payer (2100A)")
    provider_loop = hl_loop(receiver, "1P", "information receiver (2100B)")
    subscriber_loop = hl_loop(subscriber_node, "IL", "subscriber (2100C)")
    assert subscriber_loop.name is not None
    relationship, patient = Relationship.SELF, None
    if node.level == "23":
        patient_loop = hl_loop(node, "03", "dependent (2100D)")
        patient = read_person(patient_loop, "dependent (2100D)")
        ins = patient_loop.first("INS")
        relationship = RELATIONSHIP_OF_INS.get(ins[2], Relationship.OTHER) if ins else Relationship.OTHER
    trn = _first(node.segments, "TRN")
    if trn is None:
        raise X12StructureError(
            "the inquiry has no trace number (TRN)", segment_id="HL", position=node.hl.position
        )
    dtp = _first(node.segments, "DTP", "291") or _first(subscriber_node.segments, "DTP", "291")
    if dtp is None:
        raise X12StructureError(
            "the inquiry has no date of service (DTP*291)", segment_id="HL", position=node.hl.position
        )
    service_date, _ = parse_date_range(dtp.require(3, "date of service"), dtp, 3)
    codes = [code for eq in node.segments if eq.id == "EQ" for code in eq.repeats(1)]
    return build_model(
        EligibilityInquiry,
        trn,
        "eligibility inquiry",
        trace_number=trn.require(2, "trace number (TRN02)"),
        payer_id=payer_name.require(9, "payer id (NM109)"),
        payer_name=payer_name.require(3, "payer name (NM103)"),
        provider=read_provider(provider_loop, "information receiver (2100B)", tax_qualifier="TJ"),
        subscriber=read_person(subscriber_loop, "subscriber (2100C)"),
        member_id=subscriber_loop.name.require(9, "member id (NM109)"),
        relationship=relationship,
        patient=patient,
        service_date=service_date,
        service_type_codes=codes or ["30"],  # the guide's generic 'health benefit plan coverage'
    )


def _result(node: HLNode) -> EligibilityResult:
    payer_name = hl_name(node.ancestor("20"), "PR")
    subscriber_node = node.ancestor("22")
    member = hl_name(subscriber_node, "IL")
    rejections = [rejection for hl in reversed(_path(node)) for rejection in _node_rejections(hl)]
    benefits = [_read_benefit(segment) for segment in node.segments if segment.id == "EB"]
    before_benefits = _before(node.segments, "EB")
    trn = _first(node.segments, "TRN", "2") or _first(node.segments, "TRN")
    start, end = _coverage_dates(before_benefits)
    group = _first(before_benefits, "REF", "6P") or (
        _first(_before(subscriber_node.segments, "EB"), "REF", "6P") if subscriber_node else None
    )
    summary = summarize_benefits(benefits)
    if group is not None and group[3]:
        summary["plan_name"] = group[3]
    return build_model(
        EligibilityResult,
        node.hl,
        "eligibility result",
        trace_number=trn[2] if trn and trn[2] else None,
        payer_id=(payer_name[9] or None) if payer_name else None,
        payer_name=(payer_name[3] or None) if payer_name else None,
        member_id=(member[9] or None) if member else None,
        coverage_start=start,
        coverage_end=end,
        group_number=group[2] if group is not None and group[2] else None,
        benefits=benefits,
        rejections=rejections,
        **summary,
    )


def _read_benefit(eb: Segment) -> Benefit:
    return build_model(
        Benefit,
        eb,
        "benefit (EB)",
        code=eb.require(1, "eligibility or benefit code (EB01)"),
        coverage_level=eb[2] or None,
        service_types=eb.repeats(3),
        insurance_type=eb[4] or None,
        plan_description=eb[5] or None,
        time_period=eb[6] or None,
        amount=eb.amount(7, "benefit amount"),
        percent=eb.amount(8, "benefit percent"),
        in_network=eb[12] or None,
    )


def _node_rejections(node: HLNode) -> list[EligibilityRejection]:
    """AAA segments of one HL, each named by the loop it sits in."""
    level = {"20": "A", "21": "B", "22": "C", "23": "D"}.get(node.level, "")
    loop = f"2000{level}" if level in ("A", "B") else f"2100{level}"
    found = []
    for segment in node.segments:
        if segment.id == "NM1" and level in ("A", "B"):
            loop = f"2100{level}"
        elif segment.id == "EB" and level in ("C", "D"):
            loop = f"2110{level}"
        elif segment.id == "AAA":
            found.append(
                build_model(
                    EligibilityRejection,
                    segment,
                    "rejection (AAA)",
                    loop=loop,
                    code=segment.require(3, "reject reason (AAA03)"),
                    follow_up=segment[4] or None,
                )
            )
    return found


def _coverage_dates(segments: Sequence[Segment]) -> tuple[date | None, date | None]:
    start = end = None
    for dtp in segments:
        if dtp.id != "DTP" or not dtp[3]:
            continue
        qualifier = dtp[1]
        if qualifier in ("346", "356") and start is None:
            start = parse_date(dtp[3][:8], dtp, 3, "coverage start")
        elif qualifier in ("347", "357") and end is None:
            end = parse_date(dtp[3][:8], dtp, 3, "coverage end")
        elif qualifier in ("291", "307"):
            first, last = parse_date_range(dtp[3], dtp, 3)
            start = start or first
            if dtp[2] == "RD8":
                end = end or last
    return start, end


def _path(node: HLNode) -> list[HLNode]:
    path = []
    current: HLNode | None = node
    while current is not None:
        path.append(current)
        current = current.parent
    return path


def _before(segments: Sequence[Segment], segment_id: str) -> list[Segment]:
    taken = []
    for segment in segments:
        if segment.id == segment_id:
            break
        taken.append(segment)
    return taken


def _first(segments: Sequence[Segment], segment_id: str, qualifier: str | None = None) -> Segment | None:
    return Loop(None, list(segments)).first(segment_id, qualifier)


def _required_name(node: HLNode, entity: str, what: str) -> Segment:
    name = hl_loop(node, entity, what).name
    assert name is not None
    return name
