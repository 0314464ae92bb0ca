"""The ledger's tables, as typed SQLAlchemy 2 ORM classes. Alembic migrations create them.

Every amount is Numeric(12, 2) read back as Decimal. Rows carry identifiers, codes and amounts, never
a patient's name, birth date or member id: the ledger is joined to people through the patient
control number, which is opaque.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

MONEY = Numeric(12, 2, asdecimal=True)


class Base(DeclarativeBase):
    pass


class ClaimRow(Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_control_number: Mapped[str] = mapped_column(String(38), unique=True)
    encounter_id: Mapped[str] = mapped_column(String(38))
    payer_id: Mapped[str] = mapped_column(String(80), index=True)
    billed_amount: Mapped[Decimal] = mapped_column(MONEY)
    state: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    charges: Mapped[list[ChargeRow]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ChargeRow.line_number"
    )


class ChargeRow(Base):
    """One service line as billed."""

    __tablename__ = "charges"
    __table_args__ = (UniqueConstraint("claim_id", "line_number", name="uq_charges_claim_line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    units: Mapped[Decimal] = mapped_column(Numeric(10, 3, asdecimal=True))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    service_date: Mapped[date] = mapped_column(Date)

    claim: Mapped[ClaimRow] = relationship(back_populates="charges")


class PaymentRow(Base):
    """One claim occurrence (CLP loop) of one 835, posted once."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("claim_id", "trace_number", "occurrence", name="uq_payments_occurrence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    trace_number: Mapped[str] = mapped_column(String(50), index=True)
    occurrence: Mapped[str] = mapped_column(String(64), doc="payer claim number + ':' + CLP02")
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    status_code: Mapped[str] = mapped_column(String(2))
    payer_id: Mapped[str | None] = mapped_column(String(80))
    charge: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY)
    payment_date: Mapped[date | None] = mapped_column(Date)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    adjustments: Mapped[list[AdjustmentRow]] = relationship(
        back_populates="payment", cascade="all, delete-orphan", order_by="AdjustmentRow.id"
    )


class AdjustmentRow(Base):
    """One CAS reason/amount, at claim level (line_number None) or on a service line."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    line_number: Mapped[int | None] = mapped_column(Integer, doc="1-based SVC position; None: claim level")
    procedure_code: Mapped[str | None] = mapped_column(String(48))
    group_code: Mapped[str] = mapped_column(String(2))
    reason_code: Mapped[str] = mapped_column(String(5), doc="CARC")
    amount: Mapped[Decimal] = mapped_column(MONEY)

    payment: Mapped[PaymentRow] = relationship(back_populates="adjustments")


class PatientResponsibilityRow(Base):
    """What a posted occurrence moved to the patient: the sum of its PR adjustments."""

    __tablename__ = "patient_responsibility"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reported_amount: Mapped[Decimal | None] = mapped_column(MONEY, doc="CLP05 as the payer sent it")


class PatientPaymentRow(Base):
    __tablename__ = "patient_payments"
    __table_args__ = (UniqueConstraint("claim_id", "reference", name="uq_patient_payments_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(64), doc="receipt or transaction id: posts once")
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who did what, when. Details hold identifiers and amounts, never PHI."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_claim_at", "patient_control_number", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    patient_control_number: Mapped[str | None] = mapped_column(String(38))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class SubmissionRow(Base):
    """Which claims an interchange we sent carried: a 999 names only the group control number it
    acknowledges (AK102 = GS06), and this is how the inbox finds those claims."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("group_control_number", "patient_control_number", name="uq_submission"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_control_number: Mapped[str] = mapped_column(String(9), index=True)
    patient_control_number: Mapped[str] = mapped_column(String(38))
    submission_id: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskAssignmentRow(Base):
    """Who holds a task in the web console's work queue (the workflows have no assignment Update):
    one row per task held; releasing it deletes the row."""

    __tablename__ = "task_assignments"

    task_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    assignee: Mapped[str] = mapped_column(String(80), index=True)
    assigned_by: Mapped[str] = mapped_column(String(80))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskNoteRow(Base):
    """A biller's note on a task, kept with the claim it belongs to."""

    __tablename__ = "task_notes"
    __table_args__ = (Index("ix_task_notes_claim", "claim_id", "written_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(120), index=True)
    claim_id: Mapped[str] = mapped_column(String(80))
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(String(2000))
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """A person who signs in to the web console or uses the command line. Staff, not patients."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, doc="lower case: recorded as the actor")
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), doc="claims.roles.Role")
    password_hash: Mapped[str] = mapped_column(String(255), doc="argon2id, with its parameters and salt")
    must_change_password: Mapped[bool] = mapped_column(Boolean, doc="set by a one-time password")
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), doc="failed logins before it no longer count toward the lockout"
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiTokenRow(Base):
    """A user's API token for the command line (CLAIMFLOW_TOKEN), kept as its SHA-256 only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), doc="the token's first characters, to recognise it")
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttemptRow(Base):
    """Every sign-in attempt, kept for the rate limit and as its record. `username` is as typed
    (lower case), so attempts on names that do not exist count too."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    username: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(80), doc="where from: the client's address, or 'cli'")
    succeeded: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(20), doc="ok, wrong_password, disabled, rate_limited")


class ReadModelTaskRow(Base):
    """An open task as the work queue lists it, with what its claim says beside it (the read model,
    kept by integrations.ledger.projector; `patient` is the display name, PHI like the rest of the
    ledger database's PHI-bearing rows: the read model lives only where the console may show it)."""

    __tablename__ = "readmodel_tasks"
    __table_args__ = (
        Index("ix_readmodel_tasks_due", "due_at", "task_id"),
        Index("ix_readmodel_tasks_priority_due", "priority", "due_at"),
        Index("ix_readmodel_tasks_kind_due", "kind", "due_at"),
        Index("ix_readmodel_tasks_payer_due", "payer_id", "due_at"),
        Index("ix_readmodel_tasks_assignee", "assignee"),
        Index("ix_readmodel_tasks_amount", "amount_at_stake"),
        Index("ix_readmodel_tasks_dos", "date_of_service"),
        Index("ix_readmodel_tasks_patient", "patient"),
        Index("ix_readmodel_tasks_workflow", "workflow_id"),
        Index("ix_readmodel_tasks_claim", "claim_id"),
    )

    task_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(120), doc="the workflow that resolves it")
    claim_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    priority: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    assignee: Mapped[str | None] = mapped_column(String(80))
    patient: Mapped[str | None] = mapped_column(String(200))
    date_of_service: Mapped[date | None] = mapped_column(Date)
    payer_id: Mapped[str | None] = mapped_column(String(80))
    amount_at_stake: Mapped[Decimal | None] = mapped_column(MONEY)
    claim_state: Mapped[str | None] = mapped_column(String(32))


class ReadModelClaimRow(Base):
    """A claim as lists, A/R aging, the dashboard's KPIs and the console's search see it (the read
    model). The KPI columns are the claim's claims.kpi.ClaimFacts (`facts_known` False for a claim
    whose state carries no encounter, which no KPI counts)."""

    __tablename__ = "readmodel_claims"
    __table_args__ = (
        Index("ix_readmodel_claims_ar", "balance", "date_of_service"),
        Index("ix_readmodel_claims_state", "state"),
        Index("ix_readmodel_claims_payer", "payer_id"),
        Index("ix_readmodel_claims_progress", "last_progress_at"),
        Index("ix_readmodel_claims_deadline", "timely_filing_deadline"),
        Index("ix_readmodel_claims_dos", "date_of_service"),
        Index("ix_readmodel_claims_first_remittance", "first_remittance_on"),
        Index("ix_readmodel_claims_pcn", "patient_control_number"),
        Index("ix_readmodel_claims_denials", "denial_categories"),
    )

    claim_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    payer_id: Mapped[str] = mapped_column(String(80))
    billed: Mapped[Decimal] = mapped_column(MONEY)
    balance: Mapped[Decimal] = mapped_column(MONEY, doc="A/R balance (claims.kpi): 0 unless billed, open")
    amount_at_stake: Mapped[Decimal] = mapped_column(MONEY)
    patient: Mapped[str | None] = mapped_column(String(200))
    date_of_service: Mapped[date | None] = mapped_column(Date)
    last_progress_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timely_filing_deadline: Mapped[date | None] = mapped_column(Date)
    is_open: Mapped[bool] = mapped_column(Boolean)
    facts_known: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    clean: Mapped[bool] = mapped_column(Boolean, default=False)
    first_pass_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    remitted: Mapped[bool] = mapped_column(Boolean, default=False)
    initially_denied: Mapped[bool] = mapped_column(Boolean, default=False)
    denial_categories: Mapped[str] = mapped_column(
        String(200), default="", doc="the categories of its 835s' denials, sorted, comma-separated"
    )
    payer_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    patient_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    contractual_adjustment: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    ar_balance: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), doc="ClaimFacts.ar_balance (`balance` is 0 once the workflow ended)"
    )
    first_remittance_on: Mapped[date | None] = mapped_column(Date, doc="the day its first 835 arrived")
    patient_control_number: Mapped[str | None] = mapped_column(String(38))
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    open_tasks: Mapped[int] = mapped_column(Integer, default=0, doc="its own workflow's open tasks")
    search_text: Mapped[str] = mapped_column(
        Text, default="", doc="ids and patient names, case-folded, what the console's search matches"
    )


class ReadModelUnderpaymentRow(Base):
    """One underpaid line of a claim and what became of it (claims.lifecycle.UnderpaymentCase)."""

    __tablename__ = "readmodel_underpayments"
    __table_args__ = (Index("ix_readmodel_underpayments_payer", "payer_id", "status"),)

    claim_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(80), doc="the payer that underpaid it")
    status: Mapped[str] = mapped_column(String(20))
    shortfall: Mapped[Decimal] = mapped_column(MONEY)
    recovered: Mapped[Decimal] = mapped_column(MONEY)


class ReadModelSourceRow(Base):
    """What the projector last saw of a workflow, so a pass queries only workflows that moved."""

    __tablename__ = "readmodel_sources"

    workflow_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    workflow_type: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str] = mapped_column(String(64))
    claim_id: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))
    last_progress_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReadModelCursorRow(Base):
    """When the projector's last completed pass started."""

    __tablename__ = "readmodel_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
