"""The 835 reader on real-world shapes: what it keeps, and where it points when it cannot read."""

from __future__ import annotations

import gc
from decimal import Decimal
from pathlib import Path

import pytest

from claimflow.claims.remittance import AdjustmentGroup, ClaimStatusCode
from claimflow.claims.x12 import X12ValueError, read_835, write_835
from tests.x12.remittance_corpus import envelope, remittances

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples" / "835"


def test_claim_and_line_adjustments_remarks_and_provider_adjustments_of_a_real_file() -> None:
    (first, _, _) = read_835((SAMPLES / "aff__nevada_medicaid.txt").read_bytes())
    assert first.payment_method == "NON"
    assert {claim.status for claim in first.claims} <= {ClaimStatusCode.DENIED, ClaimStatusCode.SECONDARY}
    (remittance,) = read_835((SAMPLES / "lfh__medicare-part-a.835").read_bytes())
    assert remittance.provider_adjustments[0].reason == "CV"
    assert remittance.provider_adjustments[0].reference == "CP"
    assert remittance.provider_adjustments[0].amount == Decimal("-1.27")


def test_a_composite_written_with_another_separator_than_isa16_is_still_split() -> None:
    (remittance,) = read_835((SAMPLES / "lfh__secondary-payment.835").read_bytes())
    line = remittance.claims[1].service_lines[0]
    assert (line.qualifier, line.procedure_code, line.modifiers) == ("HC", "12345", ["26"])


def test_a_bare_transaction_set_without_envelope_is_read() -> None:
    (remittance,) = read_835((SAMPLES / "aff__exhaustive_sample.txt").read_bytes())
    assert remittance.claims[0].adjustments[0].group is AdjustmentGroup.PATIENT_RESPONSIBILITY


def test_156_interchanges_in_one_file_are_all_read() -> None:
    read = read_835((SAMPLES / "tasty__profee-multiple.edi").read_bytes())
    assert len(read) == 156
    assert sum(len(r.claims) for r in read) == 468
    assert all(r.findings == [] for r in read)


def _one_file() -> str:
    return write_835(remittances(seed=8, total_claims=3, per_remittance=3), envelope())


def test_a_reason_code_that_is_no_carc_is_refused_at_its_cas_segment() -> None:
    text = _one_file()
    cas_at = next(i for i, s in enumerate(text.split("~\n"), start=1) if s.startswith("CAS*"))
    broken = text.replace("~\nCAS*CO*", "~\nCAS*CO*TOOLONG", 1)
    with pytest.raises(X12ValueError) as raised:
        read_835(broken)
    assert (raised.value.segment_id, raised.value.position) == ("CAS", cas_at)
    assert "reason" in raised.value.reason


def test_an_amount_that_is_not_a_number_names_segment_and_element() -> None:
    broken = _one_file().replace("~\nCLP*PCN0000001*", "~\nCLP*PCN0000001*1*ABC*", 1)
    with pytest.raises(X12ValueError) as raised:
        read_835(broken)
    assert (raised.value.segment_id, raised.value.element) == ("CLP", 3)
    assert gc.isenabled(), "the cycle collector paused for the read must be back on after an error"
