"""The revenue-cycle KPIs (claims/kpi.py) on hand-made claims whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from claimflow.claims.denials import DenialCategory
from claimflow.claims.kpi import ClaimFacts, compute_kpis, facts_of, kpis_of_snapshots
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState, TimelineEntry
from claimflow.claims.tasks import Task, TaskKind
from tests.factories import ClaimFactory

AS_OF = date(2026, 5, 4)
SUBMITTED_AT = datetime(2026, 4, 10, 12, tzinfo=UTC)


def task(kind: TaskKind, created_at: datetime) -> Task:
    return Task(id=f"t-{kind.value}", kind=kind, reason="r", created_at=created_at, due_at=created_at)


def snapshot(
    state: ClaimState,
    *,
    days_old: int = 20,
    submissions: int = 1,
    accepted: bool = True,
    remits: tuple[str, ...] = (),
    tasks: tuple[Task, ...] = (),
    paid: str = "0",
    patient_paid: str = "0",
    adjusted: str = "0",
) -> ClaimSnapshot:
    """A claim of $100.00 (one line) seen `days_old` days after its date of service."""
    encounter = ClaimFactory(days_old).encounter()
    line = encounter.service_lines[0].model_copy(update={"charge": Decimal("100.00")})
    encounter = encounter.model_copy(
        update={"service_date": AS_OF - timedelta(days=days_old), "service_lines": [line]}
    )
    timeline = [TimelineEntry(at=SUBMITTED_AT, step="submit", outcome="837 submission 1")] * min(
        submissions, 1
    )
    timeline += [TimelineEntry(at=SUBMITTED_AT + timedelta(days=9), step="835", outcome=t) for t in remits]
    return ClaimSnapshot(
        claim_id=f"claim-{encounter.encounter_id}",
        state=state,
        payer_id="SMPMCR",
        patient_control_number=encounter.encounter_id,
        billed=encounter.total_charge,
        submissions=submissions,
        accepted_on=date(2026, 4, 11) if accepted else None,
        timeline=timeline,
        tasks=list(tasks),
        paid=Decimal(paid),
        patient_paid=Decimal(patient_paid),
        adjusted=Decimal(adjusted),
        encounter=encounter,
    )


BEFORE = SUBMITTED_AT - timedelta(days=1)
AFTER = SUBMITTED_AT + timedelta(days=10)
CLAIMS = [
    # 1. clean, paid 60 with CO-45 30, the patient owes 10 (unpaid): clean, first pass; A/R 10 at 20 days
    snapshot(ClaimState.PATIENT_BILLING, remits=("paid: CO-45, PR-3",), paid="60.00", adjusted="30.00"),
    # 2. scrub failure fixed by a person, then paid in full less CO-45: not clean, not first pass; settled
    snapshot(
        ClaimState.CLOSED,
        remits=("paid: CO-45",),
        tasks=(task(TaskKind.SCRUB_FAILURE, BEFORE),),
        paid="90.00",
        adjusted="10.00",
    ),
    # 3. clean but denied CO-50 (whole charge adjusted), under appeal: a denial; A/R 100 at 45 days
    snapshot(ClaimState.APPEALING, days_old=45, remits=("denied: CO-50",), adjusted="100.00"),
    # 4. a CO-4 denial corrected and resubmitted, now waiting: denied first; A/R 100 at 95 days
    snapshot(
        ClaimState.SUBMITTED,
        days_old=95,
        submissions=2,
        remits=("denied: CO-4",),
        tasks=(task(TaskKind.DENIAL, AFTER),),
        adjusted="100.00",
    ),
    # 5. stopped in the coding hold, never submitted: in no rate but the clean-claim rate, not in A/R
    snapshot(ClaimState.CODING, submissions=0, accepted=False, tasks=(task(TaskKind.CODING, BEFORE),)),
    # 6. accepted, waiting for its 835, 130 days after the visit: clean, in A/R 100 in the 120+ bucket
    snapshot(ClaimState.ACCEPTED, days_old=130),
]


def test_every_kpi_on_hand_worked_claims() -> None:
    report = kpis_of_snapshots(CLAIMS, AS_OF)
    assert report.claims == 6
    # clean: 1, 3, 6 of all six claims (the coding hold counts in the whole, as the MAP Key says)
    assert (report.clean_claim_rate.part, report.clean_claim_rate.whole) == (3, 6)
    assert str(report.clean_claim_rate) == "50% (3 of 6)"
    # first pass: only claim 1, of the five billed
    assert (report.first_pass_resolution_rate.part, report.first_pass_resolution_rate.whole) == (1, 5)
    # denials: 3 and 4 of the four with an 835; CO-45 and PR-3 are not denials
    assert (report.denial_rate.part, report.denial_rate.whole) == (2, 4)
    assert {c: (r.part, r.whole) for c, r in report.denials_by_category.items()} == {
        DenialCategory.APPEAL: (1, 4),
        DenialCategory.CORRECT_AND_RESUBMIT: (1, 4),
    }
    # A/R: 10 + 100 + 100 + 100; charges billed in the last 90 days: claims 1, 2, 3 = 300, so 3.33/day
    assert report.ar_balance == Decimal("310.00")
    assert report.days_in_ar == Decimal("93.0")
    assert [(b.label, b.claims, b.balance) for b in report.ar_aging] == [
        ("0-30", 1, Decimal("10.00")),
        ("31-60", 1, Decimal("100.00")),
        ("61-90", 0, Decimal("0.00")),
        ("91-120", 1, Decimal("100.00")),
        ("120+", 1, Decimal("100.00")),
    ]
    # net collection: paid 150 over charges 500 less contractual 40 (claims 1 and 2; denials are not)
    assert (report.net_collection_rate.part, report.net_collection_rate.whole) == (
        Decimal("150.00"),
        Decimal("460.00"),
    )
    assert report.contractual_adjustments == Decimal("40.00")
    assert str(report.net_collection_rate) == "32.6% ($150.00 of $460.00)"


def test_a_task_after_acceptance_leaves_a_claim_clean_but_not_first_pass() -> None:
    late_warning = snapshot(
        ClaimState.CLOSED, remits=("paid: CO-45",), tasks=(task(TaskKind.COVERAGE_ISSUE, AFTER),)
    )
    facts = facts_of(late_warning)
    assert facts.clean and not facts.first_pass_resolved


def test_no_claims_and_no_charges_give_no_rates() -> None:
    report = compute_kpis([], AS_OF)
    assert str(report.clean_claim_rate) == "n/a (none)"
    assert report.days_in_ar is None
    assert report.net_collection_rate.value is None


def test_facts_need_the_encounter_and_a_positive_period() -> None:
    bare = CLAIMS[0].model_copy(update={"encounter": None})
    with pytest.raises(ValueError, match="restart the worker"):
        facts_of(bare)
    with pytest.raises(ValueError, match="period_days"):
        compute_kpis([facts_of(CLAIMS[0])], AS_OF, period_days=0)


def test_the_report_round_trips_through_json() -> None:
    report = kpis_of_snapshots(CLAIMS, AS_OF)
    assert type(report).model_validate_json(report.model_dump_json()) == report
    assert ClaimFacts.model_validate_json(facts_of(CLAIMS[0]).model_dump_json()) == facts_of(CLAIMS[0])
