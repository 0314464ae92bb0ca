"""The web console's side of the work queue: who holds a task and the notes written on it.

The claim workflows own tasks (kind, due date, resolution); holding a task and writing a note on it
change nothing in the claim, so they live here, next to the audit trail that records them. Every
change is one transaction with its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.ledger import utc_now
from claimflow.integrations.ledger.migrate import upgrade
from claimflow.integrations.ledger.models import LedgerModel
from claimflow.integrations.ledger.schema import AuditRow, TaskAssignmentRow, TaskNoteRow

NOTE_MAX_CHARS = 2000


class Assignment(LedgerModel):
    task_id: str
    assignee: str
    assigned_by: str
    assigned_at: datetime


class Note(LedgerModel):
    task_id: str
    claim_id: str
    author: str
    text: str = Field(min_length=1, max_length=NOTE_MAX_CHARS)
    written_at: datetime


class Worklist:
    """Assignments and notes in the ledger database at `database_url`."""

    def __init__(
        self, database_url: str, *, migrate_schema: bool = True, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._engine = create_ledger_engine(database_url)
        if migrate_schema:
            upgrade(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._clock = clock

    def close(self) -> None:
        self._engine.dispose()

    def assignments(self, task_ids: Iterable[str] | None = None) -> dict[str, Assignment]:
        """Who holds each task (all held tasks, or those among `task_ids`)."""
        query = select(TaskAssignmentRow)
        if task_ids is not None:
            query = query.where(TaskAssignmentRow.task_id.in_(list(task_ids)))
        with self._sessions() as session:
            return {row.task_id: _assignment(row) for row in session.scalars(query)}

    def assign(self, task_id: str, patient_control_number: str, assignee: str, by: str) -> Assignment:
        """Give the task to `assignee` (taking it from whoever held it), recorded in the audit."""
        with self._sessions.begin() as session:
            row = session.get(TaskAssignmentRow, task_id)
            previous = row.assignee if row else None
            now = self._clock()
            if row is None:
                row = TaskAssignmentRow(task_id=task_id, assignee=assignee, assigned_by=by, assigned_at=now)
                session.add(row)
            else:
                row.assignee, row.assigned_by, row.assigned_at = assignee, by, now
            _audit(
                session,
                now,
                by,
                "task_assigned",
                patient_control_number,
                {"task_id": task_id, "assignee": assignee, "previous": previous},
            )
            return _assignment(row)

    def release(self, task_id: str, patient_control_number: str, by: str) -> None:
        """Nobody holds the task any more. Releasing a task nobody holds changes nothing."""
        with self._sessions.begin() as session:
            row = session.get(TaskAssignmentRow, task_id)
            if row is None:
                return
            session.delete(row)
            _audit(
                session,
                self._clock(),
                by,
                "task_released",
                patient_control_number,
                {"task_id": task_id, "previous": row.assignee},
            )

    def add_note(
        self, task_id: str, claim_id: str, patient_control_number: str, author: str, text: str
    ) -> Note:
        """Keep a note on the task. The audit records that a note was written, not its text."""
        text = text.strip()
        if not text:
            raise ValueError("a note needs some text")
        if len(text) > NOTE_MAX_CHARS:
            raise ValueError(f"a note holds at most {NOTE_MAX_CHARS} characters, this one has {len(text)}")
        with self._sessions.begin() as session:
            now = self._clock()
            row = TaskNoteRow(task_id=task_id, claim_id=claim_id, author=author, text=text, written_at=now)
            session.add(row)
            _audit(session, now, author, "note_added", patient_control_number, {"task_id": task_id})
            return _note(row)

    def notes(self, *, task_id: str | None = None, claim_id: str | None = None) -> list[Note]:
        """Notes on one task, or on every task of one claim, oldest first."""
        query = select(TaskNoteRow).order_by(TaskNoteRow.written_at, TaskNoteRow.id)
        if task_id is not None:
            query = query.where(TaskNoteRow.task_id == task_id)
        if claim_id is not None:
            query = query.where(TaskNoteRow.claim_id == claim_id)
        with self._sessions() as session:
            return [_note(row) for row in session.scalars(query)]


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _assignment(row: TaskAssignmentRow) -> Assignment:
    return Assignment(
        task_id=row.task_id,
        assignee=row.assignee,
        assigned_by=row.assigned_by,
        assigned_at=_aware(row.assigned_at),
    )


def _note(row: TaskNoteRow) -> Note:
    return Note(
        task_id=row.task_id,
        claim_id=row.claim_id,
        author=row.author,
        text=row.text,
        written_at=_aware(row.written_at),
    )


def _audit(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    patient_control_number: str | None,
    details: dict[str, object],
) -> None:
    session.add(
        AuditRow(
            at=at, actor=actor, action=action, patient_control_number=patient_control_number, details=details
        )
    )
