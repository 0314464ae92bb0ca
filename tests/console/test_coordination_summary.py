"""The demo summary's coordination and underpayment figures, and the dashboard's underpayment table,
on hand-made snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from claimflow.claims.encounter import ClaimFilingIndicator, Coverage
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState, PayerDecision, UnderpaymentStatus
from claimflow.claims.remittance import ClaimPayment, ClaimStatusCode
from claimflow.console.claims_client import WorkQueue
from claimflow.console.demo_summary import summarize
from claimflow.console.web.dashboard import build_dashboard
from claimflow.console.web.data import Loaded
from tests.factories import ClaimFactory
from tests.underpayment.test_report import case

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MEDIGAP = Coverage(payer_id="SMPMGP", payer_name="Medigap", member_id="MGP12345678")


def decision(
    position: int, payer: str, status: ClaimStatusCode, paid: str, remarks: list[str]
) -> PayerDecision:
    payment = ClaimPayment(
        patient_control_number="X",
        status=status,
        charge=Decimal("170.00"),
        paid=Decimal(paid),
        remarks=remarks,
    )
    return PayerDecision(position=position, payer_id=payer, payment=payment, decided_on=date(2026, 11, 10))


def snapshot(claim_id: str, decisions: list[PayerDecision], other: bool, **fields: object) -> ClaimSnapshot:
    encounter = (
        ClaimFactory()
        .encounter()
        .model_copy(
            update={
                "service_date": date(2026, 11, 1),
                "other_coverages": [
                    MEDIGAP.model_copy(update={"filing_indicator": ClaimFilingIndicator.COMMERCIAL})
                ]
                if other
                else [],
            }
        )
    )
    return ClaimSnapshot(
        encounter=encounter,
        claim_id=claim_id,
        state=ClaimState.CLOSED,
        payer_id="SMPMCR",
        patient_control_number=claim_id,
        adjudications=decisions,
        **fields,
    )


def test_summary_and_dashboard_report_coordination_and_underpayments() -> None:
    crossover = snapshot(
        "claim-A",
        [
            decision(0, "SMPMCR", ClaimStatusCode.PRIMARY_FORWARDED, "100.00", ["MA18"]),
            decision(1, "SMPMGP", ClaimStatusCode.SECONDARY, "25.00", []),
        ],
        True,
    )
    only_primary = snapshot("claim-B", [decision(0, "SMPMCR", ClaimStatusCode.PRIMARY, "90.00", [])], True)
    single = snapshot(
        "claim-C",
        [decision(0, "SMPHMO", ClaimStatusCode.PRIMARY, "112.00", [])],
        False,
        underpayments=[
            case("SMPHMO", 1, "6.00", UnderpaymentStatus.OPEN),
            case("SMPHMO", 2, "8.00", UnderpaymentStatus.RECOVERED, recovered="8.00"),
        ],
    )
    snapshots = [crossover, only_primary, single]
    summary = summarize(snapshots, Decimal("510.00"), NOW.date())
    cob = summary.coordination
    assert (cob.with_other_coverage, cob.secondary_decided, cob.tertiary_decided, cob.crossovers) == (
        2,
        1,
        0,
        1,
    )
    assert cob.paid_by_later_payers == Decimal("25.00")
    (hmo,) = summary.underpayments
    assert (hmo.open_lines, hmo.open_amount, hmo.recovered_lines, hmo.recovered_amount) == (
        1,
        Decimal("6.00"),
        1,
        Decimal("8.00"),
    )

    loaded = Loaded(
        at=0.0, queue=WorkQueue(rows=[], claims={}), claims={s.claim_id: s for s in snapshots}, listed=[]
    )
    table = build_dashboard(loaded, NOW).table("underpayments")
    assert table is not None
    assert table.rows == [("SMPHMO", 2, 1, "6.00", 0, 1, "8.00", 0, 0)]
