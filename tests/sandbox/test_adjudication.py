"""One test per adjudication rule, each from an 837 written by claimflow's writer and read back,
and each 835 it yields written, validated by pyx12 and balanced."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from claimflow.claims.claim import Claim
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode, ServicePayment
from claimflow.claims.x12.claim837_read import read_837
from claimflow.claims.x12.claim837_write import write_837
from claimflow.claims.x12.remittance835 import read_835, write_835
from claimflow.integrations.sandbox import adjudication, documents
from claimflow.integrations.sandbox.config import Rule, SandboxConfig
from claimflow.integrations.sandbox.engine import ncci_bundling
from tests.factories import ClaimFactory
from tests.sandbox.helpers import Line, assert_balanced, assert_valid_x12, claim, envelope, quiet_config

RECEIVED = date(2026, 11, 2)


@pytest.fixture(scope="module")
def config() -> SandboxConfig:
    return quiet_config()


def decide(
    config: SandboxConfig,
    sent: Claim,
    *,
    deductible_met: str = "0",
    duplicate: bool = False,
    received: date = RECEIVED,
    seed: int = 1,
) -> adjudication.Adjudication:
    """Through the wire: 837 text -> the sandbox's reader -> adjudication -> 835 text -> checks."""
    (received_claim,) = read_837(write_837([sent], envelope()))
    payer = config.payer(received_claim.encounter.coverage.payer_id)
    assert payer is not None
    member = payer.find_member(received_claim.encounter.coverage.member_id)
    assert member is not None
    context = adjudication.ClaimContext(
        payer=payer,
        member=member,
        received=received,
        payer_claim_number="BCX000000001",
        deductible_met=Decimal(deductible_met),
        duplicate=duplicate,
        bundling=ncci_bundling(),
    )
    result = adjudication.adjudicate(received_claim, context, random.Random(seed))
    remittance = documents.remittance(
        payer, documents.payee_of(received_claim), [result.payment], [], day=received, trace_number="T1"
    )
    assert_balanced(remittance)
    text = write_835([remittance], envelope(2))
    assert_valid_x12(text)
    (read_back,) = read_835(text)
    assert not read_back.findings
    return result


def cas(line: ServicePayment) -> dict[str, Decimal]:
    return {f"{a.group.value}-{a.reason}": a.amount for a in line.adjustments}


def only_denial(payment: ClaimPayment) -> list[str]:
    return adjudication.denial_reasons(payment)


@pytest.fixture
def factory() -> ClaimFactory:
    return ClaimFactory(11)


def test_paid_office_visit_carries_fee_schedule_and_copay(
    config: SandboxConfig, factory: ClaimFactory
) -> None:
    result = decide(config, claim(factory, [Line("99213", "200.00")]))
    (line,) = result.payment.service_lines
    assert cas(line) == {"CO-45": Decimal("71.00"), "PR-3": Decimal("30.00")}
    assert line.paid == Decimal("99.00") and line.allowed_amount == Decimal("129.00")
    assert result.payment.status is ClaimStatusCode.PRIMARY
    assert result.payment.patient_responsibility == Decimal("30.00")


def test_deductible_then_coinsurance_across_claims(config: SandboxConfig, factory: ClaimFactory) -> None:
    mri = [Line("70551", "500.00")]
    first = decide(config, claim(factory, mri, payer_id="SMPMCR", diagnoses=["G43909"]))
    assert cas(first.payment.service_lines[0]) == {"CO-45": Decimal("270.00"), "PR-1": Decimal("230.00")}
    assert first.payment.paid == 0 and first.deductible_applied == Decimal("230.00")
    second = decide(
        config, claim(factory, mri, payer_id="SMPMCR", diagnoses=["G43909"]), deductible_met="230.00"
    )
    line = second.payment.service_lines[0]
    assert cas(line) == {"CO-45": Decimal("270.00"), "PR-1": Decimal("27.00"), "PR-2": Decimal("40.60")}
    assert line.paid == Decimal("162.40") and second.deductible_applied == Decimal("27.00")


def test_coverage_inactive_on_the_date_of_service_is_co27(
    config: SandboxConfig, factory: ClaimFactory
) -> None:
    sent = claim(factory, [Line("99213"), Line("36415", "20.00")], payer_id="SMPMCR", member_id="MCR90000001")
    result = decide(config, sent)
    assert only_denial(result.payment) == ["27"]
    assert result.payment.status is ClaimStatusCode.DENIED and result.payment.paid == 0


def test_filed_after_the_payer_limit_is_co29(config: SandboxConfig, factory: ClaimFactory) -> None:
    sent = claim(factory, [Line("99213")], payer_id="SMPHMO", service_day=date(2026, 6, 1))
    assert only_denial(decide(config, sent).payment) == ["29"]
    inside = claim(factory, [Line("99213")], payer_id="SMPHMO", service_day=date(2026, 9, 1))
    assert only_denial(decide(config, inside).payment) == []


def test_ncci_pair_without_modifier_is_co97(config: SandboxConfig, factory: ClaimFactory) -> None:
    bundled = claim(factory, [Line("20610", "150.00", ["RT"]), Line("99213", "125.00")])
    result = decide(config, bundled, deductible_met="1000")
    assert [only_denial(result.payment)] == [["97"]]
    assert result.payment.service_lines[0].paid > 0 and result.payment.service_lines[1].paid == 0
    separate = claim(factory, [Line("20610", "150.00", ["RT"]), Line("99213", "125.00", ["25"])])
    assert only_denial(decide(config, separate).payment) == []


def test_never_together_pair_is_co97_even_with_modifier(config: SandboxConfig, factory: ClaimFactory) -> None:
    panel = claim(factory, [Line("80053", "48.00"), Line("80048", "40.00", ["59"])], payer_id="SMPMCD")
    assert only_denial(decide(config, panel).payment) == ["97"]


def test_missing_or_inconsistent_modifier_is_co4(config: SandboxConfig, factory: ClaimFactory) -> None:
    assert only_denial(decide(config, claim(factory, [Line("73560", "90.00")])).payment) == ["4"]
    both_sides = claim(factory, [Line("73560", "90.00", ["LT", "RT"])])
    assert only_denial(decide(config, both_sides).payment) == ["4"]
    assert only_denial(decide(config, claim(factory, [Line("73560", "90.00", ["LT"])])).payment) == []


def test_unsupported_diagnosis_is_co50_or_co11_by_payer_rule(
    config: SandboxConfig, factory: ClaimFactory
) -> None:
    medicare = claim(factory, [Line("72148", "900.00")], payer_id="SMPMCR", diagnoses=["J069"])
    assert only_denial(decide(config, medicare).payment) == ["50"]
    blue = claim(factory, [Line("72148", "900.00")], diagnoses=["J069"], prior_authorization="AUTH12345")
    assert only_denial(decide(config, blue).payment) == ["11"]
    supported = claim(factory, [Line("72148", "900.00")], payer_id="SMPMCR", diagnoses=["M545"])
    assert only_denial(decide(config, supported).payment) == []


def test_authorization_required_and_absent_is_co197(config: SandboxConfig, factory: ClaimFactory) -> None:
    therapy = [Line("97110", "60.00", ["GP"])]
    assert only_denial(decide(config, claim(factory, therapy, payer_id="SMPHMO")).payment) == ["197"]
    authorized = claim(factory, therapy, payer_id="SMPHMO", prior_authorization="HMOAUTH778")
    assert only_denial(decide(config, authorized).payment) == []


def test_exact_duplicate_is_co18(config: SandboxConfig, factory: ClaimFactory) -> None:
    result = decide(config, claim(factory, [Line("99213")]), duplicate=True)
    assert only_denial(result.payment) == ["18"]


def test_partial_payment_noise_reduces_a_line_and_still_balances(
    config: SandboxConfig, factory: ClaimFactory
) -> None:
    payer = config.payer("SMPMCR")
    assert payer is not None
    noisy_payer = payer.model_copy(
        update={"noise": payer.noise.model_copy(update={"partial_payment_rate": 1.0})}
    )
    noisy = config.model_copy(update={"payers": [noisy_payer]})
    result = decide(noisy, claim(factory, [Line("99213", "150.00")], payer_id="SMPMCR"), deductible_met="257")
    line = result.payment.service_lines[0]
    assert cas(line)["CO-253"] == Decimal("1.47")  # 2% of 73.60 (92.00 allowed less 20%)
    assert line.paid == Decimal("72.13")


def test_reversal_negates_every_amount_and_balances(config: SandboxConfig, factory: ClaimFactory) -> None:
    paid = decide(config, claim(factory, [Line("99213", "200.00"), Line("36415", "15.00")])).payment
    reversal = adjudication.reverse(paid)
    assert reversal.status is ClaimStatusCode.REVERSAL
    assert reversal.paid == -paid.paid and reversal.charge == -paid.charge
    payer = config.payer("SMPBCX")
    assert payer is not None
    remittance = documents.remittance(
        payer,
        documents.payee_of(claim(factory, [Line("99213")])),
        [reversal, paid],
        [],
        day=RECEIVED,
        trace_number="T2",
    )
    assert_balanced(remittance)
    assert remittance.payment_amount == 0
    assert_valid_x12(write_835([remittance], envelope(3)))
    assert all(a.group is not AdjustmentGroup.CORRECTION_REVERSAL for a in reversal.all_adjustments)


def test_a_rule_switched_off_in_the_payer_file_does_not_deny(
    config: SandboxConfig, factory: ClaimFactory
) -> None:
    payer = config.payer("SMPMCD")
    assert payer is not None
    lenient = payer.model_copy(update={"rules": [r for r in payer.rules if r is not Rule.BUNDLING]})
    relaxed = config.model_copy(update={"payers": [lenient]})
    panel = claim(factory, [Line("80053", "48.00"), Line("80048", "40.00")], payer_id="SMPMCD")
    assert only_denial(decide(relaxed, panel).payment) == []
