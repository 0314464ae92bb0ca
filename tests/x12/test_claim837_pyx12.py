"""pyx12 4.0.0 accepts every 837P and 837I our writer produces for a varied generated corpus."""

from __future__ import annotations

from datetime import datetime

import pytest

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import Relationship
from claimflow.claims.x12.claim837 import write_837
from claimflow.claims.x12.writer import Envelope
from tests.factories import varied_claims
from tests.x12.oracle import pyx12_errors

CLAIMS_PER_KIND = 300
BATCH = 25  # several billing providers and both subscriber shapes in every file
SEEDS = range(CLAIMS_PER_KIND // BATCH)
QUICK_BATCHES = 3  # the default run checks 75 claims of each kind; the rest of the 300 are marked slow
BATCHES = [pytest.param(seed, marks=[pytest.mark.slow] if seed >= QUICK_BATCHES else []) for seed in SEEDS]


def _envelope(seed: int) -> Envelope:
    return Envelope(
        sender_id="CLAIMFLOW",
        receiver_id="SMPCLEARING",
        interchange_control_number=1000 + seed,
        created=datetime(2026, 11, 2, 9, 30),
    )


def _corpus(institutional: bool) -> list[list[Claim]]:
    return [varied_claims(BATCH, seed=seed, institutional=institutional) for seed in SEEDS]


@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_corpus_covers_the_cases_the_guides_care_about(institutional: bool) -> None:
    claims = [claim for batch in _corpus(institutional) for claim in batch]
    encounters = [claim.encounter for claim in claims]
    assert len(claims) >= CLAIMS_PER_KIND
    assert any(e.relationship is Relationship.SELF for e in encounters)
    assert {Relationship.SPOUSE, Relationship.CHILD, Relationship.OTHER} <= {
        e.relationship for e in encounters
    }
    assert {1, 50} <= {len(e.service_lines) for e in encounters}
    assert max(len(e.diagnoses) for e in encounters) == 12
    assert any(line.modifiers for e in encounters for line in e.service_lines)
    assert any(c.frequency is FrequencyCode.REPLACEMENT and c.original_claim_number for c in claims)
    if institutional:
        assert all(line.revenue_code for e in encounters for line in e.service_lines)
        assert len({e.institutional.type_of_bill for e in encounters if e.institutional}) >= 4


@pytest.mark.parametrize("seed", BATCHES)
@pytest.mark.parametrize("institutional", [False, True], ids=["837P", "837I"])
def test_pyx12_accepts_what_we_write(institutional: bool, seed: int) -> None:
    claims = varied_claims(BATCH, seed=seed, institutional=institutional)
    text = write_837(claims, _envelope(seed))
    assert "REF*F8*" in text or all(c.frequency is FrequencyCode.ORIGINAL for c in claims)
    assert ("CL1*" in text) == institutional
    assert pyx12_errors(text) == []


def test_pyx12_oracle_catches_a_broken_claim() -> None:
    """The oracle is not a rubber stamp: a wrong segment count in our own output is reported."""
    text = write_837(varied_claims(2, seed=99), _envelope(99))
    lines = text.splitlines()
    se = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    count = int(lines[se].split("*")[1])
    lines[se] = lines[se].replace(f"SE*{count}*", f"SE*{count + 1}*")
    assert any("SE count" in error for error in pyx12_errors("\n".join(lines)))
