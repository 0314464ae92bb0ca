"""Underpayments by payer (claims/underpayment_report), and the demo batch's claims with other
coverage surviving the FHIR round trip with every coverage in order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from claimflow.claims.lifecycle import UnderpaymentCase, UnderpaymentStatus
from claimflow.claims.underpayment import Underpayment
from claimflow.claims.underpayment_report import by_payer
from claimflow.integrations.fhir import encounter_from_bundle
from claimflow.integrations.fhir.export import bundle_from_encounter
from claimflow.integrations.sandbox.scenarios import Trouble, scenario_batch


def case(
    payer: str, line: int, short: str, status: UnderpaymentStatus, recovered: str = "0"
) -> UnderpaymentCase:
    finding = Underpayment(
        payer_id=payer,
        line_number=line,
        procedure_code="99213",
        service_date=date(2026, 10, 1),
        units=Decimal(1),
        contract_rate=Decimal("118.00"),
        expected=Decimal("118.00"),
        allowed=Decimal("118.00") - Decimal(short),
        paid=Decimal("90.00"),
        shortfall=Decimal(short),
        contract_line="SMPHMO fee schedule: 99213 $118.00 per unit, effective 2026-01-01",
    )
    return UnderpaymentCase(
        finding=finding,
        task_id=f"claim-X:{line}",
        status=status,
        first_allowed=finding.allowed,
        recovered=recovered,
    )


def test_open_appealed_recovered_accepted_and_corrected_by_payer() -> None:
    rows = by_payer(
        [
            case("SMPHMO", 1, "6.00", UnderpaymentStatus.OPEN),
            case("SMPHMO", 2, "8.00", UnderpaymentStatus.APPEALED),
            case("SMPHMO", 3, "6.00", UnderpaymentStatus.RECOVERED, recovered="6.00"),
            case("SMPPPO", 1, "2.60", UnderpaymentStatus.ACCEPTED),
            case("SMPPPO", 2, "1.84", UnderpaymentStatus.CONTRACT_CORRECTED),
        ]
    )
    hmo, ppo = rows
    assert (hmo.payer_id, hmo.lines, hmo.open_lines, hmo.open_amount, hmo.appealed) == (
        "SMPHMO",
        3,
        2,
        Decimal("14.00"),
        1,
    )
    assert (hmo.recovered_lines, hmo.recovered_amount) == (1, Decimal("6.00"))
    assert (ppo.open_lines, ppo.accepted_lines, ppo.accepted_amount, ppo.corrected_lines) == (
        0,
        1,
        Decimal("2.60"),
        1,
    )


def test_demo_claims_with_other_coverage_round_trip_through_fhir() -> None:
    batch = scenario_batch(120, today=date(2026, 1, 15), seed=2026, prefix="DEMO")
    coordinated = [s.encounter for s in batch if s.kind is Trouble.COORDINATION]
    assert {tuple(c.payer_id for c in e.coverages) for e in coordinated} == {
        ("SMPMCR", "SMPMGP"),
        ("SMPBCX", "SMPMCD"),
        ("SMPPPO", "SMPBCX", "SMPMCD"),
    }
    for encounter in coordinated:
        assert encounter_from_bundle(bundle_from_encounter(encounter)) == encounter
