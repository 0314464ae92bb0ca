"""Round trip by hypothesis: writing a model as X12 and reading it back gives the same model.

Claims (837P and 837I), eligibility (270/271) and claim status (276/277). Where a guide has no
place for a field, the generated models leave it out, and the test says which."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from claimflow.claims.claim import Claim, ClaimStatusInquiry, EligibilityInquiry
from claimflow.claims.encounter import Person, Provider, Relationship
from claimflow.claims.responses import (
    Benefit,
    ClaimStatus,
    ClaimStatusDetail,
    EligibilityRejection,
    EligibilityResult,
    StatusInfo,
)
from claimflow.claims.x12.claim837 import read_837, write_837
from claimflow.claims.x12.eligibility import (
    REJECTION_LOOPS,
    read_270,
    read_271,
    summarize_benefits,
    write_270,
    write_271,
)
from claimflow.claims.x12.status import read_276, read_277, write_276, write_277
from claimflow.claims.x12.writer import Envelope
from tests.factories import ClaimFactory

ENVELOPE = Envelope(
    sender_id="CLAIMFLOW",
    receiver_id="SMPPAYER",
    interchange_control_number=42,
    created=datetime(2026, 6, 1, 14, 5),
)
# Text a person may type that is not an X12 delimiter (*, :, ~, ^): case, spaces and punctuation survive.
SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '-.,&/#()"
names = st.text(SAFE, min_size=1, max_size=20).map(str.strip).filter(bool)
identifiers = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=2, max_size=20)
control_numbers = st.text("ABCDEFGHIJKLMnopqrstuvwxyz0123456789._-", min_size=1, max_size=38)
amounts = st.decimals(min_value=0, max_value=99999, places=2)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31))
FAST = settings(max_examples=60, deadline=None)


# claims -----------------------------------------------------------------------------------------


@st.composite
def claims(draw: st.DrawFn, institutional: bool) -> Claim:
    factory = ClaimFactory(draw(st.integers(0, 10**6)))
    claim = factory.claim(
        institutional=institutional,
        dependent=draw(st.booleans()),
        lines=draw(st.integers(1, 50)),
        diagnoses=draw(st.integers(1, 12)),
    )
    encounter = claim.encounter
    patient = encounter.patient.model_copy(update={"last_name": draw(names), "first_name": draw(names)})
    coverage = encounter.coverage.model_copy(update={"member_id": draw(identifiers)})
    encounter = encounter.model_copy(update={"patient": patient, "coverage": coverage})
    return claim.model_copy(update={"encounter": encounter, "patient_control_number": draw(control_numbers)})


def _grouped_by_billing_provider(batch: list[Claim]) -> list[Claim]:
    """The order read_837 gives: claims of one billing provider together, providers by first claim."""
    groups: dict[Provider, list[Claim]] = {}
    for claim in batch:
        groups.setdefault(claim.encounter.billing_provider, []).append(claim)
    return [claim for group in groups.values() for claim in group]


@FAST
@given(st.lists(claims(institutional=False), min_size=1, max_size=4))
def test_professional_claims_come_back_equal(batch: list[Claim]) -> None:
    assert read_837(write_837(batch, ENVELOPE)) == _grouped_by_billing_provider(batch)


@FAST
@given(st.lists(claims(institutional=True), min_size=1, max_size=4))
def test_institutional_claims_come_back_equal(batch: list[Claim]) -> None:
    assert read_837(write_837(batch, ENVELOPE)) == _grouped_by_billing_provider(batch)


# 270 / 271 --------------------------------------------------------------------------------------


@st.composite
def eligibility_inquiries(draw: st.DrawFn) -> EligibilityInquiry:
    factory = ClaimFactory(draw(st.integers(0, 10**6)))
    encounter = factory.encounter(dependent=draw(st.booleans()))
    inquiry = EligibilityInquiry.for_encounter(encounter, draw(identifiers))
    subscriber = inquiry.subscriber.model_copy(update={"last_name": draw(names)})
    return inquiry.model_copy(
        update={
            "subscriber": subscriber,
            "service_type_codes": draw(
                st.lists(
                    st.sampled_from(["30", "1", "33", "35", "47", "98", "UC"]),
                    min_size=1,
                    max_size=4,
                    unique=True,
                )
            ),
        }
    )


benefits = st.builds(
    Benefit,
    code=st.sampled_from(["1", "6", "A", "B", "C", "L", "P", "F"]),
    coverage_level=st.sampled_from([None, "IND", "FAM", "EMP"]),
    service_types=st.lists(st.sampled_from(["30", "1", "33", "98", "UC", "MH"]), max_size=4, unique=True),
    insurance_type=st.sampled_from([None, "HM", "PR", "MB", "C1"]),
    plan_description=st.one_of(st.none(), names),
    time_period=st.sampled_from([None, "23", "27", "29"]),
    amount=st.one_of(st.none(), amounts),
    percent=st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=2)),
    in_network=st.sampled_from([None, "Y", "N", "W"]),
)


@st.composite
def eligibility_answers(draw: st.DrawFn) -> tuple[EligibilityInquiry, EligibilityResult]:
    inquiry = draw(eligibility_inquiries())
    dependent = inquiry.patient is not None
    loops = [loop for loop in REJECTION_LOOPS if dependent or loop != "2100D"]
    rejections = draw(
        st.lists(
            st.builds(
                EligibilityRejection,
                loop=st.sampled_from(loops),
                code=st.sampled_from(["42", "72", "75", "79", "50"]),
                follow_up=st.sampled_from([None, "C", "N", "R"]),
            ),
            max_size=3,
        )
    )
    rejections.sort(key=lambda rejection: REJECTION_LOOPS.index(rejection.loop))
    found = draw(st.lists(benefits, min_size=0 if rejections else 1, max_size=6))
    summary = summarize_benefits(found)
    group = draw(st.one_of(st.none(), identifiers))
    if group is not None:
        summary["plan_name"] = draw(st.one_of(st.just(summary["plan_name"]), names))
    start = draw(st.one_of(st.none(), days))
    result = EligibilityResult(
        trace_number=inquiry.trace_number,
        payer_id=draw(st.sampled_from([inquiry.payer_id, "OTHERPAYER"])),
        payer_name=inquiry.payer_name,
        member_id=inquiry.member_id,
        coverage_start=start,
        coverage_end=draw(st.one_of(st.none(), days)),
        group_number=group,
        benefits=found,
        rejections=rejections,
        **summary,
    )
    return inquiry, result


@FAST
@given(eligibility_inquiries())
def test_270_comes_back_equal(inquiry: EligibilityInquiry) -> None:
    assert read_270(write_270(inquiry, ENVELOPE)) == [inquiry]


@FAST
@given(eligibility_answers())
def test_271_comes_back_equal(answer: tuple[EligibilityInquiry, EligibilityResult]) -> None:
    inquiry, result = answer
    assert read_271(write_271(result, inquiry, ENVELOPE)) == [result]


def test_271_summary_without_benefits_is_stated_as_benefits() -> None:
    inquiry = EligibilityInquiry.for_encounter(ClaimFactory(8).encounter(dependent=False), "TRACE-1")
    summary_only = EligibilityResult(
        trace_number="TRACE-1",
        active=True,
        copay=Decimal("25.00"),
        deductible=Decimal("1500.00"),
        deductible_remaining=Decimal("300.00"),
        coinsurance_percent=Decimal("0.2"),
    )
    (read,) = read_271(write_271(summary_only, inquiry, ENVELOPE))
    assert read.active
    assert (read.copay, read.deductible, read.deductible_remaining, read.coinsurance_percent) == (
        Decimal("25.00"),
        Decimal("1500.00"),
        Decimal("300.00"),
        Decimal("0.2"),
    )
    assert [benefit.code for benefit in read.benefits] == ["1", "B", "C", "C", "A"]


# 276 / 277 --------------------------------------------------------------------------------------


def _as_276_carries(inquiry: ClaimStatusInquiry) -> ClaimStatusInquiry:
    """What a 276 has room for: no addresses, a provider by name and NPI only, no dependent
    subscriber's demographics, and 'other' as a dependent's relationship."""
    p = inquiry.provider
    provider = Provider(entity_type=p.entity_type, name=p.name, first_name=p.first_name, npi=p.npi)
    subscriber = inquiry.subscriber.model_copy(update={"address": None})
    patient: Person | None = None
    relationship = Relationship.SELF
    if inquiry.patient is not None:
        subscriber = subscriber.model_copy(update={"birth_date": None, "sex": "U"})
        patient = inquiry.patient.model_copy(update={"address": None})
        relationship = Relationship.OTHER
    return inquiry.model_copy(
        update={
            "provider": provider,
            "subscriber": subscriber,
            "patient": patient,
            "relationship": relationship,
        }
    )


@st.composite
def status_inquiries(draw: st.DrawFn) -> ClaimStatusInquiry:
    claim = ClaimFactory(draw(st.integers(0, 10**6))).claim(dependent=draw(st.booleans()))
    inquiry = ClaimStatusInquiry.for_claim(claim, draw(identifiers), draw(st.one_of(st.none(), identifiers)))
    end = draw(st.one_of(st.none(), st.integers(1, 30)))
    service_end = inquiry.service_date + timedelta(days=end) if end else None
    return _as_276_carries(inquiry.model_copy(update={"service_date_end": service_end}))


statuses = st.builds(
    StatusInfo,
    category=st.sampled_from(["A1", "A2", "A3", "P1", "P3", "F1", "F2", "F4", "E0"]),
    code=st.sampled_from(["20", "21", "65", "88", "104", "317", "562", "704"]),
    entity=st.sampled_from([None, "QC", "85", "PR"]),
)


@st.composite
def claim_details(draw: st.DrawFn) -> ClaimStatusDetail:
    service = draw(st.one_of(st.none(), days))
    return ClaimStatusDetail(
        patient_control_number=draw(control_numbers),
        payer_claim_number=draw(st.one_of(st.none(), identifiers)),
        statuses=draw(st.lists(statuses, min_size=1, max_size=7)),
        status_date=draw(st.one_of(st.none(), days)),
        total_charge=draw(st.one_of(st.none(), amounts)),
        paid_amount=draw(st.one_of(st.none(), amounts)),
        adjudication_date=draw(st.one_of(st.none(), days)),
        check_number=draw(st.one_of(st.none(), identifiers)),
        service_date=service,
        service_date_end=service + timedelta(days=draw(st.integers(1, 9)))
        if service and draw(st.booleans())
        else None,
        patient_last_name=draw(names),
        patient_first_name=draw(st.one_of(st.none(), names)),
        member_id=draw(identifiers),
        provider_name=draw(names),
        provider_npi=ClaimFactory(draw(st.integers(0, 99))).npi(),
        bill_type=draw(st.sampled_from([None, "0131", "0111"])),
    )


@FAST
@given(status_inquiries())
def test_276_comes_back_equal(inquiry: ClaimStatusInquiry) -> None:
    assert read_276(write_276(inquiry, ENVELOPE)) == [inquiry]


@FAST
@given(identifiers, st.lists(claim_details(), min_size=1, max_size=4))
def test_277_comes_back_equal(trace: str, details: list[ClaimStatusDetail]) -> None:
    status = ClaimStatus(
        trace_number=trace, payer_id="SMPBCX", payer_name="Sample Blue Cross", claims=details
    )
    assert read_277(write_277(status, None, ENVELOPE)) == [status]


@FAST
@given(status_inquiries(), st.lists(claim_details(), min_size=1, max_size=3))
def test_277_answering_an_inquiry_echoes_its_provider_and_patient(
    inquiry: ClaimStatusInquiry, details: list[ClaimStatusDetail]
) -> None:
    anonymous = [
        detail.model_copy(
            update={
                "patient_last_name": None,
                "patient_first_name": None,
                "member_id": None,
                "provider_name": None,
                "provider_npi": None,
            }
        )
        for detail in details
    ]
    status = ClaimStatus(trace_number=inquiry.trace_number, payer_id=inquiry.payer_id, claims=anonymous)
    (read,) = read_277(write_277(status, inquiry, ENVELOPE))
    patient = inquiry.patient or inquiry.subscriber
    assert read.payer_name == inquiry.payer_name
    for detail in read.claims:
        assert (detail.provider_npi, detail.provider_name) == (inquiry.provider.npi, inquiry.provider.name)
        assert (detail.patient_last_name, detail.patient_first_name) == (
            patient.last_name,
            patient.first_name,
        )
        assert detail.member_id == inquiry.member_id
    assert [
        d.model_copy(
            update=dict.fromkeys(
                ("patient_last_name", "patient_first_name", "member_id", "provider_name", "provider_npi")
            )
        )
        for d in read.claims
    ] == anonymous
