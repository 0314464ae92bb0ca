"""The sandbox as a secondary and tertiary payer: it reads the earlier payers' adjudication from the
837, pays by its coordination method, crosses claims over, and denies a secondary claim without
the primary's adjudication (CO-22, MA04). Every file goes through X12 and pyx12 (conftest)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.coordination import Decision, claim_for_payer, crossed_over, patient_remainder
from claimflow.claims.encounter import ClaimFilingIndicator, Coverage
from claimflow.claims.money import money_sum
from claimflow.claims.other_payers import PayerResponsibility
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode, ServicePayment
from claimflow.integrations.sandbox.config import CoordinationMethod
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.conftest import check_every_file
from tests.sandbox.helpers import MEMBERS, FakeClock, Line, claim, quiet_config
from tests.sandbox.test_engine import drain, payments, send

HOUR = 3600


def coverage(payer_id: str, member_id: str | None = None) -> Coverage:
    indicators = {
        "SMPMCR": "MB",
        "SMPMCD": "MC",
        "SMPBCX": "BL",
        "SMPPPO": "12",
        "SMPMGP": "CI",
        "SMPHMO": "HM",
    }
    return Coverage(
        payer_id=payer_id,
        payer_name=f"PAYER {payer_id}",
        member_id=member_id or MEMBERS.get(payer_id, "MGP12345678"),
        filing_indicator=ClaimFilingIndicator(indicators[payer_id]),
    )


def coordinated(factory: ClaimFactory, payers: list[str], lines: list[Line]) -> Claim:
    base = claim(factory, lines, payer_id=payers[0])
    encounter = base.encounter.model_copy(update={"other_coverages": [coverage(p) for p in payers[1:]]})
    return base.model_copy(update={"encounter": encounter})


def decide(sandbox: Sandbox, clock: FakeClock, billed: Claim) -> ClaimPayment:
    """Send one claim and wait out the payer's delay (an hour in the quiet config): its 835 claim."""
    send(sandbox, [billed])
    drain(sandbox)
    clock.tick(HOUR + 60)
    (payment,) = [
        p
        for p in payments(drain(sandbox))
        if p.patient_control_number == billed.patient_control_number
        and p.status is not ClaimStatusCode.REVERSAL
    ]
    return payment


def pr(payment: ClaimPayment) -> Decimal:
    return payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)


def line_pr(line: ServicePayment) -> Decimal:
    return money_sum(a.amount for a in line.adjustments if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY)


def test_secondary_pays_the_primarys_patient_share_up_to_its_allowed_amount(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    original = coordinated(factory, ["SMPBCX", "SMPMCD"], [Line("99213", "150.00"), Line("36415", "20.00")])
    primary = decide(sandbox, clock, claim_for_payer(original, 0))
    assert primary.status is ClaimStatusCode.PRIMARY and pr(primary) > 0
    decided = Decision(primary, clock.moment.date())
    second = decide(sandbox, clock, claim_for_payer(original, 1, [decided]))
    assert second.status is ClaimStatusCode.SECONDARY
    for first_line, line in zip(primary.service_lines, second.service_lines, strict=True):
        prior_paid = {a.reason: a.amount for a in line.adjustments if a.group is AdjustmentGroup.OTHER}
        assert prior_paid.get("23", Decimal("0.00")) == first_line.paid  # OA-23: the primary's payment
        assert line.allowed_amount is not None
        expected = min(line.allowed_amount - first_line.paid, line_pr(first_line))
        assert line.paid == max(Decimal("0.00"), expected)
    # the patient is left what neither payer paid of what the primary made theirs
    assert patient_remainder(second) == pr(primary) - second.paid
    assert second.charge - second.paid == money_sum(a.amount for a in second.all_adjustments)


def test_non_duplication_pays_what_it_would_as_primary_less_the_primarys_payment(
    tmp_path: Path, clock: FakeClock, factory: ClaimFactory
) -> None:
    """Primary SMPBCX allows 182.00 for a 220.00 99214 and pays 152.00 (30.00 copay). SMPPPO allows
    195.00: by the standard method it pays the 30.00 (195.00 - 152.00 is more); by non-duplication
    what it would pay as primary is 0.00 (its 500.00 deductible takes the whole 195.00), so nothing."""
    paid = {}
    for method in CoordinationMethod:
        sandbox = sandbox_with(tmp_path / method.value, clock, "SMPPPO", method)
        original = coordinated(factory, ["SMPBCX", "SMPPPO"], [Line("99214", "220.00")])
        primary = decide(sandbox, clock, claim_for_payer(original, 0))
        assert (primary.paid, pr(primary)) == (Decimal("152.00"), Decimal("30.00"))
        second = decide(
            sandbox, clock, claim_for_payer(original, 1, [Decision(primary, clock.moment.date())])
        )
        paid[method] = second.paid
        check_every_file(sandbox.store)
        sandbox.store.close()
    assert paid == {
        CoordinationMethod.STANDARD: Decimal("30.00"),
        CoordinationMethod.NON_DUPLICATION: Decimal("0.00"),
    }


def sandbox_with(path: Path, clock: FakeClock, payer_id: str, method: CoordinationMethod) -> Sandbox:
    config = quiet_config()
    payers = [
        p.model_copy(update={"coordination": p.coordination.model_copy(update={"method": method})})
        if p.id == payer_id
        else p
        for p in config.payers
    ]
    path.mkdir()
    return Sandbox(config.model_copy(update={"payers": payers}), Store(path / "sandbox.db"), clock=clock)


def test_a_secondary_claim_without_the_primarys_adjudication_is_denied_co22(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    original = coordinated(factory, ["SMPBCX", "SMPHMO"], [Line("99213", "150.00")])
    unadjudicated = claim_for_payer(original, 0)
    blind = unadjudicated.model_copy(
        update={
            "encounter": unadjudicated.encounter.model_copy(update={"coverage": coverage("SMPHMO")}),
            "responsibility": PayerResponsibility.SECONDARY,
            "other_payers": [
                p.model_copy(
                    update={"coverage": coverage("SMPBCX"), "responsibility": PayerResponsibility.PRIMARY}
                )
                for p in unadjudicated.other_payers
            ],
        }
    )
    denied = decide(sandbox, clock, Claim.model_validate(blind.model_dump()))
    assert denied.status is ClaimStatusCode.DENIED and denied.paid == 0
    assert {a.reason for a in denied.all_adjustments} == {"22"} and "MA04" in denied.remarks
    # corrected: billed with the primary's 835, the same secondary pays
    primary = decide(sandbox, clock, claim_for_payer(original, 0))
    billed = claim_for_payer(original, 1, [Decision(primary, clock.moment.date())])
    replacement = billed.model_copy(
        update={"frequency": FrequencyCode.REPLACEMENT, "original_claim_number": denied.payer_claim_number}
    )
    corrected = decide(sandbox, clock, replacement)  # a replacement, not a duplicate of the denied one
    assert corrected.status is ClaimStatusCode.SECONDARY and corrected.paid > 0


def test_medicare_crosses_the_claim_over_to_the_medigap_plan(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    original = coordinated(factory, ["SMPMCR", "SMPMGP"], [Line("99213", "150.00")])
    primary = decide(sandbox, clock, claim_for_payer(original, 0))
    assert crossed_over(primary) and primary.status is ClaimStatusCode.PRIMARY_FORWARDED
    assert "MA18" in primary.remarks
    before = sandbox.stats()["submissions"]
    clock.tick(7 * 86400)  # the Medigap plan's own delay, with no claim from us
    (second,) = payments(drain(sandbox))
    assert sandbox.stats()["submissions"] == before
    assert second.patient_control_number == original.patient_control_number
    assert second.status is ClaimStatusCode.SECONDARY
    assert second.paid == pr(primary)  # Plan G covers Medicare's coinsurance (and this deductible)
    assert patient_remainder(second) == 0


def test_tertiary_pays_what_the_secondary_left(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    original = coordinated(
        factory, ["SMPBCX", "SMPPPO", "SMPMCD"], [Line("99214", "220.00"), Line("85025", "30.00")]
    )
    decisions: list[Decision] = []
    for position in range(3):
        payment = decide(sandbox, clock, claim_for_payer(original, position, decisions))
        decisions.append(Decision(payment, clock.moment.date()))
    primary, second, third = (d.payment for d in decisions)
    assert third.status is ClaimStatusCode.TERTIARY
    assert third.paid == pr(second) - patient_remainder(third)
    earlier = {
        a.reason: a.amount
        for line in third.service_lines
        for a in line.adjustments
        if a.group is AdjustmentGroup.OTHER
    }
    assert earlier["23"] > 0
    assert (
        money_sum(line.paid for line in primary.service_lines)
        + second.paid
        + third.paid
        + patient_remainder(third)
        <= original.total_charge
    )
