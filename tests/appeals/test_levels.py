"""Appeal levels, windows and thresholds from the payer profiles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from claimflow.claims.appeals import (
    appeal_levels,
    check_appeal_resolution,
    decision_days,
    decision_from_notice,
    decision_from_readjudication,
    filing_deadline,
    first_level_deadline,
    level_of,
    next_step,
)
from claimflow.claims.payers import default_directory
from claimflow.claims.remittance import ClaimPayment, ClaimStatusCode
from claimflow.claims.tasks import RESOLUTION, ApproveWriteOff, Edit, InvalidResolution, Task, TaskKind

DIRECTORY = default_directory()
MEDICARE = DIRECTORY.profiles["SMPMCR"]
COMMERCIAL = DIRECTORY.profiles["SMPBCX"]


def test_medicare_has_five_levels_with_their_windows() -> None:
    levels = appeal_levels(MEDICARE)
    assert [(level.level, level.window_days) for level in levels] == [
        (1, 120),
        (2, 180),
        (3, 60),
        (4, 60),
        (5, 60),
    ]
    assert filing_deadline(levels[0], date(2026, 1, 10)) == date(2026, 5, 10)
    assert decision_days(MEDICARE, levels[2]) == 90


def test_commercial_has_two_levels() -> None:
    assert [level.name for level in appeal_levels(COMMERCIAL)] == [
        "first-level appeal",
        "second-level appeal",
    ]
    assert decision_days(COMMERCIAL, level_of(COMMERCIAL, 2)) == 60
    with pytest.raises(ValueError, match="not 3"):
        level_of(COMMERCIAL, 3)


def test_upheld_redetermination_goes_to_reconsideration_within_180_days() -> None:
    step = next_step(MEDICARE, 1, date(2026, 3, 1), Decimal("80.00"), today=date(2026, 3, 5))
    assert step.level is not None and step.level.level == 2
    assert step.deadline == date(2026, 8, 28)


def test_alj_needs_the_amount_in_controversy() -> None:
    below = next_step(MEDICARE, 2, date(2026, 3, 1), Decimal("150.00"), today=date(2026, 3, 2))
    assert below.stops and "below the 190.00" in (below.stop_reason or "")
    above = next_step(MEDICARE, 2, date(2026, 3, 1), Decimal("450.00"), today=date(2026, 3, 2))
    assert above.level is not None and above.level.level == 3


def test_the_last_level_and_a_closed_window_stop() -> None:
    last = next_step(COMMERCIAL, 2, date(2026, 3, 1), Decimal("450.00"), today=date(2026, 3, 2))
    assert last.stops and "last appeal level" in (last.stop_reason or "")
    late = next_step(COMMERCIAL, 1, date(2026, 3, 1), Decimal("450.00"), today=date(2026, 6, 1))
    assert late.stops and "closed on 2026-04-30" in (late.stop_reason or "")


def _task(kind: TaskKind) -> Task:
    now = date(2026, 3, 1)
    at = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return Task(id="appeal-1:1", kind=kind, reason="r", created_at=at, due_at=at)


def test_an_edit_needs_its_argument_and_a_write_off_needs_a_manager() -> None:
    review = [_task(TaskKind.APPEAL_REVIEW)]
    for blank in ({}, {"argument": "  \n "}):
        with pytest.raises(ValidationError, match=r"edit\.argument"):
            RESOLUTION.validate_python({"task_id": "appeal-1:1", "action": "edit", "actor": "b", **blank})
    edited = Edit(task_id="appeal-1:1", actor="b", argument="The record shows...")
    assert check_appeal_resolution(review, edited, ["m"]).kind is TaskKind.APPEAL_REVIEW
    approval = [_task(TaskKind.WRITE_OFF_APPROVAL)]
    by_biller = ApproveWriteOff(task_id="appeal-1:1", actor="b", reason="lost")
    with pytest.raises(InvalidResolution, match="not a manager"):
        check_appeal_resolution(approval, by_biller, ["m"])
    by_manager = by_biller.model_copy(update={"actor": "m"})
    assert check_appeal_resolution(approval, by_manager, ["m"]).kind is TaskKind.WRITE_OFF_APPROVAL


def test_an_unappealed_denial_has_the_first_levels_window() -> None:
    assert first_level_deadline(MEDICARE, date(2026, 1, 10)) == date(2026, 5, 10)
    assert first_level_deadline(COMMERCIAL, date(2026, 1, 10)) == date(2026, 7, 9)


def test_decision_notices_and_readjudications_become_decisions() -> None:
    notice = {
        "appeal_id": "A00000007",
        "decision": "upheld",
        "explanation": "the letter does not carry what the denial needs",
        "decided_on": "2026-03-02",
    }
    upheld = decision_from_notice(notice)
    assert not upheld.overturned and upheld.appeal_id == "A00000007"
    assert upheld.decision_date == date(2026, 3, 2) and "does not carry" in upheld.payer_note
    with pytest.raises(ValueError, match="neither"):
        decision_from_notice({**notice, "decision": "pending"})
    with pytest.raises(ValueError, match="decided_on"):
        decision_from_notice({"appeal_id": "A1", "decision": "upheld"})
    paid = ClaimPayment(
        patient_control_number="ENC1",
        status=ClaimStatusCode.PRIMARY,
        charge=Decimal("450.00"),
        paid=Decimal("380.00"),
        payer_claim_number="PCN-2",
    )
    overturned = decision_from_readjudication(paid, date(2026, 3, 3))
    assert overturned.overturned and overturned.paid_amount == Decimal("380.00")
