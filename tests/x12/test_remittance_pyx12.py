"""pyx12 4.0.0 accepts every 835, 999 and 277CA our writers produce for generated corpora."""

from __future__ import annotations

import random
import re
from datetime import datetime

import pytest

from claimflow.claims.remittance import ClaimStatusCode
from claimflow.claims.responses import (
    AckCode,
    Acknowledgement,
    SegmentError,
    TransactionSetAck,
)
from claimflow.claims.x12 import acknowledge, read_999, write_277ca, write_835, write_837, write_999
from claimflow.claims.x12.claim837 import PROFESSIONAL_VERSION
from claimflow.claims.x12.writer import Envelope
from tests.factories import varied_claims
from tests.x12.oracle import pyx12_errors
from tests.x12.remittance_corpus import claim_acknowledgement, envelope, remittances

CLAIMS = 320
PER_FILE = 40


@pytest.mark.parametrize("seed", range(CLAIMS // PER_FILE))
def test_pyx12_accepts_our_835s(seed: int) -> None:
    made = remittances(seed=seed, total_claims=PER_FILE, per_remittance=10)
    statuses = {claim.status for r in made for claim in r.claims}
    assert {ClaimStatusCode.PRIMARY, ClaimStatusCode.DENIED} <= statuses
    assert pyx12_errors(write_835(made, envelope(seed + 1))) == []


def test_the_835_corpus_is_varied() -> None:
    made = [r for seed in range(CLAIMS // PER_FILE) for r in remittances(seed, PER_FILE, 10)]
    claims = [claim for r in made for claim in r.claims]
    assert len(claims) >= 300
    assert {c.status for c in claims} >= set(ClaimStatusCode) - {
        ClaimStatusCode.TERTIARY,
        ClaimStatusCode.PRIMARY_FORWARDED,
        ClaimStatusCode.SECONDARY_FORWARDED,
        ClaimStatusCode.TERTIARY_FORWARDED,
        ClaimStatusCode.NOT_OUR_CLAIM,
        ClaimStatusCode.PREDETERMINATION,
    }
    assert {r.payment_method for r in made} == {"ACH", "CHK"} or {r.payment_method for r in made} >= {
        "ACH",
        "CHK",
    }
    assert any(r.provider_adjustments for r in made)
    assert any(line.submitted_procedure_code for c in claims for line in c.service_lines)
    assert max(len(c.service_lines) for c in claims) >= 10


@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_pyx12_accepts_our_277cas(institutional: bool) -> None:
    acks = [
        claim_acknowledgement(varied_claims(40, seed=seed, institutional=institutional), seed)
        for seed in range(4)
    ]
    assert sum(len(a.claims) for a in acks) >= 150
    assert any(c.primary.rejected for a in acks for c in a.claims)
    assert pyx12_errors(write_277ca(acks, envelope(9))) == []


def _envelope(seed: int) -> Envelope:
    return Envelope(
        sender_id="CLAIMFLOW",
        receiver_id="CLEARING",
        interchange_control_number=500 + seed,
        created=datetime(2026, 3, 2, 8, 0),
    )


BREAKAGES = {
    "none": lambda text: text,
    "SE01": lambda text: text.replace("~\nSE*", "~\nSE*9", 1),
    "date": lambda text: re.sub(r"(DTP\*472\*D8\*\d{4})\d\d", r"\g<1>13", text, count=1),
    "SBR09": lambda text: text.replace("*CI~", "*QQ~", 1).replace("*MB~", "*QQ~", 1),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_pyx12_accepts_the_999_we_build_for_a_received_837(breakage: str) -> None:
    received = BREAKAGES[breakage](write_837(varied_claims(30, seed=11), _envelope(1)))
    text = acknowledge(received, envelope(3))
    assert pyx12_errors(text) == []
    (ack,) = read_999(text)
    expected = AckCode.ACCEPTED if breakage == "none" else AckCode.REJECTED
    assert ack.status is expected
    assert ack.transaction_sets[0].status is expected


def test_pyx12_accepts_hand_varied_999s() -> None:
    rng = random.Random(5)
    acks = []
    for group in range(1, 6):
        sets = []
        for number in range(1, rng.randint(2, 6)):
            rejected = rng.random() < 0.4
            errors = (
                [
                    SegmentError(segment_id="CLM", position=22, code="8", element_position=2,
                                 element_code="7"),
                    SegmentError(segment_id="CLM", position=22, code="8", element_position=5,
                                 component_position=3, element_code="7", bad_value="9"),
                    SegmentError(segment_id="NM1", position=9, code="3"),
                ]
                if rejected
                else []
            )  # fmt: skip
            sets.append(
                TransactionSetAck(
                    set_id="837",
                    control_number=f"{number:04d}",
                    version=PROFESSIONAL_VERSION,
                    status=AckCode.REJECTED if rejected else AckCode.ACCEPTED,
                    errors=errors,
                    set_error_codes=["5"] if rejected else [],
                )
            )
        accepted = sum(1 for s in sets if s.status is AckCode.ACCEPTED)
        acks.append(
            Acknowledgement(
                group_control_number=str(group),
                functional_id="HC",
                version=PROFESSIONAL_VERSION,
                status=AckCode.ACCEPTED
                if accepted == len(sets)
                else AckCode.PARTIALLY_ACCEPTED
                if accepted
                else AckCode.REJECTED,
                sets_included=len(sets),
                sets_received=len(sets),
                sets_accepted=accepted,
                transaction_sets=sets,
            )
        )
    text = write_999(acks, envelope(4))
    assert pyx12_errors(text) == []
    assert read_999(text) == acks
