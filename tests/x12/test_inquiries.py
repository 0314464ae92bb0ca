"""270/271 and 276/277 on the real sample files, and the rules their writers keep."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from claimflow.claims.claim import EligibilityInquiry
from claimflow.claims.npi import make_npi
from claimflow.claims.responses import (
    ClaimStatus,
    ClaimStatusDetail,
    EligibilityRejection,
    EligibilityResult,
    StatusInfo,
)
from claimflow.claims.x12.check import check
from claimflow.claims.x12.eligibility import read_270, read_271, write_270, write_271
from claimflow.claims.x12.errors import X12Error, X12WriteError
from claimflow.claims.x12.status import read_276, read_277, write_276, write_277
from claimflow.claims.x12.writer import Envelope
from tests.factories import ClaimFactory

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"
ELIGIBILITY = sorted((SAMPLES / "270_271").iterdir())
STATUS = sorted((SAMPLES / "276_277").iterdir())
READERS: dict[str, Callable[[bytes], Sequence[object]]] = {
    "270": read_270,
    "271": read_271,
    "276": read_276,
    "277": read_277,
}


def _text(folder: str, name: str) -> str:
    return (SAMPLES / folder / name).read_bytes().decode("utf-8-sig")


@pytest.mark.parametrize("path", ELIGIBILITY + STATUS, ids=lambda path: path.name)
@pytest.mark.parametrize("set_id", READERS)
def test_every_sample_reads_or_fails_with_a_typed_error_naming_the_place(path: Path, set_id: str) -> None:
    try:
        READERS[set_id](path.read_bytes())
    except X12Error as error:
        assert error.segment_id and error.position, f"{path.name}: {error} does not say where"


def test_reads_a_271_with_benefits() -> None:
    (result,) = read_271(_text("270_271", "lfh__subscriber-health-benefit-check.271"))
    assert result.active
    assert (result.trace_number, result.payer_id, result.member_id) == (
        "93175-012547",
        "841610001",
        "123456789",
    )
    assert result.coverage_start == date(2006, 1, 1)
    assert result.plan_name == "GOLD 123 PLAN"
    assert result.copay == Decimal("10.00")
    assert [benefit.code for benefit in result.benefits] == ["1", "L", "1", "B", "B"]
    assert result.benefits[3].service_types[:3] == ["1", "33", "35"]
    assert result.benefits[4].in_network == "N"


def test_reads_repeated_service_types_when_the_component_separator_is_the_repetition_one() -> None:
    (result,) = read_271(_text("270_271", "oop__Example_3_2_2.txt"))  # ISA11 and ISA16 are both '^'
    assert result.benefits[2].service_types == ["1", "33", "35", "47", "86", "88", "98", "AL", "MH", "UC"]


def test_reads_rejections_with_the_loop_they_sit_in() -> None:
    (result,) = read_271(_text("270_271", "oop__Example_ErrorWithoutBenefitInfo.txt"))
    assert not result.active and not result.benefits
    assert [(r.loop, r.code) for r in result.rejections] == [
        ("2000A", "80"),
        ("2000A", "79"),
        ("2100A", "79"),
        ("2100A", "80"),
        ("2100B", "41"),
        ("2100B", "41"),
        ("2100C", "42"),
    ]
    assert result.rejections[-1].retryable
    (receiver_only,) = read_271(_text("270_271", "lfh__subscriber-health-benefit-check-error.271"))
    assert receiver_only.rejections == [EligibilityRejection(loop="2100B", code="50", follow_up="N")]
    assert receiver_only.member_id is None


def test_a_270_naming_its_provider_without_npi_is_a_typed_error() -> None:
    with pytest.raises(X12Error) as raised:
        read_270(_text("270_271", "lfh__subscriber-health-benefit-check.270"))
    assert (raised.value.segment_id, raised.value.element) == ("NM1", 9)
    assert "NPI" in raised.value.reason


def test_reads_a_270_once_the_provider_has_an_npi() -> None:
    npi = make_npi("123456789")
    text = _text("270_271", "lfh__subscriber-health-benefit-check.270").replace("SV*2000035", f"XX*{npi}")
    (inquiry,) = read_270(text)
    assert (inquiry.trace_number, inquiry.payer_id, inquiry.member_id) == (
        "93175-012547",
        "842610001",
        "11122333301",
    )
    assert inquiry.provider.npi == npi and inquiry.provider.name == "BONE AND JOINT CLINIC"
    assert (inquiry.subscriber.last_name, inquiry.subscriber.birth_date) == ("SMITH", date(1943, 5, 19))
    assert (inquiry.service_date, inquiry.service_type_codes) == (date(2006, 5, 1), ["30"])


def test_a_dependent_270_whose_subscriber_has_no_name_is_a_typed_error() -> None:
    text = _text("270_271", "lfh__dependent-health-benefit-check.270").replace("SV*2000034", "XX*1234567893")
    with pytest.raises(X12Error, match="last name") as raised:
        read_270(text)
    assert raised.value.segment_id == "NM1"


def test_reads_277_claim_statuses_with_their_patients() -> None:
    first, second, third = read_277(_text("276_277", "lfh__claim-level-status.277"))
    (claim,) = first.claims
    assert (first.trace_number, first.payer_id) == ("ABCXYZ1", "12345")
    assert (claim.patient_control_number, claim.payer_claim_number) == ("SM123456", "05347006051")
    assert (claim.primary.category, claim.primary.code, claim.total_charge) == (
        "P3",
        "317",
        Decimal("8513.88"),
    )
    assert (claim.service_date, claim.service_date_end) == (date(2005, 8, 31), date(2005, 9, 6))
    assert (claim.patient_last_name, claim.member_id, claim.provider_npi) == (
        "SMITH",
        "123456789A",
        "1666666661",
    )
    assert second.claims[0].paid_amount == Decimal("7599.00")
    (dependent,) = third.claims
    assert (dependent.patient_last_name, dependent.patient_first_name) == ("MANN", "JOSEPH")
    assert [(s.category, s.code, s.entity) for s in dependent.statuses] == [("F2", "88", "QC")]
    assert dependent.paid_amount == Decimal("0.00")


def test_reads_a_277_of_several_payer_loops() -> None:
    statuses = read_277(_text("276_277", "ims__x12_277_x212.txt"))
    assert len(statuses) == 8
    assert all(s.claims[0].primary.accepted for s in statuses)
    assert [s.claims[0].patient_control_number for s in statuses][:3] == ["12345", "12346", "12347"]


def test_reads_a_276() -> None:
    (inquiry,) = read_276(_text("276_277", "lfh__information-receiver-level-status.276"))
    assert (inquiry.trace_number, inquiry.patient_control_number) == ("ABCXYZ1", "SM123456")
    assert inquiry.total_charge == Decimal("8513.88")
    assert (inquiry.service_date, inquiry.service_date_end) == (date(2005, 8, 31), date(2005, 9, 6))
    assert inquiry.subscriber.birth_date == date(1930, 12, 10)


def test_a_276_without_the_claims_charge_is_a_typed_error() -> None:
    with pytest.raises(X12Error, match="AMT\\*T3"):
        read_276(_text("276_277", "lfh__provider-level-status.276"))


def test_271_refuses_a_dependent_rejection_for_a_subscriber_inquiry() -> None:
    inquiry = EligibilityInquiry.for_encounter(ClaimFactory(1).encounter(dependent=False), "T1")
    result = EligibilityResult(active=False, rejections=[EligibilityRejection(loop="2100D", code="75")])
    envelope = Envelope(
        sender_id="P", receiver_id="Q", interchange_control_number=1, created=datetime(2026, 1, 1)
    )
    with pytest.raises(X12WriteError, match="2100D"):
        write_271(result, inquiry, envelope)


def test_factory_inquiries_travel_whole_where_the_guides_carry_them() -> None:
    factory = ClaimFactory(12)
    envelope = Envelope(
        sender_id="P", receiver_id="Q", interchange_control_number=2, created=datetime(2026, 1, 1)
    )
    for dependent in (False, True):
        inquiry = factory.eligibility_inquiry(dependent=dependent)
        assert read_270(write_270(inquiry, envelope)) == [inquiry]
        status = factory.status_inquiry(payer_claim_number="PCN-1")
        (read,) = read_276(write_276(status, envelope))
        assert (
            read.trace_number,
            read.patient_control_number,
            read.total_charge,
            read.payer_claim_number,
        ) == (
            status.trace_number,
            status.patient_control_number,
            status.total_charge,
            "PCN-1",
        )


def test_the_structural_check_finds_nothing_in_the_inquiries_we_write() -> None:
    factory = ClaimFactory(13)
    envelope = Envelope(
        sender_id="P", receiver_id="Q", interchange_control_number=3, created=datetime(2026, 1, 1)
    )
    eligibility = factory.eligibility_inquiry(dependent=True)
    status = factory.status_inquiry()
    answer = ClaimStatus(
        trace_number=status.trace_number,
        claims=[
            ClaimStatusDetail(patient_control_number="P1", statuses=[StatusInfo(category="F1", code="65")])
        ],
    )
    for text in (
        write_270(eligibility, envelope),
        write_271(EligibilityResult(active=True, copay=Decimal("20")), eligibility, envelope),
        write_276(status, envelope),
        write_277(answer, status, envelope),
    ):
        assert check(text) == []
