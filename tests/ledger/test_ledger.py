"""Posting: charges, 835 payments and adjustments, reversals, patient payments, totals, audit."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import ServiceLine
from claimflow.claims.money import money_sum
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    Party,
    Remittance,
    ServicePayment,
)
from claimflow.integrations.ledger import (
    Ledger,
    LedgerClaimState,
    RemittanceRef,
    UnknownClaimError,
)
from tests.factories import ClaimFactory

CO, PR, OA = AdjustmentGroup.CONTRACTUAL, AdjustmentGroup.PATIENT_RESPONSIBILITY, AdjustmentGroup.OTHER
D = Decimal


def two_line_claim(pcn: str = "PCN0000001", payer_id: str = "SMPBCX") -> Claim:
    """99213 at 125.00 and 36415 at 15.00: 140.00 billed."""
    base = ClaimFactory(3).claim(frequency=FrequencyCode.ORIGINAL, payer_id=payer_id)
    day = date(2026, 3, 2)
    lines = [
        ServiceLine(
            procedure_code="99213", units=D(1), charge="125.00", diagnosis_pointers=[1], service_date=day
        ),
        ServiceLine(
            procedure_code="36415", units=D(1), charge="15.00", diagnosis_pointers=[1], service_date=day
        ),
    ]
    return base.model_copy(
        update={
            "patient_control_number": pcn,
            "encounter": base.encounter.model_copy(update={"service_lines": lines, "diagnoses": ["E119"]}),
        }
    )


def paid_with_coinsurance(pcn: str = "PCN0000001", status: str = "1", sign: int = 1) -> ClaimPayment:
    """Allowed 100.00 of 140.00: paid 80.00, CO-45 40.00, PR-2 20.00 (balances: 140 = 80 + 40 + 20)."""
    s = D(sign)
    return ClaimPayment(
        patient_control_number=pcn,
        status=ClaimStatusCode(status),
        charge=s * D("140.00"),
        paid=s * D("80.00"),
        patient_responsibility=s * D("20.00"),
        payer_claim_number="PCLM77001",
        service_lines=[
            ServicePayment(
                procedure_code="99213",
                charge=s * D("125.00"),
                paid=s * D("72.00"),
                adjustments=[
                    Adjustment(group=CO, reason="45", amount=s * D("35.00")),
                    Adjustment(group=PR, reason="2", amount=s * D("18.00")),
                ],
            ),
            ServicePayment(
                procedure_code="36415",
                charge=s * D("15.00"),
                paid=s * D("8.00"),
                adjustments=[
                    Adjustment(group=CO, reason="45", amount=s * D("5.00")),
                    Adjustment(group=PR, reason="2", amount=s * D("2.00")),
                ],
            ),
        ],
    )


def readjudicated(pcn: str = "PCN0000001") -> ClaimPayment:
    """The same claim paid again after review: paid 90.00, CO-45 40.00, PR-1 10.00."""
    return ClaimPayment(
        patient_control_number=pcn,
        status=ClaimStatusCode.PRIMARY,
        charge=D("140.00"),
        paid=D("90.00"),
        payer_claim_number="PCLM77001",
        adjustments=[
            Adjustment(group=CO, reason="45", amount=D("40.00")),
            Adjustment(group=PR, reason="1", amount=D("10.00")),
        ],
    )


def remittance(trace: str, *claims: ClaimPayment, paid_on: date = date(2026, 3, 30)) -> Remittance:
    return Remittance(
        payment_amount=money_sum(claim.paid for claim in claims),
        trace_number=trace,
        payment_date=paid_on,
        payer=Party(name="SAMPLE BLUE CROSS", id="SMPBCX"),
        payee=Party(name="Lakeside Family Medicine", id="1234567893"),
        claims=list(claims),
    )


def test_charges_are_recorded_once(ledger: Ledger) -> None:
    claim = two_line_claim()
    balance = ledger.record_charges(claim, actor="worker")
    assert ledger.record_charges(claim, actor="worker") == balance
    assert balance.charges == D("140.00") and balance.insurance_balance == D("140.00")
    assert balance.outstanding == D("140.00") and balance.state is LedgerClaimState.BILLED
    assert [entry.action for entry in ledger.audit(claim.patient_control_number)] == ["charges_recorded"]


def test_a_corrected_claim_replaces_its_charge_lines(ledger: Ledger) -> None:
    claim = two_line_claim()
    ledger.record_charges(claim, actor="worker")
    first_line = claim.encounter.service_lines[0].model_copy(
        update={"modifiers": ["25"], "charge": D("130.00")}
    )
    corrected = claim.model_copy(
        update={
            "frequency": FrequencyCode.REPLACEMENT,
            "original_claim_number": "PCLM77001",
            "encounter": claim.encounter.model_copy(update={"service_lines": [first_line]}),
        }
    )
    assert ledger.record_charges(corrected, actor="biller:ana").charges == D("130.00")
    trail = ledger.audit(claim.patient_control_number)
    assert [(entry.action, entry.actor) for entry in trail] == [
        ("charges_recorded", "worker"),
        ("charges_replaced", "biller:ana"),
    ]
    assert trail[1].details["frequency"] == "7" and trail[1].details["billed"] == "130.00"


def test_a_payment_posts_paid_adjustments_and_patient_responsibility(ledger: Ledger) -> None:
    ledger.record_charges(two_line_claim(), actor="worker")
    result = ledger.post_remittance(paid_with_coinsurance(), remittance("EFT1001"), actor="inbox")
    assert result.posted
    assert result.occurrence == "PCLM77001:1"
    assert result.paid == D("80.00")
    assert result.adjustments == {"CO": D("40.00"), "PR": D("20.00")}
    assert result.patient_responsibility == D("20.00")
    balance = result.balance
    assert balance.state is LedgerClaimState.PAID
    assert (balance.charges, balance.paid, balance.insurance_balance) == (D("140.00"), D("80.00"), D("0.00"))
    assert (balance.patient_due, balance.outstanding) == (D("20.00"), D("20.00"))
    assert ledger.balance("PCN0000001") == balance


def test_a_redelivered_835_posts_nothing_twice(ledger: Ledger) -> None:
    ledger.record_charges(two_line_claim(), actor="worker")
    file = remittance("EFT1001", paid_with_coinsurance())
    first = ledger.post_remittance(file.claims[0], file, actor="inbox")
    again = ledger.post_remittance(file.claims[0], RemittanceRef.of(file), actor="inbox")
    assert first.posted and not again.posted
    assert again.model_copy(update={"posted": True}) == first
    totals = ledger.totals()
    assert (totals.payments, totals.paid, totals.patient_responsibility) == (1, D("80.00"), D("20.00"))
    posted = [entry for entry in ledger.audit("PCN0000001") if entry.action == "remittance_posted"]
    assert len(posted) == 1 and posted[0].details["trace_number"] == "EFT1001"


@pytest.mark.parametrize("reversal_sign", [-1, 1], ids=["tr3-negative", "sent-positive"])
def test_reversal_and_readjudication_in_one_835_both_post(ledger: Ledger, reversal_sign: int) -> None:
    ledger.record_charges(two_line_claim(), actor="worker")
    ledger.post_remittance(paid_with_coinsurance(), remittance("EFT1001"), actor="inbox")
    reversal = paid_with_coinsurance(status="22", sign=reversal_sign)
    second = remittance("EFT2002", reversal, readjudicated(), paid_on=date(2026, 4, 20))
    taken_back = ledger.post_remittance(reversal, second, actor="inbox")
    assert taken_back.posted and taken_back.occurrence == "PCLM77001:22"
    assert taken_back.paid == D("-80.00")
    assert taken_back.adjustments == {"CO": D("-40.00"), "PR": D("-20.00")}
    assert taken_back.balance.state is LedgerClaimState.REVERSED
    assert taken_back.balance.insurance_balance == D("140.00")
    repaid = ledger.post_remittance(readjudicated(), second, actor="inbox")
    assert repaid.posted and repaid.occurrence == "PCLM77001:1"
    balance = repaid.balance
    assert (balance.paid, balance.adjustments) == (D("90.00"), {"CO": D("40.00"), "PR": D("10.00")})
    assert (balance.patient_responsibility, balance.outstanding) == (D("10.00"), D("10.00"))
    # the whole file again: nothing moves
    assert not any(ledger.post_remittance(claim, second, actor="inbox").posted for claim in second.claims)
    assert ledger.balance("PCN0000001") == balance


def test_patient_payment_settles_the_balance_once_per_reference(ledger: Ledger) -> None:
    ledger.record_charges(two_line_claim(), actor="worker")
    ledger.post_remittance(paid_with_coinsurance(), remittance("EFT1001"), actor="inbox")
    part = ledger.record_patient_payment("PCN0000001", D("5.00"), date(2026, 4, 2), "RCPT-1", actor="portal")
    assert (part.patient_paid, part.patient_due, part.outstanding) == (D("5.00"), D("15.00"), D("15.00"))
    again = ledger.record_patient_payment("PCN0000001", D("5.00"), date(2026, 4, 2), "RCPT-1", actor="portal")
    assert again == part
    rest = ledger.record_patient_payment(
        "PCN0000001", D("15.00"), date(2026, 4, 9), "RCPT-2", actor="frontdesk:lee", method="cash"
    )
    assert (rest.patient_due, rest.outstanding) == (D("0.00"), D("0.00"))
    with pytest.raises(ValueError, match="not positive"):
        ledger.record_patient_payment("PCN0000001", D("0.00"), date(2026, 4, 9), "RCPT-3", actor="portal")


def test_an_unknown_claim_is_a_clear_error(ledger: Ledger) -> None:
    with pytest.raises(UnknownClaimError, match=r"no claim 'PCN404'.*record_charges"):
        ledger.post_remittance(paid_with_coinsurance("PCN404"), remittance("EFT1"), actor="inbox")
    with pytest.raises(UnknownClaimError):
        ledger.balance("PCN404")


def test_totals_equal_the_835s_to_the_cent(ledger: Ledger) -> None:
    factory = ClaimFactory(11)
    claims = [factory.claim(frequency=FrequencyCode.ORIGINAL) for _ in range(12)]
    payments = []
    for index, claim in enumerate(claims):
        ledger.record_charges(claim, actor="worker")
        charge = claim.total_charge
        # odd cents on purpose: exact Decimal arithmetic, never a float
        paid = (charge * D("0.6137")).quantize(D("0.01"))
        coinsurance = (charge * D("0.1011")).quantize(D("0.01"))
        status = ClaimStatusCode.DENIED if index % 5 == 4 else ClaimStatusCode.PRIMARY
        if status is ClaimStatusCode.DENIED:
            paid, coinsurance = D("0.00"), D("0.00")
        adjustments = [
            Adjustment(group=CO, reason="50" if paid == 0 else "45", amount=charge - paid - coinsurance)
        ]
        if coinsurance:
            adjustments.append(Adjustment(group=PR, reason="2", amount=coinsurance))
        payments.append(
            ClaimPayment(
                patient_control_number=claim.patient_control_number,
                status=status,
                charge=charge,
                paid=paid,
                payer_claim_number=f"P{index:05d}",
                adjustments=adjustments,
            )
        )
    files = [remittance("EFT-A", *payments[:7]), remittance("EFT-B", *payments[7:])]
    for file in files + files:  # every file delivered twice
        for payment in file.claims:
            ledger.post_remittance(payment, file, actor="inbox")
    totals = ledger.totals()
    assert totals.claims == 12 and totals.payments == 12
    assert totals.charges == money_sum(claim.total_charge for claim in claims)
    assert totals.paid == money_sum(file.payment_amount for file in files)
    assert totals.adjustments["CO"] == money_sum(p.adjusted(CO) for p in payments)
    assert totals.patient_responsibility == money_sum(p.adjusted(PR) for p in payments)
    assert totals.outstanding == totals.patient_responsibility
    assert set(totals.adjustments_by_reason) == {"CO-45", "CO-50", "PR-2"}
    denied = payments[4].patient_control_number
    assert ledger.balance(denied).state is LedgerClaimState.DENIED
    by_payer = {claim.encounter.coverage.payer_id for claim in claims}
    assert sum(ledger.totals(payer).claims for payer in by_payer) == 12
    assert money_sum(ledger.totals(payer).paid for payer in by_payer) == totals.paid


def test_concurrent_deliveries_post_once(ledger: Ledger) -> None:
    ledger.record_charges(two_line_claim(), actor="worker")
    file = remittance("EFT1001", paid_with_coinsurance())
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        results.append(ledger.post_remittance(file.claims[0], file, actor="inbox").posted)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert ledger.balance("PCN0000001").paid == D("80.00")


def test_state_and_audit_trail(ledger: Ledger) -> None:
    ledger.record_charges(two_line_claim(), actor="worker")
    ledger.set_state("PCN0000001", LedgerClaimState.CLOSED, actor="workflow")
    ledger.set_state("PCN0000001", LedgerClaimState.CLOSED, actor="workflow")
    ledger.log_action("manager:kim", "write_off_approved", "PCN0000001", {"amount": "12.00", "carc": "CO-29"})
    trail = ledger.audit("PCN0000001")
    assert [entry.action for entry in trail] == ["charges_recorded", "state_changed", "write_off_approved"]
    assert trail[1].details == {"from": "billed", "to": "closed"}
    assert trail[2].actor == "manager:kim" and trail[2].at.tzinfo is not None
    assert trail[0].at <= trail[1].at <= trail[2].at
    with pytest.raises(ValueError, match="needs an actor"):
        ledger.log_action(" ", "anything", None, {})


def secondary_restating(pcn: str = "PCN0000001", primary_paid: str = "80.00") -> ClaimPayment:
    """Medicaid as secondary on the claim the primary paid `primary_paid` of: it restates the whole
    claim (OA-23 what the primary paid, PR what is still the patient's, CO-45 the rest) and pays
    15.00 of the 20.00 the primary left; the patient still owes 5.00."""
    earlier = D(primary_paid)
    return ClaimPayment(
        patient_control_number=pcn,
        status=ClaimStatusCode.SECONDARY,
        charge=D("140.00"),
        paid=D("15.00"),
        payer_claim_number="MCD5501",
        adjustments=[
            Adjustment(group=OA, reason="23", amount=earlier),
            Adjustment(group=PR, reason="2", amount=D("5.00")),
            Adjustment(group=CO, reason="45", amount=D("120.00") - earlier),
        ],
    )


def secondary_file(trace: str, *claims: ClaimPayment) -> Remittance:
    return remittance(trace, *claims).model_copy(update={"payer": Party(name="SAMPLE MEDICAID", id="SMPMCD")})


def test_a_secondary_835_supersedes_the_primary_patient_share(ledger: Ledger) -> None:
    """After primary and secondary the patient owes what the secondary left (5.00), not the primary's
    20.00 plus it; the payments of both count, the write-offs and PR are the secondary's."""
    ledger.record_charges(two_line_claim(), actor="worker")
    primary = ledger.post_remittance(paid_with_coinsurance(), remittance("EFT1001"), actor="inbox")
    assert primary.balance.patient_due == D("20.00")
    balance = ledger.post_remittance(secondary_restating(), secondary_file("MCD-1"), actor="inbox").balance
    assert (balance.paid, balance.patient_responsibility, balance.patient_due) == (
        D("95.00"),
        D("5.00"),
        D("5.00"),
    )
    assert balance.adjustments == {"CO": D("40.00"), "PR": D("5.00")}
    assert (balance.insurance_balance, balance.outstanding) == (D("0.00"), D("5.00"))
    assert balance.paid + money_sum(balance.adjustments.values()) == balance.charges
    paid = ledger.record_patient_payment("PCN0000001", D("5.00"), date(2026, 4, 30), "RCPT-9", actor="portal")
    assert (paid.patient_due, paid.outstanding) == (D("0.00"), D("0.00"))


def test_a_late_primary_reversal_leaves_the_secondary_to_restate(ledger: Ledger) -> None:
    """The primary reverses and re-adjudicates (paid 90.00) after the secondary paid: its payments
    count at once; the secondary's decision stands (on 80.00) until its own new 835 restates the
    claim, and then the patient owes what that one left."""
    ledger.record_charges(two_line_claim(), actor="worker")
    ledger.post_remittance(paid_with_coinsurance(), remittance("EFT1001"), actor="inbox")
    ledger.post_remittance(secondary_restating(), secondary_file("MCD-1"), actor="inbox")
    late = remittance("EFT2002", paid_with_coinsurance(status="22", sign=-1), readjudicated())
    for payment in late.claims:
        interim = ledger.post_remittance(payment, late, actor="inbox").balance
    assert interim.paid == D("105.00") and interim.patient_due == D("5.00")
    assert interim.insurance_balance == D("-10.00")  # the secondary was paid 10.00 too much
    redo = secondary_file(
        "MCD-2",
        secondary_restating(primary_paid="90.00").model_copy(
            update={
                "paid": D("5.00"),
                "adjustments": [
                    Adjustment(group=OA, reason="23", amount=D("90.00")),
                    Adjustment(group=PR, reason="1", amount=D("5.00")),
                    Adjustment(group=CO, reason="45", amount=D("40.00")),
                ],
            }
        ),
    )
    secondary_reversal = secondary_restating().model_copy(
        update={
            "status": ClaimStatusCode.REVERSAL,
            "charge": D("-140.00"),
            "paid": D("-15.00"),
            "adjustments": [
                a.model_copy(update={"amount": -a.amount}) for a in secondary_restating().adjustments
            ],
        }
    )
    ledger.post_remittance(secondary_reversal, redo, actor="inbox")
    final = ledger.post_remittance(redo.claims[0], redo, actor="inbox").balance
    assert (final.paid, final.patient_due, final.insurance_balance) == (D("95.00"), D("5.00"), D("0.00"))


def test_totals_of_a_coordinated_claim_are_the_sums_of_the_balances(ledger: Ledger) -> None:
    """A claim billed to the primary and then the secondary beside a claim of one payer: its charges
    count once, each payer's payment counts (and per payer), and the adjustments and patient
    responsibility are the secondary's restatement, so the totals are the sums of the two balances
    (before, the primary's CO-45 and PR-2 and the secondary's OA-23 were added on top: 25.00 owed)."""
    coordinated = two_line_claim()
    ledger.record_charges(coordinated, actor="worker")
    ledger.post_remittance(paid_with_coinsurance(), remittance("EFT1001"), actor="inbox")
    # billed to the secondary now: the ledger's claim goes with it, its charges once
    secondary_claim = coordinated.model_copy(
        update={
            "encounter": coordinated.encounter.model_copy(
                update={
                    "coverage": coordinated.encounter.coverage.model_copy(
                        update={"payer_id": "SMPMCD", "payer_name": "SAMPLE MEDICAID"}
                    )
                }
            )
        }
    )
    ledger.record_charges(secondary_claim, actor="worker")
    secondary = secondary_file("MCD-1", secondary_restating())
    ledger.post_remittance(secondary.claims[0], secondary, actor="inbox")
    single = two_line_claim("PCN0000002")
    ledger.record_charges(single, actor="worker")
    ledger.post_remittance(paid_with_coinsurance("PCN0000002"), remittance("EFT1002"), actor="inbox")
    balances = [ledger.balance("PCN0000001"), ledger.balance("PCN0000002")]

    totals = ledger.totals()
    assert (totals.claims, totals.payments) == (2, 3)
    assert totals.charges == D("280.00") == money_sum(b.charges for b in balances)
    assert totals.paid == D("175.00") == money_sum(b.paid for b in balances)
    assert totals.patient_responsibility == D("25.00")  # 5.00 after both payers, 20.00 the other's
    assert totals.patient_responsibility == money_sum(b.patient_responsibility for b in balances)
    assert totals.adjustments == {"CO": D("80.00"), "PR": D("25.00")}
    assert totals.adjustments_by_reason == {"CO-45": D("80.00"), "PR-2": D("25.00")}
    assert totals.outstanding == D("25.00") == money_sum(b.outstanding for b in balances)
    assert totals.paid_by_payer == {"SMPBCX": D("160.00"), "SMPMCD": D("15.00")}
    assert totals.paid + money_sum(totals.adjustments.values()) == totals.charges
    # as posted, every 835's CAS: what the books reconcile with the files received
    assert totals.posted_adjustments == {"CO": D("120.00"), "OA": D("80.00"), "PR": D("45.00")}

    # by the payer billed now: the coordinated claim's balance sits with the secondary
    medicaid = ledger.totals("SMPMCD")
    assert (medicaid.claims, medicaid.charges, medicaid.patient_responsibility) == (1, D("140.00"), D("5.00"))
    assert medicaid.paid_by_payer == {"SMPBCX": D("80.00"), "SMPMCD": D("15.00")}
    assert medicaid.outstanding == balances[0].outstanding == D("5.00")
    assert ledger.totals("SMPBCX").claims == 1
