"""270 -> 271 and 276 -> 277 through the sandbox: every answer reads back through our reader."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from claimflow.claims.claim import ClaimStatusInquiry, EligibilityInquiry
from claimflow.claims.encounter import Person
from claimflow.claims.responses import ClaimStatus, EligibilityResult
from claimflow.claims.x12 import write_837
from claimflow.claims.x12.eligibility import read_271, write_270
from claimflow.claims.x12.status import read_277, write_276
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.helpers import FakeClock, Line, claim, envelope, quiet_config


def ask(sandbox: Sandbox, factory: ClaimFactory, *, payer_id: str = "SMPBCX", member_id: str | None = None,
        subscriber: Person | None = None, day: date = date(2026, 10, 1)) -> EligibilityResult:  # fmt: skip
    encounter = claim(
        factory, [Line("99213")], payer_id=payer_id, member_id=member_id, service_day=day
    ).encounter
    if subscriber:
        encounter = encounter.model_copy(update={"patient": subscriber})
    inquiry = EligibilityInquiry.for_encounter(encounter, "TRACE1")
    answer = sandbox.eligibility(write_270(inquiry, envelope(40)))
    (result,) = read_271(answer)
    return result


def test_active_member_with_plan_details(sandbox: Sandbox, factory: ClaimFactory) -> None:
    result = ask(sandbox, factory)
    assert result.active and result.trace_number == "TRACE1"
    assert result.copay == Decimal("30.00") and result.deductible == Decimal("1000.00")
    assert result.deductible_remaining == Decimal("1000.00") and result.coinsurance_percent == Decimal("0.2")


def test_terminated_coverage_answers_inactive(sandbox: Sandbox, factory: ClaimFactory) -> None:
    assert not ask(sandbox, factory, payer_id="SMPMCR", member_id="MCR90000001").active
    assert ask(sandbox, factory, payer_id="SMPMCR", member_id="MCR90000001", day=date(2025, 6, 1)).active


def test_unknown_member_and_wrong_name_are_aaa_rejections(sandbox: Sandbox, factory: ClaimFactory) -> None:
    unknown = ask(sandbox, factory, member_id="NOPE1234")
    assert [(r.code, r.retryable) for r in unknown.rejections] == [("72", False)]
    wrong_name = ask(
        sandbox, factory, payer_id="SMPBCX", member_id="XBC900000003",
        subscriber=Person(last_name="SMITH", first_name="KENJI", birth_date=date(1982, 11, 30)),
    )  # fmt: skip
    assert [r.code for r in wrong_name.rejections] == ["73"]
    right = ask(
        sandbox, factory, payer_id="SMPBCX", member_id="XBC900000003",
        subscriber=Person(last_name="Nakamura", first_name="Kenji", birth_date=date(1982, 11, 30)),
    )  # fmt: skip
    assert right.active


def test_deductible_remaining_follows_the_claims_paid(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    sent = claim(factory, [Line("70551", "500.00")], payer_id="SMPMCR", diagnoses=["G43909"])
    sandbox.submit(write_837([sent], envelope(41)), "d1")
    clock.tick(4000)
    sandbox.catch_up()
    assert ask(sandbox, factory, payer_id="SMPMCR").deductible_remaining == Decimal("27.00")


def status_of(sandbox: Sandbox, inquiry: ClaimStatusInquiry) -> ClaimStatus:
    answer = sandbox.claim_status(write_276(inquiry, envelope(50)))
    (status,) = read_277(answer)
    return status


def test_claim_status_follows_the_claim(sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory) -> None:
    sent = claim(factory, [Line("99213", "200.00")], pcn="STAT-1")
    inquiry = ClaimStatusInquiry.for_claim(sent, "T276")
    (missing,) = status_of(sandbox, inquiry).claims
    assert (missing.primary.category, missing.primary.code) == ("A4", "35")
    sandbox.submit(write_837([sent], envelope(42)), "s1")
    assert status_of(sandbox, inquiry).claims[0].primary.category == "A1"
    clock.tick(60)
    pending = status_of(sandbox, inquiry).claims[0]
    assert pending.primary.category == "P1" and pending.payer_claim_number
    clock.tick(3600)
    (paid,) = status_of(sandbox, inquiry).claims
    assert (paid.primary.category, paid.primary.code) == ("F1", "65")
    assert paid.paid_amount == Decimal("99.00") and paid.patient_control_number == "STAT-1"


def test_unknown_payer_and_busy_payer(tmp_path: Path, factory: ClaimFactory) -> None:
    config = quiet_config()
    busy = [p.model_copy(update={"noise": p.noise.model_copy(update={"eligibility_unavailable_rate": 1.0})})
            if p.id == "SMPPPO" else p for p in config.payers]  # fmt: skip
    sandbox = Sandbox(config.model_copy(update={"payers": busy}), Store(tmp_path / "s.db"), clock=FakeClock())
    busy_answer = ask(sandbox, factory, payer_id="SMPPPO")
    assert [(r.code, r.retryable) for r in busy_answer.rejections] == [("42", True)]
    encounter = claim(factory, [Line("99213")]).encounter
    coverage = encounter.coverage.model_copy(update={"payer_id": "NOSUCH"})
    inquiry = EligibilityInquiry.for_encounter(encounter.model_copy(update={"coverage": coverage}), "T9")
    (unknown,) = read_271(sandbox.eligibility(write_270(inquiry, envelope(43))))
    assert [(r.loop, r.code) for r in unknown.rejections] == [("2100A", "79")]
