"""999 and 277CA: real files read, our files read back equal, and the 999 built for a received file."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimflow.claims.responses import AckCode
from claimflow.claims.x12 import X12Error, acknowledge, read_277ca, read_999, write_277ca, write_837
from tests.factories import varied_claims
from tests.x12.oracle import pyx12_errors
from tests.x12.remittance_corpus import claim_acknowledgement, envelope

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"
DERIVED = SAMPLES / "derived"


def test_a_real_999_with_three_sets_and_element_errors() -> None:
    (ack,) = read_999((SAMPLES / "999" / "staedi__simple999.edi").read_bytes())
    assert (ack.status, ack.sets_included, ack.sets_accepted) == (AckCode.PARTIALLY_ACCEPTED, 3, 1)
    statuses = [(ts.control_number, ts.status) for ts in ack.transaction_sets]
    assert statuses == [("0001", AckCode.ACCEPTED), ("0002", AckCode.REJECTED), ("0003", AckCode.REJECTED)]
    clm = ack.transaction_sets[1].errors[0]
    assert (clm.segment_id, clm.position, clm.code) == ("CLM", 22, "8")
    assert (clm.element_position, clm.element_reference, clm.element_code) == (2, "782", "1")


def test_a_real_277ca_rejection_with_its_payer_claim_number() -> None:
    (ack,) = read_277ca((SAMPLES / "277ca" / "ims__x12_277CA_rejected.txt").read_bytes())
    (claim,) = ack.claims
    assert claim.primary.rejected
    assert (claim.primary.category, claim.primary.code, claim.primary.entity) == ("A7", "562", "85")
    assert claim.payer_claim_number == "1107000000001120"
    assert claim.patient_control_number == "3920394930203"
    assert (ack.payer_id, claim.bill_type) == ("141797357", "731")


@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_our_277ca_reads_back_equal(institutional: bool) -> None:
    acks = [claim_acknowledgement(varied_claims(15, seed=s, institutional=institutional), s) for s in (1, 2)]
    assert read_277ca(write_277ca(acks, envelope(6))) == acks


def test_a_277ca_without_what_the_guide_requires_is_refused_by_name() -> None:
    ack = claim_acknowledgement(varied_claims(2, seed=4), 4)
    with pytest.raises(X12Error, match="receipt date"):
        write_277ca([ack.model_copy(update={"receipt_date": None})], envelope())


# 999 built for a received 837: IK5 status and codes, IK3-only faults, IK3+IK4 element faults
FAULTS = {
    "837p__SE01_count_plus_1.x12": ("R", ["4"], [], []),
    "837p__SE02_ne_ST02.x12": ("R", ["3"], [], []),
    "837p__DTP_invalid_date.x12": ("R", ["5"], [], [("DTP", "8", 3, "1251", "8", "20061345")]),
    "837p__SBR09_invalid_code.x12": ("R", ["5"], [], [("SBR", "8", 9, "1032", "7", "QQ")]),
    "837p__HL_parent_bad.x12": ("R", ["5"], [], [("HL", "8", 2, "734", "7", "7")]),
    "837p__missing_2010AA_billing_provider_loop.x12": ("R", ["5"], [("NM1", "3")], []),
    "837p__GE01_wrong_count.x12": ("A", [], [], []),
    "837p__baseline_lfh_demo.example1_X222A1.x12": ("A", [], [], []),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_acknowledge_reports_each_fault_where_the_guide_puts_it(name: str) -> None:
    status, set_codes, segments, elements = FAULTS[name]
    text = acknowledge((DERIVED / name).read_bytes(), envelope(7))
    assert pyx12_errors(text) == []
    (ack,) = read_999(text)
    (ts,) = ack.transaction_sets
    assert ts.status.value == status
    assert ts.set_error_codes == set_codes
    assert [(e.segment_id, e.code) for e in ts.errors if e.element_position is None] == segments
    assert [
        (e.segment_id, e.code, e.element_position, e.element_reference, e.element_code, e.bad_value)
        for e in ts.errors
        if e.element_position
    ] == elements


def test_a_wrong_group_count_rejects_the_group_with_ak905() -> None:
    (ack,) = read_999(acknowledge((DERIVED / "837p__GE01_wrong_count.x12").read_bytes(), envelope(7)))
    assert (ack.status, ack.group_error_codes, ack.sets_included, ack.sets_received) == (
        AckCode.REJECTED,
        ["5"],
        2,
        1,
    )


def test_business_edits_stay_out_of_the_999() -> None:
    """Claim totals and NPI check digits are the payer's to reject in a 277CA, not syntax."""
    for name in ("837p__CLM02_not_sum_of_SV102.x12", "837p__NPI_bad_luhn_check_digit.x12"):
        (ack,) = read_999(acknowledge((DERIVED / name).read_bytes(), envelope(7)))
        assert ack.status is AckCode.ACCEPTED


def test_acknowledge_a_batch_of_our_own_claims() -> None:
    received = write_837(varied_claims(20, seed=9), envelope(8))
    (ack,) = read_999(acknowledge(received, envelope(9)))
    assert ack.status is AckCode.ACCEPTED
    assert (ack.functional_id, ack.version) == ("HC", "005010X222A1")
