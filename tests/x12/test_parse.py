"""parse() dispatches each transaction set by ST01 and its guide."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimflow.claims.remittance import Remittance
from claimflow.claims.responses import Acknowledgement, ClaimAcknowledgement, ClaimStatus, EligibilityResult
from claimflow.claims.x12 import X12StructureError, acknowledge, parse, write_277ca, write_835, write_837
from tests.factories import varied_claims
from tests.x12.remittance_corpus import claim_acknowledgement, envelope, remittances

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"


@pytest.mark.parametrize(
    ("path", "kind", "model"),
    [
        ("277ca/ims__x12_277CA_rejected.txt", "277CA", ClaimAcknowledgement),
        ("276_277/lfh__claim-level-status.277", "277", ClaimStatus),
        ("270_271/lfh__subscriber-health-benefit-check.271", "271", EligibilityResult),
        ("999/ims__x12_999_rejected.txt", "999", Acknowledgement),
        ("835/keir__emedny_sample.txt", "835", Remittance),
    ],
)
def test_each_kind_goes_to_its_reader(path: str, kind: str, model: type) -> None:
    (parsed,) = parse((SAMPLES / path).read_bytes())
    assert parsed.kind == kind
    results = parsed.result if isinstance(parsed.result, list) else [parsed.result]
    assert results and all(isinstance(result, model) for result in results)


def test_837p_and_837i_are_told_apart_by_the_guide() -> None:
    professional = write_837(varied_claims(2, seed=3), envelope(1))
    institutional = write_837(varied_claims(2, seed=3, institutional=True), envelope(2))
    kinds = [p.kind for p in parse(professional + institutional)]
    assert kinds == ["837P", "837I"]


def test_a_file_of_several_interchanges_and_kinds_is_read_in_order() -> None:
    claims = varied_claims(4, seed=5)
    text = (
        write_835(remittances(seed=2, total_claims=4, per_remittance=2), envelope(1))
        + write_277ca([claim_acknowledgement(claims, 1)], envelope(2))
        + acknowledge(write_837(claims, envelope(3)), envelope(4))
    )
    parsed = parse(text)
    assert [p.kind for p in parsed] == ["835", "835", "277CA", "999"]
    ack = parsed[2].result
    assert isinstance(ack, ClaimAcknowledgement)
    assert [c.patient_control_number for c in ack.claims] == [c.patient_control_number for c in claims]


def test_a_set_claimflow_does_not_read_is_named() -> None:
    text = (SAMPLES / "999" / "ims__x12_999_accepted.txt").read_text().replace("ST*999*", "ST*834*")
    with pytest.raises(X12StructureError) as raised:
        parse(text)
    assert raised.value.segment_id == "ST"
    assert "834" in raised.value.reason
