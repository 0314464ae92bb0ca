"""Secondary and tertiary 837P/837I: the earlier payers' adjudication (2320/2330A/2330B, 2430) is
valid X12 to pyx12 4.0.0, agrees with their 835s to the cent, and reads back whole."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimflow.claims.claim import Claim
from claimflow.claims.coordination import Decision, claim_for_payer
from claimflow.claims.money import money_sum
from claimflow.claims.other_payers import PayerResponsibility
from claimflow.claims.x12.claim837 import read_837, write_837
from claimflow.claims.x12.errors import X12Error
from claimflow.claims.x12.writer import Envelope
from tests.factories import ClaimFactory
from tests.x12.cob import balanced_decision, coordinated_claim
from tests.x12.oracle import pyx12_errors

ENVELOPE = Envelope(
    sender_id="CLAIMFLOW",
    receiver_id="SMPCLEARING",
    interchange_control_number=77,
    created=datetime(2026, 11, 25, 8, 0),
)


def _billed(
    seed: int, institutional: bool, coverages: int, count: int = 12
) -> list[tuple[Claim, list[Decision]]]:
    """Claims billed to their last coverage, with every earlier payer's decision."""
    factory = ClaimFactory(seed)
    rng = random.Random(seed)
    billed = []
    for _ in range(count):
        claim = coordinated_claim(factory, coverages, institutional=institutional)
        decisions: list[Decision] = []
        for position in range(coverages - 1):
            decisions.append(balanced_decision(claim_for_payer(claim, position, decisions), rng, position))
        billed.append((claim_for_payer(claim, coverages - 1, decisions), decisions))
    return billed


@pytest.mark.parametrize("coverages", [2, 3], ids=["secondary", "tertiary"])
@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_pyx12_accepts_secondary_and_tertiary_claims(institutional: bool, coverages: int) -> None:
    billed = _billed(coverages * 10 + institutional, institutional, coverages)
    text = write_837([claim for claim, _ in billed], ENVELOPE)
    assert text.count("SVD*") >= sum(len(claim.encounter.service_lines) for claim, _ in billed)
    assert "AMT*D*" in text and "OI***Y***Y" in text
    assert pyx12_errors(text) == []


def test_a_primary_claim_names_the_later_payers_without_amounts() -> None:
    factory = ClaimFactory(5)
    claims = [claim_for_payer(coordinated_claim(factory, 3), 0) for _ in range(6)]
    text = write_837(claims, ENVELOPE)
    assert text.count("SBR*S*") == 6 and text.count("SBR*T*") == 6
    assert "AMT*D" not in text and "SVD*" not in text
    assert pyx12_errors(text) == []
    by_number = {claim.patient_control_number: claim for claim in claims}
    assert {claim.patient_control_number: claim for claim in read_837(text)} == by_number


@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_2320_and_2430_agree_with_the_earlier_835s_to_the_cent(institutional: bool) -> None:
    for claim, decisions in _billed(3, institutional, 3):
        (read,) = read_837(write_837([claim], ENVELOPE))
        assert read.responsibility is PayerResponsibility.TERTIARY
        earlier = read.earlier_payers
        assert [p.responsibility for p in earlier] == [
            PayerResponsibility.PRIMARY,
            PayerResponsibility.SECONDARY,
        ]
        for other, decision in zip(earlier, decisions, strict=True):
            payment, stated = decision.payment, other.adjudication
            assert stated is not None
            assert stated.paid == payment.paid  # AMT*D = CLP04
            assert stated.payer_claim_number == payment.payer_claim_number
            # CLM02 - AMT*D = the payer's claim-level CAS plus every 2430 CAS (the TR3's COB balance)
            line_adjusted = money_sum(line.adjusted() for line in stated.lines)
            assert (
                read.total_charge - stated.paid
                == money_sum(a.amount for a in stated.adjustments) + line_adjusted
            )
            for line, paid in zip(stated.lines, payment.service_lines, strict=True):
                billed = read.encounter.service_lines[line.line_number - 1]
                assert line.paid == paid.paid  # SVD02 = SVC03
                assert billed.charge - line.paid == line.adjusted()  # SV102/SV203 - SVD02 = 2430 CAS
                assert line.adjustments == paid.adjustments
                assert line.adjudicated_on == decision.decided_on


def test_a_line_adjudicated_by_a_payer_no_2330b_names_is_an_error() -> None:
    ((claim, _),) = _billed(8, False, 2, count=1)
    text = write_837([claim], ENVELOPE)
    payer_id = claim.other_payers[0].coverage.payer_id
    broken = text.replace(f"SVD*{payer_id}*", "SVD*NOSUCHPAYER*", 1)
    with pytest.raises(X12Error, match=r"NOSUCHPAYER.*no 2330B"):
        read_837(broken)


@st.composite
def billed_claims(draw: st.DrawFn) -> Claim:
    seed = draw(st.integers(0, 10**6))
    institutional = draw(st.booleans())
    coverages = draw(st.integers(2, 3))
    position = draw(st.integers(0, coverages - 1))
    factory = ClaimFactory(seed)
    rng = random.Random(seed)
    claim = coordinated_claim(factory, coverages, institutional=institutional)
    decisions: list[Decision] = []
    for earlier in range(position):
        decisions.append(balanced_decision(claim_for_payer(claim, earlier, decisions), rng, earlier))
    return claim_for_payer(claim, position, decisions)


@settings(max_examples=60, deadline=None)
@given(billed_claims())
def test_round_trip_of_claims_with_other_payers(claim: Claim) -> None:
    assert read_837(write_837([claim], ENVELOPE)) == [claim]
