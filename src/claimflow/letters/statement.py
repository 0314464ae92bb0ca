"""Patient statements: the first statement, a reminder, and a final notice."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import Address, Person
from claimflow.claims.money import ZERO, Money, money_sum
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ServicePayment
from claimflow.letters.practice import LetterModel, Practice
from claimflow.letters.render import RenderedLetter, render_letter


class Notice(StrEnum):
    FIRST = "first"
    REMINDER = "reminder"
    FINAL = "final"


class StatementLine(LetterModel):
    service_date: date
    procedure_code: str
    modifiers: list[str] = Field(default_factory=list)
    charge: Money
    insurance_paid: Money | None = Field(default=None, description="from the 835's service line, when known")
    adjusted: Money | None = Field(default=None, description="insurance adjustments other than PR")
    patient_responsibility: Money | None = None


class StatementData(LetterModel):
    """What a statement shows. amount_due = billed - insurance_paid - adjusted - patient_paid, where
    `adjusted` is the payer's adjustments other than patient responsibility (PR)."""

    practice: Practice
    statement_date: date
    due_date: date
    account_number: str = Field(min_length=1, description="the patient control number")
    patient_name: str = Field(min_length=1)
    addressee_name: str = Field(min_length=1, description="the guarantor: the subscriber for a dependant")
    mailing_address: Address | None = None
    payer_name: str = Field(min_length=1)
    lines: list[StatementLine] = Field(min_length=1)
    billed: Money
    insurance_paid: Money
    adjusted: Money
    patient_paid: Money = ZERO
    amount_due: Money
    first_statement_date: date | None = Field(default=None, description="shown on reminders and notices")

    @model_validator(mode="after")
    def _adds_up(self) -> StatementData:
        expected = self.billed - self.insurance_paid - self.adjusted - self.patient_paid
        if expected != self.amount_due:
            raise ValueError(
                f"statement for account {self.account_number} does not add up: billed {self.billed} - "
                f"insurance paid {self.insurance_paid} - adjusted {self.adjusted} - patient paid "
                f"{self.patient_paid} = {expected}, not the amount due {self.amount_due}"
            )
        if self.amount_due <= 0:
            raise ValueError(f"account {self.account_number} owes {self.amount_due}: nothing to bill")
        if self.due_date < self.statement_date:
            raise ValueError(f"due date {self.due_date} is before the statement date {self.statement_date}")
        return self

    @property
    def has_line_detail(self) -> bool:
        """Every line knows what insurance paid and adjusted (the 835's lines matched the claim's)."""
        return all(
            line.insurance_paid is not None
            and line.adjusted is not None
            and line.patient_responsibility is not None
            for line in self.lines
        )

    @classmethod
    def for_claim(
        cls,
        claim: Claim,
        *,
        practice: Practice,
        statement_date: date,
        due_date: date,
        insurance_paid: Money,
        adjusted: Money,
        amount_due: Money,
        patient_paid: Money = ZERO,
        payment: ClaimPayment | None = None,
        first_statement_date: date | None = None,
    ) -> StatementData:
        """A statement for a claim; with the 835's claim payment the lines show what insurance did."""
        encounter = claim.encounter
        line_payments = payment.service_lines if payment is not None else []
        matched = len(line_payments) == len(encounter.service_lines)
        lines = [
            StatementLine(
                service_date=line.service_date,
                procedure_code=line.procedure_code,
                modifiers=line.modifiers,
                charge=line.charge,
                **(_insurance_amounts(line_payments[index]) if matched else {}),
            )
            for index, line in enumerate(encounter.service_lines)
        ]
        addressee = encounter.insured
        return cls(
            practice=practice,
            statement_date=statement_date,
            due_date=due_date,
            account_number=claim.patient_control_number,
            patient_name=full_name(encounter.patient),
            addressee_name=full_name(addressee),
            mailing_address=addressee.address or encounter.patient.address,
            payer_name=encounter.coverage.payer_name,
            lines=lines,
            billed=claim.total_charge,
            insurance_paid=insurance_paid,
            adjusted=adjusted,
            patient_paid=patient_paid,
            amount_due=amount_due,
            first_statement_date=first_statement_date,
        )


def _insurance_amounts(line: ServicePayment) -> dict[str, Money]:
    responsibility = money_sum(
        a.amount for a in line.adjustments if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY
    )
    return {
        "insurance_paid": line.paid,
        "adjusted": line.adjusted - responsibility,
        "patient_responsibility": responsibility,
    }


def full_name(person: Person) -> str:
    middle = f" {person.middle_name}" if person.middle_name else ""
    return f"{person.first_name}{middle} {person.last_name}"


def render_statement(data: StatementData, notice: Notice | str = Notice.FIRST) -> RenderedLetter:
    """The statement as HTML and PDF: `first`, `reminder` or `final` notice."""
    return render_letter("statement.html.j2", data=data, notice=Notice(notice))
