"""The books: charges as billed, what each 835 paid and adjusted, what the patient owes and paid.

Every method is one transaction and safe to repeat: activities retry, and 835s are redelivered.
A claim occurrence of an 835 posts once, keyed by (patient control number, 835 trace number,
payer claim number + CLP02); so a reversal (22) and the re-adjudication of the same claim in one 835
post separately, while a redelivered file posts nothing.

Synchronous SQLAlchemy: call it from activities in a thread (`activity.defn` on a sync function with
a thread pool executor, or `asyncio.to_thread`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from claimflow.claims.claim import Claim
from claimflow.claims.lifecycle import UNKNOWN_PAYER
from claimflow.claims.money import ZERO, Money, money_sum, to_money
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode, Remittance
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.migrate import upgrade
from claimflow.integrations.ledger.models import (
    AuditEntry,
    Balance,
    LedgerClaimState,
    LedgerTotals,
    PostingResult,
    RemittanceRef,
)
from claimflow.integrations.ledger.schema import (
    MONEY,
    AdjustmentRow,
    AuditRow,
    ChargeRow,
    ClaimRow,
    PatientPaymentRow,
    PatientResponsibilityRow,
    PaymentRow,
    SubmissionRow,
)


class UnknownClaimError(LookupError):
    """The ledger holds no charges for this patient control number."""

    def __init__(self, patient_control_number: str, doing: str) -> None:
        super().__init__(
            f"cannot {doing}: the ledger has no claim {patient_control_number!r}; its charges must be "
            "recorded (record_charges, at submission) before payments are posted against it"
        )
        self.patient_control_number = patient_control_number


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A time read back from the database, in UTC: SQLite returns it without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit_row(
    at: datetime, actor: str, action: str, patient_control_number: str | None, details: dict[str, Any]
) -> AuditRow:
    """One audit trail entry; every writer of the trail (the books, the users, the work queue) makes
    its entries here so each names who did it. `details` hold identifiers and amounts, never PHI."""
    if not actor.strip():
        raise ValueError(f"audit entry {action!r} needs an actor: who (a user or a system name) did it")
    return AuditRow(
        at=at, actor=actor, action=action, patient_control_number=patient_control_number, details=details
    )


def occurrence_of(claim_payment: ClaimPayment) -> str:
    """The claim occurrence within an 835: payer claim number (CLP07) and status (CLP02)."""
    return f"{claim_payment.payer_claim_number or ''}:{claim_payment.status.value}"


def posting_sign(claim_payment: ClaimPayment) -> int:
    """-1 when a reversal (CLP02 22) arrives with positive amounts, so it posts negative.

    The TR3 sends a reversal's amounts already negated (negative CLP03); some payers send them as
    positive figures. Either way the reversal must take the original posting back out.
    """
    if claim_payment.status is ClaimStatusCode.REVERSAL and claim_payment.charge > 0:
        return -1
    return 1


class Ledger:
    """The ledger database at `database_url` (a SQLite file, or PostgreSQL)."""

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

    # -- charges ---------------------------------------------------------------------------------

    def record_charges(self, claim: Claim, actor: str) -> Balance:
        """Record the claim and its service lines as billed. Repeating it changes nothing; a
        corrected claim (different lines) replaces the charge lines and says so in the audit."""
        encounter = claim.encounter
        pcn = claim.patient_control_number
        lines = [
            ChargeRow(
                line_number=number,
                procedure_code=line.procedure_code,
                modifiers=":".join(line.modifiers),
                units=line.units,
                amount=line.charge,
                service_date=line.service_date,
            )
            for number, line in enumerate(encounter.service_lines, start=1)
        ]
        with self._sessions.begin() as session:
            now = self._clock()
            row = self._claim_row(session, pcn)
            if row is None:
                row = ClaimRow(
                    patient_control_number=pcn,
                    encounter_id=encounter.encounter_id,
                    payer_id=encounter.coverage.payer_id,
                    billed_amount=claim.total_charge,
                    state=LedgerClaimState.BILLED.value,
                    created_at=now,
                    updated_at=now,
                    charges=lines,
                )
                session.add(row)
                self._audit(session, actor, "charges_recorded", pcn, _charge_details(claim))
            elif (
                _charge_key(row.charges) != _charge_key(lines) or row.payer_id != encounter.coverage.payer_id
            ):
                row.charges.clear()
                session.flush()  # delete the old lines before their line numbers are reused
                row.charges.extend(lines)
                row.billed_amount = claim.total_charge
                row.payer_id = encounter.coverage.payer_id
                row.updated_at = now
                self._audit(session, actor, "charges_replaced", pcn, _charge_details(claim))
            session.flush()
            return self._balance(session, row)

    # -- submissions -----------------------------------------------------------------------------

    def record_submission(
        self, patient_control_number: str, group_control_number: int, submission_id: str
    ) -> None:
        """Remember that the interchange with this GS06 carried the claim. Repeating it is a no-op."""
        group = str(group_control_number)
        try:
            with self._sessions.begin() as session:
                known = session.scalar(
                    select(SubmissionRow.id).where(
                        SubmissionRow.group_control_number == group,
                        SubmissionRow.patient_control_number == patient_control_number,
                    )
                )
                if known is None:
                    session.add(
                        SubmissionRow(
                            group_control_number=group,
                            patient_control_number=patient_control_number,
                            submission_id=submission_id,
                            submitted_at=self._clock(),
                        )
                    )
        except IntegrityError:
            pass  # recorded by a concurrent retry of the same activity

    def claims_for_submission(self, group_control_number: str) -> list[str]:
        """Patient control numbers of the claims the interchange with this GS06 carried."""
        group = group_control_number.strip().lstrip("0") or "0"  # stored without leading zeros
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(SubmissionRow.patient_control_number)
                .where(SubmissionRow.group_control_number == group)
                .order_by(SubmissionRow.id)
            )
            return list(rows)

    # -- payer payments --------------------------------------------------------------------------

    def post_remittance(
        self, claim_payment: ClaimPayment, remittance: Remittance | RemittanceRef, actor: str
    ) -> PostingResult:
        """Post one CLP loop of an 835: payment, adjustments by line, patient responsibility.

        Idempotent per (patient control number, trace number, occurrence): a redelivery returns
        the earlier posting with `posted=False`.
        """
        ref = remittance if isinstance(remittance, RemittanceRef) else RemittanceRef.of(remittance)
        pcn = claim_payment.patient_control_number
        occurrence = occurrence_of(claim_payment)
        try:
            with self._sessions.begin() as session:
                claim = self._require_claim(session, pcn, "post a payment")
                existing = self._payment_row(session, claim, ref.trace_number, occurrence)
                if existing is not None:
                    return self._posting_result(session, claim, existing, posted=False)
                payment = self._insert_payment(session, claim, claim_payment, ref, occurrence)
                claim.state = _state_after(claim_payment).value
                claim.updated_at = payment.posted_at
                result = self._posting_result(session, claim, payment, posted=True)
                self._audit(
                    session,
                    actor,
                    "remittance_posted",
                    pcn,
                    {
                        "trace_number": ref.trace_number,
                        "occurrence": occurrence,
                        "status": claim_payment.status.value,
                        "paid": str(result.paid),
                        "adjustments": {group: str(amount) for group, amount in result.adjustments.items()},
                        "patient_responsibility": str(result.patient_responsibility),
                    },
                )
                return result
        except IntegrityError:
            # Another worker posted the same occurrence between our check and our insert.
            with self._sessions.begin() as session:
                claim = self._require_claim(session, pcn, "post a payment")
                existing = self._payment_row(session, claim, ref.trace_number, occurrence)
                if existing is None:
                    raise
                return self._posting_result(session, claim, existing, posted=False)

    def _insert_payment(
        self,
        session: Session,
        claim: ClaimRow,
        claim_payment: ClaimPayment,
        ref: RemittanceRef,
        occurrence: str,
    ) -> PaymentRow:
        sign = posting_sign(claim_payment)
        payment = PaymentRow(
            claim_id=claim.id,
            trace_number=ref.trace_number,
            occurrence=occurrence,
            payer_claim_number=claim_payment.payer_claim_number,
            status_code=claim_payment.status.value,
            payer_id=ref.payer_id,
            charge=sign * claim_payment.charge,
            paid=sign * claim_payment.paid,
            payment_date=ref.payment_date,
            posted_at=self._clock(),
        )
        for adjustment in claim_payment.adjustments:
            payment.adjustments.append(
                AdjustmentRow(
                    claim_id=claim.id,
                    line_number=None,
                    procedure_code=None,
                    group_code=adjustment.group.value,
                    reason_code=adjustment.reason,
                    amount=sign * adjustment.amount,
                )
            )
        for number, line in enumerate(claim_payment.service_lines, start=1):
            for adjustment in line.adjustments:
                payment.adjustments.append(
                    AdjustmentRow(
                        claim_id=claim.id,
                        line_number=number,
                        procedure_code=line.procedure_code,
                        group_code=adjustment.group.value,
                        reason_code=adjustment.reason,
                        amount=sign * adjustment.amount,
                    )
                )
        session.add(payment)
        session.flush()
        reported = claim_payment.patient_responsibility
        session.add(
            PatientResponsibilityRow(
                payment_id=payment.id,
                claim_id=claim.id,
                amount=sign * claim_payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY),
                reported_amount=None if reported is None else sign * reported,
            )
        )
        session.flush()
        return payment

    def _posting_result(
        self, session: Session, claim: ClaimRow, payment: PaymentRow, *, posted: bool
    ) -> PostingResult:
        by_group: dict[str, Decimal] = {}
        for adjustment in payment.adjustments:
            by_group[adjustment.group_code] = by_group.get(adjustment.group_code, ZERO) + adjustment.amount
        responsibility = session.scalar(
            select(PatientResponsibilityRow.amount).where(PatientResponsibilityRow.payment_id == payment.id)
        )
        return PostingResult(
            patient_control_number=claim.patient_control_number,
            trace_number=payment.trace_number,
            occurrence=payment.occurrence,
            posted=posted,
            paid=payment.paid,
            adjustments=dict(sorted(by_group.items())),
            patient_responsibility=responsibility if responsibility is not None else ZERO,
            balance=self._balance(session, claim),
        )

    # -- patient payments ------------------------------------------------------------------------

    def record_patient_payment(
        self,
        patient_control_number: str,
        amount: Money,
        received_on: date,
        reference: str,
        actor: str,
        method: str = "card",
    ) -> Balance:
        """Record money received from the patient. `reference` (receipt or transaction id) makes it
        idempotent: the same reference posts once."""
        amount = to_money(amount)
        if amount <= 0:
            raise ValueError(
                f"patient payment {reference!r} of {amount} is not positive: record refunds separately"
            )
        try:
            with self._sessions.begin() as session:
                claim = self._require_claim(session, patient_control_number, "record a patient payment")
                known = session.scalar(
                    select(PatientPaymentRow.id).where(
                        PatientPaymentRow.claim_id == claim.id, PatientPaymentRow.reference == reference
                    )
                )
                if known is None:
                    session.add(
                        PatientPaymentRow(
                            claim_id=claim.id,
                            amount=amount,
                            received_on=received_on,
                            method=method,
                            reference=reference,
                            posted_at=self._clock(),
                        )
                    )
                    self._audit(
                        session,
                        actor,
                        "patient_payment_recorded",
                        patient_control_number,
                        {"amount": str(amount), "method": method, "reference": reference},
                    )
                    session.flush()
                return self._balance(session, claim)
        except IntegrityError:
            return self.balance(patient_control_number)  # the same reference, posted concurrently

    # -- state and audit -------------------------------------------------------------------------

    def set_state(self, patient_control_number: str, state: LedgerClaimState, actor: str) -> Balance:
        with self._sessions.begin() as session:
            claim = self._require_claim(session, patient_control_number, f"set state {state.value}")
            if claim.state != state.value:
                self._audit(
                    session,
                    actor,
                    "state_changed",
                    patient_control_number,
                    {"from": claim.state, "to": state.value},
                )
                claim.state = state.value
                claim.updated_at = self._clock()
            return self._balance(session, claim)

    def log_action(
        self, actor: str, action: str, patient_control_number: str | None, details: dict[str, Any]
    ) -> None:
        """Add an entry to the audit trail (task resolutions, write-offs, letters sent). `details`
        must hold identifiers, codes and amounts only, never PHI."""
        with self._sessions.begin() as session:
            self._audit(session, actor, action, patient_control_number, details)

    def audit(self, patient_control_number: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        """The audit trail, oldest first: one claim's, or everyone's."""
        query = select(AuditRow).order_by(AuditRow.at, AuditRow.id)
        if patient_control_number is not None:
            query = query.where(AuditRow.patient_control_number == patient_control_number)
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as session:
            return [
                AuditEntry(
                    at=as_utc(row.at),
                    actor=row.actor,
                    action=row.action,
                    patient_control_number=row.patient_control_number,
                    details=row.details,
                )
                for row in session.scalars(query)
            ]

    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        patient_control_number: str | None,
        details: dict[str, Any],
    ) -> None:
        session.add(audit_row(self._clock(), actor, action, patient_control_number, details))

    # -- reading ---------------------------------------------------------------------------------

    def balance(self, patient_control_number: str) -> Balance:
        with self._sessions() as session:
            claim = self._require_claim(session, patient_control_number, "read the balance")
            return self._balance(session, claim)

    def _balance(self, session: Session, claim: ClaimRow) -> Balance:
        def total(column: Any, *where: ColumnElement[bool]) -> Decimal:
            return _sum(session, select(_money_total(column)).where(*where))

        charges = total(ChargeRow.amount, ChargeRow.claim_id == claim.id)
        paid = total(PaymentRow.paid, PaymentRow.claim_id == claim.id)
        postings = _postings(session, PaymentRow.claim_id == claim.id).get(claim.id, [])
        by_reason, responsibility = _standing_decision(postings)
        adjustments = _groups_of(by_reason)
        patient_paid = total(PatientPaymentRow.amount, PatientPaymentRow.claim_id == claim.id)
        insurance_balance = charges - paid - money_sum(adjustments.values())
        patient_due = responsibility - patient_paid
        return Balance(
            patient_control_number=claim.patient_control_number,
            state=LedgerClaimState(claim.state),
            charges=charges,
            paid=paid,
            adjustments=adjustments,
            patient_responsibility=responsibility,
            patient_paid=patient_paid,
            patient_due=patient_due,
            insurance_balance=insurance_balance,
            outstanding=insurance_balance + patient_due,
        )

    def totals(self, payer_id: str | None = None) -> LedgerTotals:
        """Sums for reports: every claim, or the claims billed to one payer now (where their balance
        sits: a claim moves on to its secondary payer with the primary's 835).

        They are the sums of the claims' balances: a claim's charges count once however many payers
        it was billed to; `paid` is every payer's payments (`paid_by_payer` each payer's, by the payer
        that sent the 835); adjustments and patient responsibility are each claim's standing
        decision (with coordination of benefits, the last payer's, which restates the earlier ones),
        so the patient responsibility is what remains after every payer. `posted_adjustments` is
        every 835's adjustments as posted, what reconciles the books with the 835s received."""
        with self._sessions() as session:
            claim_ids = select(ClaimRow.id)
            if payer_id is not None:
                claim_ids = claim_ids.where(ClaimRow.payer_id == payer_id)
            ids = claim_ids.scalar_subquery()

            def total(column: Any, claim_column: Any) -> Decimal:
                return _sum(session, select(_money_total(column)).where(claim_column.in_(ids)))

            count_claims = session.scalar(select(func.count()).select_from(claim_ids.subquery())) or 0
            count_payments = (
                session.scalar(select(func.count(PaymentRow.id)).where(PaymentRow.claim_id.in_(ids))) or 0
            )
            by_reason: dict[tuple[str, str], Decimal] = {}
            responsibility = ZERO
            for postings in _postings(session, PaymentRow.claim_id.in_(ids)).values():
                standing, owed = _standing_decision(postings)
                for key, amount in standing.items():
                    by_reason[key] = by_reason.get(key, ZERO) + amount
                responsibility += owed
            adjustments = _groups_of(by_reason)
            posted = _by_group(
                session.execute(
                    select(AdjustmentRow.group_code, _money_total(AdjustmentRow.amount))
                    .where(AdjustmentRow.claim_id.in_(ids))
                    .group_by(AdjustmentRow.group_code)
                )
            )
            paid_by_payer = {
                payer or UNKNOWN_PAYER: to_money(amount)
                for payer, amount in session.execute(
                    select(PaymentRow.payer_id, _money_total(PaymentRow.paid))
                    .where(PaymentRow.claim_id.in_(ids))
                    .group_by(PaymentRow.payer_id)
                )
            }
            charges = total(ChargeRow.amount, ChargeRow.claim_id)
            paid = total(PaymentRow.paid, PaymentRow.claim_id)
            patient_paid = total(PatientPaymentRow.amount, PatientPaymentRow.claim_id)
            return LedgerTotals(
                claims=count_claims,
                payments=count_payments,
                charges=charges,
                paid=paid,
                paid_by_payer=dict(sorted(paid_by_payer.items())),
                adjustments=adjustments,
                adjustments_by_reason={
                    f"{group}-{reason}": to_money(amount)
                    for (group, reason), amount in sorted(by_reason.items())
                },
                posted_adjustments=posted,
                patient_responsibility=to_money(responsibility),
                patient_paid=patient_paid,
                outstanding=charges - paid - money_sum(adjustments.values()) + responsibility - patient_paid,
            )

    def _claim_row(self, session: Session, patient_control_number: str) -> ClaimRow | None:
        return session.scalar(
            select(ClaimRow).where(ClaimRow.patient_control_number == patient_control_number)
        )

    def _require_claim(self, session: Session, patient_control_number: str, doing: str) -> ClaimRow:
        row = self._claim_row(session, patient_control_number)
        if row is None:
            raise UnknownClaimError(patient_control_number, doing)
        return row

    def _payment_row(
        self, session: Session, claim: ClaimRow, trace_number: str, occurrence: str
    ) -> PaymentRow | None:
        return session.scalar(
            select(PaymentRow).where(
                PaymentRow.claim_id == claim.id,
                PaymentRow.trace_number == trace_number,
                PaymentRow.occurrence == occurrence,
            )
        )


def _money_total(column: Any) -> ColumnElement[Decimal]:
    """SUM as Numeric(12,2), so both SQLite and PostgreSQL hand back a Decimal."""
    return type_coerce(func.coalesce(func.sum(column), 0), MONEY)


def _sum(session: Session, query: Select[Decimal]) -> Decimal:
    value = session.scalar(query)
    return to_money(value) if value is not None else ZERO


def _by_group(rows: Iterable[Any]) -> dict[str, Money]:
    return {group: to_money(amount) for group, amount in sorted(rows)}


POSITION_OF_STATUS = {
    ClaimStatusCode.PRIMARY.value: 0,
    ClaimStatusCode.PRIMARY_FORWARDED.value: 0,
    ClaimStatusCode.SECONDARY.value: 1,
    ClaimStatusCode.SECONDARY_FORWARDED.value: 1,
    ClaimStatusCode.TERTIARY.value: 2,
    ClaimStatusCode.TERTIARY_FORWARDED.value: 2,
}
"""The payer's place in the coverage order its 835 states (CLP02 1/19, 2/20, 3/21)."""
PRIOR_PAYER_IMPACT = ("OA", "23")
"""OA-23 on a later payer's 835: what the earlier payers paid (posted as their payments already)."""


@dataclass
class _Posting:
    """One posted claim occurrence of an 835, as the standing decision reads it."""

    status_code: str
    payer_id: str | None
    paid: Decimal
    adjustments: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """by (group, CARC)"""
    responsibility: Decimal = ZERO


def _postings(session: Session, where: ColumnElement[bool]) -> dict[int, list[_Posting]]:
    """The postings of the claims `where` selects (a condition on PaymentRow.claim_id), by claim id,
    in the order they were posted: three queries however many claims."""
    by_payment: dict[int, _Posting] = {}
    by_claim: dict[int, list[_Posting]] = {}
    for payment_id, claim_id, status, payer, paid in session.execute(
        select(
            PaymentRow.id, PaymentRow.claim_id, PaymentRow.status_code, PaymentRow.payer_id, PaymentRow.paid
        )
        .where(where)
        .order_by(PaymentRow.id)
    ):
        posting = _Posting(status_code=status, payer_id=payer, paid=paid)
        by_payment[payment_id] = posting
        by_claim.setdefault(claim_id, []).append(posting)
    for payment_id, group, reason, amount in session.execute(
        select(
            AdjustmentRow.payment_id,
            AdjustmentRow.group_code,
            AdjustmentRow.reason_code,
            _money_total(AdjustmentRow.amount),
        )
        .join(PaymentRow, PaymentRow.id == AdjustmentRow.payment_id)
        .where(where)
        .group_by(AdjustmentRow.payment_id, AdjustmentRow.group_code, AdjustmentRow.reason_code)
    ):
        by_payment[payment_id].adjustments[(group, reason)] = amount
    for payment_id, amount in session.execute(
        select(PatientResponsibilityRow.payment_id, PatientResponsibilityRow.amount)
        .join(PaymentRow, PaymentRow.id == PatientResponsibilityRow.payment_id)
        .where(where)
    ):
        by_payment[payment_id].responsibility = amount
    return by_claim


def _standing_decision(postings: list[_Posting]) -> tuple[dict[tuple[str, str], Decimal], Money]:
    """The adjustments by (group, CARC) and the patient responsibility that stand for one claim.

    With one payer, every posting counts (a reversal takes its original back out). With coordination
    of benefits each later payer's 835 restates the whole claim: what the earlier payers paid (OA-23),
    what is still the patient's (PR) and what is written off; so only the adjustments of the last
    payer in order with a standing decision count, and the earlier payers' PR and write-offs are
    superseded (their payments always count). A posting's place in the order is its CLP02 (1/19,
    2/20, 3/21); a denial or reversal takes the place of its payer's processed claims (the primary's
    when the payer has none yet)."""
    payer_position: dict[str | None, int] = {}
    for posting in postings:
        if posting.status_code in POSITION_OF_STATUS:
            payer_position.setdefault(posting.payer_id, POSITION_OF_STATUS[posting.status_code])
    layers: dict[int, tuple[dict[tuple[str, str], Decimal], Decimal, Decimal]] = {}
    for posting in postings:
        position = POSITION_OF_STATUS.get(posting.status_code, payer_position.get(posting.payer_id, 0))
        adjustments, responsibility, paid = layers.get(position, ({}, ZERO, ZERO))
        for key, amount in posting.adjustments.items():
            if position > 0 and key == PRIOR_PAYER_IMPACT:
                continue
            adjustments[key] = adjustments.get(key, ZERO) + amount
        layers[position] = (adjustments, responsibility + posting.responsibility, paid + posting.paid)
    if not layers:
        return {}, ZERO
    standing = [
        position
        for position, (adjustments, responsibility, paid) in layers.items()
        if paid or responsibility or any(adjustments.values())
    ]
    adjustments, responsibility, _ = layers[max(standing) if standing else min(layers)]
    return dict(sorted(adjustments.items())), to_money(responsibility)


def _groups_of(by_reason: dict[tuple[str, str], Decimal]) -> dict[str, Money]:
    """Adjustments by (group, CARC) summed by group."""
    groups: dict[str, Decimal] = {}
    for (group, _), amount in by_reason.items():
        groups[group] = groups.get(group, ZERO) + amount
    return {group: to_money(amount) for group, amount in sorted(groups.items())}


def _state_after(claim_payment: ClaimPayment) -> LedgerClaimState:
    if claim_payment.status is ClaimStatusCode.REVERSAL:
        return LedgerClaimState.REVERSED
    if claim_payment.status is ClaimStatusCode.DENIED or (
        claim_payment.paid == 0 and claim_payment.status in _PROCESSED
    ):
        return LedgerClaimState.DENIED
    if claim_payment.status in _PROCESSED:
        return LedgerClaimState.PAID
    return LedgerClaimState.ADJUDICATED


_PROCESSED = frozenset(
    {
        ClaimStatusCode.PRIMARY,
        ClaimStatusCode.SECONDARY,
        ClaimStatusCode.TERTIARY,
        ClaimStatusCode.PRIMARY_FORWARDED,
        ClaimStatusCode.SECONDARY_FORWARDED,
        ClaimStatusCode.TERTIARY_FORWARDED,
    }
)


def _charge_key(lines: Iterable[ChargeRow]) -> list[tuple[Any, ...]]:
    return [
        (
            line.line_number,
            line.procedure_code,
            line.modifiers,
            line.units.normalize(),
            to_money(line.amount),
            line.service_date,
        )
        for line in lines
    ]


def _charge_details(claim: Claim) -> dict[str, Any]:
    return {
        "encounter_id": claim.encounter.encounter_id,
        "payer_id": claim.encounter.coverage.payer_id,
        "frequency": claim.frequency.value,
        "billed": str(claim.total_charge),
        "lines": len(claim.encounter.service_lines),
    }
