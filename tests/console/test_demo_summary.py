"""The demo's stages and summary arithmetic, on hand-made snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState, TimelineEntry
from claimflow.claims.tasks import Task, TaskKind
from claimflow.console.demo_summary import Progress, progress_of, summarize
from tests.factories import ClaimFactory

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


def task(kind: TaskKind, *, open_: bool = True) -> Task:
    return Task(
        id=f"t-{kind.value}",
        kind=kind,
        reason="r",
        created_at=NOW,
        due_at=NOW,
        resolved_at=None if open_ else NOW,
    )


def snapshot(
    state: ClaimState,
    *,
    submissions: int = 1,
    accepted: bool = True,
    remits: tuple[str, ...] = (),
    tasks: tuple[Task, ...] = (),
    paid: str = "0",
    patient: str = "0",
    adjusted: str = "0",
) -> ClaimSnapshot:
    return ClaimSnapshot(
        encounter=ClaimFactory().encounter().model_copy(update={"service_date": date(2026, 4, 20)}),
        claim_id="claim-X",
        state=state,
        payer_id="SMPMCR",
        patient_control_number="X",
        submissions=submissions,
        accepted_on=date(2026, 5, 1) if accepted else None,
        timeline=[TimelineEntry(at=NOW, step="835", outcome=text) for text in remits],
        tasks=list(tasks),
        paid=Decimal(paid),
        patient_responsibility=Decimal(patient),
        adjusted=Decimal(adjusted),
    )


@pytest.mark.parametrize(
    ("state", "priority", "running", "appeal_task", "expected"),
    [
        ("closed", 0, False, False, Progress.SETTLED),
        ("written_off", 0, False, False, Progress.SETTLED),
        ("coding", 2, True, False, Progress.WAITING_ON_A_PERSON),
        ("appealing", 0, True, True, Progress.WAITING_ON_A_PERSON),
        ("appealing", 0, True, False, Progress.IN_FLIGHT),
        ("patient_billing", 0, True, False, Progress.WAITING_ON_THE_PATIENT),
        ("patient_billing", 2, True, False, Progress.WAITING_ON_A_PERSON),
        ("submitted", 0, True, False, Progress.IN_FLIGHT),
        (None, 0, True, False, Progress.IN_FLIGHT),
        ("scrubbing", 0, False, False, Progress.STOPPED),
    ],
)
def test_progress_of(
    state: str | None, priority: int, running: bool, appeal_task: bool, expected: Progress
) -> None:
    assert progress_of(state, priority, running, appeal_task) is expected


def test_a_claim_at_the_payer_with_only_tasks_beside_it_open_is_in_flight() -> None:
    warning, rejection = ["timely_filing_risk"], ["payer_rejection"]
    assert progress_of("acknowledged", 2, True, False, warning) is Progress.IN_FLIGHT
    # the primary paid a line below contract while the secondary has the claim: its 835 is coming
    assert progress_of("submitted", 1, True, False, ["underpayment"]) is Progress.IN_FLIGHT
    assert progress_of("submitted", 2, True, False, ["underpayment", *warning]) is Progress.IN_FLIGHT
    assert progress_of("patient_billing", 1, True, False, ["underpayment"]) is Progress.WAITING_ON_A_PERSON
    assert progress_of("acknowledged", 2, True, False, rejection) is Progress.WAITING_ON_A_PERSON
    assert progress_of("acknowledged", 2, True, False) is Progress.WAITING_ON_A_PERSON  # tasks unknown
    assert progress_of("coding", 2, True, False, warning) is Progress.WAITING_ON_A_PERSON


def test_summary_arithmetic() -> None:
    snapshots = [
        # clean, paid with a copay: clean and first-pass resolved
        snapshot(
            ClaimState.PATIENT_BILLING,
            remits=("paid: CO-45, PR-3; bill the patient",),
            paid="80.00",
            patient="20.00",
            adjusted="45.00",
        ),
        # scrub failure fixed by a person, then paid in full: neither clean nor first-pass
        snapshot(
            ClaimState.CLOSED,
            remits=("paid: CO-45; no action",),
            tasks=(task(TaskKind.SCRUB_FAILURE, open_=False),),
            paid="100.00",
            adjusted="10.00",
        ),
        # denied CO-50, under appeal: clean claim, not resolved, one appeal denial
        snapshot(ClaimState.APPEALING, remits=("denied: CO-50; appeal (medical_necessity letter)",)),
        # denied CO-4 then CO-18 on the resubmission: two categories, two submissions
        snapshot(
            ClaimState.DENIED,
            submissions=2,
            remits=("denied: CO-4; correct and resubmit", "denied: CO-18; write off"),
            tasks=(task(TaskKind.DENIAL),),
        ),
        # never submitted: in the coding hold
        snapshot(ClaimState.CODING, submissions=0, accepted=False, tasks=(task(TaskKind.CODING),)),
    ]
    summary = summarize(snapshots, Decimal("900.00"), NOW.date(), appeal_tasks=[TaskKind.APPEAL_REVIEW])
    assert summary.claims == 5
    assert summary.by_state == {"patient_billing": 1, "closed": 1, "appealing": 1, "denied": 1, "coding": 1}
    assert summary.open_tasks == {"denial": 1, "coding": 1, "appeal_review": 1}
    # the KPIs are claims.kpi's: the clean-claim rate counts the claim stopped in the coding hold too
    kpis = summary.kpis
    assert str(kpis.clean_claim_rate) == "40% (2 of 5)"
    assert str(kpis.first_pass_resolution_rate) == "25% (1 of 4)"
    assert str(kpis.denial_rate) == "50% (2 of 4)"
    assert {category.value: share.part for category, share in kpis.denials_by_category.items()} == {
        "appeal": 1,
        "correct_and_resubmit": 1,
        "write_off": 1,
    }
    assert summary.charges == Decimal("900.00")
    assert (summary.paid, summary.patient_responsibility, summary.adjusted) == (
        Decimal("180.00"),
        Decimal("20.00"),
        Decimal("55.00"),
    )
