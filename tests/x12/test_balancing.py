"""835 balancing: balanced remittances pass, each unbalanced one is flagged at its level."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from claimflow.claims.remittance import BalancingLevel, ProviderAdjustment, Remittance
from claimflow.claims.x12.balancing import balancing_findings, with_findings
from claimflow.claims.x12.remittance835 import read_835, write_835
from tests.x12.remittance_corpus import envelope, remittance, remittances

CENT = Decimal("0.01")
SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"


def _balanced() -> Remittance:
    rng = random.Random(7)
    made = remittance(rng, 0, 6)
    assert any(claim.service_lines for claim in made.claims)
    return made


def test_generated_remittances_balance_at_every_level() -> None:
    for made in remittances(seed=3, total_claims=200):
        assert balancing_findings(made) == []


def test_a_real_balanced_835_has_no_findings() -> None:
    (remittance_read,) = read_835((SAMPLES / "835" / "keir__emedny_sample.txt").read_bytes())
    assert remittance_read.findings == []


def _with_line_paid(made: Remittance, claim_index: int, line_index: int, delta: Decimal) -> Remittance:
    claim = made.claims[claim_index]
    lines = list(claim.service_lines)
    lines[line_index] = lines[line_index].model_copy(update={"paid": lines[line_index].paid + delta})
    claims = list(made.claims)
    claims[claim_index] = claim.model_copy(update={"service_lines": lines})
    return made.model_copy(update={"claims": claims})


def test_a_line_paid_wrong_is_flagged_at_the_line_and_the_claim_and_the_file() -> None:
    made = _balanced()
    broken = _with_line_paid(made, 0, 0, CENT)
    findings = balancing_findings(broken)
    assert [(f.level, f.patient_control_number, f.line_number) for f in findings] == [
        (BalancingLevel.LINE, made.claims[0].patient_control_number, 1),
    ]
    assert findings[0].expected == findings[0].actual - CENT


def test_a_claim_paid_wrong_is_flagged_at_the_claim_and_the_file_but_not_its_lines() -> None:
    made = _balanced()
    claims = list(made.claims)
    claims[1] = claims[1].model_copy(update={"paid": claims[1].paid + Decimal("5.00")})
    findings = balancing_findings(made.model_copy(update={"claims": claims}))
    assert [(f.level, f.patient_control_number) for f in findings] == [
        (BalancingLevel.CLAIM, claims[1].patient_control_number),
        (BalancingLevel.FILE, None),
    ]


def test_a_payment_that_ignores_a_provider_adjustment_is_flagged_at_the_file() -> None:
    made = _balanced()
    recovery = ProviderAdjustment(provider_id="1234567893", reason="WO", amount=Decimal("12.50"))
    findings = balancing_findings(made.model_copy(update={"provider_adjustments": [recovery]}))
    assert [f.level for f in findings] == [BalancingLevel.FILE]
    assert findings[0].expected == made.payment_amount - Decimal("12.50")
    assert findings[0].actual == made.payment_amount


def test_with_findings_recomputes_instead_of_keeping_stale_ones() -> None:
    made = _balanced()
    broken = with_findings(_with_line_paid(made, 0, 0, CENT))
    assert broken.findings
    assert with_findings(broken.model_copy(update={"claims": made.claims})).findings == []


@pytest.mark.parametrize("level", list(BalancingLevel))
def test_the_reader_reports_what_the_file_says_without_refusing_it(level: BalancingLevel) -> None:
    made = _balanced()
    if level is BalancingLevel.LINE:
        broken = _with_line_paid(made, 0, 0, CENT)
        broken = broken.model_copy(update={"payment_amount": made.payment_amount})
    elif level is BalancingLevel.CLAIM:
        claims = list(made.claims)
        claims[0] = claims[0].model_copy(update={"charge": claims[0].charge + CENT})
        broken = made.model_copy(update={"claims": claims})
    else:
        broken = made.model_copy(update={"payment_amount": made.payment_amount + CENT})
    (read,) = read_835(write_835([broken], envelope()))
    assert level in {finding.level for finding in read.findings}
    assert len(read.claims) == len(made.claims)
